"""Ordering puzzles (BIG-Bench logical_deduction): which option about n ordered objects is true?

Output format: one deduction per line in the puzzle's English ('The owl is the second from the left.'),
then a final line `Answer: (X)`. Each deduction is judged by Z3 against the puzzle and the earlier
deductions (rules `ordering.parse`, `ordering.entailment`, `ordering.contradiction`, `logic.timeout`); the
answer against the puzzle alone: the expected option is the one option the puzzle entails.
"""

from __future__ import annotations

import random
import re
from typing import Any

from modulo.domains.logic.answers import ambiguous_answer
from modulo.domains.logic.corrupt import corrupt_position_step
from modulo.domains.logic.ordering_gen import THEMES, puzzle
from modulo.domains.logic.pictures import picture
from modulo.domains.logic.puzzle import PositionPuzzle, PuzzleError, pos, read_puzzle
from modulo.domains.logic.steps import (
    claim_of,
    critique_text,
    failed_verdict,
    flag_partial,
    generator_settings,
    json_schema,
    read_trace,
    unread_premises,
    unread_reason,
)
from modulo.domains.logic.thinking import judge_logic_thinking
from modulo.domains.structured import json_instructions
from modulo.model import AnswerVerdict, ChatMessage, Instance, Step, StepVerdict, Trace, Verdicts
from modulo.protocols import JSON_STYLE, CorruptedStep
from modulo.verifiers.smt import Formula, Judgement, SmtChecker, judge_trace

INSTRUCTIONS = (
    "Solve the puzzle step by step. Write one deduction per line, each a single statement about the "
    "objects in the same English as the puzzle (for example 'The owl is the second from the left.' or "
    "'The robin is to the left of the raven.'). Finish with one line 'Answer: (X)' giving the letter of "
    "the true option."
)
JSON_INSTRUCTIONS = (
    "Solve the puzzle step by step. Put one deduction in each item of `steps`, each a single statement "
    "about the objects in the same English as the puzzle (for example 'The owl is the second from the "
    "left.' or 'The robin is to the left of the raven.'). Then give `answer`: the letter of the true "
    "option.\n\n"
)
FEW_SHOT = (
    "The following paragraphs each describe a set of three objects arranged in a fixed order. The "
    "statements are logically consistent within each paragraph.\n\nOn a shelf, there are three books: a red "
    "book, a green book, and a blue book. The red book is the rightmost. The blue book is to the right of "
    "the green book.\nWhich of the following is true?\nA) The red book is the second from the left.\n"
    "B) The green book is the second from the left.\nC) The blue book is the second from the left.",
    "The red book is the rightmost.\nThe green book is the leftmost.\nThe blue book is the second from the "
    "left.\nAnswer: (C)",
)
OPTION = re.compile(r"^\s*\(?([A-Ia-i])\)\s*(.+)$")


def options(instance: Instance) -> list[tuple[str, str]]:
    """(letter, sentence) of each option `A) The owl is the leftmost.`; unreadable ones are skipped."""
    found = [OPTION.match(str(o)) for o in instance.payload.get("options", [])]
    return [(m.group(1).upper(), m.group(2).strip()) for m in found if m]


def option_letter(text: str) -> str:
    """`(B)`, `B)`, `b.`, `(B) The owl is the leftmost.` -> `b`."""
    match = re.match(r"^\W*([a-i])\b", text.strip().lower())
    return match.group(1) if match else text.strip().lower()


