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

Frame = Literal["current", "now", "before", "initial", "goal", "past"]
"""Which state a state claim is about: the simulation's current state (or the one before its last
action, when the words fit that better), explicitly the state now, the state before the action the
sentence opens with ("Unstack orange from blue: orange is clear, …"), the initial state, the goal, or
some earlier state of the simulation."""

FILLERS = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "i'm",
        "im",
        "my",
        "we",
        "our",
        "it's",
        "now",
        "still",
        "currently",
        "already",
        "also",
        "just",
        "then",
        "so",
        "thus",
        "therefore",
        "hence",
        "both",
        "block",
        "blocks",
        "object",
        "objects",
        "top",
        "of",
        "longer",
        "becomes",
        "become",
        "became",
        "remains",
        "remain",
        "remained",
        "stays",
        "stay",
        "stayed",
        "sitting",
        "sits",
        "directly",
        "right",
        "yes",
        "okay",
        "ok",
        "wait",
        "but",
        "because",
        "since",
        "as",
        "indeed",
        "actually",
        "well",
        "hmm",
        "oh",
        "again",
        "here",
        "there's",
    ]
)
"""Words a state clause may add or drop around a template's content words ("on top of" = "on")."""
NEGATIONS = frozenset({"not", "no", "never", "isn't", "aren't", "wasn't", "weren't", "isnt", "arent"})
PAST = frozenset({"was", "were", "had", "previously", "before", "earlier", "originally"})
NOW = frozenset({"now", "becomes", "become", "became", "longer"})
LEAD = re.compile(
    r"^(?:(?:so|and|but|then|next|now|first(?:ly)?|second(?:ly)?|finally|lastly|after that|afterwards?|"
    r"ok(?:ay)?|yes|right|well|wait|hmm+|oh|also|thus|therefore|hence|step \d+|"
    r"action \d+|first action|next action|last action|to start|to begin|start by|begin by)\b[\s,:;.!-]*)+",
    re.I,
)
CHECK = re.compile(
    r"^\W*(?:valid|check(?:ing)?|precondition(?:s| check)?|requires?|requirements?|needs?|ok(?:ay)?|correct|"
    r"allowed|possible|yes|conditions?)\b[^:]{0,20}:",
    re.I,
)
"""A sentence listing the preconditions of the action just named ("Valid: red is clear")."""
FIRST = re.compile(
    r"\b(?:first(?:ly)?|to start|to begin|start(?:ing)? (?:by|with)|begin(?:ning)? (?:by|with)|step 1\b|"
    r"first action)\b",
    re.I,
)
CONTINUE = re.compile(r"^\W*(?:and\s+)?(?:then|next|after that|afterwards?|now)\b", re.I)
STEP_NUMBER = re.compile(r"^\W*(?:(?:so|then|and|now)\W+)*step\s*(\d{1,3})\b", re.I)
RESTART = re.compile(
    r"\b(?:retrace|start over|starting over|from the (?:start|beginning|top)|from scratch|step by step|"
    r"let me (?:re-?check|re-?verify|verify|check|go through|list|write|outline|simulate|walk through)|"
    r"the (?:plan|steps|sequence) (?:would be|is|are|will be)|(?:correct|final|full|whole) (?:plan|sequence)|"
    r"another (?:approach|way|plan|idea|option|sequence)|different (?:approach|way|plan)|let(?:'s| me) try|"
    r"let me think again|re-?start|initial state|original state)\b",
    re.I,
)
RETRACT = re.compile(
    r"\b(?:wait,? no\b|no,? (?:that|this|wait)|that(?:'s| is| was) (?:wrong|incorrect|not right|a mistake|"
    r"not possible|impossible|invalid)|(?:does|did|do)(?:n't| not) work|won't work|will not work|"
    r"can't be right|"
    r"mistake|scratch that|that can't be|not correct|backtrack|doesn't achieve|does not achieve|"
    r"doesn't satisfy|does not satisfy|can(?:'t|not) do that|so no\b|not allowed|that's invalid|"
    r"that is invalid|not possible)\b",
    re.I,
)
HYPOTHETICAL = re.compile(
    r"\?|\b(?:if|suppose|supposing|assume|assuming|maybe|perhaps|could|would|might|should|shall|must|"
    r"need(?:s|ed)? to|have to|has to|had to|want(?:s|ed)? to|going to|will|wo|let's try|try(?:ing)? to|"
    r"alternatively|instead|whether|unless|otherwise|plan(?:s|ned)? to|in order to|possible|possibly|"
    r"probably|either|or)\b",
    re.I,
)
ABLE = re.compile(r"\b(?:i|we)\s+(can(?:not|'t)?|could not|couldn't|am able to|am not able to)\s+", re.I)
REFERENCE = re.compile(
    r"^(?:after|once|having|because|since|as|when|while|upon|before)\s+(?:(?:i|we)\s+)?(?:have\s+|had\s+)?",
    re.I,
)
"""Words that name an action as done (or about to be) rather than take it: "After unstacking orange, …"."""
ALLOWED = re.compile(
    r"\b(?:is|was)(?:n't| not)?\s+(?:now\s+)?"
    r"(?:allowed|possible|impossible|valid|invalid|fine|ok(?:ay)?|legal|"
    r"illegal|permitted)\b",
    re.I,
)
GOAL_LEAD = re.compile(
    r"^(?:\W*(?:so|and|but|wait|now|also|then)\W+)*(?:(?:in|for)\s+)?(?:the|my|our)?\s*goals?"
    r"(?:\s+(?:state|condition|conditions|configuration))?\s*(?:is|are|says|states|requires|wants|needs)?"
    r"\s*(?:to\s+(?:have|get|make|be)|that|for)?\s*:?\s*"
)
"""The words that say a clause states the goal ("The goal is to have ", "Goal: ")."""
GOAL = re.compile(r"\bgoals?\b", re.I)
INITIAL = re.compile(
    r"\b(?:initial(?:ly)?|originally|at the (?:start|beginning)|to begin with|"
    r"starting (?:state|position|configuration))\b",
    re.I,
)
GENERIC_ACTION_VERBS = frozenset(
    [
        "move",
        "moving",
        "moved",
        "place",
        "placing",
        "placed",
        "put",
        "putting",
        "take",
        "taking",
        "took",
        "get",
        "getting",
        "lift",
        "lifting",
        "grab",
        "grabbing",
        "drop",
        "dropping",
        "remove",
        "removing",
        "transfer",
        "transferring",
        "bring",
        "bringing",
        "carry",
        "carrying",
    ]
)
BACK_TO_START = re.compile(
    r"^(?:(?:let me|let's)\s+\w+\s+)?(?:(?:in|from|at|back to)\s+)?(?:the\s+)?"
    r"(?:initial|original|starting) (?:state|conditions?|setup|stack|configuration|position|arrangement)s?\b"
    r"(?!.{0,25}\bafter\b)",
    re.I,
)
"""A sentence that opens with the initial state ("Wait, initial conditions: …"; not "initial state after
step 1")."""
PRONOUN = re.compile(r"\b(?:it|them)\b(?!')", re.I)
NOUN_USE = re.compile(
    r"\b(?:the|a|an|this|that|each|one|single|new|whole|same|its|their|initial|final|current|original|"
    r"goal|first|second|third|other|another)\s+(?:stack|stacks|move|moves|pick|put|drop|lift)\b"
)
"""A verb after a determiner is a noun: "the initial stack", "the next move"."""
CONNECTIVE = re.compile(r"^\W*(?:so|then|after|now|but|once|when|which|since|because|until|later)\b", re.I)
STEPS_BACK = re.compile(r"\b(?:after|before|at|in|from|since)\s+(?:the\s+)?(?:steps?|actions?)\s+\d", re.I)
LABEL = re.compile(r"^[^.!?]{0,40}:\s*$")
"""A short sentence ending in a colon: a label for what follows ("Goal:", "The initial state is:")."""
ITEM = re.compile(r"^[ \t>]*(?:[-*+•]\s*)?(?:\*\*|__)?(?:step\s*)?(\d{1,3})[.):]", re.I)
SPLIT = re.compile(r"\s*(?:[,;:]|\band\b|\bbut\b|\bwhile\b|\bwhereas\b)\s*", re.I)
FUTURE_SUBJECT = re.compile(r"^(?:(?:i|we)(?:'ll| will| am going to| then)?|let's|let me)\s+", re.I)


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

    def read(self, text: str) -> list[Sentence]:
        """The sentences of a thinking text. A label line ("Goal:", "Initial state:") gives its frame to
        the sentences under it, up to the next blank line."""
        out: list[Sentence] = []
        label: Frame | None = None
        under = 0
        last_end = 0
        for piece in sentences(text):
            span = (piece.span.start, piece.span.end)
            if under and re.search(r"\n\s*\n", text[last_end : span[0]]) and not _listed(text, span[0]):
                label = None  # a blank line ends a label's reach, unless a list under it goes on
            last_end = span[1]
            under += 1
            sentence = self.sentence(piece.text, span, _item_number(text, span[0]), label)
            if any(c.kind == "action" for c in sentence.claims) or sentence.lost:
                label = None  # actions under "Initial state:" are a plan, no longer the initial state
            if LABEL.match(piece.text):
                steps = re.search(r"\b(?:steps?|plan|actions?|moves?|sequence)\b", piece.text, re.I)
                label = (
                    None if steps else "goal" if sentence.goal else "initial" if sentence.initial else None
                )
                under = 0
            for claim in sentence.claims:
                claim.span = _locate(text, span, claim.text)
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
        hypothetical = HYPOTHETICAL.search(_quiet(text))
        if hypothetical and not (
            s.goal and hypothetical.group(0).lower() in {"need to", "needs to", "want to"}
        ):
            s.kind = "hypothetical"
            s.lost = mentions_action or s.steps_back
            return s
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
        """The clause with "it" read as the first object of the clause before it ("Unstack red from blue,
        then put it down": red), and a note saying so; the clause as written when there is no such
        object. The clause's own first object becomes the next antecedent."""
        found = self.objects.finditer(clause.lower())
        resolved, note = clause, ""
        if self._antecedent and re.search(r"\bit\b(?!')", clause, re.I) and not found:
            name = self.plans.names.get(self._antecedent, self._antecedent)
            resolved = re.sub(r"\bit\b(?!')", name, clause, flags=re.I)
            note = f"'it' read as {name} (the first object of the clause before)"
        self._antecedent = found[0][2] if found else None  # only the clause right before
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


