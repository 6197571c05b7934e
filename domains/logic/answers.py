"""Answers in logic responses: how each answer may be said, the answer statements found, which are taken
back, and the verdict when a reading names several answers (see docs/reading.md, "Logic")."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modulo.model import AnswerVerdict, Trace
from modulo.reading import Block, Span

UNKNOWN_WORDS = (
    "uncertain",
    "undetermined",
    "indeterminate",
    "unknowable",
    "cannot be determined",
    "can't be determined",
    "not determinable",
)
"""Said for `Unknown` (FOLIO's "Uncertain" and plain English), read so when Unknown is a choice."""
OPTION_LINE = re.compile(r"^\s*(?:[-*•]\s*)?\(?([A-I])\)\s*(.+?)\s*$")
ANSWER_LABEL = re.compile(
    r"^(?:the\s+)?(?:(?:my|our)\s+)?(?:(?:final|correct|overall)\s+)?(?P<kind>answer|conclusion|verdict|result|"
    r"option|choice)(?:\s+is)?(?:\s*(?:[:=]|\s[-–—])\s*(?P<value>.*)|\s*$)",
    re.I,
)
ANSWER_IS = re.compile(
    r"^(?:the\s+)?(?:(?:final|correct|right|true)\s+)?(?:answer|option|choice)\s+"
    r"(?:is|would be|must be|should be)"
    r"\s*:?\s*(?P<value>.+)$",
    re.I,
)
STATEMENT_IS = re.compile(
    r"^(?:the\s+)?(?:given\s+|original\s+|above\s+|target\s+)?(?:statement|claim|hypothesis)"
    r"(?:\s+(?P<quoted>[\"“'‘].+?[\"”'’]))?\s+is\s+(?:therefore\s+|thus\s+|definitely\s+)?(?P<value>\w+)\W*$",
    re.I,
)
QUOTED_IS = re.compile(r"^(?P<quoted>[\"“'‘].+?[\"”'’])\s+is\s+(?P<value>\w+)\W*$", re.I)
BOXED = re.compile(r"\\boxed\{\s*(?:\\text\{)?([^{}]*?)\}?\s*\}")
BARE = re.compile(r"^\W*(?:\(?[A-I]\)|[A-I]\.?|true|false|unknown|uncertain)\W*$", re.I)
RETRACT = re.compile(
    r"\b(?:wait|actually|oops|on second thought|my (?:mistake|error|bad)|i made (?:a|an) (?:mistake|error)|"
    r"correction|scratch that|i was wrong|let me (?:re\w+|correct|fix|try again|double[- ]check|check again)|"
    r"(?:that|this)(?:'s|’s| is| was)\s+(?:wrong|incorrect|not right|a mistake))\b",
    re.I,
)
"""Words after an answer that take it back, when another answer follows."""
RETRACT_LAST = re.compile(
    r"\b(?:oops|my (?:mistake|error|bad)|i made (?:a|an) (?:mistake|error)|scratch that|i was wrong|"
    r"wait,? no\b|(?:that|this)(?: answer)?(?:'s|’s| is| was)\s+(?:wrong|incorrect|not right|a mistake))",
    re.I,
)
"""Words after the last answer that take it back (it is then no final answer)."""


@dataclass(frozen=True)
class Choices:
    """How answers are said: each answer by its word or letter (lower-case), and the options' sentences."""

    words: Mapping[str, str]
    options: Mapping[str, str] = field(default_factory=dict)
    """Answer -> its option sentence (`ordering`, `zebra`)."""
    statement: str | None = None
    """The sentence asked about (`deduction`): 'the statement "..." is true' counts only for it."""

    def read(self, value: str) -> frozenset[str] | None:
        """The answers a value may mean ("True", "(B)", "B) The owl is the leftmost.", "uncertain", "True or
        False"); None when it names none."""
        text = " ".join(BOXED.sub(r"\1", value).replace("$", "").split()).strip(" \t*_`\"'“”‘’")
        low = text.lower()
        found = self._choice(low)
        if found is None:
            return self._option(low)
        answer, rest = found
        rest = rest.lstrip(" .,:;)]-–—*").strip()
        other = re.match(r"^(?:or\b|/|\||and\b)\s*\(?(\w+)\)?", rest)
        if other and self._choice(other.group(1)) is not None:
            also = self._choice(other.group(1))
            assert also is not None
            return frozenset({answer, also[0]})
        word = self._choice(rest) if rest else None
        if word is not None and word[0] != answer:  # "B) True" where B is False
            return frozenset({answer, word[0]})
        named = self._option(rest) if rest else None
        return frozenset({answer, *(named or ())}) if named and answer not in named else frozenset({answer})

    def _choice(self, low: str) -> tuple[str, str] | None:
        """The answer a value starts with, and the rest of it."""
        if "Unknown" in self.words.values():
            for said in UNKNOWN_WORDS:
                if low.startswith(said):
                    return "Unknown", low[len(said) :]
        letter = re.match(r"^\(([a-i])\)|^([a-i])(?=$|[.):,;]|\s+[-–—(])", low)
        if letter:
            key = letter.group(1) or letter.group(2)
            if key in self.words:
                return self.words[key], low[letter.end() :]
            # a letter the question never listed labels nothing: only a word after it can answer
            rest = low[letter.end() :].lstrip(" .):,;-–—")
            return self._choice(rest) if re.match(r"^[a-z]{2,}\b", rest) else None
        word = re.match(r"^([a-z]{2,})\b", low)
        if word and word.group(1) in self.words:
            return self.words[word.group(1)], low[word.end() :]
        return None

    def _option(self, low: str) -> frozenset[str] | None:
        """An option's sentence given whole, or a name that only one option mentions."""
        said = plain(low)
        if not said or not self.options:
            return None
        exact = [a for a, o in self.options.items() if plain(o) == said]
        if exact:
            return frozenset(exact)
        if len(said.split()) > 4:
            return None
        named = [a for a, o in self.options.items() if re.search(rf"\b{re.escape(said)}\b", plain(o))]
        return frozenset(named) if len(named) == 1 else None


def plain(text: str) -> str:
    text = re.sub(r"^\W*\(?[a-i]\)\s*", "", text.lower().strip())
    return " ".join(re.findall(r"[a-z0-9]+", text))


@dataclass
class Candidate:
    """An answer statement: where it is, what it says, and whether text after it takes it back."""

    span: Span
    text: str
    answers: frozenset[str] | None
    label: str
    retracted: bool = False
    retraction: str = ""

    def block(self) -> Block:
        return Block(
            kind="labelled",
            label=self.label,
            span=self.span,
            retracted=self.retracted,
            retraction=self.retraction,
        )


def mark_retracted(raw: str, candidates: list[Candidate]) -> None:
    """An answer followed by words taking it back, before the next answer (or, for the last, after it)."""
    for k, cand in enumerate(candidates):
        later = candidates[k + 1].span.start if k + 1 < len(candidates) else len(raw)
        gap = raw[cand.span.end : later]
        m = (RETRACT if k + 1 < len(candidates) else RETRACT_LAST).search(gap)
        if m:
            cand.retracted = True
            cand.retraction = " ".join(gap[max(0, m.start() - 40) : m.end() + 60].split())


def ambiguous_answer(trace: Trace, judge: Callable[[Any], AnswerVerdict]) -> AnswerVerdict | None:
    """When the reading names several answers: each judged; one verdict if they all agree (with a note),
    else `unknown` (detail `ambiguous-reading`) listing every answer and its verdict. None otherwise."""
    reading = trace.reading or {}
    answers = reading.get("answers") or []
    if reading.get("status") != "ambiguous" or not answers:
        return None
    verdicts = [(a, judge(a)) for a in answers]
    reason = str(reading.get("reason", ""))
    first = verdicts[0][1]
    if len(answers) > 1 and all(v.status == first.status for _, v in verdicts):
        said = f"{len(answers)} answers ({', '.join(answers)}; {reason})"
        note = f"the response gives {said}; every one is {first.status}"
        return first.model_copy(update={"message": f"{first.message}; {note}".lstrip("; ")})
    shown = " | ".join(f"{a} -> {v.status}" for a, v in verdicts)
    return AnswerVerdict(
        status="unknown",
        detail="ambiguous-reading",
        message=f"{reason}; the answers: {shown}",
        extras={**first.extras, "readings": len(answers)},
    )
