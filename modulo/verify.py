"""Verifying one text; the JSONL interchange formats for traces in and verdicts out; published sequence
files (one full token sequence per line) read into the same items."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from modulo.model import (
    AnswerVerdict,
    ChatMessage,
    Instance,
    Sample,
    StepVerdict,
    Trace,
    TraceSource,
    Verdicts,
)
from modulo.protocols import Domain, PublishedJudge, SequenceDomain, ThinkingDomain
from modulo.reading import separate_reasoning
from modulo.report import TraceState, trace_state
from modulo.stats import AnswerSplit, Table2x2


def verify_text(
    domain: Domain,
    instance: Instance,
    text: str,
    reasoning: str | None = None,
    trace_source: TraceSource = "response",
) -> tuple[Trace, Verdicts]:
    """Parse and check `text`. A parser or checker that raises gives explicit `unknown` verdicts.

    Domains promise never to raise on model text; this guard keeps a bug in one from losing a run.
    A reasoning model's thinking (`<think>…</think>`, an unclosed tag) is taken out before the domain
    reads the text, unless the domain says it does that itself (`reads_reasoning = True`), so thinking
    is never read as the answer. With `trace_source="reasoning"` the trace is the thinking's claims
    (`reasoning`, else the thinking found in `text`) judged by the domain; the answer is still the
    response's (see `verify_thinking`).
    """
    trace, verdicts = _verify_response(domain, instance, text)
    if trace_source != "reasoning":
        return trace, verdicts
    return verify_thinking(domain, instance, reasoning or separate_reasoning(text).reasoning, trace, verdicts)


def verify_thinking(
    domain: Domain, instance: Instance, reasoning: str | None, trace: Trace, verdicts: Verdicts
) -> tuple[Trace, Verdicts]:
    """The response's answer verdict with the thinking's claims as the trace. No thinking, or a domain
    that does not judge thinking, gives a trace with no step (counted apart from the 2×2 table) and says
    why in `parse_errors`."""
    reading = dict(trace.reading or {})
    answer_only = Verdicts(answer=verdicts.answer)
    if not isinstance(domain, ThinkingDomain):
        why = f"domain {domain.name!r} does not judge thinking; use trace_source = 'response'"
        return trace.model_copy(update={"steps": [], "parse_errors": [*trace.parse_errors, why]}), answer_only
    if not reasoning or not reasoning.strip():
        why = "no thinking to judge: the sample has no reasoning text"
        return trace.model_copy(update={"steps": [], "parse_errors": [*trace.parse_errors, why]}), answer_only
    try:
        steps, step_verdicts, info = domain.judge_thinking(instance, reasoning)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit verdict
        reason = f"thinking checker of domain {domain.name!r} crashed: {type(exc).__name__}: {exc}"
        crashed = StepVerdict(index=0, status="unknown", rule="internal.error", message=reason)
        return trace.model_copy(update={"steps": []}), Verdicts(
            trace_checks=[crashed], answer=verdicts.answer
        )
    reading["thinking"] = info
    thinking_trace = trace.model_copy(update={"steps": steps, "reading": reading})
    return thinking_trace, Verdicts(steps=step_verdicts, answer=verdicts.answer)


def verdict_of(
    domain: Domain, item: VerifyItem, trace_source: TraceSource = "response"
) -> tuple[str, Verdicts]:
    """One item's verdict record as a JSON line, and its verdicts. A domain's fast judgement of published
    output is taken when it applies (same verdicts, no pydantic object per step); else `verify_text`."""
    if trace_source == "response" and isinstance(domain, PublishedJudge):
        try:
            fast = domain.judge_published(item.instance, item.text)
        except Exception:  # noqa: BLE001 - verify_text below turns the failure into explicit verdicts
            fast = None
        if fast is not None:
            texts, verdicts = fast
            return verdict_line(item.id, item.instance.domain, texts, verdicts), verdicts
    trace, verdicts = verify_text(domain, item.instance, item.text, item.reasoning, trace_source)
    return VerdictRecord.build(item.id, item.instance.domain, trace, verdicts).model_dump_json(), verdicts


def _verify_response(domain: Domain, instance: Instance, text: str) -> tuple[Trace, Verdicts]:
    if not getattr(domain, "reads_reasoning", False):
        text = separate_reasoning(text).response
    try:
        trace = domain.parse(text, instance)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit verdict
        reason = f"parser of domain {domain.name!r} crashed: {type(exc).__name__}: {exc}"
        return Trace(parse_errors=[reason]), crashed_verdicts(reason, [])
    try:
        return trace, domain.check(instance, trace)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit verdict
        reason = f"checker of domain {domain.name!r} crashed: {type(exc).__name__}: {exc}"
        return trace, crashed_verdicts(reason, trace.steps)


def crashed_verdicts(reason: str, steps: list[Any]) -> Verdicts:
    """Every verdict `unknown` (rule `internal.error`) with `reason`: what a crash in judging gives."""
    return Verdicts(
        steps=[
            StepVerdict(index=s.index, status="unknown", rule="internal.error", message=reason) for s in steps
        ],
        trace_checks=[StepVerdict(index=len(steps), status="unknown", rule="internal.error", message=reason)],
        answer=AnswerVerdict(status="unknown", detail="internal-error", message=reason),
    )


class TraceRecord(BaseModel):
    """One line of the traces-in interchange: `{"id", "domain", "instance": {...}, "text"}`.

    `instance` is either a full Instance object or just its payload. `prompt` (optional) is the chat
    the text answers, so exported records double as a training set.
    """

    id: str
    domain: str
    instance: dict[str, Any]
    text: str
    prompt: list[ChatMessage] | None = None
    reasoning: str | None = None
    """The model's thinking kept apart from `text` (e.g. an API's `reasoning_content`)."""

    @classmethod
    def from_sample(cls, sample: Sample) -> TraceRecord:
        return cls(
            id=sample.id,
            domain=sample.instance.domain,
            instance=sample.instance.model_dump(mode="json", exclude={"domain"}),
            text=sample.text,
            prompt=sample.prompt,
            reasoning=sample.reasoning,
        )

    def to_instance(self) -> Instance:
        if "payload" in self.instance:
            return Instance.model_validate({"domain": self.domain, "id": self.id, **self.instance})
        return Instance(domain=self.domain, id=self.id, payload=self.instance)


class StepRecord(BaseModel):
    index: int
    text: str
    status: str
    rule: str | None
    message: str


class VerdictRecord(BaseModel):
    """One line of the verdicts-out interchange (see README, "Interchange formats")."""

    id: str
    domain: str
    trace_valid: bool
    trace_status: str
    """`valid`, `invalid`, `unknown` (checker gave up, no rule broken) or `none` (no step was read)."""
    first_error: int | None
    valid_prefix: int
    answer_correct: bool
    answer_status: str
    answer_detail: str
    answer_message: str
    rule_counts: dict[str, int]
    steps: list[StepRecord] = Field(default_factory=list)

    @classmethod
    def build(cls, record_id: str, domain: str, trace: Trace, verdicts: Verdicts) -> VerdictRecord:
        texts = {step.index: step.text for step in trace.steps}
        return cls(
            id=record_id,
            domain=domain,
            trace_valid=verdicts.trace_valid,
            trace_status=trace_state(verdicts),
            first_error=verdicts.first_error,
            valid_prefix=verdicts.valid_prefix,
            answer_correct=verdicts.answer.status == "correct",
            answer_status=verdicts.answer.status,
            answer_detail=verdicts.answer.detail,
            answer_message=verdicts.answer.message,
            rule_counts=verdicts.rule_counts(),
            steps=[
                StepRecord(
                    index=v.index,
                    text=texts.get(v.index, ""),
                    status=v.status,
                    rule=v.rule,
                    message=v.message,
                )
                for v in [*verdicts.steps, *verdicts.trace_checks]
            ],
        )

    @classmethod
    def from_sample(cls, sample: Sample) -> VerdictRecord:
        if sample.trace is None or sample.verdicts is None:
            raise ValueError(f"sample {sample.id} is not verified yet")
        return cls.build(sample.id, sample.instance.domain, sample.trace, sample.verdicts)


def verdict_line(record_id: str, domain: str, texts: list[str], verdicts: Verdicts) -> str:
    """`VerdictRecord.build(...).model_dump_json()` for a trace whose step i reads `texts[i]`, written
    without a pydantic object per step (tests/test_verify_stream.py holds the two equal)."""
    text = encode_basestring  # a JSON string as pydantic writes it: non-ASCII kept, controls escaped
    steps = [
        f'{{"index":{v.index},"text":{text(texts[v.index] if v.index < len(texts) else "")},'
        f'"status":"{v.status}","rule":{"null" if v.rule is None else text(v.rule)},'
        f'"message":{text(v.message)}}}'
        for v in [*verdicts.steps, *verdicts.trace_checks]
    ]
    answer = verdicts.answer
    head = {
        "id": record_id,
        "domain": domain,
        "trace_valid": verdicts.trace_valid,
        "trace_status": trace_state(verdicts),
        "first_error": verdicts.first_error,
        "valid_prefix": verdicts.valid_prefix,
        "answer_correct": answer.status == "correct",
        "answer_status": answer.status,
        "answer_detail": answer.detail,
        "answer_message": answer.message,
        "rule_counts": verdicts.rule_counts(),
    }
    fields = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return f'{fields[:-1]},"steps":[{",".join(steps)}]}}'


class InputError(ValueError):
    """A traces file that cannot be read; the message names the file and line."""


def read_trace_records(path: Path) -> Iterator[TraceRecord | InputError]:
    """Records of a traces JSONL file, each with an instance that validates; a bad line yields an
    InputError in its place instead of stopping."""
    for _, record in _trace_lines(path):
        yield record


def _trace_lines(path: Path) -> Iterator[tuple[int, TraceRecord | InputError]]:
    for number, line in file_lines(path):
        yield number, line if isinstance(line, InputError) else trace_record(path, number, line)


def trace_record(path: Path | str, number: int, line: str) -> TraceRecord | InputError:
    """One line of a traces-in file as a record whose instance validates, or why it is not one."""
    try:
        record = TraceRecord.model_validate(json.loads(line))
    except json.JSONDecodeError as exc:
        return InputError(f"{path}:{number}: not JSON ({exc.msg})")
    except RecursionError:
        return InputError(f"{path}:{number}: JSON nested too deeply to read")
    except ValidationError as exc:
        return InputError(f"{path}:{number}: not a trace record ({_problems(exc)})")
    try:
        record.to_instance()
    except ValidationError as exc:
        return InputError(f"{path}:{number}: not a valid instance ({_problems(exc)})")
    return record


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())


@dataclass(frozen=True)
class VerifyItem:
    """One text to verify against one instance."""

    id: str
    instance: Instance
    text: str
    where: str = ""
    """File and line the item came from, for messages."""
    reasoning: str | None = None
    """The model's thinking, when the record gives it apart from the text."""


