"""The two extension points: problem domains and text generators.

Domains depend on these protocols (and the data model); the core finds implementations only
through the entry-point registry, never by import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from modulo.model import ChatMessage, Instance, Step, StepVerdict, Trace, Verdicts


@runtime_checkable
class Domain(Protocol):
    """A problem family: makes instances, prompts for them, reads and judges model output."""

    name: str
    """Registered name (the entry-point name)."""
    description: str
    """One line shown by `modulo domains`."""

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        """Make `count` instances deterministically from `seed`; unknown params raise ValueError."""
        ...

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        """Chat messages asking a model to solve `instance` in the domain's output format."""
        ...

    def parse(self, text: str, instance: Instance) -> Trace:
        """Read model output into steps and an answer. Total: never raises on model text."""
        ...

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        """Judge every step and, independently, the answer."""
        ...

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        """A plain-text picture of the instance (and the trace on it) for terminals."""
        ...

    def critique(self, verdicts: Verdicts) -> str:
        """Feedback text for a back-prompt, built from failing verdicts."""
        ...


@runtime_checkable
class OracleDomain(Domain, Protocol):
    """A domain that can write reference outputs itself (exact, swapped, corrupted traces)."""

    oracle_variants: tuple[str, ...]

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        """Model-style output text for `instance` of the given variant."""
        ...


@runtime_checkable
class ThinkingDomain(Protocol):
    """A domain that judges a reasoning model's thinking claim by claim (`trace_source = "reasoning"`)."""

    def judge_thinking(
        self, instance: Instance, reasoning: str
    ) -> tuple[list[Step], list[StepVerdict], dict[str, Any]]:
        """The thinking's claims as steps (each `parsed` with its `kind` and raw `span` in the reasoning),
        one verdict per step, and what was read (sentences, coverage, ...)."""
        ...


@runtime_checkable
class SequenceDomain(Domain, Protocol):
    """A domain with published datasets that hold one token sequence per example: the problem, then the
    model-side output (trace and answer), as in Searchformer's or Beyond Semantics' maze files."""

    sequence_formats: tuple[str, ...]

    def read_sequence(self, text: str, fmt: str, options: dict[str, Any]) -> tuple[Instance, str]:
        """The instance stated by the sequence's problem part, and the output text after it.

        `options` holds the record's own fields (e.g. `rows`, `cols`) and the user's (e.g. `size`).
        Raises ValueError, naming the problem, when the problem part cannot be read."""
        ...


@runtime_checkable
class PublishedJudge(Protocol):
    """A domain with a fast judgement of output written exactly as published generators write it."""

    def judge_published(self, instance: Instance, output: str) -> tuple[list[str], Verdicts] | None:
        """Each step's text and the verdicts `verify_text` would give, or None when the output is not in
        the exact published form (`verify_text` then judges it)."""
        ...


JSON_STYLE = "json"
"""The prompt style that asks for the trace as JSON; structured-output engines get the domain's schema."""


@runtime_checkable
class StructuredDomain(Domain, Protocol):
    """A domain whose trace can also be written as JSON (prompt style `json`), for structured output."""

    def output_schema(self, instance: Instance) -> dict[str, Any]:
        """JSON schema of the domain's trace for `instance`; `parse` reads texts that follow it."""
        ...


class Grounding(BaseModel):
    """Where the original text states one step of a model-assisted reading (see `modulo.assisted`)."""

    index: int
    """The step's index in the assisted trace."""
    span: list[int] | None = None
    """`[start, end)` offsets into the raw text (the response, never the thinking); None: not found."""
    how: str = ""
    """How it was found: `reading` (the domain's own reader reads this step there) or `words` (its words
    occur there, e.g. a planning action's verb and objects, in order)."""
    note: str = ""
    """Why it is not grounded, or what is odd about where it is (e.g. earlier than the step before)."""


@runtime_checkable
class GroundingDomain(StructuredDomain, Protocol):
    """A domain that can check a model-assisted reading against the text it was read from."""

    def ground(self, instance: Instance, text: str, trace: Trace) -> list[Grounding]:
        """For every step of `trace` (the domain's reading of a translation of `text` into its JSON
        schema), the span of `text`'s response that states it. Total: never raises on model text."""
        ...


class SamplingParams(BaseModel):
    """How to sample; generators ignore what they cannot honour and say so in their docs."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int | None = None
    stop: list[str] = Field(default_factory=list)
    logprobs: bool = False
    json_schema: dict[str, Any] | None = None
    """Constrain the output to JSON of this schema (engines with structured output, e.g. vllm)."""


class GenerationRequest(BaseModel):
    """One prompt to complete; `instance` lets domain-aware generators (oracle, replay) work."""

    key: str
    """Caller's identifier for the request (the sample id)."""
    messages: list[ChatMessage]
    instance: Instance
    sampling: SamplingParams = Field(default_factory=SamplingParams)


