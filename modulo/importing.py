"""Importing foreign results: store every record, re-verify it, compare with what the file recorded."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

from modulo.assisted import RECORDED, AssistedReading, summarise
from modulo.claims import utc_now
from modulo.executors import Executor, InProcess
from modulo.model import GeneratorConfig, Run, RunConfig, Sample, TaskConfig, Trace, TraceSource, Verdicts
from modulo.protocols import ImportedItem, Importer, ImportProblem
from modulo.reading import separate_reasoning
from modulo.registry import RegistryError, get_domain
from modulo.runner import ProgressFn, failed_verification, run_id_for, sample_id, verify_stored, versions
from modulo.store import Store
from modulo.translation import assess, check_domain


def check_options(importer: Importer, options: dict[str, str]) -> None:
    """Unknown or missing options raise ValueError naming what the importer accepts."""
    unknown = sorted(set(options) - set(importer.options))
    missing = sorted(set(importer.required) - set(options))
    accepted = ", ".join(f"--{name}" for name in importer.options) or "none"
    if unknown:
        raise ValueError(f"importer {importer.name!r} has no option(s) {unknown}; it accepts: {accepted}")
    if missing:
        raise ValueError(f"importer {importer.name!r} needs {', '.join('--' + m for m in missing)}")


def read_records(
    importer: Importer, path: Path, options: dict[str, str]
) -> list[ImportedItem | ImportProblem]:
    """Every record of the file; ValueError (one line, naming the file) if the file as a whole is unusable."""
    check_options(importer, options)
    records = importer.read(path, options)
    if not records:
        raise ValueError(f"{path} holds no records; is it the right file for importer {importer.name!r}?")
    return records


def import_file(
    importer: Importer,
    path: Path,
    options: dict[str, str],
    store: Store,
    progress: ProgressFn | None = None,
    trace_source: TraceSource = "response",
) -> tuple[Run | None, dict[str, Any]]:
    """Read the file, then store and verify its records (see `store_records`)."""
    records = read_records(importer, path, options)
    return store_records(importer, path, options, records, store, progress, trace_source)


def store_records(
    importer: Importer,
    path: Path,
    options: dict[str, str],
    records: list[ImportedItem | ImportProblem],
    store: Store,
    progress: ProgressFn | None = None,
    trace_source: TraceSource = "response",
    executor: Executor | None = None,
) -> tuple[Run | None, dict[str, Any]]:
    """Store and verify every record (on `executor`, default this process); re-importing the same file
    and options resumes, never duplicates. With `trace_source="reasoning"` the trace verdicts judge each
    record's thinking (`--verify-reasoning`).

    Records the importer cannot read, records of a domain not installed here, records reusing another
    record's id for a different problem, and records whose verdict is `unknown` are problems: listed,
    never counted as agreement. With nothing to
    store no run is created (the run is None)."""
    items, problems = _distinct(records)
    missing = {d: reason for d in {i.instance.domain for i in items} if (reason := _not_installed(d))}
    problems += [
        ImportProblem(record=i.instance.id, reason=missing[i.instance.domain])
        for i in items
        if i.instance.domain in missing
    ]
    items = [i for i in items if i.instance.domain not in missing]
    results: list[tuple[ImportedItem, Trace, Verdicts]] = []
    if not items:
        return None, importer.summarise(results, problems)
    domains = sorted({item.instance.domain for item in items})
    config = RunConfig(
        name=f"import-{importer.name}-{path.stem}",
        description=f"{importer.name} import of {path}",
        generator=GeneratorConfig(
            name=f"import:{importer.name}",
            params={"file": str(path.resolve()), "sha256": _file_digest(path), **options},
        ),
        tasks=[TaskConfig(domain=d, count=len(items), trace_source=trace_source) for d in domains],
    )
    run = store.ensure_run(
        Run(id=run_id_for(config), config=config, created_at=utc_now(), versions=versions())
    )
    store.add_instances(run.id, [item.instance for item in items])
    stored = {s.id: s for s in store.samples(run.id)}
    seen: Counter[tuple[str, str]] = Counter()
    readings: list[AssistedReading] = []
    samples = []
    for item in items:
        key = (item.instance.domain, item.instance.id)
        sid = sample_id(run.id, item.instance, seen[key], 0)
        samples.append(
            stored.get(sid)
            or Sample(
                id=sid,
                run_id=run.id,
                instance=item.instance,
                generator=item.generator,
                sample_index=seen[key],
                text=item.text,
                reasoning=item.reasoning or separate_reasoning(item.text).reasoning,
            )
        )
        seen[key] += 1
    unverified = [sample for sample in samples if sample.verdicts is None]
    store.add_generated([sample for sample in unverified if sample.id not in stored])
    tasks = [(sample, trace_source) for sample in unverified]
    verified = (executor or InProcess()).map(verify_stored, tasks, len(tasks))
    for item, sample in zip(items, samples, strict=True):
        if sample.verdicts is None:
            result = next(verified)
            sample = result if isinstance(result, Sample) else failed_verification(sample, result.reason)
            store.set_verdicts(sample)
        assert sample.trace is not None and sample.verdicts is not None
        if item.translation is not None:
            readings.append(recorded_reading(importer, item, sample))
        if sample.verdicts.answer.status == "unknown":
            problems.append(ImportProblem(record=item.instance.id, reason=_unknown(sample.verdicts)))
        else:
            results.append((item, sample.trace, sample.verdicts))
        if progress:
            progress("verifying", 1)
    summary = importer.summarise(results, problems)
    if readings:
        store.add_assisted(run.id, readings)
        report = summarise(run, store.samples(run.id), store.assisted(run.id))
        summary["assisted"] = report.model_dump(mode="json") if report else None
    return run, summary


def recorded_reading(importer: Importer, item: ImportedItem, sample: Sample) -> AssistedReading:
    """The file's own model-assisted reading of the sample's text, assessed like a translator's."""
    assert item.translation is not None
    domain = check_domain(get_domain(item.instance.domain))
    recorded = item.translation
    return assess(
        domain,
        sample,
        f"{RECORDED}:{importer.name}",
        recorded.text,
        error=recorded.error,
        structured=recorded.structured,
    ).model_copy(update={"retryable": False})


