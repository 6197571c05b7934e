"""Verifying one text, and the JSONL interchange formats for traces in and verdicts out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from modulo.model import AnswerVerdict, ChatMessage, Instance, Sample, StepVerdict, Trace, Verdicts
from modulo.protocols import Domain


def verify_text(domain: Domain, instance: Instance, text: str) -> tuple[Trace, Verdicts]:
    """Parse and check `text`. A parser or checker that raises gives explicit `unknown` verdicts.

    Domains promise never to raise on model text; this guard keeps a bug in one from losing a run.
    """
    try:
        trace = domain.parse(text, instance)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit verdict
        reason = f"parser of domain {domain.name!r} crashed: {type(exc).__name__}: {exc}"
        return Trace(parse_errors=[reason]), _crashed(reason, [])
    try:
        return trace, domain.check(instance, trace)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit verdict
        reason = f"checker of domain {domain.name!r} crashed: {type(exc).__name__}: {exc}"
        return trace, _crashed(reason, trace.steps)


def _crashed(reason: str, steps: list[Any]) -> Verdicts:
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

    @classmethod
    def from_sample(cls, sample: Sample) -> TraceRecord:
        return cls(
            id=sample.id,
            domain=sample.instance.domain,
            instance=sample.instance.model_dump(mode="json", exclude={"domain"}),
            text=sample.text,
            prompt=sample.prompt,
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


class InputError(ValueError):
    """A traces file that cannot be read; the message names the file and line."""


def read_trace_records(path: Path) -> Iterator[TraceRecord | InputError]:
    """Records of a traces JSONL file; a bad line yields an InputError in its place instead of stopping."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield TraceRecord.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                yield InputError(f"{path}:{number}: not JSON ({exc.msg})")
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors()
                )
                yield InputError(f"{path}:{number}: not a trace record ({problems})")