class OrderingDomain:
    """Ordering puzzles with every deduction checked for entailment by Z3 over integer positions."""

    name = "ordering"
    description = "BIG-Bench logical_deduction ordering puzzles: every deduction checked for entailment by Z3"
    oracle_variants = ("gold", "wrong-deduction", "wrong-option")
    instructions = INSTRUCTIONS
    json_instructions = JSON_INSTRUCTIONS
    few_shot = FEW_SHOT

    def __init__(self, timeout_ms: int = 2000) -> None:
        self.timeout_ms = timeout_ms

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        settings = generator_settings(self.name, params, {"objects": 5, "theme": "any"})
        n, theme = int(settings["objects"]), str(settings["theme"])
        if not 3 <= n <= 7 or theme not in (*THEMES, "any"):
            raise ValueError(f"objects must be 3..7 and theme one of {', '.join(THEMES)}, any")
        rng = random.Random(seed)
        out = []
        for k in range(count):
            chosen = rng.choice(sorted(THEMES)) if theme == "any" else theme
            out.append(
                Instance(
                    domain=self.name,
                    id=f"ordering-{chosen}-n{n}-{seed}-{k}",
                    seed=seed,
                    difficulty={"objects": n, "theme": chosen},
                    payload={"dataset": "generated", **puzzle(rng, n, chosen)},
                )
            )
        return out

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        payload = instance.payload
        user = "\n".join([payload["context"], payload["question"], *payload["options"]])
        system = self.instructions
        if style == JSON_STYLE:
            system = self.json_instructions + json_instructions(self.output_schema(instance))
        messages = [ChatMessage(role="system", content=system)]
        if style == "few-shot":
            example, answer = self.few_shot
            messages += [
                ChatMessage(role="user", content=example),
                ChatMessage(role="assistant", content=answer),
            ]
        elif style not in ("zero-shot", JSON_STYLE):
            raise ValueError(f"unknown prompt style {style!r}; known: zero-shot, few-shot, {JSON_STYLE}")
        return [*messages, ChatMessage(role="user", content=user)]

    def answer_options(self, instance: Instance) -> list[tuple[str, str]]:
        """(letter, sentence) of every option, for probes that point a cue at one of them."""
        return options(instance)

    def reorder_options(self, instance: Instance, first: str) -> Instance:
        """The same puzzle with option `first` moved to (A) and the others after it in their order,
        relettered (Turpin et al.'s "answer is always A" few-shot examples)."""
        return reordered(instance, first)

    def output_schema(self, instance: Instance) -> dict[str, Any]:
        """JSON schema of the `json` style: `{"steps": ["The owl is the leftmost.", ...], "answer": "A"}`."""
        return json_schema([letter for letter, _ in options(instance)])

    def parse(self, text: str, instance: Instance) -> Trace:
        letters = {letter.lower(): letter for letter, _ in options(instance)}
        sentences = dict(options(instance))
        try:
            read = self.read(instance.payload["context"])
        except PuzzleError as error:
            reason = f"the puzzle could not be read: {error}"
            return read_trace(text, letters, lambda _: reason, option_letter, sentences)
        return read_trace(text, letters, _reader(read), option_letter, sentences)

    def judge_thinking(
        self, instance: Instance, reasoning: str
    ) -> tuple[list[Step], list[StepVerdict], dict[str, Any]]:
        """The thinking's claims, each checked like a response step; claims under a supposition are
        `unknown` (see `modulo.domains.logic.thinking`)."""
        return judge_logic_thinking(self, instance, reasoning)

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        try:
            read = self.read(instance.payload["context"])
        except PuzzleError as error:
            verdicts = [_verdict(self.name, s, None) for s in trace.steps]
            answer = AnswerVerdict(status="unknown", detail="puzzle-unparsed", message=str(error))
            return Verdicts(steps=verdicts, answer=answer)
        checker = self.checker(read)
        answer = self._answer(instance, read, checker, trace)
        claims = [claim_of(s) for s in trace.steps]
        judgements = judge_trace(checker, claims)
        steps = [_verdict(self.name, s, j, read) for s, j in zip(trace.steps, judgements, strict=True)]
        if read.unparsed:
            steps = flag_partial(steps, len(read.sentences), len(read.unparsed))
        return Verdicts(steps=steps, answer=answer)

    def read(self, context: str) -> PositionPuzzle:
        """The puzzle in an instance's context; a PuzzleError says why it cannot be read."""
        return read_puzzle(context)

    def checker(self, read: PositionPuzzle) -> SmtChecker:
        """Supports are minimised: an unsat core as Z3 returns it depends on what the process solved before
        (term ids, pooled solvers), a minimised support on the claims alone."""
        return SmtChecker(
            read.premises, read.objects, generic=0, ranges=read.ranges, timeout_ms=self.timeout_ms
        )

    def _answer(
        self, instance: Instance, read: PositionPuzzle, checker: SmtChecker, trace: Trace
    ) -> AnswerVerdict:
        """The one option the puzzle entails, judged before any trace step is context."""
        extras: dict[str, Any] = {"dataset_answer": instance.payload.get("answer")}
        if read.unparsed:
            extras["unparsed_premises"] = len(read.unparsed)
            return unread_premises(read.unparsed, extras)
        expected = entailed_option(instance, read, checker, extras)
        if isinstance(expected, AnswerVerdict):
            return expected
        extras["expected"] = expected
        ambiguous = ambiguous_answer(trace, lambda given: _given(given, expected, extras))
        if ambiguous is not None:
            return ambiguous
        if trace.answer is None:
            return AnswerVerdict(
                status="unparsed",
                detail=f"expected ({expected})",
                extras=extras,
                message="no 'Answer: (X)' line",
            )
        return _given(trace.answer, expected, extras)

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        payload = instance.payload
        question = [payload["question"], *payload["options"]]
        answer = "–" if trace is None or trace.answer is None else f"({trace.answer})"
        return picture(self.shown_context(payload["context"]), question, trace, answer)

    def shown_context(self, context: str) -> str:
        """What `render` shows of the puzzle: its last paragraph (the preamble left out)."""
        return context.split("\n\n")[-1]

    def critique(self, verdicts: Verdicts) -> str:
        return critique_text(verdicts)

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        """Step `index` replaced by a placement the puzzle refutes (see `corrupt.py`)."""
        return corrupt_position_step(self, instance, trace, index, seed)

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        if variant not in self.oracle_variants:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(self.oracle_variants)}")
        read = self.read(instance.payload["context"])
        checker = self.checker(read)
        expected = entailed_option(instance, read, checker, {})
        if isinstance(expected, AnswerVerdict):
            raise ValueError(f"{instance.id}: no single option follows ({expected.detail})")
        lines = gold_lines(instance, read, checker, expected)
        rng = random.Random(seed)
        if variant == "wrong-deduction":
            lines = wrong_deduction(instance, read, checker, lines, rng)
        letters = [letter for letter, _ in options(instance)]
        if variant == "wrong-option":
            expected = rng.choice([letter for letter in letters if letter != expected])
        return "\n".join([*lines, f"Answer: ({expected})"])


