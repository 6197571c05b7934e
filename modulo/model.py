"""The data model shared by every part of modulo: problems, traces, verdicts, samples, runs.

Everything that crosses a boundary (store, JSONL interchange, CLI output) is one of these
pydantic models. Verifiers depend on this module and nothing else of ours.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

StepStatus = Literal["valid", "invalid", "unsupported", "unparsed", "unknown"]
"""Verdict vocabulary for one trace step (see DESIGN.md)."""

AnswerStatus = Literal["correct", "incorrect", "unparsed", "unknown"]
"""Verdict vocabulary for the final answer."""

TraceSource = Literal["response", "reasoning"]
"""What trace verdicts judge: the steps the response writes, or the claims of the model's thinking."""

JSONScalar = str | int | float | bool | None


class Model(BaseModel):
    """Base of every modulo model: attribute docstrings become field descriptions (JSON schema, docs)."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class Instance(Model):
    """One problem of a domain, fully described by JSON-able data."""

    model_config = ConfigDict(frozen=True)

    domain: str
    """Registered name of the domain that owns the problem."""
    id: str
    """Stable identifier, unique within the domain for the given generation parameters."""
    seed: int | None = None
    """Seed the instance was generated from (None for imported problems)."""
    difficulty: dict[str, JSONScalar] = Field(default_factory=dict)
    """Named difficulty measures (e.g. size, optimal plan length) used for report breakdowns."""
    payload: dict[str, Any] = Field(default_factory=dict)
    """Domain-specific problem description; only the owning domain interprets it."""


class Step(Model):
    """One step of a reasoning trace as the model wrote it."""

    index: int
    """Position of the step in the trace, from 0."""
    text: str
    """The step's text exactly as parsed out of the model output."""
    parsed: Any = None
    """The domain's structured reading of the step, or None if it could not be read."""


class Trace(Model):
    """A model output split into steps and a final answer by `Domain.parse`."""

    steps: list[Step] = Field(default_factory=list)
    """Trace steps in order."""
    answer: Any = None
    """The structured final answer, or None if none could be read."""
    answer_text: str | None = None
    """The answer's text as written, for display."""
    parse_errors: list[str] = Field(default_factory=list)
    """Problems met while reading the output that are not tied to one step."""
    reading: dict[str, Any] | None = None
    """The reading verdict (see `modulo.reading`): `status` (read, ambiguous, unreadable), the block read
    and why, the alternatives found; None for domains that do not report one."""


class StepVerdict(Model):
    """The judgement of one step (or of the trace as a whole) against the domain's rules.

    Frozen, so that one instance may stand in many lists (a validator may hand out shared `valid` verdicts).
    """

    model_config = ConfigDict(frozen=True)

    index: int
    """Step index; `len(steps)` for checks about the trace as a whole (e.g. goal never closed)."""
    status: StepStatus
    rule: str | None = None
    """Stable rule id (e.g. `astar.min_f`) for any status other than `valid`."""
    message: str = ""
    """Human-readable explanation: what was claimed and why it breaks the rule."""


class AnswerVerdict(Model):
    """The judgement of the final answer against the problem alone."""

    status: AnswerStatus
    detail: str = ""
    """Domain-specific refinement, e.g. `valid-optimal`, `valid-suboptimal`, `not-executable`."""
    message: str = ""
    extras: dict[str, JSONScalar] = Field(default_factory=dict)
    """Further independent judgements, e.g. `trace_plan_consistent`."""