def _file_digest(path: Path) -> str | None:
    """The file's content digest: part of the run id, so an edited file is a new run, never resumed into
    samples whose stored texts came from the old one (None for an importer that reads no such file)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _distinct(records: list[ImportedItem | ImportProblem]) -> tuple[list[ImportedItem], list[ImportProblem]]:
    """Items and problems; an item whose (domain, id) an earlier item holds with another problem is a
    problem (it would be stored against the earlier one); the same problem again is another sample."""
    items: list[ImportedItem] = []
    problems: list[ImportProblem] = []
    first: dict[tuple[str, str], ImportedItem] = {}
    for record in records:
        if isinstance(record, ImportProblem):
            problems.append(record)
            continue
        key = (record.instance.domain, record.instance.id)
        earlier = first.setdefault(key, record)
        if earlier.instance != record.instance:
            problems.append(
                ImportProblem(
                    record=record.instance.id,
                    reason="another record has the same id but a different problem; give each its own id",
                )
            )
            continue
        items.append(record)
    return items, problems


def _not_installed(domain: str) -> str:
    """Why records of `domain` cannot be verified here ("" when its plugin loads)."""
    try:
        get_domain(domain)
    except RegistryError as exc:
        return str(exc)
    return ""


def _unknown(verdicts: Verdicts) -> str:
    """Why a record could not be judged: the checker's reason, first line."""
    answer = verdicts.answer
    lines = (answer.message or "the checker gave up").strip().splitlines() or ["the checker gave up"]
    return f"not judged ({answer.detail or 'unknown'}): {lines[0]}"
