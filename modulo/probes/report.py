"""Probe results of a stored run for `modulo report`: each probe spec's metrics, by trace validity.

Read-only: the stored items of every probe spec on the run's samples are handed, with the base samples'
facts (`SampleItems`), to the probe's own `summarise`, with the params its spec hash was recorded with.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from modulo.model import Run, Sample
from modulo.probes.base import Metric, ProbeItem, SampleItems
from modulo.probes.registry import UnknownProbe, probe
from modulo.sample_summary import trace_state
from modulo.stats import wilson
from modulo.store import Store

GROUPS = ("all", "valid-trace", "invalid-trace")
"""The breakdown every probe reports: all probed samples, those whose trace is valid, those whose trace is
invalid (as the 2×2 table counts them; samples with no trace or an unknown one are only in `all`)."""


class ProbeSummary(BaseModel):
    """One probe spec's results on a run."""

    probe: str
    spec_hash: str
    source: str = ""
    params: dict[str, Any] = {}
    samples: int
    """Base samples with stored items."""
    items: int
    errors: int
    """Items whose request the generator failed on (unreadable, never agreement)."""
    metrics: list[Metric] = []
    problem: str = ""
    """Why no metrics could be computed (e.g. the probe is not installed)."""


def by_validity(samples: Sequence[SampleItems]) -> list[tuple[str, list[SampleItems]]]:
    """The samples of each group of GROUPS."""
    return [
        ("all", list(samples)),
        ("valid-trace", [s for s in samples if s.trace_valid is True]),
        ("invalid-trace", [s for s in samples if s.trace_valid is False]),
    ]


def per_group(
    samples: Sequence[SampleItems], metrics_of: Callable[[list[SampleItems], str], list[Metric]]
) -> list[Metric]:
    """`metrics_of(members, group)` for each group of `by_validity`, in order."""
    return [metric for group, members in by_validity(samples) for metric in metrics_of(members, group)]


def rate_metric(k: int, n: int, **fields: Any) -> Metric:
    """A proportion metric with its Wilson interval."""
    rate = wilson(k, n)
    return Metric(value=rate.rate, low=rate.low, high=rate.high, n=n, **fields)


def proportion(
    name: str, hits: int, n: int, definition: str, direction: Any, group: str, **extra: Any
) -> Metric:
    """`rate_metric` with the fields every probe passes, in order."""
    return rate_metric(hits, n, name=name, definition=definition, direction=direction, group=group, **extra)


def bootstrap_mean(
    values: Sequence[float], resamples: int = 2000, seed: int = 0
) -> tuple[float | None, float | None]:
    """Percentile 95% bootstrap interval of the mean (None without values; seeded, so reports repeat)."""
    if not values:
        return None, None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def sample_items(sample: Sample, items: list[ProbeItem]) -> SampleItems:
    """A base sample's facts for summaries: trace validity exactly as the 2×2 table has it."""
    state = trace_state(sample.verdicts) if sample.verdicts is not None else "none"
    answer = sample.verdicts.answer.status if sample.verdicts is not None else "unknown"
    return SampleItems(
        sample_id=sample.id,
        domain=sample.instance.domain,
        trace_valid={"valid": True, "invalid": False}.get(state),
        answer_correct=None if answer in ("unparsed", "unknown") else answer == "correct",
        steps=len(sample.trace.steps) if sample.trace is not None else 0,
        items=items,
    )


def probe_summaries(store: Store, run: Run) -> list[ProbeSummary]:
    """Every probe spec with items on the run's samples, summarised by its probe."""
    specs = store.probe_specs()
    out = []
    for name, spec_hash, count in store.probe_totals(run.id):
        params = dict(specs.get(spec_hash, (name, {}))[1].get("params", {}))
        ids = store.probe_sample_ids(run.id, name, spec_hash)
        stored = store.probe_items(ids, name, spec_hash)
        samples = {s.id: s for s in store.samples_with_ids(run.id, ids)}
        members = [
            sample_items(samples[sid], [ProbeItem.model_validate_json(i) for i in stored[sid].values()])
            for sid in ids
            if sid in samples
        ]
        summary = ProbeSummary(
            probe=name,
            spec_hash=spec_hash,
            params=params,
            samples=len(members),
            items=count,
            errors=sum(item.error is not None for m in members for item in m.items),
        )
        try:
            chosen = probe(name)
        except UnknownProbe as exc:
            out.append(summary.model_copy(update={"problem": str(exc)}))
            continue
        metrics = chosen.summarise(members, params)
        out.append(summary.model_copy(update={"source": chosen.source, "metrics": metrics}))
    return out
