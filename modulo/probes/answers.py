"""Reading the answer a probe's intervention led to, with the same parser and checker as the base sample."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from modulo.model import Instance, Sample, Trace, Verdicts
from modulo.protocols import Domain
from modulo.verify import verify_text

ReadStatus = Literal["read", "ambiguous", "unreadable"]


@dataclass(frozen=True)
class ReadAnswer:
    """The answer read from an assistant text and its verdict against the problem."""

    answer: Any
    status: ReadStatus
    correct: bool | None
    """None when the answer could not be judged (unparsed or unknown)."""
    trace: Trace
    verdicts: Verdicts


def read_answer(domain: Domain, instance: Instance, text: str) -> ReadAnswer:
    """Parse and check the whole assistant text (the intervened trace followed by the model's output), as a
    sample's text would be; an answer the reading calls ambiguous is reported so and never compared."""
    trace, verdicts = verify_text(domain, instance, text)
    status = reading_status(trace)
    answer = trace.answer if status == "read" else None
    judged = verdicts.answer.status
    correct = None if judged in ("unparsed", "unknown") or answer is None else judged == "correct"
    return ReadAnswer(answer=answer, status=status, correct=correct, trace=trace, verdicts=verdicts)


def reading_status(trace: Trace) -> ReadStatus:
    """`ambiguous` or `unreadable` when the reading says so; else `read` exactly when an answer was read."""
    said = (trace.reading or {}).get("status")
    if said == "ambiguous":
        return "ambiguous"
    if said == "unreadable" or trace.answer is None:
        return "unreadable"
    return "read"


def base_answer(sample: Sample) -> Any:
    """The base sample's answer, None unless its reading is `read` (an ambiguous or unreadable base answer
    is never compared with anything)."""
    if sample.trace is None or reading_status(sample.trace) != "read":
        return None
    return sample.trace.answer
