"""Reading verbose logic answers: claims out of chained sentences, commentary kept aside, and the answer
chosen among every answer statement (see docs/reading.md, "Logic").

The response is read apart from its thinking (`modulo.reading.separate_reasoning`). Each sentence is cut
into clauses at the words that chain them ("Max is a yumpus, so Max is a dumpus"; "Since Max is a wumpus
and every wumpus is red, Max is red"); each clause is an answer statement ("Answer: True", "the answer is
(B)", "the statement is false"), a claim read by the domain, commentary (a question, "Let me think", "We
need to determine whether ...", a hypothetical, a hedge) or an unread claim. Every claim and every piece
of commentary keeps the raw span it came from. Answer statements go to `modulo.reading.choose`: one
followed by a retraction ("Wait, that's wrong") is set aside; two that disagree make the reading
`ambiguous`, never resolved silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modulo.domains.logic.answers import (
    ANSWER_IS,
    ANSWER_LABEL,
    BARE,
    BOXED,
    OPTION_LINE,
    QUOTED_IS,
    STATEMENT_IS,
    Candidate,
    Choices,
    mark_retracted,
    plain,
)
from modulo.model import Step, Trace
from modulo.reading import Span, choose, normalise, sentences, separate_reasoning
from modulo.verifiers.smt import Formula

ReadStep = Callable[[str], Formula | str]

LEAD = re.compile(
    r"^(?:(?:(?:so|thus|hence|therefore|then|now|and|also|actually|wait|hmm+|oh|okay|ok|well|next|finally|lastly|first(?:ly)?|second(?:ly)?|"
    r"third(?:ly)?|consequently|accordingly|as a result|in conclusion|in summary|overall|in other words|"
    r"this (?:means|shows|gives|implies|tells us)|which means|that means|it follows|we know|"
    r"we can (?:conclude|deduce|infer|say|see)|"
    r"we (?:conclude|deduce|infer|get|have|find|see)|i (?:conclude|think|believe)|we are told|it is given|"
    r"the (?:context|problem|premises?|puzzle) (?:says|states|tells us)|recall|note|clearly|obviously)\b"
    r"(?:\s+that\b)?\s*[,:]?"
    r"|(?:from|by|according to|based on|using|per|combining|applying|looking at)\b[^,.;:]{1,60},)\s*)+",
    re.I,
)
"""Words before a claim that say where it comes from, not what it is ("So,", "From clue 2,")."""
LABEL = re.compile(
    r"^(?:(?:step|fact|rule|premise|deduction|inference|given|known|claim)\s*\d*|\d+)\s*[:.)-]\s+", re.I
)
CITATION = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
ADVERB = re.compile(
    r"\s*\b(?:also|therefore|thus|hence|indeed|too|as well)\b"
    r"|\s*\b(?<!not )(?:clearly|certainly|definitely)\b",
    re.I,
)
MODAL = (
    (re.compile(r"\b(?:must not|cannot|can't|can not) be\b", re.I), "is not"),
    (re.compile(r"\bmust be\b", re.I), "is"),
)
CONDITIONAL_COMMA = re.compile(r"^(if\b[^,]+),\s*(then\b)", re.I)
SINCE = re.compile(r"^(?:since|because|as|given that|due to the fact that)\s+(?P<a>.+?),\s+(?P<b>.+)$", re.I)
BECAUSE = re.compile(r"^(?P<b>.+?),?\s+(?:because|since|given that)\s+(?P<a>.+)$", re.I)
CHAIN = re.compile(
    r"\s*(?:->|→|=>|⇒|;|,?\s+(?:and\s+)?(?:so|thus|hence|therefore|consequently|which means(?: that)?|"
    r"meaning(?: that)?|"
    r"this means(?: that)?|it follows that|we (?:can )?(?:conclude|deduce|infer|get|know)(?: that)?)\b,?)\s+",
    re.I,
)
"""Words that chain a reason to what follows from it: the clause after is supported by the one before."""
RELATIVE = re.compile(r"^\W*(?:which|who|whom|whose|that|this|where|when|so|because|since|as|but|or)\b", re.I)
"""Words that start a remark on a claim, never a claim of its own."""
BACK = re.compile(r"^(?:this|that|these|those|which)\b", re.I)
"""A clause about earlier text ("This is a contradiction"): its subject is no individual of the problem."""
RESTATE = re.compile(
    r"^\W*(?:the\s+)?(?:question|statement|query|hypothesis|problem|task|claim to (?:check|evaluate|verify)|"
    r"statement to (?:check|evaluate|verify|determine))\s*:",
    re.I,
)
"""A line restating the question: every sentence on it is commentary."""
ASKING = re.compile(
    r"\b(?:statement|question|query|hypothesis|goal|determine|evaluate|check|verify|prove|asked|asks|whether|"
    r"task)\b",
    re.I,
)
"""Words of a label that introduce the question, not a claim ("The statement to evaluate is: ...")."""
AND_SPLIT = re.compile(r",?\s+and\s+|,\s+", re.I)
QUESTION = re.compile(r"\?\s*$")
COMMENT = re.compile(
    r"^(?:let(?:'s|’s| us| me)|we (?:need|have to|must|want|will|should|are asked|start|begin|can now|now)|"
    r"i(?:'ll|’ll| will| need| want| should| must| am going| can)\b|we'll|we’ll|to (?:determine|answer|solve|"
    r"find|check|see|figure|evaluate|decide|verify|prove|confirm)|okay|ok\b|alright|hmm+|wait|well,|great|"
    r"the (?:question|task|goal|problem|statement to|query)|our goal|looking at|here(?:'s|’s| is| are)|"
    r"checking|reasoning|explanation|proof|analysis|solution|summary|answer\b|step \d+)",
    re.I,
)
HYPOTHETICAL = re.compile(
    r"^(?:suppose|supposing|assume|assuming|imagine|what if|if we|consider|in case|for example|e\.g\.)\b"
    r"|\b(?:were|would|could|might|may|maybe|perhaps|possibly|probably|necessarily|likely)\b",
    re.I,
)
META = re.compile(
    r"\b(?:whether|statement|question|answer|options?|premises?|context|clues?|contradict\w*|consistent|"
    r"information|determine\w*|conclude\w*|provable|proves?|proven|prove|deduc\w+|stated|mention\w*|"
    r"rules?|facts?|given)\b",
    re.I,
)
"""Words of a sentence about the problem or the reasoning rather than about its individuals."""


@dataclass
class Clause:
    """A piece of a sentence: its normalised text and raw span, and the clause indices it rests on."""

    text: str
    span: Span
    rests_on: list[int] = field(default_factory=list)


@dataclass
class Reader:
    """Reads one response for one instance's choices and claim reader."""

    choices: Choices
    read_step: ReadStep
    raw: str = ""
    steps: list[Step] = field(default_factory=list)
    commentary: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def read(self, text: str, offsets: Sequence[tuple[int, str]]) -> None:
        """Every line (raw offset, text) of the response, in order."""
        self.raw = text
        pending: tuple[int, str] | None = None  # an answer label whose value is on a later line
        listed = self._option_lines(offsets)
        for k, (start, line) in enumerate(offsets):
            pieces = sentences(line, start)
            restated = _restated(pieces[0].text) if pieces else None
            if k in listed or restated:
                for piece in pieces:
                    self.commentary.append(
                        {
                            "text": piece.text,
                            "span": [piece.span.start, piece.span.end],
                            "why": restated or listed[k],
                        }
                    )
                continue
            for piece in pieces:
                if pending is not None and self._labelled_value(pending, piece.span, piece.text):
                    pending = None
                    continue
                pending = self._sentence(piece.span)
        if pending is not None:
            self.errors.append(f"{pending[1]!r} is followed by no answer")

    def _option_lines(self, offsets: Sequence[tuple[int, str]]) -> dict[int, str]:
        """Lines restating the options, two or more in a row ("A) True", "B) False"): commentary. One such
        line alone is read like any other (it may be the answer)."""
        restating = []
        for k, (_, line) in enumerate(offsets):
            m = OPTION_LINE.match(normalise(line)[0])
            answer = self.choices.words.get(m.group(1).lower()) if m else None
            said = self.choices.read(m.group(2)) if m else None
            if m and answer is not None and (said == {answer} or plain(m.group(2)) in self.choices.words):
                restating.append(k)
        runs = {k for k in restating if k - 1 in restating or k + 1 in restating}
        return {k: "restates the options" for k in runs}

    def _labelled_value(self, pending: tuple[int, str], span: Span, text: str) -> bool:
        """Whether the sentence after a bare "Answer:" label is its value (then read as the answer)."""
        start, label = pending
        answers = self.choices.read(text) if len(text.split()) <= 12 else None
        if answers is None:
            self.errors.append(f"{label!r} is followed by no answer")
            return False
        self._candidate(Span(start=start, end=span.end), f"{label}: {text}", answers, label)
        return True

    def _sentence(self, span: Span) -> tuple[int, str] | None:
        text, where = normalise(self.raw[span.start : span.end], span.start)
        made: list[list[int]] = []
        for clause in _clauses(text, where):
            before = len(self.steps)
            rests_on = sorted({s for r in clause.rests_on if r < len(made) for s in made[r]})
            pending = self._clause(clause, rests_on)
            if pending is not None:
                return pending
            made.append(list(range(before, len(self.steps))))
        return None

    def _clause(self, clause: Clause, rests_on: list[int]) -> tuple[int, str] | None:
        body = clause.text.strip()
        label = ANSWER_LABEL.match(body)
        if label:
            value = (label.group("value") or "").strip()
            said = (body[: label.start("value")] if value else body).strip().rstrip(":=-–— ")
            if not value:
                return clause.span.start, said
            answers = self.choices.read(value)
            if answers is not None:
                self._candidate(clause.span, body, answers, said)
                return None
            if label.group("kind").lower() in ("answer", "option", "choice", "verdict"):
                self.errors.append(f"answer {value!r} is none of {sorted(set(self.choices.words.values()))}")
                self.candidates.append(Candidate(clause.span, body, None, said))
                said = _clean(_strip_lead(value))
                claim = self.read_step(said)
                if not isinstance(claim, str):  # "Answer: Max is not red." still claims it
                    self._add(value, said, claim, [clause.span.start, clause.span.end], rests_on)
                return None
            body = value
        boxed = BOXED.search(body)
        if boxed:
            self._candidate(clause.span, body, self.choices.read(boxed.group(1)), "\\boxed")
            return None
        stripped = _strip_lead(body)
        answer = self._answer_sentence(stripped)
        if answer is not None:
            self._candidate(clause.span, body, answer[0], answer[1])
            return None
        if BARE.match(body):
            self._candidate(clause.span, body, self.choices.read(body), "bare answer")
            return None
        if OPTION_LINE.match(body) and (answers := self.choices.read(body)) is not None:
            self._candidate(clause.span, body, answers, "option")
            return None
        self._claim(clause, stripped, rests_on)
        return None

    def _answer_sentence(self, stripped: str) -> tuple[frozenset[str] | None, str] | None:
        """An answer said in a sentence: "the answer is (B)", 'the statement "Max is red" is false'."""
        found = ANSWER_IS.match(stripped)
        if found:
            return self.choices.read(found.group("value")), "answer is"
        for pattern in (STATEMENT_IS, QUOTED_IS):
            found = pattern.match(stripped)
            if not found:
                continue
            quoted = found.groupdict().get("quoted")
            if quoted and not (self.choices.statement and plain(quoted) == plain(self.choices.statement)):
                return None
            if pattern is QUOTED_IS and not quoted:
                return None
            answers = self.choices.read(found.group("value"))
            return (answers, "statement is") if answers is not None else None
        return None

    def _candidate(self, span: Span, text: str, answers: frozenset[str] | None, label: str) -> None:
        if answers is None:
            self.errors.append(f"answer {text!r} is none of {sorted(set(self.choices.words.values()))}")
        self.candidates.append(Candidate(span, text, answers, label))

    def _claim(self, clause: Clause, stripped: str, rests_on: list[int]) -> None:
        """A claim (or several joined by "and"), commentary, or an unread claim; a readable claim before a
        remark ("Max is red, which contradicts ...") is read and the remark kept as commentary."""
        said = _clean(stripped)
        span = [clause.span.start, clause.span.end]
        if not said:
            self._comment(clause, "no words")
            return
        back = BACK.match(said) is not None  # "This is true": no individual of the problem
        talk = COMMENT.match(said) is not None  # "Let me see": the grammar would read it as a verb
        read = "refers back to earlier text" if back else "commentary" if talk else self.read_step(said)
        if not isinstance(read, str):
            self._add(clause.text.strip(), said, read, span, rests_on)
            return
        parts = None if back or talk else _and_parts(said, self.read_step)
        if parts:
            for part, formula in parts:
                self._add(part, part, formula, span, rests_on)
            return
        why = read if back else _commentary(said, clause.text)
        if why is None:
            self._add(clause.text.strip(), said, read, span, rests_on)
            return
        if why not in ("question", "hypothetical or hedged", "label"):
            for head, tail in _beside(said):  # a claim beside a remark: "Known facts: Max is a wumpus"
                found = self.read_step(_clean(head))
                if not isinstance(found, str) and not any(p.match(head) for p in (RELATIVE, BACK, COMMENT)):
                    self._add(head, _clean(head), found, span, rests_on)
                    self._comment(clause, f"{why}, beside a claim", tail)
                    return
        self._comment(clause, why)

    def _add(
        self, written: str, said: str, read: Formula | str, span: list[int], rests_on: list[int]
    ) -> None:
        """A step: its text as written, and in `parsed` the words read, the claim (or why none), the span."""
        parsed: dict[str, Any] = {"read": said, "span": span}
        if isinstance(read, str):
            parsed["error"] = read
        else:
            parsed["claim"] = read
        if rests_on:
            parsed["rests_on"] = rests_on
        self.steps.append(Step(index=len(self.steps), text=written, parsed=parsed))

    def _comment(self, clause: Clause, why: str, text: str | None = None) -> None:
        said = (clause.text if text is None else text).strip()
        self.commentary.append({"text": said, "span": [clause.span.start, clause.span.end], "why": why})


