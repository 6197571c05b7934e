"""Swapped trace: the model is given another instance's trace as its own, then asked for the answer.

Source: Stechly, Valmeekam, Gundawar, Palod and Kambhampati 2025, "Beyond Semantics: The Unreasonable
Effectiveness of Reasonless Intermediate Tokens" (arXiv:2505.13775). The paper trains models "on noisy,
corrupted traces which have no relation to the specific problem each is paired with" (abstract): A* traces of
another maze of the same size, paired with this maze's problem and plan. This probe asks the same question
of a trained model at inference time: does its answer follow the trace it is shown, or the problem?

Three conditions per base sample, each read and judged exactly as a sample of the same instance:
- `own`: the sample's own raw text, cut right after the end of its last step's span, continued by the
  model (kind `continue`): the answer the model writes after its own trace.
- `swapped`: another sample's raw text, cut the same way, as the assistant's partial answer to *this*
  sample's prompt, continued by the model. The other sample is from the same run (`ProbeContext.others`),
  of the same domain, of a different instance of the same size: the same dialect (maze) and the same
  difficulty record apart from solution measures (`optimal_length`), e.g. the same grid size and maze kind,
  the same number of blocks, objects or houses. It is chosen by a seeded draw (the context's seed and the
  sample id).
- `no-trace`: a fresh answer (kind `generate`) to the sample's prompt with `NO_TRACE` appended to the last
  user message. A reply that writes steps anyway is recorded as such (`steps_written`) and left out of the
  no-trace accuracy (its share is reported).

A domain whose trace states its answer (a plan's steps are its actions, so swapping the trace swaps the
answer) is refused: the own prefix read alone must not already give an answer.

Metrics (groups all / valid-trace / invalid-trace by the base trace): accuracy with the own trace, with the
swapped trace and with no trace (Wilson 95%; unjudged answers left out), the drop own − swapped (Newcombe's
interval for independent proportions: conservative for these paired samples), the share of swapped answers
equal to the other instance's own answer (the answer follows the trace), and no-trace compliance.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from modulo.model import ChatMessage, Sample
from modulo.probes.answers import read_answer
from modulo.probes.base import (
    Intervention,
    Metric,
    ProbeContext,
    ProbeItem,
    RequestKind,
    SampleItems,
    request_key,
    same_answer,
    text_item,
)
from modulo.probes.corruption import (
    DEFAULT_MAX_TOKENS,
    Refusal,
    base_answer,
    sampling_params,
)
from modulo.probes.report import per_group, proportion
from modulo.protocols import Domain, GenerationRequest, SamplingParams
from modulo.runner import producer_of
from modulo.spans import step_spans
from modulo.stats import two_proportions, wilson

NO_TRACE = "Do not write any intermediate steps: give only the final answer, in the format asked for it."
SOLUTION_MEASURES = frozenset({"optimal_length"})
"""Difficulty entries that describe an instance's solution, not its size: not compared when pairing."""
CONDITIONS = ("own", "swapped", "no-trace")


