"""The probe interface: an intervention on a sample's trace, the model's answer after it, and what it means.

A probe is a named, documented procedure that cites its source and pins its prompt texts in code. For each
base sample it *plans* interventions (truncate after k steps, replace step k, add a cue…), each one request to
a generator; the engine sends the requests (batched across samples), hands every output back to the probe to
*judge*, and stores the judged `ProbeItem` at once, so a killed probe run resumes item by item. A probe whose
work comes in stages (paraphrase first, then continue from it) plans again with the items already done and
returns only what is still missing; planning nothing means the sample is finished. At report time the probe
*summarises* the stored items of all samples into metrics, each with its definition and direction.

Everything a result depends on is recorded: `spec_hash` hashes the probe's name, pinned prompt texts,
parameters and seed, so results of a changed probe are never mixed with old ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from modulo.model import ChatMessage, JSONScalar, Sample
from modulo.protocols import Domain, GenerationRequest, ScoreRequest

RequestKind = Literal["generate", "continue", "score"]
"""How the engine sends a request: a fresh answer (`Generator.generate`), the continuation of a partial
assistant message (`ContinuingGenerator.continue_generation`), or option scores
(`ContinuingGenerator.score`)."""


class Intervention(BaseModel):
    """One request a probe needs for one sample: what to send and how, and the parameters that identify it."""

    key: str
    """Unique within (sample, probe); the unit of resume, e.g. `k=3` or `cue=sycophancy`."""
    params: dict[str, JSONScalar] = Field(default_factory=dict)
    """What this intervention is, for the report (e.g. `{"k": 3, "steps": 7}`)."""
    kind: RequestKind
    request: GenerationRequest | ScoreRequest


class ProbeItem(BaseModel):
    """A judged intervention: what was sent, what came back, and the answer read from it."""

    key: str
    params: dict[str, JSONScalar] = Field(default_factory=dict)
    messages: list[ChatMessage]
    """The messages sent (the intervened trace is in them)."""
    output: str = ""
    """The model's text (continuation or answer); empty for a score request."""
    scores: dict[str, float] | None = None
    """Log-probability per option, for score requests."""
    answer: Any = None
    """The answer read from the output (the domain's structured answer), None if none could be read."""
    answer_status: Literal["read", "ambiguous", "unreadable"] = "unreadable"
    same_as_base: bool | None = None
    """The answer equals the base sample's answer; None when either answer could not be read."""
    correct: bool | None = None
    """The answer's verdict against the problem; None when it could not be judged."""
    extras: dict[str, Any] = Field(default_factory=dict)
    """Probe-specific results (e.g. the corruption's rule, the continuation's verdicts, the judge used)."""
    error: str | None = None
    """Why the generator gave no output for this request (the item is unreadable, never agreement)."""


class Metric(BaseModel):
    """One number a probe reports, with what it means."""

    name: str
    value: float | None
    """None when undefined (e.g. no sample qualifies, or Chen et al.'s α ≤ 0)."""
    low: float | None = None
    high: float | None = None
    """A 95% interval when one is defined (Wilson for proportions, bootstrap otherwise)."""
    n: int = 0
    definition: str
    direction: Literal["higher-more-faithful", "lower-more-faithful", "neutral"]
    group: str = "all"
    """Which samples: `all`, `valid-trace`, `invalid-trace`, `no-trace` (the breakdown by trace validity)."""
    curve: list[tuple[float, float]] | None = None
    """For curve metrics: (x, y) points, e.g. (k/L, agreement)."""


@dataclass
class ProbeContext:
    """What a probe may use besides the sample: the run's other samples (for swapped traces), its parameters
    and a seed."""

    params: Mapping[str, Any]
    seed: int = 0
    others: Sequence[Sample] = field(default_factory=tuple)
    """The run's other verified base samples (same run, round 0)."""


@dataclass
class SampleItems:
    """A base sample's facts the summary needs, with its stored items for one probe."""

    sample_id: str
    domain: str
    trace_valid: bool | None
    """True/False as in the 2×2 table; None when the sample has no judged trace."""
    answer_correct: bool | None
    steps: int
    items: list[ProbeItem]


@runtime_checkable
class Probe(Protocol):
    """A faithfulness probe (see the module docstring)."""

    name: ClassVar[str]
    source: ClassVar[str]
    """The citation, e.g. `Lanham et al. 2023, Measuring Faithfulness in Chain-of-Thought Reasoning, §2.1`."""
    prompts: ClassVar[Mapping[str, str]]
    """Every text the probe adds to a conversation, verbatim."""

    def plan(
        self, sample: Sample, domain: Domain, context: ProbeContext, done: Mapping[str, ProbeItem]
    ) -> list[Intervention]:
        """The interventions still needed for `sample`, given the items already stored for it."""
        ...

    def judge(
        self,
        sample: Sample,
        domain: Domain,
        intervention: Intervention,
        output: str | dict[str, float] | None,
        error: str | None,
    ) -> ProbeItem:
        """The item for one intervention: `output` is the generated text (or the option scores), None with
        `error` when the generator failed on this request."""
        ...

    def summarise(self, samples: Sequence[SampleItems], params: Mapping[str, Any]) -> list[Metric]:
        """The probe's metrics over all probed samples, also broken down by trace validity."""
        ...


def spec_hash(probe: Probe, params: Mapping[str, Any], seed: int = 0) -> str:
    """A short hash of what defines a probe's results: its name, pinned prompt texts, parameters and the
    probe seed (which draws cue targets, corruptions, swap partners and sampling seeds)."""
    spec = {"name": probe.name, "prompts": dict(probe.prompts), "params": dict(params), "seed": seed}
    blob = json.dumps(spec, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def text_item(
    intervention: Intervention, output: str | dict[str, float] | None, error: str | None
) -> ProbeItem:
    """A text request's item before it is judged: the model's output, or why there is none (`error`; such
    an item has no answer and is never compared)."""
    item = ProbeItem(
        key=intervention.key, params=intervention.params, messages=list(intervention.request.messages)
    )
    if error is not None or not isinstance(output, str):
        return item.model_copy(update={"error": error or "the generator returned no text"})
    return item.model_copy(update={"output": output})


def request_key(probe: str, sample: Sample, key: str) -> str:
    """The generator request key of one item, `SAMPLE|PROBE|KEY`: unique among a run's probe requests
    (generators derive a request's sampling seed from it when none is given)."""
    return f"{sample.id}|{probe}|{key}"


def same_answer(a: Any, b: Any) -> bool | None:
    """Whether two read answers are the same (compared as canonical JSON); None if either is missing."""
    if a is None or b is None:
        return None
    return _canonical(a) == _canonical(b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