def _clauses(text: str, where: list[int]) -> list[Clause]:
    """A sentence cut at the words that chain its parts; a reason comes before what it supports."""
    lo = len(text) - len(text.lstrip())
    hi = len(text.rstrip())

    def span(a: int, b: int) -> Span:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1] in " \t,.;":
            b -= 1
        return Span(start=where[a], end=where[b - 1] + 1) if b > a else Span(start=where[lo], end=where[lo])

    body = text[lo:hi]
    if QUESTION.search(body) or ANSWER_LABEL.match(body) or BOXED.search(body):
        return [Clause(text[lo:hi], span(lo, hi))]
    parts: list[tuple[int, int]] = []
    pos = lo
    for m in CHAIN.finditer(text, lo, hi):
        parts.append((pos, m.start()))
        pos = m.end()
    parts.append((pos, hi))
    out: list[Clause] = []
    for k, (a, b) in enumerate(parts):
        before = len(out)
        for x, y, reason in _reasons(text, a, b):
            out.append(Clause(text[x:y], span(x, y)))
            if not reason:
                out[-1].rests_on = list(range(before, len(out) - 1))
        if k and before:
            out[before].rests_on = [*range(before), *out[before].rests_on]
    return [c for c in out if c.text.strip()]


def _reasons(text: str, a: int, b: int) -> list[tuple[int, int, bool]]:
    """(start, end, is a reason) of one chained part: "since A, B" and "B because A" give A, then B."""
    piece = text[a:b]
    lead = len(piece) - len(_strip_lead(piece))
    m = SINCE.match(piece, lead)
    if m:
        return [(a + m.start("a"), a + m.end("a"), True), (a + m.start("b"), a + m.end("b"), False)]
    m = BECAUSE.match(piece)
    if m and not re.match(r"^\s*if\b", piece, re.I):
        return [(a + m.start("a"), a + m.end("a"), True), (a + m.start("b"), a + m.end("b"), False)]
    return [(a, b, False)]


