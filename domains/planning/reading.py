"""Reading plans out of verbose model output: which block holds the plan (the core reading layer) and what
action each line states (here).

An action line is read when its words fit one action: the action's leading words (or its PDDL name), then
exactly as many objects as it takes, joined by the template's own words. Objects may be named by the
template's phrase ("the red block"), by what sets it apart from the others ("red"), or by their PDDL name
(`a`, `p0`, `l1-0`), in any case. Words that change the meaning ("Put down the orange block on top of the
blue block": a second object) make the line ambiguous, with every reading listed; it is never coerced.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from modulo.model import Step, Trace
from modulo.reading import (
    Block,
    Line,
    Reading,
    choose,
    describe,
    find_blocks,
    sentences,
    separate_reasoning,
)
from modulo.verifiers.strips import PlanAction, StripsProblem, fits, fmt_atom

from .templates import ARTICLES, PDDL_ACTION, Templates

StepStatus = Literal["read", "ambiguous", "partial", "unread", "invalid"]
"""`partial`: fewer objects named than the action takes ("stack red on the table"): read as written,
so the check reports the argument count. `invalid`: an action named with no object of the problem,
but a thing in an object's place ("pick up the purple block" when there is none)."""
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "it",
        "in",
        "on",
        "at",
        "to",
        "of",
        "from",
        "by",
        "for",
        "and",
        "or",
        "is",
        "be",
        "as",
        "up",
        "down",
        "off",
        "into",
        "onto",
        "top",
        "with",
        "then",
    ]
)
SYNONYMS = {"onto": ("on", "top", "of"), "upon": ("on",), "atop": ("on", "top", "of"), "off": ("from",)}
"""Prepositions that say the same as a template's words."""
COMMENTARY = re.compile(
    r"\([^()]*\)|\[[^\[\]]*\]"  # parenthetical remarks
    r"|\s[-–—]+\s.*$|:\s.*$|;.*$|\.(?:\s.*)?$"  # dash, colon or semicolon comments; later sentences
    r"|,?\s+(?:so that|so|since|because|as|which|now that|now|making|leaving|thereby|while|until|after which|"
    r"in order to|ensuring|resulting|this|that|then|and then|and)\b.*$",
    re.I,
)
CALL = re.compile(r"\b([a-z][\w-]*)\s*\(([^()]*)\)", re.I)
CALL2 = re.compile(r"\b([a-z]+\s+[a-z][\w-]*)\s*\(([^()]*)\)", re.I)
"""Function-call form: `Unstack(blue, red)`, `PutDown(blue)`, `Put down(blue)`."""
NOUN = re.compile(r"\b(?:the|a|an)\s+[a-z][\w-]*(?:\s+[a-z][\w-]*)?", re.I)
"""A noun phrase ("the table", "the purple block") standing where an object should."""
PDDL_MISFIT = "a PDDL action whose objects are not the problem's or not as many as it takes"
SEQUENCING = frozenset(["first", "then", "next", "finally", "lastly", "now", "and", "step"])
"""Words that may come before a step's action words."""
APPOSITION_START = re.compile(r"\s*\(\s*(?:the\s+|an?\s+)?", re.I)
APPOSITION_END = re.compile(r"\s*\)")
"""An object's other name in parentheses right after it: "city_1 (location_1_0)"."""
MAX_COMBINATIONS = 16
"""Readings of ambiguous steps tried together at most (beyond: the answer is unknown)."""


@dataclass
class StepReading:
    """What one line states: the readings of its action (one when read, several when ambiguous)."""

    status: StepStatus
    readings: list[PlanAction] = field(default_factory=list)
    note: str = ""


