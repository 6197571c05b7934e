"""Running probes on a run's samples: `modulo probe CONFIG.toml`.

First the base run, with modulo's Runner (so the base samples exist; resumable as `modulo run` is). Then, for
every probe and every selected verified first-attempt sample: plan with the items already stored as `done`
(the probe's context holds all the run's verified first attempts as `others`, the sample itself among them),
send the interventions in batches across samples (the config's `batch_size`, grouped by generator and kind),
judge each output and store each item at once; plan again until nothing is left. Items are unique on
(sample, probe, spec hash, key), so a killed probe run resumes where it stopped and never duplicates an item.
A generator error on a request becomes that request's item (with `error`, never agreement), sent again by
the next run; a batch that raises is sent again one request at a time, so one bad request never stops the
rest; a batch that stops part-way (`BatchFailed`: an outage) stops the run after storing what came back,
and the next run resumes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modulo.executors import Executor
from modulo.generators.errors import BatchFailed
from modulo.model import GeneratorConfig, RunConfig, Sample
from modulo.probes.base import Intervention, Probe, ProbeContext, ProbeItem, spec_hash
from modulo.probes.config import CONTINUATION_SUPPORT, CONTINUING_KINDS, ProbeConfig, checked_params
from modulo.probes.registry import probe as make_probe
from modulo.protocols import ContinuingGenerator, GenerationRequest, Generator, ScoreRequest
from modulo.registry import get_domain
from modulo.runner import (
    ConfigError,
    ProgressFn,
    Runner,
    RunSummary,
    _producer_digest,
    producer_key,
    producer_of,
)
from modulo.store import Store

PlannedFn = Callable[[int], None]

MAX_PLANNING_ROUNDS = 100
"""A probe that keeps planning after this many rounds is broken; the engine stops it with an error."""


@dataclass
class ProbeRunSummary:
    """What one `modulo probe` did."""

    base: RunSummary
    probed_samples: int = 0
    stored: dict[str, int] = field(default_factory=dict)
    """Items stored by this process, per probe."""
    errors: dict[str, int] = field(default_factory=dict)
    """Of those, items whose request the generator failed on."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Samples a probe planned nothing for (e.g. no steps to cut), per probe."""


@dataclass
class _Pending:
    sample: Sample
    intervention: Intervention
    retry: bool = False
    """A failed item of an earlier run is stored for this key: the new item replaces it."""


