"""`modulo verify` of a whole file on an executor: lines read here, read and judged by the workers, the
outcomes back in input order (so the output is the same for any executor and worker count).

Workers get plain data (the reader's settings, a line's number and text) and look the domain up by
name; they send back the verdict line and the few counts the summary needs, never pydantic objects.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from modulo.executors import Executor, Failure
from modulo.model import Trace, TraceSource, Verdicts
from modulo.protocols import SequenceDomain
from modulo.registry import RegistryError, get_domain
from modulo.report import TraceState, trace_state
from modulo.verify import (
    InputError,
    VerdictRecord,
    VerifyItem,
    crashed_verdicts,
    file_lines,
    interchange_item,
    sequence_item,
    trace_record,
    verdict_of,
)


@dataclass(frozen=True)
class LineReader:
    """How to read one line of the input: a traces-in record (`fmt` None; `domain` overrides each
    record's own) or a published sequence of `domain` in `fmt`."""

    path: str
    domain: str | None = None
    fmt: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    trace_source: TraceSource = "response"

    def item(self, number: int, line: str) -> VerifyItem | InputError:
        if self.fmt is None:
            record = trace_record(self.path, number, line)
            return (
                record
                if isinstance(record, InputError)
                else interchange_item(self.path, number, record, self.domain)
            )
        domain = get_domain(self.domain or "")
        if not isinstance(domain, SequenceDomain):
            raise InputError(f"domain {self.domain!r} reads no published sequence formats")
        return sequence_item(self.path, number, line, domain, self.fmt, self.options)


@dataclass(frozen=True)
class Line:
    """A line of the input as the workers get it; `problem` when it could not even be decoded."""

    number: int
    text: str = ""
    problem: str | None = None


@dataclass(frozen=True)
class LineOutcome:
    """A verdict record (JSON line) and what the summary counts of it, or the problem of a line skipped."""

    record: str | None = None
    problem: str | None = None
    state: TraceState = "none"
    correct: bool = False
    rules: dict[str, int] = field(default_factory=dict)
    size_inferred: bool = False

    @classmethod
    def judged(cls, record: str, item: VerifyItem, verdicts: Verdicts) -> LineOutcome:
        return cls(
            record=record,
            state=trace_state(verdicts),
            correct=verdicts.answer.status == "correct",
            rules=verdicts.rule_counts(),
            size_inferred=bool(item.instance.payload.get("size_inferred")),
        )


def verify_line(reader: LineReader, line: Line) -> LineOutcome:
    """Read and judge one line (what a worker runs)."""
    if line.problem is not None:
        return LineOutcome(problem=line.problem)
    item = reader.item(line.number, line.text)
    if isinstance(item, InputError):
        return LineOutcome(problem=str(item))
    try:
        chosen = get_domain(item.instance.domain)
    except RegistryError as exc:
        return LineOutcome(problem=f"{item.where}: {exc}")
    record, verdicts = verdict_of(chosen, item, reader.trace_source)
    return LineOutcome.judged(record, item, verdicts)


def failed_outcome(reader: LineReader, line: Line, reason: str) -> LineOutcome:
    """The explicit error verdict of a line whose verification failed outside the domain's guards (the
    worker raised, or its process died twice): every verdict `unknown`, the reason in the message."""
    why = f"verification of this item failed: {reason}"
    try:
        item = reader.item(line.number, line.text)
    except Exception as exc:  # noqa: BLE001 - then the line is reported as unreadable
        item = InputError(f"{reader.path}:{line.number}: {why}; reading it again: {type(exc).__name__}")
    if isinstance(item, InputError):
        return LineOutcome(problem=f"{item}" if why in str(item) else f"{item} ({why})")
    verdicts = crashed_verdicts(why, [])
    record = VerdictRecord.build(item.id, item.instance.domain, Trace(parse_errors=[why]), verdicts)
    return LineOutcome.judged(record.model_dump_json(), item, verdicts)


def read_lines(path: Path) -> Iterator[Line]:
    """The file's non-blank lines (InputError raised if it cannot be opened)."""
    for number, text in file_lines(path):
        yield Line(number, problem=str(text)) if isinstance(text, InputError) else Line(number, text)


def verify_file(
    path: Path, reader: LineReader, executor: Executor, count: int | None = None
) -> Iterator[LineOutcome]:
    """Every non-blank line's outcome, in input order; memory flat in the file's length. `count`: how
    many lines the file has, when known (small files are verified in this process)."""
    lines = read_lines(path)
    pending: deque[Line] = deque()

    def remembered() -> Iterator[Line]:  # the lines in flight, to name a failed one
        for line in lines:
            pending.append(line)
            yield line

    for outcome in executor.map(partial(verify_line, reader), remembered(), count):
        line = pending.popleft()
        yield failed_outcome(reader, line, outcome.reason) if isinstance(outcome, Failure) else outcome
