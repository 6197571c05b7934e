"""The words a thinking text uses to say what it is doing: the cues `thinking_reader` reads.

Which words start a simulation ("First", "Let me retrace"), continue one ("Then"), retract one ("Wait,
no"), make a sentence hypothetical ("if", "maybe", "need to"), point at the initial state or the goal,
or name an earlier action ("After unstacking …"); the words a state claim may add or drop around a
template's content words; and where in the raw text a sentence, list item or clause sits. Nothing here
knows a domain.
"""

from __future__ import annotations

import re

from modulo.reading import Piece, Span

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
UNQUOTED = r"""(?!\s*["“'])"""
"""Not followed by a quotation: "the problem says "…"" may quote the goal as well as the initial state."""
GOAL_LEAD = re.compile(
    r"^(?:\W*(?:so|and|but|wait|now|also|then)\W+)*(?:(?:in|for)\s+)?(?:the|my|our)?\s*goals?"
    r"(?:\s+(?:state|condition|conditions|configuration))?\s*(?:is|are|says|states|requires|wants|needs)?"
    r"\s*(?:to\s+(?:have|get|make|be)|that|for)?\s*:?\s*"
)
"""The words that say a clause states the goal ("The goal is to have ", "Goal: ")."""
GOAL = re.compile(r"\bgoals?\b", re.I)
INITIAL = re.compile(
    r"\b(?:initial(?:ly)?|originally|at the (?:start|beginning)|to begin with|the problem (?:says|states)"
    + UNQUOTED
    + r"|"
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
OPENS_INITIAL = re.compile(
    r"^(?:initially|originally|in the (?:initial|starting|original) state|the problem (?:says|states))\b"
    + UNQUOTED,
    re.I,
)
INITIAL_LEAD = re.compile(
    r"^(?:\W*(?:so|and|but|wait|also|now)\W+)*(?:the problem (?:says|states)(?: that)?"
    + UNQUOTED
    + r"|initially|originally|"
    r"in the (?:initial|starting|original) state|at the (?:start|beginning))\W*"
)
"""The words that say a clause restates the initial state ("The problem says ", "Initially, ")."""
ELSEWHEN = re.compile(
    r"\b(?:in the end|finally|final|after|afterwards|then|now|would|will|goal|becomes?)\b", re.I
)
"""Words that place a sentence at another time than the initial state it follows."""
CONNECTIVE = re.compile(r"^\W*(?:so|then|after|now|but|once|when|which|since|because|until|later)\b", re.I)
STEPS_BACK = re.compile(r"\b(?:after|before|at|in|from|since)\s+(?:the\s+)?(?:steps?|actions?)\s+\d", re.I)
LABEL = re.compile(r"^[^.!?]{0,40}:\s*$")
"""A short sentence ending in a colon: a label for what follows ("Goal:", "The initial state is:")."""
ITEM = re.compile(r"^[ \t>]*(?:[-*+•]\s*)?(?:\*\*|__)?(?:step\s*)?(\d{1,3})[.):]", re.I)
SPLIT = re.compile(r"\s*(?:[,;:]|\band\b|\bbut\b|\bwhile\b|\bwhereas\b)\s*", re.I)
FUTURE_SUBJECT = re.compile(r"^(?:(?:i|we)(?:'ll| will| am going to| then)?|let's|let me)\s+", re.I)


def quiet(text: str) -> str:
    """The sentence without parenthetical remarks and quoted text, where modal words do not count."""
    return re.sub(r"\([^()]*\)|\"[^\"]*\"|“[^”]*”", " ", text)


def item_number(text: str, start: int) -> int | None:
    """The list number of the line a sentence starts on, if that line starts with it."""
    line_start = text.rfind("\n", 0, start) + 1
    m = ITEM.match(text[line_start : start + 1] + " ")
    before = re.sub(r"(?i)\bstep\s*", "", text[line_start:start])
    return int(m.group(1)) if m and before.strip(" \t>-*+•#.):0123456789") == "" else None


def at_colon_lines(text: str, pieces: list[Piece]) -> list[Piece]:
    """The sentences, each also cut after a colon that ends a line ("The plan would be:\nFirst, …")."""
    out: list[Piece] = []
    for piece in pieces:
        raw = text[piece.span.start : piece.span.end]
        cut = re.search(r":[ \t]*\n\s*", raw)
        if cut is None:
            out.append(piece)
            continue
        head, tail = raw[: cut.start() + 1], raw[cut.end() :]
        start = piece.span.start
        out.append(Piece(text=" ".join(head.split()), span=Span(start=start, end=start + len(head))))
        out += at_colon_lines(
            text, [Piece(text=" ".join(tail.split()), span=Span(start=start + cut.end(), end=piece.span.end))]
        )
    return out


def listed(text: str, start: int) -> bool:
    """The line a sentence starts on is a list item (bullet or number)."""
    line = text[text.rfind("\n", 0, start) + 1 : start + 1]
    return bool(re.match(r"^[ \t>]*(?:[-*+•]|\d{1,3}[.)])\s", line + " "))


def locate(raw: str, span: tuple[int, int], clause: str) -> tuple[int, int]:
    """The clause's raw span: where its words stand in the sentence's raw text, else the whole sentence
    (markdown inside the clause)."""
    at = raw[span[0] : span[1]].lower().find(clause.lower())
    return (span[0] + at, span[0] + at + len(clause)) if at >= 0 else span