class PlanReader:
    """Reads actions from English, short-form and PDDL lines for one problem and template set."""

    def __init__(self, templates: Templates, problem: StripsProblem) -> None:
        self.problem = problem
        self.arity = {n: len(s.params) for n, s in problem.actions.items()}
        self.actions = {n: templates.actions.get(n, "") for n in problem.actions}
        self.names = {o: templates.names.get(o, o) for o in problem.objects}
        self._objects = _Objects(self.names)
        self._keywords = {n: _keyword_regex(n, p) for n, p in self.actions.items()}
        self._squashed = {_squash(n): n for n in self.actions}
        self._lead_words = {n: _lead(p) or n for n, p in self.actions.items()}
        self._first_words = {n: w.split()[0].split("-")[0] for n, w in self._lead_words.items()}
        self._connectors = {n: _connectors(p, self.arity[n]) for n, p in self.actions.items()}
        shared = Counter(w for n in self.names.values() for w in set(n.lower().split()))
        self._filler = {w for w, c in shared.items() if c > 1}
        """Words the objects' names share ("object", "block"): they name no object on their own."""

    def describe(self, action: PlanAction) -> str:
        name, *args = action
        return f"{name}({', '.join(self.names.get(a, a) for a in args)})"

    def read_line(self, text: str) -> StepReading:
        """The action one line (or clause) states; `unread` with no readings when it names none."""
        named_twice = self._apposition(text)
        if named_twice is not None:  # "from city_1 (location_1_0)": read with each name
            options = [self.read_line(variant) for variant in named_twice]
            readings = list(dict.fromkeys(a for o in options for a in o.readings))
            if len(readings) == 1 and all(o.status == "read" for o in options):
                return options[0]
            return StepReading(
                "ambiguous" if readings else "unread",
                readings,
                "an object named two ways, one in parentheses: "
                + " or ".join(self.describe(a) for a in readings),
            )
        pddl = PDDL_ACTION.search(text.lower())
        if pddl and pddl.group(1) in self.actions:
            # PDDL names, or the objects' other names in PDDL syntax ("(unstack yellow red)")
            words = [w for w in re.split(r"[\s,]+", pddl.group(2)) if w]
            args = [a if a in self.names else self._objects.one(a) or a for a in words]
            action = (pddl.group(1), *args)
            if not all(a in self.names for a in args):  # an object the problem lacks: never dropped
                return StepReading("unread", [], PDDL_MISFIT)
            if len(args) != self.arity[pddl.group(1)]:  # "(stack a)": judged as written, a wrong arity
                return StepReading("partial", [action], f"{pddl.group(1)} takes {self.arity[pddl.group(1)]}")
            return StepReading("read", [action])
        for call in (*CALL.finditer(text), *CALL2.finditer(text)):
            name = self._squashed.get(_squash(call.group(1)))
            if name is None:
                continue
            args = [self._objects.one(a) for a in re.split(r"[,\s]+", call.group(2).strip()) if a]
            if len(args) == self.arity[name] and all(args):
                return StepReading("read", [(name, *(str(a) for a in args))])
        clause = COMMENTARY.sub("", text).strip()
        found = self._keyword(clause)
        note = ""
        if found is None:
            found = self._first_word(clause)
            if found is None:
                named = [str(o) for _, _, o in self._objects.finditer(clause)]
                if named:  # "Place the red block on the blue block": a step whose verb we do not know
                    return StepReading("unread", [], f"names {', '.join(named)} but no action of the domain")
                return StepReading("unread")
            note = f"read from its first word {clause[found[0] : found[1]]!r}"
        start, end, names = found
        rest = clause[end:]
        mentions = self._objects.finditer(rest)
        objects = tuple(str(o) for _, _, o in mentions)
        gaps = _gaps(rest, mentions)
        exact = [
            (n, *objects) for n in names if len(objects) == self.arity[n] and _fits(gaps, self._connectors[n])
        ]
        if exact:
            return StepReading("read", exact, note)
        counts = {self.arity[n] for n in names}
        if objects and len(objects) > max(counts):
            own = [(n, *objects[: self.arity[n]]) for n in names]
            others = [
                (n, *objects)
                for n in self.actions
                if n not in names and self.arity[n] == len(objects) and _fits(gaps, self._connectors[n])
            ]
            note = f"{len(objects)} objects named where {self.describe(own[0])} takes {self.arity[own[0][0]]}"
            if others:  # a reading that drops a named object is no reading a careful reader would give
                dropped = ", ".join(self.describe(a) for a in own)
                return StepReading(
                    "ambiguous", others, f"{note}; not read as {dropped}, which drops an object"
                )
            return StepReading("ambiguous", own, note)
        if len(objects) in counts:
            own = [(n, *objects) for n in names if self.arity[n] == len(objects)]
            return StepReading(
                "ambiguous",
                own,
                f"the words joining the objects ({' / '.join(gaps[1:])}) are not the template's",
            )
        needs = (
            f"{'/'.join(names)} takes {'/'.join(map(str, sorted(counts)))} object(s); {len(objects)} named"
        )
        stranger = NOUN.search(" ".join(gaps))
        if stranger and not objects:
            return StepReading(
                "invalid", [], f"{needs}, and {stranger.group(0)!r} is not an object of the problem"
            )
        if objects and len(objects) < min(counts):  # judged as written: an argument-count error
            return StepReading("partial", [(names[0], *objects)], needs)
        if len(set(names)) == 1 and self._alone(text, names[0]) and not self._objects.finditer(text):
            # "Attack", "Succumb object": a step that is the action alone, judged as written
            return StepReading("partial", [(names[0],)], f"{needs}: the step is the action alone")
        return StepReading("unread", [], needs)

    def says_words(self, text: str, action: PlanAction) -> bool:
        """Whether `text` holds the action's verb words (its leading words or PDDL name) and names its
        objects in order (other objects may stand between them): a weaker sign than reading it."""
        name, *args = action
        keyword = self._keywords.get(name)
        if keyword is None or keyword.search(text) is None:
            return False
        named = iter(str(o) for _, _, o in self._objects.finditer(text))
        return all(arg in named for arg in args)

    def _apposition(self, text: str) -> tuple[str, str] | None:
        """The line with the first object named two ways ("city_1 (location_1_0)") as each name alone."""
        found = self._objects.finditer(text)
        for (start1, end1, first), (start2, end2, second) in itertools.pairwise(found):
            close = APPOSITION_END.match(text, end2)
            if first != second and close and APPOSITION_START.fullmatch(text[end1:start2]):
                rest = text[close.end() :]
                return text[:end1] + rest, text[:start1] + text[start2:end2] + rest
        return None

    def _alone(self, text: str, name: str) -> bool:
        """Whether the whole line is the action's words alone: sequencing words before them, then only
        articles and the word the objects' names share ("object" of "object a"), and no remark."""
        words = re.findall(r"[a-z]+", text.lower())
        while words and words[0] in SEQUENCING:
            words.pop(0)
        for lead in {self._lead_words[name], re.sub(r"[-_]", " ", name)}:
            said = lead.split()
            rest = words[len(said) :]
            if words[: len(said)] == said and all(w in ARTICLES or w in self._filler for w in rest):
                return True
        return False

    def _first_word(self, clause: str) -> tuple[int, int, list[str]] | None:
        """A clause that starts with the first word of one action's leading words ("Put red on the
        table" for "put down the {}"), when no other action's leading words start with it."""
        m = re.match(r"^(?:\W|\b(?:first|then|next|finally|lastly|now|and)\b)*([a-z]+)\b", clause, re.I)
        if m is None:
            return None
        word = m.group(1).lower()
        names = [n for n, first in self._first_words.items() if first == word]
        leads = {self._lead_words[n] for n in names}
        return (m.start(1), m.end(1), names) if names and len(leads) == 1 else None

    def _keyword(self, clause: str) -> tuple[int, int, list[str]] | None:
        hits = [(m.start(), -m.end(), n) for n, r in self._keywords.items() if (m := r.search(clause))]
        if not hits:
            return None
        hits.sort()
        start, neg_end = hits[0][:2]
        return start, -neg_end, [n for s, e, n in hits if (s, e) == (start, neg_end)]