class ProbeEngine:
    """Runs a ProbeConfig against a Store (the only writer of its probe items)."""

    def __init__(
        self, config: ProbeConfig, store: Store, *, limit: int | None = None, executor: Executor | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.runner = Runner(config.run, store, limit, executor=executor)

    def run(self, progress: ProgressFn | None = None, planned: PlannedFn | None = None) -> ProbeRunSummary:
        """The base run, then every probe to completion (resuming whatever the store holds)."""
        base = self.runner.run(progress, planned)
        summary = ProbeRunSummary(base=base)
        everyone = tuple(s for s in self.store.samples(base.run.id, verified=True) if s.round == 0)
        samples = self.selected(list(everyone))
        summary.probed_samples = len(samples)
        for spec in self.config.probes:
            probe = make_probe(spec.name)
            params = checked_params(probe, spec.params)
            seed = self.config.selection.seed
            digest = spec_hash(probe, params, seed)
            self.store.add_probe_spec(
                probe.name,
                digest,
                {"name": probe.name, "prompts": dict(probe.prompts), "params": params, "seed": seed},
            )
            context = ProbeContext(params=params, seed=self.config.selection.seed, others=everyone)
            self._run_probe(probe, digest, samples, context, summary, progress, planned)
        return summary

    def selected(self, verified: list[Sample]) -> list[Sample]:
        """Of the run's verified first attempts, those to probe: per task, `samples` of them chosen with
        `seed` (all when unset), in generation order."""
        wanted = self.config.selection.samples
        if wanted is None:
            return verified
        by_task: dict[str, list[Sample]] = {}
        for sample in verified:
            by_task.setdefault(producer_of(sample.id), []).append(sample)
        rng = random.Random(self.config.selection.seed)
        keep: set[str] = set()
        for task in sorted(by_task):
            members = sorted(s.id for s in by_task[task])
            keep.update(rng.sample(members, min(wanted, len(members))))
        return [s for s in verified if s.id in keep]

    def _run_probe(
        self,
        probe: Probe,
        digest: str,
        samples: list[Sample],
        context: ProbeContext,
        summary: ProbeRunSummary,
        progress: ProgressFn | None,
        planned: PlannedFn | None,
    ) -> None:
        name = probe.name
        ids = [s.id for s in samples]
        tried: set[tuple[str, str]] = set()
        """(sample, key) of the items this process sent: a failed one is retried by the next run, not now."""
        for round_ in range(MAX_PLANNING_ROUNDS):
            stored = self.store.probe_items(ids, name, digest)
            items = {
                sid: {key: ProbeItem.model_validate_json(item) for key, item in found.items()}
                for sid, found in stored.items()
            }
            pending: list[_Pending] = []
            for sample in samples:
                mine = items.get(sample.id, {})
                done = {key: item for key, item in mine.items() if item.error is None}
                wanted = probe.plan(sample, get_domain(sample.instance.domain), context, done)
                if round_ == 0 and not wanted and not mine:
                    summary.skipped[name] = summary.skipped.get(name, 0) + 1
                pending += [
                    _Pending(sample, iv, retry=iv.key in mine)
                    for iv in wanted
                    if iv.key not in done and (sample.id, iv.key) not in tried
                ]
            tried.update((p.sample.id, p.intervention.key) for p in pending)
            if not pending:
                return
            if planned:
                planned(len(pending))
            for start in range(0, len(pending), self.config.run.batch_size):
                batch = pending[start : start + self.config.run.batch_size]
                self._send(probe, digest, batch, summary, progress)
        raise RuntimeError(f"probe {name!r} kept planning after {MAX_PLANNING_ROUNDS} rounds; please report")

    def _send(
        self,
        probe: Probe,
        digest: str,
        batch: list[_Pending],
        summary: ProbeRunSummary,
        progress: ProgressFn | None,
    ) -> None:
        """Send one batch, grouped by generator and kind; judge and store every item as it comes back."""
        groups: dict[tuple[str, str], list[_Pending]] = {}
        for pending in batch:
            config = self._generator_config(pending.sample)
            groups.setdefault((config.model_dump_json(), pending.intervention.kind), []).append(pending)
        for (config_json, kind), members in groups.items():
            generator = self._generator(GeneratorConfig.model_validate_json(config_json))
            if kind in CONTINUING_KINDS and not isinstance(generator, ContinuingGenerator):
                raise ConfigError(
                    f"probe {probe.name!r} sends {kind} requests, which generator {generator.name!r} cannot "
                    f"answer; {CONTINUATION_SUPPORT}"
                )
            try:
                answers = _answers(generator, kind, members)
            except _Halted as halted:
                self._store(probe, digest, halted.answers, summary, progress)
                raise halted.error from halted
            self._store(probe, digest, answers, summary, progress)

    def _store(
        self,
        probe: Probe,
        digest: str,
        answers: list[Answer],
        summary: ProbeRunSummary,
        progress: ProgressFn | None,
    ) -> None:
        """Judge each answer and store its item at once (replacing a failed item it retries)."""
        for pending, output, error in answers:
            domain = get_domain(pending.sample.instance.domain)
            item = probe.judge(pending.sample, domain, pending.intervention, output, error)
            stored = self.store.add_probe_item(
                pending.sample.id, probe.name, digest, item.key, item.model_dump_json(), replace=pending.retry
            )
            if stored:
                summary.stored[probe.name] = summary.stored.get(probe.name, 0) + 1
                if item.error is not None:
                    summary.errors[probe.name] = summary.errors.get(probe.name, 0) + 1
            if progress:
                progress(probe.name, 1)

    def _generator_config(self, sample: Sample) -> GeneratorConfig:
        """The generator of the task that made the sample (the probe asks the same model)."""
        run: RunConfig = self.config.run
        for task in run.tasks:
            config = task.generator or run.generator
            if _producer_digest(producer_key(task, config)) == producer_of(sample.id):
                return config
        return run.generator

    def _generator(self, config: GeneratorConfig) -> Generator:
        """The base run's own instance (one model in memory, not two)."""
        return self.runner._generator(config)


Answer = tuple[_Pending, str | dict[str, float] | None, str | None]


class _Halted(Exception):
    """A generator stopped part-way through a batch (`BatchFailed`: an outage, not a bad request): the
    answers that came back are kept, the rest is left for the next run, and the run stops."""

    def __init__(self, answers: list[Answer], error: BatchFailed) -> None:
        super().__init__(str(error))
        self.answers = answers
        self.error = error


def _answers(generator: Generator, kind: str, members: Sequence[_Pending]) -> list[Answer]:
    """Each request's output (text, or option scores) or error; a batch that raises is sent again one
    request at a time, so the error lands on the request that caused it. A batch that stops part-way
    (`BatchFailed`) halts the run with what came back (`_Halted`): an outage is not the requests' fault,
    and their items are not stored as failed."""
    try:
        return _call(generator, kind, members)
    except BatchFailed as exc:
        finished: list[Answer] = [
            (members[i], None, gen.error) if gen.error is not None else (members[i], gen.text, None)
            for i, gen in sorted(exc.finished.items())
        ]
        raise _Halted(finished, exc) from exc
    except Exception as exc:  # a generator's failure is data about this request, not the end of the run
        if len(members) == 1:
            return [(members[0], None, f"{type(exc).__name__}: {exc}")]
        return [answer for member in members for answer in _answers(generator, kind, [member])]


def _call(generator: Generator, kind: str, members: Sequence[_Pending]) -> list[Answer]:
    requests: list[Any] = [m.intervention.request for m in members]
    if kind == "score":
        assert isinstance(generator, ContinuingGenerator)
        assert all(isinstance(r, ScoreRequest) for r in requests)
        scores = generator.score(requests)
        return [
            (m, {o.option: o.logprob for o in s.options}, None) for m, s in zip(members, scores, strict=True)
        ]
    assert all(isinstance(r, GenerationRequest) for r in requests)
    if kind == "continue":
        assert isinstance(generator, ContinuingGenerator)
        made = generator.continue_generation(requests)
    else:
        made = generator.generate(requests)
    return [
        (m, None, g.error) if g.error is not None else (m, g.text, None)
        for m, g in zip(members, made, strict=True)
    ]