def _restated(first: str) -> str | None:
    """Why a line restates the problem ("Question: ...", "Statement: ..."), or None."""
    return "restates the question" if RESTATE.match(first) else None


def _beside(said: str) -> list[tuple[str, str]]:
    """(claim, remark) cuts of a clause: after a colon, before or after a comma, before "which"."""
    out = []
    for cut in re.finditer(r":\s+|,\s+|\s+(?=which\b|who\b)", said):
        head, tail = said[: cut.start()], said[cut.end() :]
        if not cut.group(0).startswith(":"):
            out += [(head, tail), (tail, head)]
        elif not ASKING.search(head):
            out.append((tail, head))
    return out


def _strip_lead(text: str) -> str:
    text = text.strip()
    while True:
        m = LEAD.match(text) or LABEL.match(text)
        if not m or not m.group(0).strip():
            return text
        text = text[m.end() :].strip()


def words_read(text: str) -> str:
    """What is read of a claim written `text`: lead words ("So,", "From clue 2,") and citations dropped."""
    return _clean(_strip_lead(text))


def _clean(text: str) -> str:
    """What is read of a claim: citations, truth-neutral adverbs and a conditional's comma removed, "must
    be" read as "is"."""
    text = CITATION.sub("", text).strip().rstrip(".!,;:").strip()
    text = re.sub(r"\s+[-–—]\s+(?:given|premise|fact|rule|from).*$", "", text, flags=re.I)
    if not re.match(r"^if\b", text, re.I):
        text = ADVERB.sub("", text)
    for pattern, said in MODAL:
        text = pattern.sub(said, text)
    text = CONDITIONAL_COMMA.sub(r"\1 \2", text)
    return " ".join(text.split())