def _aliases(names: dict[str, str]) -> dict[str, list[str]]:
    """Every object's names, longest first: its template phrase; what sets it apart from the others when
    they share a word ("red" of "red block", "a" of "object a"); its PDDL name."""
    words = {o: n.lower().split() for o, n in names.items()}
    shared = Counter(w for ws in words.values() for w in set(ws))
    common = {w for w, c in shared.items() if c > 1 and len(names) > 1}
    out: dict[str, list[str]] = {}
    for obj, ws in words.items():
        forms = [" ".join(ws)]
        own = [w for w in ws if w not in common]
        if own and len(own) < len(ws):
            forms.append(" ".join(own))
        forms.append(obj.lower())
        out[obj] = list(dict.fromkeys(forms))
    counts = Counter(f for fs in out.values() for f in fs)
    return {o: [f for f in fs if counts[f] == 1] for o, fs in out.items()}


def _form_pattern(form: str) -> str:
    body = _words_pattern(form)
    if len(form) == 1 or form in STOPWORDS:
        # a one-letter or common-word name ("a", "i", "in") counts only as a capital, at a clause's end,
        # or before punctuation, a joining word or another one-letter name ("feast b d"); never as an
        # article before a noun ("pick up a block")
        upper = re.escape(form.upper())
        return (
            rf"(?-i:{upper})(?![\w-])"
            rf"|{body}(?=\s*(?:$|[,.;:!?)]|\s(?:from|on|onto|to|into|at|in)\b|\s[a-z](?![\w-])))"
        )
    return rf"(?:(?:the|a|an)\s+)?{body}"