def reordered(instance: Instance, first: str) -> Instance:
    """`instance` with option `first` as (A), the rest after it in their order; its `answer` follows."""
    given = options(instance)
    if first not in dict(given):
        raise ValueError(f"{instance.id} has no option ({first})")
    order = [(letter, text) for letter, text in given if letter == first]
    order += [(letter, text) for letter, text in given if letter != first]
    letters = [letter for letter, _ in given]
    lines = [f"{new}) {text}" for new, (_, text) in zip(letters, order, strict=True)]
    old = instance.payload.get("answer")
    answer = next((new for new, (was, _) in zip(letters, order, strict=True) if was == old), old)
    return instance.model_copy(update={"payload": {**instance.payload, "options": lines, "answer": answer}})


def _given(given: str, expected: str, extras: dict[str, Any]) -> AnswerVerdict:
    """The verdict of one given option letter."""
    if given == expected:
        return AnswerVerdict(status="correct", detail=f"expected ({expected})", extras=dict(extras))
    return AnswerVerdict(
        status="incorrect",
        detail=f"expected ({expected}), given ({given})",
        message=f"the puzzle entails option ({expected}), not ({given})",
        extras=dict(extras),
    )


def _reader(read: PositionPuzzle) -> Any:
    def step(text: str) -> Formula | str:
        try:
            return read.claim(text)
        except PuzzleError as error:
            return str(error)

    return step


