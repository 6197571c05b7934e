"""Model-assisted extraction: a second reading of a response, by a translator, kept beside the first.

This module holds the reading's data and how it compares with the deterministic reading (for the store
and the report); `modulo.translation` makes the readings.

A translator (a second generator named in the suite's `[assisted_extraction]`, or a translation a results
file recorded, e.g. PlanBench's `raw_translation`) turns a model's free-text response (never its thinking)
into the domain's JSON schema. The translation is validated against the schema, read by the domain like
any `json`-style answer, grounded step by step in the response (`GroundingDomain.ground`: every step must
be stated by some span of it) and judged. It is stored beside the sample, with its own verdicts; the
sample's verdicts stay those of the deterministic reading, and the two are never mixed. What is compared
is the two readings: the same plan, a different one, or no comparison (ambiguous, ungrounded, unreadable
or failed translations are listed, never counted as agreement).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from modulo.model import Model, Run, Sample, Trace, Verdicts
from modulo.protocols import Grounding
from modulo.stats import Rate, wilson

AssistedStatus = Literal["grounded", "ungrounded", "unreadable", "failed"]
"""`grounded`: every step of the translation is stated in the response; `ungrounded`: some step is not;
`unreadable`: the translation is valid JSON of the schema but a step names nothing the domain can read;
`failed`: no usable translation (the translator failed, or its output is not JSON of the schema)."""
Agreement = Literal["same", "different", "ambiguous", "ungrounded", "unreadable", "failed"]
"""How the assisted reading compares with the deterministic one. Only a grounded translation is compared:
`same` / `different` answer; `ambiguous` when either reading is ambiguous and the assisted answer is one of
the deterministic readings (neither agreement nor disagreement). Otherwise the assisted status."""
AGREEMENTS: tuple[Agreement, ...] = ("same", "different", "ambiguous", "ungrounded", "unreadable", "failed")
RECORDED = "recorded"
"""Translator name prefix of translations a results file recorded (`recorded:planbench`)."""


class AssistedReading(Model):
    """One translator's reading of one sample's response, stored beside the sample (never in its trace)."""

    sample_id: str
    translator: str
    """Who translated: the generator's name and a digest of its config (`openai:qwen@1a2b3c4d`), or
    `recorded:<importer>` for a translation the imported file holds."""
    text_digest: str
    """sha256 of the sample text the translation was made from: the reading belongs to that text."""
    status: AssistedStatus
    agreement: Agreement
    translation: str | None = None
    """The translator's output, exactly as returned (None when it returned nothing)."""
    structured: Any = None
    """The JSON object read (for recorded translations in another form, the importer's conversion)."""
    error: str = ""
    """Why the translation failed or is unreadable or ungrounded (first problem), else empty."""
    retryable: bool = False
    """A failure of the translator itself (server error, rejected prompt): a later run may try again."""
    trace: Trace | None = None
    """The domain's reading of the translation (the assisted plan)."""
    grounding: list[Grounding] = Field(default_factory=list)
    """For every step of `trace`, the span of the response that states it."""
    verdicts: Verdicts | None = None
    """The verdicts of the assisted reading: for comparison only, never the sample's."""
    same_verdict: bool | None = None
    """For a grounded reading: whether its answer status equals the deterministic one (None when either is
    `unknown`: unknown never agrees)."""


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def against(reading: AssistedReading, sample: Sample) -> AssistedReading:
    """A grounded reading compared with the sample's deterministic reading as stored now (after a
    `modulo reverify` it may differ from the one the reading was first compared with)."""
    if reading.status != "grounded" or reading.trace is None:
        return reading
    same_verdict = None
    ours, theirs = sample.verdicts, reading.verdicts
    if (
        ours is not None
        and theirs is not None
        and "unknown" not in (ours.answer.status, theirs.answer.status)
    ):
        same_verdict = ours.answer.status == theirs.answer.status
    return reading.model_copy(
        update={"agreement": compare(sample.trace, reading.trace), "same_verdict": same_verdict}
    )


def compare(deterministic: Trace | None, assisted: Trace) -> Agreement:
    """`same` or `different` answers; `ambiguous` when a reading is ambiguous and the assisted answer is
    one of the deterministic ones (never counted as agreement)."""
    ours = deterministic.answer if deterministic else None
    reading = (deterministic.reading if deterministic else None) or {}
    plans = reading.get("plans") or [ours]
    ambiguous = reading.get("status") == "ambiguous" or (assisted.reading or {}).get("status") == "ambiguous"
    if ambiguous:
        return "ambiguous" if assisted.answer in plans else "different"
    return "same" if assisted.answer == ours else "different"