def _mention_regex(forms: list[str]) -> re.Pattern[str]:
    """One regex for every form (longest first); the match's group `o<k>` or `a<k>` names form k.

    Each form may follow an article (`_form_pattern`). Trying every form bare first and then every form
    after an article finds the same mentions as trying each form with and then without an article, and
    much faster, unless a form itself starts with an article word: then the plain alternation is kept.
    """
    plain = [not (len(f) == 1 or f in STOPWORDS) for f in forms]
    if any(ok and f.split()[0] in ARTICLES for f, ok in zip(forms, plain, strict=True)):
        body = "|".join(f"(?P<o{k}>{_form_pattern(f)})" for k, f in enumerate(forms))
    else:
        bare = "|".join(f"(?P<o{k}>{_words_pattern(f)})" for k, f in enumerate(forms) if plain[k])
        after = "|".join(f"(?P<a{k}>{_words_pattern(f)})" for k, f in enumerate(forms) if plain[k])
        short = [f"(?P<o{k}>{_form_pattern(f)})" for k, f in enumerate(forms) if not plain[k]]
        body = "|".join([*([bare, rf"(?:the|a|an)\s+(?:{after})"] if bare else []), *short])
    return re.compile(r"(?<![\w-])(?:" + body + r")(?![\w-])", re.I)


def _words_pattern(form: str) -> str:
    return r"\s+".join(re.escape(w) for w in form.split())


class _Objects:
    """Finds object mentions; which object a mention names."""

    def __init__(self, names: dict[str, str]) -> None:
        aliases = _aliases(names)
        pairs = sorted(((f, o) for o, fs in aliases.items() for f in fs), key=lambda p: -len(p[0]))
        self.by_form = {f: o for f, o in pairs}
        self.regex = _mention_regex([f for f, _ in pairs]) if pairs else re.compile(r"(?!)")
        self.order = [o for _, o in pairs]

    def one(self, text: str) -> str | None:
        """The object a whole string names (`blue`, `red block`, `a`), or None."""
        found = self.finditer(text.strip())
        return found[0][2] if len(found) == 1 and found[0][1] - found[0][0] == len(text.strip()) else None

    def finditer(self, text: str) -> list[tuple[int, int, str]]:
        out = []
        for m in self.regex.finditer(text):
            group = m.lastgroup
            if group is not None:
                out.append((m.start(), m.end(), self.order[int(group[1:])]))
        return out


def _squash(name: str) -> str:
    return re.sub(r"[\s_-]", "", name.lower())


def _lead(pattern: str) -> str:
    """The template's words before its first object, articles dropped ("put down")."""
    words = pattern.split("{}")[0].lower().split() if pattern else []
    while words and words[-1] in ARTICLES:
        words.pop()
    return " ".join(words)


def _keyword_regex(name: str, pattern: str) -> re.Pattern[str]:
    """An action's leading words (template before its first object, articles dropped) or its PDDL name
    with any of space, hyphen, underscore or nothing between its parts."""
    lead = pattern.split("{}")[0].lower().split() if pattern else []
    while lead and lead[-1] in ARTICLES:
        lead.pop()
    forms = {r"[\s_-]*".join(map(re.escape, re.split(r"[-_]", name)))}
    if lead:
        forms.add(r"\s+".join(map(re.escape, lead)))
    return re.compile(r"(?<![\w-])(?:" + "|".join(sorted(forms, key=len, reverse=True)) + r")(?![\w-])", re.I)


def _connectors(pattern: str, arity: int) -> list[tuple[str, ...]]:
    """The template's words between consecutive objects and after the last one, articles dropped."""
    parts = pattern.lower().split("{}") if pattern.count("{}") == arity else [""] * (arity + 1)
    return [tuple(w for w in re.findall(r"[a-z]+", p) if w not in ARTICLES) for p in parts[1:]]


def _gaps(rest: str, mentions: list[tuple[int, int, Any]]) -> list[str]:
    """The words before the first object, between objects, and after the last one."""
    bounds = [0, *[x for s, e, _ in mentions for x in (s, e)], len(rest)]
    return [rest[bounds[k] : bounds[k + 1]] for k in range(0, len(bounds), 2)]