def _quiet(text: str) -> str:
    """The sentence without parenthetical remarks and quoted text, where modal words do not count."""
    return re.sub(r"\([^()]*\)|\"[^\"]*\"|“[^”]*”", " ", text)


def _item_number(text: str, start: int) -> int | None:
    """The list number of the line a sentence starts on, if that line starts with it."""
    line_start = text.rfind("\n", 0, start) + 1
    m = ITEM.match(text[line_start : start + 1] + " ")
    before = re.sub(r"(?i)\bstep\s*", "", text[line_start:start])
    return int(m.group(1)) if m and before.strip(" \t>-*+•#.):0123456789") == "" else None


def _listed(text: str, start: int) -> bool:
    """The line a sentence starts on is a list item (bullet or number)."""
    line = text[text.rfind("\n", 0, start) + 1 : start + 1]
    return bool(re.match(r"^[ \t>]*(?:[-*+•]|\d{1,3}[.)])\s", line + " "))


def _locate(raw: str, span: tuple[int, int], clause: str) -> tuple[int, int]:
    """The clause's raw span: where its words stand in the sentence's raw text, else the whole sentence
    (markdown inside the clause)."""
    at = raw[span[0] : span[1]].lower().find(clause.lower())
    return (span[0] + at, span[0] + at + len(clause)) if at >= 0 else span
