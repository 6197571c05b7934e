"""Model-assisted extraction: a second reading of a response, by a translator, kept beside the first.

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
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

import jsonschema
from pydantic import BaseModel, Field

from modulo.model import ChatMessage, GeneratorConfig, Model, Run, Sample, Trace, Verdicts
from modulo.protocols import (
    Domain,
    Generation,
    GenerationRequest,
    Generator,
    Grounding,
    GroundingDomain,
    SamplingParams,
)
from modulo.reading import separate_reasoning
from modulo.redact import redact
from modulo.stats import Rate, wilson
from modulo.verify import verify_text

if TYPE_CHECKING:
    from modulo.store import Store

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

INSTRUCTIONS = (
    "You translate a model's answer into JSON. Copy the steps the answer states, in the answer's order, "
    "each worded as the answer words it or in the problem's own words. Do not add, drop, repeat, reorder, "
    "fix or complete steps, and never solve the problem yourself: the JSON must say exactly what the "
    "answer says. If the answer states no steps, give an empty list."
)
FENCE = re.compile(r"^\s*```[ \t]*(?:json)?[ \t]*\n(.*?)\n?```\s*$", re.S | re.I)


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


def translator_id(config: GeneratorConfig, generator: Generator) -> str:
    """The generator's name plus a digest of its whole config: another model or setting is another
    translator, with readings of its own."""
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:8]
    return f"{generator.name}@{digest}"


def check_domain(domain: Domain) -> GroundingDomain:
    """The domain as one that can ground assisted readings, or ValueError saying it cannot."""
    if not isinstance(domain, GroundingDomain):
        raise ValueError(
            f"domain {domain.name!r} cannot ground a model-assisted reading in the text (it has no "
            "`ground`); assisted extraction works for the planning domains"
        )
    return domain


def translation_request(domain: GroundingDomain, sample: Sample) -> GenerationRequest:
    """The prompt asking the translator to put the sample's response (not its thinking) into the domain's
    JSON schema, with the schema as structured output."""
    schema = domain.output_schema(sample.instance)
    response = separate_reasoning(sample.text).response
    problem = next((m.content for m in reversed(sample.prompt) if m.role == "user"), "")
    parts = [f"The problem the answer responds to:\n<problem>\n{problem}\n</problem>"] if problem else []
    parts += [
        f"The answer:\n<answer>\n{response}\n</answer>",
        "Reply with a single JSON object and nothing else, following this JSON schema:\n"
        + json.dumps(schema),
    ]
    return GenerationRequest(
        key=f"assisted:{sample.id}",
        messages=[
            ChatMessage(role="system", content=INSTRUCTIONS),
            ChatMessage(role="user", content="\n\n".join(parts)),
        ],
        instance=sample.instance,
        sampling=SamplingParams(json_schema=schema),
    )


def assess(
    domain: GroundingDomain,
    sample: Sample,
    translator: str,
    translation: str | None,
    *,
    error: str = "",
    structured: Any = None,
) -> AssistedReading:
    """Validate, read, ground and judge one translation of `sample`'s response. Total: a bad translation
    gives a reading with status `failed` or `unreadable`, never an exception.

    `structured`: the JSON object to read when the translation is not itself JSON of the schema (a
    recorded translation in another form, converted by its importer); else the translation is parsed."""
    base = {"sample_id": sample.id, "translator": translator, "text_digest": text_digest(sample.text)}
    if translation is None or error:
        why = error or "the translator returned nothing"
        return AssistedReading(
            **base, status="failed", agreement="failed", translation=translation, error=why, retryable=True
        )
    data = structured if structured is not None else _json(translation)
    if isinstance(data, str):
        return AssistedReading(
            **base, status="failed", agreement="failed", translation=translation, error=data
        )
    schema = domain.output_schema(sample.instance)
    problem = _schema_problem(data, schema)
    if problem:
        return AssistedReading(
            **base,
            status="failed",
            agreement="failed",
            translation=translation,
            structured=data,
            error=problem,
        )
    trace, verdicts = verify_text(domain, sample.instance, json.dumps(data))
    reading = {**base, "translation": translation, "structured": data, "trace": trace, "verdicts": verdicts}
    unread = [s for s in trace.steps if s.parsed is None]
    if unread or (trace.parse_errors and trace.steps == [] and _has_items(data)):
        what = f"step {unread[0].index + 1} {unread[0].text!r}" if unread else "the translation"
        return AssistedReading(
            **reading, status="unreadable", agreement="unreadable", error=f"{what} names nothing we can read"
        )
    try:
        grounding = domain.ground(sample.instance, sample.text, trace)
    except Exception as exc:  # noqa: BLE001 - a crashing grounder must not lose the record
        grounding = [
            Grounding(index=s.index, note=f"grounding crashed: {type(exc).__name__}: {exc}")
            for s in trace.steps
        ]
    missing = [g for g in grounding if g.span is None]
    if missing or len(grounding) != len(trace.steps):
        note = missing[0].note if missing else "the grounder did not answer for every step"
        return AssistedReading(
            **reading, grounding=grounding, status="ungrounded", agreement="ungrounded", error=note
        )
    same_verdict = None
    if sample.verdicts is not None and "unknown" not in (
        sample.verdicts.answer.status,
        verdicts.answer.status,
    ):
        same_verdict = sample.verdicts.answer.status == verdicts.answer.status
    return AssistedReading(
        **reading,
        grounding=grounding,
        status="grounded",
        agreement=compare(sample.trace, trace),
        same_verdict=same_verdict,
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


def _json(text: str) -> dict[str, Any] | str:
    """The JSON object the translation is (also inside one ```json fence), or why it is not one."""
    fenced = FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except (ValueError, RecursionError) as exc:
        return f"the translation is not JSON ({str(exc)[:120]})"
    if not isinstance(value, dict):
        return f"the translation is JSON but not an object ({type(value).__name__})"
    return value


def _schema_problem(data: Any, schema: dict[str, Any]) -> str:
    """Why `data` does not fit `schema` ("" when it does)."""
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(map(str, exc.absolute_path)) or "the object"
        return f"the translation does not fit the domain's schema at {where}: {exc.message[:160]}"
    except jsonschema.SchemaError as exc:
        return f"the domain's schema is not a valid JSON schema: {exc.message[:160]}"
    return ""


def _has_items(data: dict[str, Any]) -> bool:
    return any(isinstance(v, list) and v for v in data.values())


# translating a run's samples ---------------------------------------------------------------------------


def translate(generator: Generator, requests: list[GenerationRequest]) -> list[Generation]:
    """One generation per request; when the generator fails a whole batch (e.g. a server error that
    outlasted its retries) each request is tried alone, so one bad record never stops the rest."""
    try:
        return generator.generate(requests)
    except Exception as exc:  # noqa: BLE001 - turned into per-request failures below
        if len(requests) == 1:
            reason = redact(f"{type(exc).__name__}: {exc}")
            return [Generation(key=requests[0].key, text="", finish_reason="error", error=reason)]
    return [g for r in requests for g in translate(generator, [r])]


def assist_run(
    store: Store,
    run_id: str,
    config: GeneratorConfig,
    get_generator: Callable[[GeneratorConfig], Generator],
    get_domain: Callable[[str], Domain],
    *,
    batch_size: int = 8,
    retry_failed: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> int:
    """Translate every verified sample of the run that this translator has not read yet (and, with
    `retry_failed`, those whose translation the translator failed to make); store each reading as soon as
    its batch is done. Returns how many readings were stored."""
    generator = get_generator(config)
    translator = translator_id(config, generator)
    done = store.assisted_done(run_id, translator, retry_failed=retry_failed)
    pending = [s for s in store.samples(run_id, verified=True) if s.id not in done]
    stored = 0
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        domains = [check_domain(get_domain(s.instance.domain)) for s in batch]
        requests = [translation_request(d, s) for d, s in zip(domains, batch, strict=True)]
        generations = translate(generator, requests)
        readings = [
            assess(d, s, translator, None if g.error else g.text, error=g.error or "")
            for d, s, g in zip(domains, batch, generations, strict=True)
        ]
        store.add_assisted(run_id, readings)
        stored += len(readings)
        if progress:
            progress("assisted extraction", len(batch))
    return stored


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


class AssistedReport(BaseModel):
    """What `modulo report` says about model-assisted extraction (first attempts, round 0)."""

    translators: list[str]
    overall: AgreementCounts
    by_task: dict[str, AgreementCounts]
    """Keyed by task (`task N: domain, style`; with several translators, the translator after it)."""
    listed: list[dict[str, str]]
    """Readings not in agreement (different, ungrounded, unreadable, failed), first 50: sample, translator,
    agreement, why."""
    stale: int = 0
    """Readings made from another text than the sample's stored one (never counted)."""


def summarise(run: Run, samples: Iterable[Sample], readings: list[AssistedReading]) -> AssistedReport | None:
    """Agreement of the assisted readings with the deterministic ones, overall and per task (None when
    the run has no assisted reading)."""
    if not readings:
        return None
    first = {s.id: s for s in samples if s.round == 0}
    current = [
        r for r in readings if r.sample_id in first and r.text_digest == text_digest(first[r.sample_id].text)
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
        {"sample": r.sample_id, "translator": r.translator, "agreement": r.agreement, "why": _why(r)}
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
    )


def _why(reading: AssistedReading) -> str:
    if reading.agreement != "different" or reading.trace is None:
        return reading.error
    return f"assisted answer {json.dumps(reading.trace.answer)[:200]}"


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