def _words(text: str) -> list[str]:
    out: list[str] = []
    for w in re.findall(r"[a-z]+", text.lower()):
        if w not in ARTICLES:
            out.extend(SYNONYMS.get(w, (w,)))
    return out


def _fits(gaps: list[str], connectors: list[tuple[str, ...]], exact: bool = False) -> bool:
    """Every gap's words are some of the template's words at that place (in order); nothing before the
    first object but articles; any words after the last that are not objects are tolerated only when the
    template has nothing there ("on the table")."""
    if not exact and _words(gaps[0]):
        return False
    for gap, words in zip(gaps[1:-1], connectors[:-1], strict=False):
        said = _words(gap)
        if exact and tuple(said) != words:
            return False
        it = iter(words)
        if not all(w in it for w in said):
            return False
    return True


@dataclass
class BlockReading:
    block: Block
    steps: list[tuple[Line, str, StepReading]]
    """Each step: the line it is on, the text read (the line, or a clause of prose), its reading."""

    def key(self) -> tuple[tuple[PlanAction, ...], ...] | None:
        read = [tuple(r.readings) for _, _, r in self.steps if r.readings]
        return tuple(read) if read else None


def _items(block: Block) -> list[tuple[Line, str, bool]]:
    """The lines to read, and for each whether every clause of it counts (prose) or only its first
    clause that names an action (a list item or a line of a plan block)."""
    if block.kind == "text" and not any(ln.marker != "none" for ln in block.lines):
        out = []
        for ln in block.lines:
            if ln.text and not ln.heading:
                for piece in sentences(ln.text):
                    for clause in re.split(
                        r",?\s+(?:and\s+)?then\s+|;\s+|,\s+(?:and\s+)?(?=[a-z]+\s)|\s+and\s+", piece.text
                    ):
                        out.append((ln, clause, True))
        return out
    items = block.items()
    if not any(ln.marker != "none" for ln in items):
        # a line ending in a colon introduces what follows ("Here is a plan ...:"), never a step
        return [(ln, ln.text, False) for ln in items if not ln.text.rstrip().endswith(":")]
    return [(ln, ln.text, ln.marker == "none") for ln in _list_region(block.lines, items)]


def _list_region(lines: list[Line], items: list[Line]) -> list[Line]:
    """The top-level items and the plain lines among them or right beside them (no blank line between):
    models mix "1. x", "- y" and bare lines in one plan. Plain lines count only if they read as an
    action; nested lines are explanation."""
    top = items[0].indent
    first, last = lines.index(items[0]), lines.index(items[-1])
    while first > 0 and _plain(lines[first - 1], top) and not lines[first - 1].text.endswith(":"):
        first -= 1
    while last + 1 < len(lines) and _plain(lines[last + 1], top):
        last += 1
    return [ln for ln in lines[first : last + 1] if ln.text and not ln.heading and ln.indent <= top]


def _plain(line: Line, top: int) -> bool:
    return bool(line.text) and not line.heading and line.marker == "none" and line.indent <= top


def read_block(reader: PlanReader, block: Block) -> BlockReading:
    steps: list[tuple[Line, str, StepReading]] = []
    for line, text, prose in _items(block):
        reading = reader.read_line(text)
        said_in_pddl = reading.note == PDDL_MISFIT
        if prose and not reading.readings and not said_in_pddl:
            continue  # prose that names an action without its objects is commentary ("you can unstack it")
        steps.append((line, text, reading))
    return BlockReading(block, steps)


def build_steps(
    said: Sequence[tuple[str, list[int] | None, StepReading]], problem: StripsProblem
) -> tuple[list[Step], list[int], list[dict[str, Any]]]:
    """Trace steps from (text, raw span, reading) triples; also the indices of ambiguous steps and the
    steps that name an action we cannot read (each with its note, and whether it is a non-executable
    one)."""
    steps: list[Step] = []
    ambiguous_steps: list[int] = []
    unread: list[dict[str, Any]] = []
    for text, span, reading in said:
        parsed: dict[str, Any] | None = None
        if reading.readings:
            actions = [a for a in reading.readings if fits(problem, a)] or reading.readings
            if reading.status == "read":
                actions = actions[:1]
            parsed = {
                "kind": "action",
                "action": list(actions[0]),
                "exact": reading.status == "read",
                "reading": " or ".join(fmt_atom(a) for a in actions),
            }
            if span is not None:
                parsed["span"] = span
            if len(actions) > 1:
                parsed["readings"] = [list(a) for a in actions]
                ambiguous_steps.append(len(steps))
            if reading.note:
                parsed["note"] = reading.note
        elif reading.note:
            unread.append(
                {
                    "index": len(steps),
                    "text": text,
                    "note": reading.note,
                    "invalid": reading.status == "invalid",
                }
            )
        steps.append(Step(index=len(steps), text=text, parsed=parsed))
    return steps, ambiguous_steps, unread