def interchange_items(path: Path, domain: str | None = None) -> Iterator[VerifyItem | InputError]:
    """Items of a traces-in JSONL file; `domain` overrides each record's own."""
    for number, record in _trace_lines(path):
        yield record if isinstance(record, InputError) else interchange_item(path, number, record, domain)


def interchange_item(path: Path | str, number: int, record: TraceRecord, domain: str | None) -> VerifyItem:
    instance = record.to_instance()
    return VerifyItem(
        record.id,
        instance.model_copy(update={"domain": domain or record.domain}),
        record.text,
        f"{path}:{number}",
        record.reasoning,
    )


def sequence_items(
    path: Path, domain: SequenceDomain, fmt: str, options: dict[str, Any]
) -> Iterator[VerifyItem | InputError]:
    """Items of a published-format file: per line one token sequence, as plain text or as a JSON object
    with `text` (its other fields, e.g. `id`/`idx`, `rows`/`cols`, reach the domain as options; the
    user's `options` win). The id is the record's, else the line number."""
    for number, line in file_lines(path):
        if isinstance(line, InputError):
            yield line
        else:
            yield sequence_item(path, number, line, domain, fmt, options)


def sequence_item(
    path: Path | str, number: int, line: str, domain: SequenceDomain, fmt: str, options: dict[str, Any]
) -> VerifyItem | InputError:
    """One line of a published-format file (see `sequence_items`) as an item, or why it is not one."""
    record: dict[str, Any] = {"text": line}
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            return InputError(f"{path}:{number}: not JSON ({exc.msg})")
        except RecursionError:
            return InputError(f"{path}:{number}: JSON nested too deeply to read")
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            return InputError(f"{path}:{number}: a JSON line needs a string field `text`")
    fields = {**record, **{k: v for k, v in options.items() if v is not None}}
    fields["id"] = str(next((record[k] for k in ("id", "idx") if record.get(k) is not None), number))
    try:
        instance, output = domain.read_sequence(record["text"], fmt, fields)
    except ValueError as exc:
        return InputError(f"{path}:{number}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a reader bug on one line never stops the others
        reason = f"the {domain.name!r} reader of {fmt!r} failed: {type(exc).__name__}: {exc}"
        return InputError(f"{path}:{number}: {reason}")
    return VerifyItem(fields["id"], instance, output, f"{path}:{number}")


def file_lines(path: Path) -> Iterator[tuple[int, str | InputError]]:
    """Non-blank lines with their numbers; a line that is not UTF-8 is an InputError in its place, an
    unreadable file an InputError raised."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8").strip()
            except UnicodeDecodeError as exc:
                yield number, InputError(f"{path}:{number}: not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if line:
                yield number, line


PROBLEMS_KEPT = 50
"""Unreadable lines quoted in the summary; the rest are counted."""


@dataclass
class VerifySummary:
    """Counts over a `modulo verify` file, kept as they come (memory does not grow with the file): what
    `--json-summary` prints. The same numbers `report.cell` and `report.rule_totals` give on the list
    of every verdict (tests/test_verify_stream.py compares them)."""

    verified: int = 0
    unreadable: int = 0
    problems: list[str] = field(default_factory=list)
    """The first PROBLEMS_KEPT unreadable lines, with why."""
    size_inferred: int = 0
    outcomes: Counter[tuple[TraceState, bool]] = field(default_factory=Counter)
    """(trace state, answer correct) -> how many verdicts."""
    rules: Counter[str] = field(default_factory=Counter)

    def add(self, item: VerifyItem, verdicts: Verdicts) -> None:
        self.count(
            trace_state(verdicts),
            verdicts.answer.status == "correct",
            verdicts.rule_counts(),
            bool(item.instance.payload.get("size_inferred")),
        )

    def count(self, state: TraceState, correct: bool, rules: dict[str, int], size_inferred: bool) -> None:
        """Count one verdict: its trace state, whether the answer is correct, its rule counts."""
        self.verified += 1
        self.size_inferred += size_inferred
        self.outcomes[state, correct] += 1
        self.rules.update(rules)

    def skip(self, problem: str) -> None:
        """Count an unreadable line; the first PROBLEMS_KEPT are kept to show."""
        self.unreadable += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    def _split(self, state: TraceState) -> AnswerSplit:
        return AnswerSplit(
            answer_correct=self.outcomes[state, True], answer_not_correct=self.outcomes[state, False]
        )

    def as_json(self) -> dict[str, Any]:
        count = self.outcomes
        table = Table2x2(
            valid_correct=count["valid", True],
            valid_incorrect=count["valid", False],
            invalid_correct=count["invalid", True],
            invalid_incorrect=count["invalid", False],
        )
        return {
            "lines": self.verified + self.unreadable,
            "verified": self.verified,
            "unreadable": self.unreadable,
            "trace_valid": table.valid_correct + table.valid_incorrect,
            "answer_correct": sum(n for (_, correct), n in count.items() if correct),
            "table": table.model_dump(mode="json"),
            "no_trace": self._split("none").model_dump(mode="json"),
            "trace_unknown": self._split("unknown").model_dump(mode="json"),
            "rule_counts": dict(sorted(self.rules.items())),
            "size_inferred": self.size_inferred,
            "problems": self.problems,
        }