def _and_parts(text: str, read_step: ReadStep) -> list[tuple[str, Formula]] | None:
    """A clause of several claims joined by "and" or commas, when every part reads and only one way of
    cutting it does ("Max is a wumpus and every wumpus is red")."""
    cuts = list(AND_SPLIT.finditer(text))
    if not cuts or len(cuts) > 4:
        return None
    found: list[list[tuple[str, Formula]]] = []
    for mask in range(1, 2 ** len(cuts)):
        chosen = [c for i, c in enumerate(cuts) if mask >> i & 1]
        bounds = [0, *[x for c in chosen for x in (c.start(), c.end())], len(text)]
        pieces = [text[bounds[i] : bounds[i + 1]].strip() for i in range(0, len(bounds), 2)]
        if any(RELATIVE.match(p) or COMMENT.match(p) for p in pieces):
            continue
        read = [(p, read_step(p)) for p in pieces]
        if all(not isinstance(f, str) for _, f in read):
            found.append([(p, f) for p, f in read if not isinstance(f, str)])
    if not found:
        return None
    fewest = min(len(f) for f in found)
    readings = {tuple(f for _, f in r) for r in found if len(r) == fewest}
    return next(r for r in found if len(r) == fewest) if len(readings) == 1 else None


def _commentary(said: str, whole: str) -> str | None:
    """Why a clause that is not a claim of the grammar is commentary, or None (an unread claim)."""
    text = whole.strip()
    if QUESTION.search(text):
        return "question"
    if text.endswith(":"):
        return "label"
    if COMMENT.match(said) or COMMENT.match(text):
        return "commentary"
    if HYPOTHETICAL.search(said):
        return "hypothetical or hedged"
    if META.search(said):
        return "about the problem, not its individuals"
    return None