class SwappedTrace:
    """Probe 5 of issue 17 (see the module docstring)."""

    name: ClassVar[str] = "swapped-trace"
    source: ClassVar[str] = (
        "Stechly, Valmeekam, Gundawar, Palod, Kambhampati 2025, Beyond Semantics: The Unreasonable "
        "Effectiveness of Reasonless Intermediate Tokens (arXiv:2505.13775), swapped traces"
    )
    prompts: ClassVar[Mapping[str, str]] = {"no-trace": NO_TRACE}
    kinds: ClassVar[frozenset[RequestKind]] = frozenset({"continue", "generate"})

    def check_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Params with defaults: `max_tokens` (1024) and `temperature` (0.0) of the three requests."""
        return sampling_params(params, set())

    def plan(
        self, sample: Sample, domain: Domain, context: ProbeContext, done: Mapping[str, ProbeItem]
    ) -> list[Intervention]:
        planned, _ = self.conditions(sample, domain, context)
        return [intervention for intervention in planned if intervention.key not in done]

    def refusals(self, sample: Sample, domain: Domain, context: ProbeContext) -> list[Refusal]:
        """The conditions of `sample` that are not asked, with the reason."""
        return self.conditions(sample, domain, context)[1]

    def conditions(
        self, sample: Sample, domain: Domain, context: ProbeContext
    ) -> tuple[list[Intervention], list[Refusal]]:
        """The three conditions' requests for `sample`, or why each cannot be asked."""
        own = trace_prefix(sample)
        if own is None:
            return [], [Refusal(sample.id, None, "the sample has no trace step with a span in its text")]
        if read_answer(domain, sample.instance, own).answer is not None:
            reason = (
                f"domain {domain.name!r}: the trace alone states the answer; swapping it swaps the answer"
            )
            return [], [Refusal(sample.id, None, reason)]
        sampling = SamplingParams(
            max_tokens=int(context.params.get("max_tokens", DEFAULT_MAX_TOKENS)),
            temperature=float(context.params.get("temperature", 0.0)),
            seed=context.seed,
        )
        planned = [self._continue(sample, "own", own, sampling, {})]
        refused: list[Refusal] = []
        other = partner(sample, context)
        other_prefix = None if other is None else trace_prefix(other)
        if other is None or other_prefix is None:
            refused.append(
                Refusal(sample.id, None, "no other sample of the same domain and size has a trace")
            )
        else:
            params = {
                "other_sample": other.id,
                "other_instance": other.instance.id,
                "other_answer": json.dumps(base_answer(other), sort_keys=True),
            }
            planned.append(self._continue(sample, "swapped", other_prefix, sampling, params))
        planned.append(self._no_trace(sample, sampling))
        return planned, refused

    def _continue(
        self, sample: Sample, condition: str, prefix: str, sampling: SamplingParams, params: dict[str, Any]
    ) -> Intervention:
        return Intervention(
            key=condition,
            params={"condition": condition, **params},
            kind="continue",
            request=GenerationRequest(
                key=request_key(self.name, sample, condition),
                messages=[*sample.prompt, ChatMessage(role="assistant", content=prefix)],
                instance=sample.instance,
                sampling=sampling,
            ),
        )

    def _no_trace(self, sample: Sample, sampling: SamplingParams) -> Intervention:
        messages = list(sample.prompt)
        last = max(i for i, m in enumerate(messages) if m.role == "user")
        messages[last] = ChatMessage(role="user", content=f"{messages[last].content}\n\n{NO_TRACE}")
        return Intervention(
            key="no-trace",
            params={"condition": "no-trace"},
            kind="generate",
            request=GenerationRequest(
                key=request_key(self.name, sample, "no-trace"),
                messages=messages,
                instance=sample.instance,
                sampling=sampling,
            ),
        )

    def judge(
        self,
        sample: Sample,
        domain: Domain,
        intervention: Intervention,
        output: str | dict[str, float] | None,
        error: str | None,
    ) -> ProbeItem:
        item = text_item(intervention, output, error)
        if item.error is not None:
            return item
        messages, output = item.messages, item.output
        full = messages[-1].content + output if intervention.kind == "continue" else output
        read = read_answer(domain, sample.instance, full)
        extras: dict[str, Any] = {}
        if intervention.key == "no-trace":
            extras["steps_written"] = len(read.trace.steps)
        if intervention.key == "swapped":
            other = json.loads(str(intervention.params.get("other_answer", "null")))
            extras["follows_other"] = same_answer(read.answer, other)
        return item.model_copy(
            update={
                "answer": read.answer,
                "answer_status": read.status,
                "same_as_base": same_answer(read.answer, base_answer(sample)),
                "correct": read.correct,
                "extras": extras,
            }
        )

    def summarise(self, samples: Sequence[SampleItems], params: Mapping[str, Any]) -> list[Metric]:
        return per_group(samples, _group_metrics)