class Verdicts(Model):
    """Everything a domain's `check` says about one trace: steps and answer, independently."""

    steps: list[StepVerdict] = Field(default_factory=list)
    """One verdict per trace step, in order."""
    trace_checks: list[StepVerdict] = Field(default_factory=list)
    """Verdicts about the trace as a whole, reported at index `len(steps)`."""
    answer: AnswerVerdict

    def _all(self) -> list[StepVerdict]:
        return [*self.steps, *self.trace_checks]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def trace_valid(self) -> bool:
        """True when every step and every whole-trace check is `valid` and there is a step."""
        return bool(self.steps) and all(v.status == "valid" for v in self._all())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_error(self) -> int | None:
        """Index of the first non-valid verdict (`len(steps)` for a whole-trace error)."""
        return next((v.index for v in self._all() if v.status != "valid"), None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def valid_prefix(self) -> int:
        """Number of leading steps that are all valid."""
        count = 0
        for verdict in self.steps:
            if verdict.status != "valid":
                break
            count += 1
        return count

    def rule_counts(self) -> dict[str, int]:
        """How many verdicts broke each rule."""
        return dict(Counter(v.rule or v.status for v in self._all() if v.status != "valid"))


class ChatMessage(Model):
    """One message of a chat prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


class TokenCounts(Model):
    prompt: int = 0
    completion: int = 0


class Sample(Model):
    """One generation for one instance in one round, with its verdicts once verified."""

    id: str
    """Deterministic key: run, task and generator config, instance content, sample index and round."""
    run_id: str
    instance: Instance
    generator: str
    """Generator name and model, e.g. `oracle:exact`."""
    sample_index: int = 0
    round: int = 0
    """LLM-Modulo round, from 0; later rounds answer a critique of their parent."""
    parent_id: str | None = None
    prompt: list[ChatMessage] = Field(default_factory=list)
    text: str
    """Raw model output, stored before anything else is done with it."""
    reasoning: str | None = None
    """A reasoning model's thinking: as the API returned it apart from `text` (`reasoning_content`), else
    as found in `text` between `<think>` tags (then `text` still holds it: the raw output is kept whole)."""
    finish_reason: str | None = None
    tokens: TokenCounts = Field(default_factory=TokenCounts)
    timings: dict[str, float] = Field(default_factory=dict)
    """Seconds spent per phase: `generate`, `verify`."""
    logprobs: list[float] | None = None
    """Per-token log-probabilities of the output, when the generator gave them."""
    cache_key: str | None = None
    """Hash of (generator, its params, prompt, instance, sample index, round): equal keys reuse the text."""
    generation_error: str | None = None
    """Why the generator produced no text (e.g. the server rejected the prompt); such a sample has no
    trace and no verdicts, is counted apart from the 2×2 table, and is retried only on request."""
    verified_by: dict[str, str] | None = None
    """Versions of the code that computed the verdicts (modulo, its source digest, domain plugins)."""
    trace: Trace | None = None
    verdicts: Verdicts | None = None


class GeneratorConfig(Model):
    """Which generator produces the texts, and its settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = "oracle"
    params: dict[str, Any] = Field(default_factory=dict)
    """Generator-specific settings (model path, temperature, oracle variant, ...)."""


class TaskConfig(Model):
    """One block of a benchmark suite: a domain, its generation parameters and a count."""

    model_config = ConfigDict(extra="forbid")

    domain: str
    count: int = Field(default=10, ge=1)
    seed: int = 0
    params: dict[str, Any] = Field(default_factory=dict)
    """Passed to `Domain.generate` as keyword arguments."""
    style: str = "zero-shot"
    """Prompt style passed to `Domain.prompt`."""
    trace_source: TraceSource = "response"
    """What the trace verdicts judge: the steps written in the response (default, also for reasoning
    models, so their tables compare with other models'), or the claims of the model's thinking
    (`reasoning`: for domains that judge thinking; the answer is judged from the response either way)."""
    samples: int = Field(default=1, ge=1)
    """Samples per instance."""
    generator: GeneratorConfig | None = None
    """Overrides the suite's generator for this task."""


class RunConfig(Model):
    """A benchmark suite as written in a TOML file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    generator: GeneratorConfig = Field(default_factory=GeneratorConfig)
    rounds: int = Field(default=1, ge=1)
    """LLM-Modulo rounds: 1 means generate once; k means up to k-1 back-prompts."""
    retry_on: Literal["answer", "trace", "either"] = "answer"
    """What sends a sample to another round: a wrong answer, an invalid trace, or either."""
    critique: Literal["all", "first-error"] = "all"
    """Back-prompt with every failing hard critic, or only the first error (format problems always first)."""
    batch_size: int = Field(default=8, ge=1)
    """Prompts sent to the generator at once; at most this many samples are in flight."""
    tasks: list[TaskConfig] = Field(min_length=1)
    assisted_extraction: GeneratorConfig | None = None
    """Off by default. A second generator that translates every response into the domain's JSON schema,
    stored beside the sample as a model-assisted reading (`modulo.assisted`); never part of the verdicts,
    nor of the run id (adding it to a suite translates the stored samples of the same run)."""


class Run(Model):
    """A stored run: a config plus what produced it."""

    id: str
    config: RunConfig
    created_at: str
    versions: dict[str, str] = Field(default_factory=dict)
    """Versions of modulo and of the engines involved."""