class Generation(BaseModel):
    """A generator's answer to one request."""

    key: str
    text: str
    """The response (for reasoning models, without the thinking the API returned apart)."""
    reasoning: str | None = None
    """Thinking the API returned in its own field (`reasoning_content`, `reasoning`), if any."""
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    logprobs: list[float] | None = None
    error: str | None = None
    """Why no text was produced for this request (e.g. the server rejected the prompt); `text` is then
    empty and the sample is stored as a failed generation, not verified."""


@runtime_checkable
class Generator(Protocol):
    """Turns batches of prompts into texts."""

    name: str
    """Identifies generator and model in stored samples, e.g. `oracle:exact`."""

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        """One generation per request, in the same order."""
        ...


class GeneratorFactory(Protocol):
    """What the `modulo.generators` entry points point at."""

    def __call__(self, params: dict[str, Any], domains: DomainLookup) -> Generator: ...


class DomainLookup(Protocol):
    def __call__(self, name: str) -> Domain: ...


class RecordedTranslation(BaseModel):
    """A model-assisted reading a results file recorded beside the response (e.g. PlanBench's
    `raw_translation`), for `modulo.assisted`."""

    text: str | None
    """The translation as the file holds it (None: the record has none)."""
    structured: Any = None
    """The translation in the domain's JSON schema, as the importer converts it."""
    error: str = ""
    """Why the record has no usable translation."""


class ImportedItem(BaseModel):
    """One record of a foreign results file: the problem, the text to verify, what the file recorded."""

    instance: Instance
    text: str
    """The text to verify: a model's raw response, or a gold explanation chain."""
    generator: str
    """Where the text came from, e.g. `planbench:gpt-4_chat:zero_shot` or `gold`."""
    recorded: dict[str, Any] = Field(default_factory=dict)
    """The file's own verdicts or labels, for the agreement report (e.g. `{"correct": True}`)."""
    translation: RecordedTranslation | None = None
    """The file's own model-assisted reading of `text`, when the import asks for it (`--assisted`)."""
    reasoning: str | None = None
    """The model's thinking when the file kept it apart from the text (e.g. `reasoning_content`)."""


class ImportProblem(BaseModel):
    """A record of the file that could not be turned into an ImportedItem (kept, reported, not fatal)."""

    record: str
    """Which record: its id or position."""
    reason: str


@runtime_checkable
class Importer(Protocol):
    """Reads a published results/dataset format; registered under the `modulo.importers` entry-point group."""

    name: str
    description: str
    options: dict[str, str]
    """Accepted `--option value` names (without dashes, `-` not `_`) and their help text."""
    required: tuple[str, ...]
    """Options that must be given."""

    def read(self, path: Path, options: dict[str, str]) -> list[ImportedItem | ImportProblem]:
        """Every record of the file, in order. Raises ValueError only if the file as a whole is unusable."""
        ...

    def summarise(
        self, results: list[tuple[ImportedItem, Trace, Verdicts]], problems: list[ImportProblem]
    ) -> dict[str, Any]:
        """The importer's JSON summary: agreement of our verdicts with the recorded ones."""
        ...


class ScoreRequest(BaseModel):
    """Answer options to score after a chat prefix.

    If the last message is from the assistant it is a partial answer that the options continue;
    otherwise the options start a fresh assistant turn.
    """

    key: str
    messages: list[ChatMessage]
    options: list[str]


class OptionScore(BaseModel):
    """The model's log-probability (natural log, temperature 1) of one option's tokens after the prefix."""

    option: str
    logprob: float
    """Sum of `token_logprobs`."""
    token_logprobs: list[float]


class Scores(BaseModel):
    """A generator's answer to one ScoreRequest: one score per option, in order."""

    key: str
    options: list[OptionScore]
    prompt_tokens: int = 0
    seconds: float = 0.0


@runtime_checkable
class ContinuingGenerator(Generator, Protocol):
    """A generator that can resume a partial answer and score answer options (for truncation and
    corruption probes)."""

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        """Like `generate`, but each request's last message is a partial assistant message to continue;
        the returned text is only the continuation."""
        ...

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        """Log-probabilities of each request's options, in the same order."""
        ...


class CorruptedStep(BaseModel):
    """A replacement for one trace step that the domain's own checker rejects (see `CorruptingDomain`)."""

    index: int
    """The step it replaces."""
    text: str
    """The replacement as the model would write it, in the domain's step format."""
    rule: str
    """The rule id the domain's checker reports for the replacement at `index` (e.g. `astar.wrong_g`)."""
    operator: str
    """The corruption's name (e.g. `wrong_g`, `inapplicable_action`, `negated_claim`)."""


@runtime_checkable
class CorruptingDomain(Protocol):
    """A domain that can replace one step of a trace by a step its checker proves invalid."""

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        """A corruption of step `index` of `trace`, proved: the trace with that step replaced is re-parsed and
        re-checked, and its step `index` is non-valid with `rule`. None when no corruption applies there."""
        ...