def read_plan(text: str, templates: Templates, problem: StripsProblem) -> Trace:
    """The plan a response states: the block the reading layer chooses, each of its steps read here. The
    trace's `reading` says which block and why, the alternatives, and the status."""
    separated = separate_reasoning(text)
    reader = PlanReader(templates, problem)
    readings = [read_block(reader, b) for b in find_blocks(separated.response)]
    chosen: Reading = choose([(r.block, r.key()) for r in readings])
    picked = next((r for r in readings if chosen.block is not None and r.block is chosen.block), None)
    section = _plan_section(picked, readings) if picked and chosen.status == "read" else None
    if picked and section:
        chosen = chosen.model_copy(
            update={
                "block": section.block,
                "reason": f"{chosen.reason}; read its part {describe(section.block)}, which states the same "
                f"plan without the {len(_unread(picked)) - len(_unread(section))} line(s) around it that "
                "name no action",
            }
        )
        picked = section
    said = (
        [
            (text, [separated.raw(ln.span.start), separated.raw(ln.span.end)], r)
            for ln, text, r in picked.steps
        ]
        if picked
        else []
    )
    steps, ambiguous_steps, unread = build_steps(said, problem)
    status = chosen.status
    if status == "read" and ambiguous_steps:
        status = "ambiguous"
    plan = [s.parsed["action"] for s in steps if s.parsed and s.parsed.get("action")]
    rivals = [
        [list(step[0]) for step in r.key() or ()]
        for r in readings
        if chosen.status == "ambiguous"
        and r.block in chosen.alternatives
        and r.block.rank == (chosen.block.rank if chosen.block else -1)
    ]
    info: dict[str, Any] = {
        "status": status,
        "reason": chosen.reason
        + (
            f"; step(s) {', '.join(str(k + 1) for k in ambiguous_steps)} read ambiguously"
            if ambiguous_steps
            else ""
        ),
        "block": chosen.block.model_dump(exclude={"lines"}) if chosen.block else None,
        "alternatives": [b.model_dump(exclude={"lines"}) for b in chosen.alternatives],
        "reasoning_source": separated.source,
        "plans": plans_of(steps, rivals),
        "unread_steps": unread,
    }
    return Trace(
        steps=steps,
        answer=plan or None,
        answer_text="\n".join(fmt_atom(tuple(a)) for a in plan) or None,
        parse_errors=[] if plan else ["no action could be read from the response"],
        reading=info,
    )


def _unread(reading: BlockReading) -> list[str]:
    """The lines of a block reading that name no action we can read (its unread steps)."""
    return [text for _, text, r in reading.steps if not r.readings and r.note]


def _plan_section(picked: BlockReading, readings: list[BlockReading]) -> BlockReading | None:
    """A block inside the one chosen ("### Plan:" within a block holding "### Initial Conditions:" too)
    that states the same plan without the chosen block's unread lines: those lines are around the plan,
    not in it (the section is contiguous, so no unread line between two of its steps is left out)."""
    if not _unread(picked):
        return None
    outer = picked.block.span
    inside = [
        r
        for r in readings
        if r is not picked
        and outer.start <= r.block.span.start
        and r.block.span.end <= outer.end
        and r.key() == picked.key()
        and not _unread(r)
    ]
    return max(inside, key=lambda r: r.block.span.end - r.block.span.start, default=None)


def plans_of(steps: list[Step], rivals: list[list[list[str]]]) -> list[list[list[str]]]:
    """Every plan the text may state: each combination of the ambiguous steps' readings, and the plans of
    rival blocks (at most MAX_COMBINATIONS + rivals; more combinations: only the first)."""
    options = [
        s.parsed.get("readings", [s.parsed["action"]]) for s in steps if s.parsed and s.parsed.get("action")
    ]
    combos = list(itertools.islice(itertools.product(*options), MAX_COMBINATIONS + 1))
    plans = [[list(a) for a in c] for c in combos]
    return plans + rivals