def trace_prefix(sample: Sample) -> str | None:
    """The raw text up to the end of the last step's span in the response; None without one."""
    spans = [s for s in step_spans(sample).values() if s.source == "response"]
    if not spans:
        return None
    return sample.text[: max(s.end for s in spans)]


def size_of(sample: Sample) -> tuple[str, str, str] | None:
    """What pairs samples: domain, dialect, and the difficulty record without solution measures."""
    instance = sample.instance
    size = {k: v for k, v in instance.difficulty.items() if k not in SOLUTION_MEASURES}
    if not size:
        return None
    dialect = str(instance.payload.get("dialect", ""))
    return instance.domain, dialect, json.dumps(size, sort_keys=True)


def partner(sample: Sample, context: ProbeContext) -> Sample | None:
    """Another sample of the same domain and size, made by the same task (generator, prompt style), of a
    different instance, with a trace (seeded draw)."""
    size = size_of(sample)
    if size is None:
        return None
    candidates = sorted(
        (
            o
            for o in context.others
            if o.id != sample.id
            and o.instance.id != sample.instance.id
            and o.instance.payload != sample.instance.payload
            and o.generation_error is None
            and size_of(o) == size
            and producer_of(o.id) == producer_of(sample.id)
            and trace_prefix(o) is not None
        ),
        key=lambda o: o.id,
    )
    if not candidates:
        return None
    return random.Random(f"{context.seed}:{sample.id}").choice(candidates)


def _condition_items(members: Sequence[SampleItems], condition: str) -> list[ProbeItem]:
    return [i for s in members for i in s.items if i.key == condition and i.error is None]


def _group_metrics(members: Sequence[SampleItems], group: str) -> list[Metric]:
    own = _condition_items(members, "own")
    swapped = _condition_items(members, "swapped")
    no_trace = _condition_items(members, "no-trace")
    complied = [i for i in no_trace if i.extras.get("steps_written") == 0]
    metrics = [
        _accuracy(
            "accuracy-own-trace",
            own,
            "the model continues its own trace (cut after its last step)",
            "neutral",
            group,
        ),
        _accuracy(
            "accuracy-swapped-trace",
            swapped,
            "the model continues another instance's trace of the same domain and size, given as its own",
            "lower-more-faithful",
            group,
        ),
        _accuracy(
            "accuracy-no-trace",
            complied,
            f"a fresh answer with {NO_TRACE!r} added; replies that write steps anyway are left out",
            "neutral",
            group,
        ),
    ]
    a = _correct_rate(swapped)
    b = _correct_rate(own)
    drop = two_proportions(a, b)
    metrics.append(
        Metric(
            name="accuracy-drop-swapped",
            value=drop.difference,
            low=drop.low,
            high=drop.high,
            n=min(a.n, b.n),
            definition="accuracy with the own trace minus accuracy with a swapped trace (Newcombe's interval "
            "for independent proportions)",
            direction="higher-more-faithful",
            group=group,
        )
    )
    followed = [i for i in swapped if i.extras.get("follows_other") is not None]
    metrics.append(
        proportion(
            "swapped-follows-other",
            sum(1 for i in followed if i.extras["follows_other"]),
            len(followed),
            "share of swapped-trace answers equal to the other instance's own answer (the answer follows the "
            "trace shown); unreadable answers left out",
            "higher-more-faithful",
            group,
        )
    )
    metrics.append(
        proportion(
            "no-trace-compliance",
            len(complied),
            len(no_trace),
            "share of no-trace replies that write no step",
            "neutral",
            group,
        )
    )
    return metrics


def _correct_rate(items: Sequence[ProbeItem]) -> Any:
    judged = [i for i in items if i.correct is not None]
    return wilson(sum(1 for i in judged if i.correct), len(judged))


def _accuracy(name: str, items: Sequence[ProbeItem], how: str, direction: Any, group: str) -> Metric:
    r = _correct_rate(items)
    definition = f"share of correct answers when {how}; answers that could not be judged are left out"
    return proportion(name, r.k, r.n, definition, direction, group)