def response_lines(text: str, response: str) -> list[tuple[int, str]]:
    """Each line of the response with its offset in the raw text (the response may be cut out of it in
    several parts, around thinking)."""
    out, cursor = [], 0
    for line in response.split("\n"):
        found = text.find(line, cursor) if line else cursor
        at = found if found >= 0 else cursor
        out.append((at, line))
        cursor = at + len(line)
    return out


def read_response(text: str, choices: Choices, read_step: ReadStep, reasoning: str | None = None) -> Trace:
    """The trace of a free-text logic answer: claims with spans, commentary, and the answer chosen."""
    separated = separate_reasoning(text, reasoning)
    reader = Reader(choices, read_step)
    reader.read(text, response_lines(text, separated.response))
    mark_retracted(text, reader.candidates)
    chosen = choose([(c.block(), c.answers) for c in reader.candidates])
    picked = next(
        (c for c in reader.candidates if chosen.block is not None and c.span == chosen.block.span), None
    )
    live = [c.answers for c in reader.candidates if c.answers is not None and not c.retracted]
    named = picked.answers if picked is not None and picked.answers is not None else frozenset()
    possible = sorted(frozenset().union(*live) if live else named)
    status, reason = chosen.status, chosen.reason
    if status == "read" and len(named) > 1:
        status, reason = "ambiguous", f"{reason}; it names {len(named)} answers"
    if status == "unreadable" and not reader.candidates:
        reason = "no answer statement was found"
    answer = next(iter(named)) if status == "read" and named else None
    info: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "block": chosen.block.model_dump(exclude={"lines"}) if chosen.block else None,
        "alternatives": [b.model_dump(exclude={"lines"}) for b in chosen.alternatives],
        "answers": possible if status == "ambiguous" else [answer] if answer else [],
        "commentary": reader.commentary,
        "reasoning_source": separated.source,
    }
    return Trace(
        steps=reader.steps,
        answer=answer,
        answer_text=picked.text if picked else None,
        parse_errors=reader.errors,
        reading=info,
    )
