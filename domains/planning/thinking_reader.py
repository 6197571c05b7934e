"""Reading a reasoning model's thinking into claims: what each sentence asserts, and about which state.

The thinking is split into sentences (`modulo.reading.sentences`, raw spans kept) and each sentence into
clauses. A clause is read as one of

- a *state claim*: atoms in the words of the domain's predicate templates or their shorthand ("the
  orange block is clear", "orange is clear", "blue on red", "hand is empty", "I'm holding orange"),
  negated ("red isn't clear", "no longer clear"), with plural subjects ("red and blue are clear");
- an *action claim*: an action asserted as taken, at the head of the clause ("First, unstack orange from
  blue", "Then put it down", "I pick up red", "After unstacking orange from blue, ...");
- an *applicability claim*: "I can pick up red", "I can't unstack blue (because ...)";

and the sentence as a whole carries cues for the judge (`thinking.py`): which state it speaks of (the
initial state, the goal, the past, "now"), whether it starts a simulation ("First", an item numbered 1,
"Let me retrace"), continues one ("Then", "Next"), or retracts one ("Wait, no", "that doesn't work").

Never judged (kept with their spans): questions, hypotheticals and plans ("If I stack red on blue
first…", "maybe", "I need to", "should", "will"), general rules ("to unstack a block it must be clear"),
and clauses whose words do not fit a template exactly. A sentence of that kind that mentions an action
makes the current simulation's state unknown (`lost`): what it did to the state cannot be told.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from modulo.reading import sentences
from modulo.verifiers.strips import Atom, PlanAction, StripsProblem

from .reading import COMMENTARY, PlanReader, _Objects
from .templates import Templates
from .thinking_cues import (
    ABLE,
    ALLOWED,
    BACK_TO_START,
    CHECK,
    CONNECTIVE,
    CONTINUE,
    ELSEWHEN,
    FILLERS,
    FIRST,
    FUTURE_SUBJECT,
    GENERIC_ACTION_VERBS,
    GOAL,
    GOAL_LEAD,
    HYPOTHETICAL,
    INITIAL,
    INITIAL_LEAD,
    LABEL,
    LEAD,
    NEGATIONS,
    NOUN_USE,
    NOW,
    OPENS_INITIAL,
    PAST,
    PRONOUN,
    REFERENCE,
    RESTART,
    RETRACT,
    SPLIT,
    STEP_NUMBER,
    STEPS_BACK,
    at_colon_lines,
    item_number,
    listed,
    locate,
    quiet,
)

Frame = Literal["current", "now", "before", "initial", "goal", "past"]
"""Which state a state claim is about: the simulation's current state (or the one before its last
action, when the words fit that better), explicitly the state now, the state before the action the
sentence opens with ("Unstack orange from blue: orange is clear, …"), the initial state, the goal, or
some earlier state of the simulation."""


@dataclass
class Claim:
    """One judged unit: a state claim, an action claim or an applicability claim."""

    kind: Literal["state", "action", "applicability"]
    text: str
    span: tuple[int, int]
    atom: Atom | None = None
    positive: bool = True
    frame: Frame = "current"
    action: PlanAction | None = None
    can: bool = True
    reference: bool = False
    """An action named as already done ("after unstacking orange"): fixes which state the sentence is
    about rather than adding a step, when the simulation holds it."""
    before: bool = False
    """A reference to the moment an action is taken ("when stacking red on blue, …"): the state before it."""
    then: bool = False
    """The clause says it comes next ("then red on blue"): a later state than a referenced one."""
    after_unread: bool = False
    """An earlier clause of the sentence names an action we could not read ("put it aside, then …")."""
    note: str = ""


@dataclass
class Sentence:
    """A sentence of the thinking, what it claims and the cues it gives."""

    text: str
    span: tuple[int, int]
    claims: list[Claim] = field(default_factory=list)
    kind: Literal["claims", "commentary", "hypothetical", "unread"] = "unread"
    first: bool = False
    """Says it starts ("First, …"): a simulation from the initial state at the start of the text or after
    a restart cue; otherwise its start is unknown."""
    numbered_one: bool = False
    """Is the item numbered 1 of a list: a simulation from the initial state."""
    number: int | None = None
    """The step number it gives itself (a list item's number, "Step 3: …"), if any."""
    back_to_start: bool = False
    """Opens with the initial state ("Wait, initial conditions: …"): back to restating it."""
    restart: bool = False
    """Says the next simulation starts over ("Let me retrace", "The plan would be")."""
    continues: bool = False
    """Continues a simulation ("Then …", "Next …")."""
    retracts: bool = False
    lost: bool = False
    """Mentions an action it does not assert in a form we read: the simulation's state is unknown after."""
    initial: bool = False
    goal: bool = False
    steps_back: bool = False
    """Speaks of the state after a numbered step ("After step 3, …"): which state that is, is not tracked."""


class ThinkingReader:
    """Reads the thinking about one problem into sentences and claims."""

    def __init__(self, templates: Templates, problem: StripsProblem) -> None:
        self.problem = problem
        self.plans = PlanReader(templates, problem)
        self.objects: _Objects = self.plans._objects
        self.signatures = _signatures(templates, problem)
        self.inflections = _inflections(self.plans._lead_words.values())
        self.verbs = {w for lead in self.plans._lead_words.values() for w in lead.split()[:1]}
        self.verbs |= set(self.inflections)
        self.slots = _slot_types(problem)
        self._antecedent: str | None = None
        self._acted_on: str | None = None

    def read(self, text: str) -> list[Sentence]:
        """The sentences of a thinking text. A label line ("Goal:", "Initial state:") gives its frame to
        the sentences under it, up to the next blank line."""
        out: list[Sentence] = []
        label: Frame | None = None
        under = 0
        last_end = 0
        for piece in at_colon_lines(text, sentences(text)):
            span = (piece.span.start, piece.span.end)
            paragraph = bool(re.search(r"\n\s*\n", text[last_end : span[0]]))
            if paragraph:
                self._antecedent = self._acted_on = None  # "it" never reaches back past a blank line
            if under and paragraph and not listed(text, span[0]):
                label = None  # a blank line ends a label's reach, unless a list under it goes on
            last_end = span[1]
            under += 1
            sentence = self.sentence(piece.text, span, item_number(text, span[0]), label)
            if any(c.kind == "action" for c in sentence.claims) or sentence.lost:
                label = None  # actions under "Initial state:" are a plan, no longer the initial state
            if sentence.back_to_start or OPENS_INITIAL.match(LEAD.sub("", piece.text)):
                label, under = "initial", 0  # "Initially, …" / "In the initial state, …": what follows too
            if LABEL.match(piece.text):
                steps = re.search(r"\b(?:steps?|plan|actions?|moves?|sequence)\b", piece.text, re.I)
                label = (
                    None if steps else "goal" if sentence.goal else "initial" if sentence.initial else None
                )
                under = 0
            for claim in sentence.claims:
                claim.span = locate(text, span, claim.text)
            out.append(sentence)
        return out

    def sentence(
        self, text: str, span: tuple[int, int], number: int | None = None, label: Frame | None = None
    ) -> Sentence:
        s = Sentence(text=text, span=span)
        s.retracts = bool(RETRACT.search(text))
        s.initial = bool(INITIAL.search(text)) or label == "initial"
        s.restart = bool(RESTART.search(text))
        s.goal = bool(GOAL.search(text)) or label == "goal"
        step = STEP_NUMBER.match(text)
        s.number = number if number is not None else int(step.group(1)) if step else None
        s.numbered_one = s.number == 1
        s.back_to_start = bool(BACK_TO_START.match(LEAD.sub("", text)))
        s.first = bool(FIRST.search(text[:40]))
        s.continues = (s.number is not None and s.number > 1) or bool(CONTINUE.search(text))
        s.steps_back = bool(STEPS_BACK.search(text))
        mentions_action = self._mentions_action(text)
        hypothetical = HYPOTHETICAL.search(quiet(text))
        if hypothetical and not (
            s.goal and hypothetical.group(0).lower() in {"need to", "needs to", "want to"}
        ):
            s.kind = "hypothetical"
            s.lost = mentions_action or s.steps_back
            return s
        if label == "initial" and (CONNECTIVE.match(text) or ELSEWHEN.search(text)):
            label = None  # "So in the end red is on blue" under "Initially, …": not the initial state
        base: Frame = label or ("before" if CHECK.match(text) else "current")
        frame: Frame = "initial" if s.back_to_start else base
        opening = self._action_then_colon(text)
        for said in self._clauses(text):
            clause, note = self._resolve_it(said)
            if GOAL.search(clause):
                frame = "goal"  # this clause and the ones it runs on into
            elif INITIAL.search(clause):
                frame = "initial"  # "initially red is clear"
            elif CONNECTIVE.match(clause):
                frame = base  # "…, so after step 2 red is on blue": no longer the initial state
            before = opening and frame == "current" and bool(s.claims)
            claims = self._clause(clause, "before" if before else frame)
            if claims is None:
                s.lost = s.lost or self._mentions_action(clause)
                continue
            for claim in claims:
                claim.after_unread = s.lost
            if not claims:  # "After unstacking red, …": an earlier point we cannot place
                s.steps_back = True
            for claim in claims:
                claim.span, claim.text, claim.note = span, said, note
                if claim.kind == "action" and claim.action and len(claim.action) > 1:
                    self._acted_on = claim.action[1]
            s.claims.extend(claims)
        if s.claims:
            s.kind = "claims"
        elif not mentions_action and not self.objects.finditer(text):
            s.kind = "commentary"
        return s

    # clauses -----------------------------------------------------------------------------------

    def _clauses(self, text: str) -> list[str]:
        """The sentence cut at commas, semicolons, colons, "and", "but"; a bare object list joins the
        clause after it ("red and blue are clear"). Parenthetical remarks are dropped."""
        body = re.sub(r"\([^()]*\)", " ", text).rstrip(" .!")
        parts = [p.strip() for p in SPLIT.split(body) if p and p.strip()]
        out: list[str] = []
        pending: list[str] = []
        for part in parts:
            if self._bare_objects(part):
                pending.append(part)
                continue
            out.append(" and ".join([*pending, part]) if pending else part)
            pending = []
        return out + pending

    def _resolve_it(self, clause: str) -> tuple[str, str]:
        """The clause with "it" read as an object when two readings agree: the first object of the last
        clause that named one, and the object the last action claim acted on, within the paragraph
        ("Unstack red from blue. Now holding red. Then put it down": red); a note says so. Otherwise the
        clause as written ("…, red is clear. Next, put it down": red or the held block? not read)."""
        found = self.objects.finditer(clause.lower())
        resolved, note = clause, ""
        said = self._antecedent
        if said and said == self._acted_on and re.search(r"\bit\b(?!')", clause, re.I) and not found:
            name = self.plans.names.get(said, said)
            resolved = re.sub(r"\bit\b(?!')", name, clause, flags=re.I)
            note = f"'it' read as {name} (the object of the last action and of the last clause naming one)"
        if found:
            self._antecedent = found[0][2]
        return resolved, note

    def _action_then_colon(self, text: str) -> bool:
        """The sentence opens with an action followed by a colon: what follows lists its preconditions."""
        head, colon, _ = text.partition(":")
        if not colon:
            return False
        lead = LEAD.match(head)
        head = head[lead.end() :] if lead else head
        reference = REFERENCE.match(head)
        return self._action(head[reference.end() :] if reference else head) is not None

    def _bare_objects(self, part: str) -> bool:
        found = self.objects.finditer(part)
        return len(found) == 1 and not _words_outside(part, found) - {"the"}

    def _clause(self, clause: str, frame: Frame) -> list[Claim] | None:
        """The claims of one clause; None when it says nothing we read; [] when it names as done an
        action we cannot read ("after unstacking red")."""
        claims = self._clause_claims(clause, frame)
        if claims and CONTINUE.search(clause):
            for claim in claims:
                claim.then = True
        return claims

    def _clause_claims(self, clause: str, frame: Frame) -> list[Claim] | None:
        able = ABLE.search(clause)
        if able:
            action = self._action(clause[able.end() :])
            if action is None:
                return None
            can = not re.search(r"not|n't", able.group(1), re.I)
            return [Claim("applicability", clause, (0, 0), action=action, can=can, frame=frame)]
        lead = LEAD.match(clause)
        head = clause[lead.end() :] if lead else clause
        reference = REFERENCE.match(head)
        if reference:
            action = self._action(head[reference.end() :])
            if action is None:  # "after stacking, …", "after unstacking red": a point we cannot place
                verb = (head[reference.end() :].split() or [""])[0].lower().strip(",.")
                named = verb in self.inflections or verb in GENERIC_ACTION_VERBS or verb in self.verbs
                return [] if named or self._mentions_action(head[reference.end() :]) else None
            before = reference.group(0).split()[0].lower() in ("when", "while", "before", "as")
            return [Claim("action", clause, (0, 0), action=action, reference=True, before=before)]
        first = head.split()[0].lower() if head.split() else ""
        if first.endswith("ing") and first in self.inflections:  # "Stacking red on blue is allowed"
            action = self._action(head)
            if action is None:
                return None
            verdict = ALLOWED.search(head)
            if verdict:
                can = not re.search(r"\b(?:not|n't|im)", verdict.group(0), re.I)
                return [Claim("applicability", clause, (0, 0), action=action, can=can)]
            return [Claim("action", clause, (0, 0), action=action, reference=True, before=True)]
        subject = FUTURE_SUBJECT.match(head)
        action = self._action(head[subject.end() :] if subject else head)
        if action is not None:
            return [Claim("action", clause, (0, 0), action=action)]
        return self._state(clause, frame)

    def _action(self, text: str) -> PlanAction | None:
        """The action a clause states at its head (inflected verbs read as the base form), if exactly one."""
        words = text.split()
        if not words:
            return None
        base = self.inflections.get(words[0].lower().strip(",."))
        if base:
            text = " ".join([base, *words[1:]])
        head = text.lstrip().split()[0].lower()
        if head not in self.verbs and not self.plans._keyword(COMMENTARY.sub("", text).strip()):
            return None
        reading = self.plans.read_line(text)
        keyed = self.plans._keyword(COMMENTARY.sub("", text).strip())
        if keyed is not None and keyed[0] != 0:  # the action must lead the clause
            return None
        return reading.readings[0] if reading.status == "read" and len(reading.readings) == 1 else None

    def _state(self, clause: str, frame: Frame) -> list[Claim] | None:
        """Atoms stated by one clause: its content words must be exactly a predicate's signature."""
        lower = clause.lower()
        if frame == "goal":  # "The goal is to have red on blue": the words that say it is the goal
            lower = GOAL_LEAD.sub("", lower)
        elif frame == "initial":
            lower = INITIAL_LEAD.sub("", lower)
        found = self.objects.finditer(lower)
        tokens: list[str] = []
        objects: list[list[str]] = []
        pos = 0
        for start, end, obj in [*found, (len(lower), len(lower), "")]:
            tokens.extend(re.findall(r"[a-z]+(?:'[a-z]+)?", lower[pos:start]))
            if obj:
                if tokens and tokens[-1] == "{}" and objects:
                    objects[-1].append(obj)  # "red, blue" read as one plural subject
                else:
                    tokens.append("{}")
                    objects.append([obj])
            pos = end
        words = [t for t in tokens if t not in ("and",)]
        negated = sum(w in NEGATIONS or w.endswith("n't") for w in words) % 2 == 1
        past = any(w in PAST for w in words)
        now = any(w in NOW for w in words)
        content = tuple(
            w
            for w in words
            if w not in FILLERS and w not in NEGATIONS and not w.endswith("n't") and w not in PAST
        )
        if not content or content == ("{}",):
            return None
        for name, signature in self.signatures:
            if content != signature:
                continue
            groups = objects
            if len(groups) != signature.count("{}"):
                continue
            claims = []
            plural = [g for g in groups if len(g) > 1]
            if len(plural) > 1:
                return None
            for combo in _expand(groups):
                atom = (name, *combo)
                if not self._typed(atom):
                    return None
                claim_frame: Frame = "past" if past and frame == "current" else frame
                if (now or "currently" in words) and frame in ("current", "before", "goal"):
                    claim_frame = "now"  # "now"/"currently" speak of the present state, whatever the sentence
                if claim_frame == "goal" and negated:
                    return None  # goals state what must hold; "not clear" restates no goal
                claims.append(
                    Claim("state", clause, (0, 0), atom=atom, positive=not negated, frame=claim_frame)
                )
            return claims
        return None

    def _typed(self, atom: Atom) -> bool:
        """The atom's objects are of types the predicate takes (as the domain's actions and the initial
        state use it): "p0 is in c0" is no `in` claim when `in` relates packages and vehicles."""
        allowed = self.slots.get(atom[0])
        if allowed is None:
            return True
        return all(
            any(self.problem.is_a(obj, t) for t in types)
            for obj, types in zip(atom[1:], allowed, strict=False)
        )

    def _mentions_action(self, text: str) -> bool:
        """Whether the text speaks of doing something to an object of the problem (or to "it"): a verb of
        the domain or a generic one ("move", "place"). A verb after a determiner is a noun ("the stack"),
        and a rule about "a block" names no object: neither changes a state we track. A clause that
        opens with such a verb is a step even when its object is left out ("Put down: …")."""
        lower = NOUN_USE.sub(" ", text.lower())
        head = (LEAD.sub("", lower).split() or [""])[0].strip(",.:;")
        if head in self.verbs or head in self.inflections or head in GENERIC_ACTION_VERBS:
            return True  # "Put down: holding orange, …": a step, even with its object left out
        if not self.objects.finditer(lower) and not PRONOUN.search(lower):
            return False
        words = set(re.findall(r"[a-z]+", lower))
        if words & GENERIC_ACTION_VERBS or words & set(self.inflections):
            return True
        return self.plans._keyword(lower) is not None


def _signatures(templates: Templates, problem: StripsProblem) -> list[tuple[str, tuple[str, ...]]]:
    """Each spoken predicate's content words with `{}` for its objects ("{} on {}" for "the {} is on top
    of the {}"), and, where the template's subject before "is" names no object ("the hand is empty",
    "the hand is currently holding {}"), the same without that subject ("holding {}")."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for name in problem.predicates:
        pattern = templates.predicates.get(name, "")
        if not pattern.strip() or name in templates.silent:
            continue
        words = tuple(w for w in re.findall(r"\{\}|[a-z]+", pattern.lower()) if w not in FILLERS)
        out.append((name, words))
        subject = re.match(r"^(.*?)\bis\b", pattern.lower())
        if subject and "{}" not in subject.group(1):
            dropped = tuple(w for w in re.findall(r"[a-z]+", subject.group(1)) if w not in FILLERS)
            if dropped and words[: len(dropped)] == dropped and len(words) > len(dropped):
                out.append((name, words[len(dropped) :]))
    owners: dict[tuple[str, ...], set[str]] = {}
    for name, words in out:
        owners.setdefault(words, set()).add(name)
    return [(name, words) for name, words in out if owners[words] == {name}]  # shared words: never guessed


def _slot_types(problem: StripsProblem) -> dict[str, list[set[str]]]:
    """Per predicate, the types each argument takes in the action schemas (absent: no constraint)."""
    out: dict[str, list[set[str]]] = {}
    for schema in problem.actions.values():
        types = dict(zip(schema.params, schema.types, strict=True))
        for atom in [*(c.atom for c in schema.pre), *schema.add, *schema.delete]:
            slots = out.setdefault(atom[0], [set() for _ in atom[1:]])
            for k, term in enumerate(atom[1:]):
                if k < len(slots):
                    slots[k].add(types.get(term, "object"))
    for atom in problem.init:
        slots = out.setdefault(atom[0], [set() for _ in atom[1:]])
        for k, obj in enumerate(atom[1:]):
            if k < len(slots):
                slots[k].add(problem.objects.get(obj, "object"))
    return out


def _inflections(leads: object) -> dict[str, str]:
    """Gerund and past forms of each action's first word ("unstacking", "picked") -> the base form."""
    out: dict[str, str] = {}
    for lead in leads:  # type: ignore[attr-defined]
        verb = str(lead).split()[0] if str(lead).split() else ""
        if len(verb) < 2:
            continue
        stem = verb[:-1] if verb.endswith("e") else verb
        for form in (stem + "ing", verb + verb[-1] + "ing", stem + "ed", verb + "d", verb + verb[-1] + "ed"):
            if form != verb:
                out.setdefault(form, verb)
    return out


def _expand(groups: list[list[str]]) -> list[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for group in groups:
        combos = [(*c, obj) for c in combos for obj in group]
    return combos


def _words_outside(text: str, found: list[tuple[int, int, str]]) -> set[str]:
    bounds = [0, *[x for s, e, _ in found for x in (s, e)], len(text)]
    gaps = " ".join(text[bounds[k] : bounds[k + 1]] for k in range(0, len(bounds), 2))
    return set(re.findall(r"[a-z]+", gaps.lower()))