# the report --------------------------------------------------------------------------------------------


class AgreementCounts(BaseModel):
    """Readings of one group, by how the assisted reading compares with the deterministic one."""

    readings: int
    counts: dict[str, int]
    """Per agreement: same, different, ambiguous, ungrounded, unreadable, failed (zeros included)."""
    same_plan: Rate
    """`same` over `same` + `different`: how often two clear, grounded readings agree."""
    same_verdict: Rate
    """Over grounded readings whose answer verdicts are both judged: the same answer status."""
    by_words: int = 0
    """Grounded readings with a step found only by its words (verb and objects in a line), not read there
    by the domain's reader: a weaker grounding, worth a look."""


class AssistedReport(BaseModel):
    """What `modulo report` says about model-assisted extraction (first attempts, round 0)."""

    translators: list[str]
    overall: AgreementCounts
    by_task: dict[str, AgreementCounts]
    """Keyed by task (`task N: domain, style`; with several translators, the translator after it)."""
    listed: list[dict[str, str]]
    """Readings not in agreement (different, ungrounded, unreadable, failed), first 50: sample, instance,
    translator, agreement, why."""
    stale: int = 0
    """Readings made from another text than the sample's stored one (never counted)."""


def summarise(run: Run, samples: Iterable[Sample], readings: list[AssistedReading]) -> AssistedReport | None:
    """Agreement of the assisted readings with the deterministic ones, overall and per task (None when
    the run has no assisted reading)."""
    if not readings:
        return None
    first = {s.id: s for s in samples if s.round == 0}
    current = [
        against(r, first[r.sample_id])
        for r in readings
        if r.sample_id in first and r.text_digest == text_digest(first[r.sample_id].text)
    ]
    stale = sum(r.sample_id in first for r in readings) - len(current)
    translators = sorted({r.translator for r in readings})
    labels = _task_labels(run)
    groups: dict[str, list[AssistedReading]] = {}
    for r in current:
        key = labels.get(_producer_digest(r.sample_id), first[r.sample_id].instance.domain)
        if len(translators) > 1:
            key += f" [{r.translator}]"
        groups.setdefault(key, []).append(r)
    listed = [
        {
            "sample": r.sample_id,
            "instance": first[r.sample_id].instance.id,
            "translator": r.translator,
            "agreement": r.agreement,
            "why": _why(r, first[r.sample_id]),
        }
        for r in current
        if r.agreement not in ("same", "ambiguous")
    ]
    return AssistedReport(
        translators=translators,
        overall=_counts(current),
        by_task={k: _counts(v) for k, v in sorted(groups.items())},
        listed=listed[:50],
        stale=stale,
    )


def _counts(readings: list[AssistedReading]) -> AgreementCounts:
    counts = Counter(r.agreement for r in readings)
    judged = [r.same_verdict for r in readings if r.same_verdict is not None]
    return AgreementCounts(
        readings=len(readings),
        counts={a: counts[a] for a in AGREEMENTS},
        same_plan=wilson(counts["same"], counts["same"] + counts["different"]),
        same_verdict=wilson(sum(judged), len(judged)),
        by_words=sum(r.status == "grounded" and any(g.how == "words" for g in r.grounding) for r in readings),
    )


def _why(reading: AssistedReading, sample: Sample) -> str:
    if reading.agreement != "different" or reading.trace is None:
        return reading.error
    ours = sample.trace.answer if sample.trace else None
    return f"deterministic {_short(ours)} vs assisted {_short(reading.trace.answer)}"


def _short(answer: Any) -> str:
    """An answer in one line: a plan as its actions (`unstack a b, put-down a`), else compact JSON."""
    if isinstance(answer, list) and all(isinstance(a, list) for a in answer):
        text = ", ".join(" ".join(map(str, a)) for a in answer) or "none"
    else:
        text = json.dumps(answer)
    return text if len(text) <= 160 else text[:157] + "..."


def _producer_digest(sample_id: str) -> str:
    parts = sample_id.rsplit(":", 3)
    return parts[1] if len(parts) == 4 else ""


def _task_labels(run: Run) -> dict[str, str]:
    """Producer digest (part of every sample id) → a label naming the task."""
    from modulo.runner import producer_key  # the runner uses this module: imported late

    out = {}
    for k, task in enumerate(run.config.tasks):
        producer = producer_key(task, task.generator or run.config.generator)
        digest = hashlib.sha256(producer.encode()).hexdigest()[:12]
        out[digest] = f"task {k + 1}: {task.domain}, {task.style}"
    return out