def entailed_option(
    instance: Instance, read: PositionPuzzle, checker: SmtChecker, extras: dict[str, Any]
) -> str | AnswerVerdict:
    """The letter of the one option entailed by the puzzle alone, or the AnswerVerdict saying why not."""
    given = options(instance)
    entailed, unread = [], []
    for letter, text in given:
        try:
            claim = read.claim(text)
        except PuzzleError as error:
            unread.append(f"({letter}) {error}")
            continue
        status = checker.judge(claim, use_steps=False, explain=False).status
        if status == "unknown":
            return AnswerVerdict(
                status="unknown", detail="timeout", message="the solver timed out", extras=extras
            )
        if status == "valid":
            entailed.append(letter)
    if unread or not given:
        extras["unparsed_options"] = len(unread) or 1
        message = "; ".join(unread) or "no options 'A) ...'"
        return AnswerVerdict(status="unknown", detail="options-unparsed", message=message, extras=extras)
    if checker.premises_consistent() is False:
        return AnswerVerdict(
            status="unknown",
            detail="inconsistent-premises",
            message="the constraints contradict each other, so every option follows",
            extras=extras,
        )
    if len(entailed) != 1:
        extras["entailed_options"] = "".join(entailed)
        return AnswerVerdict(
            status="unknown",
            detail="no-unique-option",
            message=f"the puzzle entails {len(entailed)} options ({', '.join(entailed) or 'none'}), not one",
            extras=extras,
        )
    return entailed[0]


def solution(read: PositionPuzzle, checker: SmtChecker) -> list[tuple[int, str]] | None:
    """(position, object) from the start of the scale, if the puzzle fixes the whole order."""
    found = checker.models([pos(o) for o in read.objects], limit=2)
    return sorted(zip(found[0], read.objects, strict=True)) if found and len(found) == 1 else None


def gold_lines(instance: Instance, read: PositionPuzzle, checker: SmtChecker, expected: str) -> list[str]:
    """Every object's position (when the puzzle fixes them all), from the start of the scale, then the
    true option."""
    lines = [read.say_at(o, where) for where, o in solution(read, checker) or []]
    option = dict(options(instance))[expected]
    return [line for line in lines if line != option] + [option]


def wrong_deduction(
    instance: Instance, read: PositionPuzzle, checker: SmtChecker, lines: list[str], rng: random.Random
) -> list[str]:
    """Put one object of a gold chain at a position it does not hold (a false option if the puzzle
    leaves the order open)."""
    fixed = solution(read, checker)
    if not fixed:
        false = [
            t
            for _, t in options(instance)
            if checker.judge(read.claim(t), use_steps=False).status == "invalid"
        ]
        return [*lines[:-1], rng.choice(false)] if false else lines
    index = rng.randrange(len(lines))
    where, obj = next((w, o) for w, o in fixed if read.say_at(o, w) == lines[index])
    elsewhere = rng.choice([k for k in range(1, read.ranges["pos"].high + 1) if k != where])
    return [*lines[:index], read.say_at(obj, elsewhere), *lines[index + 1 :]]


def _verdict(
    domain: str, step: Step, judgement: Judgement | None, read: PositionPuzzle | None = None
) -> StepVerdict:
    """A step's verdict with rules named `<domain>.parse`, `<domain>.entailment`, ..."""
    index = step.index
    if judgement is None:
        return StepVerdict(
            index=index, status="unparsed", rule=f"{domain}.parse", message=unread_reason(step)
        )
    support = _support(judgement, read)
    failed = failed_verdict(index, step.text, judgement.status, domain, "the puzzle", lambda: support)
    return failed or StepVerdict(index=index, status="valid", message=f"follows from {support}")


def _support(judgement: Judgement, read: PositionPuzzle | None) -> str:
    """The premises and earlier steps a verdict rests on, in words."""
    sentences = read.sentences if read else ()

    def premise(p: int) -> str:
        if p == 0:
            return read.distinct_text if read else "all positions differ"
        return repr(sentences[p - 1]) if p <= len(sentences) else f"premise {p}"

    parts = [premise(p) for p in judgement.premises]
    return ", ".join(parts + [f"step {s + 1}" for s in judgement.steps]) or "the puzzle"
