"""Making model-assisted readings (see `modulo.assisted`): the translation prompt, the translator's calls,
and the assessment of a translation (JSON schema, the domain's reading, grounding, verdicts, agreement)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jsonschema

from modulo.assisted import AssistedReading, against, text_digest
from modulo.model import ChatMessage, GeneratorConfig, Sample, Trace
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
from modulo.registry import generator_identity
from modulo.verify import verify_text

if TYPE_CHECKING:
    from modulo.store import Store

INSTRUCTIONS = (
    "You translate a model's answer into JSON. Copy the steps the answer states, in the answer's order, "
    "each worded as the answer words it or in the problem's own words. Do not add, drop, repeat, reorder, "
    "fix or complete steps, and never solve the problem yourself: the JSON must say exactly what the "
    "answer says. If the answer states no steps, give an empty list."
)
FENCE = re.compile(r"^\s*```[ \t]*(?:json)?[ \t]*\n(.*?)\n?```\s*$", re.S | re.I)


def translator_id(config: GeneratorConfig, generator: Generator) -> str:
    """The generator's name plus a digest of its config less serving params: another model or setting
    is another translator, with readings of its own; other endpoints are the same translator."""
    digest = hashlib.sha256(generator_identity(config).model_dump_json().encode()).hexdigest()[:8]
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
    failed = AssistedReading(
        sample_id=sample.id,
        translator=translator,
        text_digest=text_digest(sample.text),
        status="failed",
        agreement="failed",
        translation=translation,
    )
    if translation is None or error:
        return failed.model_copy(
            update={"error": error or "the translator returned nothing", "retryable": True}
        )
    data = structured if structured is not None else _json(translation)
    if isinstance(data, str):
        return failed.model_copy(update={"error": data})
    problem = _schema_problem(data, domain.output_schema(sample.instance))
    if problem:
        return failed.model_copy(update={"structured": data, "error": problem})
    trace, verdicts = verify_text(domain, sample.instance, json.dumps(data))
    read = failed.model_copy(update={"structured": data, "trace": trace, "verdicts": verdicts})
    unread = [s for s in trace.steps if s.parsed is None]
    if unread or (trace.parse_errors and trace.steps == [] and _has_items(data)):
        what = f"step {unread[0].index + 1} {unread[0].text!r}" if unread else "the translation"
        why = f"{what} names nothing we can read"
        return read.model_copy(update={"status": "unreadable", "agreement": "unreadable", "error": why})
    grounding = _ground(domain, sample, trace)
    missing = [g for g in grounding if g.span is None]
    if missing or len(grounding) != len(trace.steps):
        note = missing[0].note if missing else "the grounder did not answer for every step"
        update = {"grounding": grounding, "status": "ungrounded", "agreement": "ungrounded", "error": note}
        return read.model_copy(update=update)
    return against(read.model_copy(update={"grounding": grounding, "status": "grounded"}), sample)


def _ground(domain: GroundingDomain, sample: Sample, trace: Trace) -> list[Grounding]:
    """The domain's grounding; a crashing grounder grounds nothing (the record is kept, ungrounded)."""
    try:
        return domain.ground(sample.instance, sample.text, trace)
    except Exception as exc:  # noqa: BLE001 - turned into an explicit note on every step
        note = f"grounding crashed: {type(exc).__name__}: {exc}"
        return [Grounding(index=s.index, note=note) for s in trace.steps]


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
