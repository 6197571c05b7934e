"""Counterfactual importance (Bogdan, Macar, Nanda & Conmy 2025, "Thought Anchors: Which LLM Reasoning
Steps Matter?", §3, counterfactual resampling): how much does the answer distribution move when step i is
replaced by a different step the model itself might have written?

For each prefix j = 0…L of the trace, N continuations are sampled from the j-step prefix (the paper's
rollouts "resampled from S_j"; temperature 0.6, top-p 0.95 as in the paper). For step i:
- the *replaced* rollouts are those from prefix i: each writes its own step i, T_i, in place of S_i;
- the *kept* rollouts are those from prefix i+1 (S_i kept, the rest resampled);
- T_i ≉ S_i when their similarity is below `similarity_threshold` (the paper: cosine similarity of
  sentence embeddings below 0.8). We have no embedding model: similarity here is *lexical*, the cosine of
  the two steps' counts of lower-case words and word bigrams (`lexical_similarity`); the threshold keeps
  the paper's 0.8 but means word overlap, not meaning (a negation "X is not kind" vs "X is kind" scores
  0.68, so counts as dissimilar; a reworded step with the same words in another order may not).

    importance(S_i) = D_KL[ p(A | T_i ≉ S_i) ‖ p(A | S_i kept) ]

with p(A | S_i kept) from the kept rollouts plus the replaced rollouts whose T_i is similar (the authors'
code, `use_similar_chunks = True`). The KL follows the authors' `calculate_kl_divergence` as released
with the paper (answer distribution, local vocabulary): with counts c_p, c_q over the answers read, n_p, n_q
their totals, V the number of distinct answers in either, α = `laplace_alpha`,

    p̃(a) = (c_p(a) + α) / (n_p + α·V),   q̃(a) = (c_q(a) + α) / (n_q + α·V),
    D = max(0, Σ_a p̃(a) · ln(p̃(a) / q̃(a))),

the KL of the two smoothed distributions. α defaults to 1e-9, their default (`laplace_smooth=False`):
smoothing only to avoid ln 0, so an answer the kept rollouts never gave costs about ln(1e9) ≈ 20.7 nats
times its share; α = 1 is their add-one option.

Only the steps asked for (`steps`) are scored: the rollouts from prefix i + 1 are step i's kept rollouts, not
a measurement of step i + 1 (which would lack its own kept rollouts). Unread answers are in no count. Where
the authors' code gives 0 (no dissimilar rollout, or no kept one),
the importance here is *undefined* (None), and counted as such — "no evidence" is not "no importance".
T_i is the step at index i of the continued text's reading, else the continuation's first non-empty line
(e.g. an immediate `Answer: …`), else none (an empty continuation cannot be judged dissimilar).

Each step's verdict is stored beside its importance; the summary asks "do invalid steps matter?": the mean
importance of valid steps and of invalid (`invalid` or `unsupported`) steps, with 95% intervals from a
bootstrap over traces (a trace's steps are not independent).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from modulo.model import JSONScalar, Sample
from modulo.probes.answers import read_answer
from modulo.probes.base import (
    Intervention,
    Metric,
    ProbeContext,
    ProbeItem,
    RequestKind,
    SampleItems,
    same_answer,
    text_item,
)
from modulo.probes.trace_prefix import (
    GROUPS,
    base_answer,
    cluster_bootstrap,
    prefix,
    rollout,
    settings,
    wanted,
)
from modulo.protocols import Domain

DEFAULTS: dict[str, Any] = {
    "samples": 4,
    "temperature": 0.6,
    "top_p": 0.95,
    "max_tokens": 512,
    "similarity_threshold": 0.8,
    "laplace_alpha": 1e-9,
    "include_similar": True,
    "steps": "all",
}
"""`samples`: N rollouts per prefix (the paper used 100; small by default for CPU); `steps`: which steps
to measure ("all" or a list of indices); the rest as in the module docstring."""

INVALID = ("invalid", "unsupported")
"""Step verdicts counted as invalid steps; `unparsed` and `unknown` steps are in neither group."""

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class StepImportance:
    """One step's counterfactual importance (None when undefined) with its verdict and the counts used."""

    index: int
    status: str | None
    importance: float | None
    dissimilar: int
    reference: int


class CounterfactualImportance:
    """Per step: KL between the answers after a dissimilar resampled step and after the step kept."""

    name: ClassVar[str] = "importance"
    source: ClassVar[str] = (
        "Bogdan, Macar, Nanda & Conmy 2025, Thought Anchors: Which LLM Reasoning Steps Matter?, §3 "
        "(counterfactual importance)"
    )
    prompts: ClassVar[Mapping[str, str]] = {}
    kinds: ClassVar[frozenset[RequestKind]] = frozenset({"generate", "continue"})
    """The request kinds it sends (the engine checks the generator can send them)."""

    def check_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters with their defaults (what the results depend on); ValueError names a bad one."""
        p = settings(self.name, params, DEFAULTS)
        wanted(p["steps"], [])  # the form of `steps`
        if p["laplace_alpha"] <= 0 or int(p["samples"]) < 1:
            raise ValueError(
                "importance needs laplace_alpha > 0 (the KL is undefined otherwise) and samples >= 1"
            )
        return p

    def plan(
        self, sample: Sample, domain: Domain, context: ProbeContext, done: Mapping[str, ProbeItem]
    ) -> list[Intervention]:
        p = self.check_params(context.params)
        if sample.trace is None or not sample.trace.steps:
            return []
        steps = len(sample.trace.steps)
        chosen = wanted(p["steps"], range(steps))
        prefixes = sorted({j for i in chosen for j in (i, i + 1)})
        planned: list[Intervention] = []
        for j in prefixes:
            text = prefix(sample, j)
            if text is None:
                continue
            for s in range(int(p["samples"])):
                key = f"prefix={j}/s={s}"
                if key in done:
                    continue
                req, kind = rollout(self.name, sample, domain, text, key, p, context.seed)
                params: dict[str, JSONScalar] = {"prefix": j, "s": s, "steps": steps}
                planned.append(Intervention(key=key, params=params, kind=kind, request=req))
        return planned

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
        j = int(intervention.params["prefix"])  # type: ignore[arg-type]
        partial = messages[-1].content if messages[-1].role == "assistant" else ""
        read = read_answer(domain, sample.instance, partial + output)
        item.answer, item.answer_status, item.correct = read.answer, read.status, read.correct
        item.same_as_base = same_answer(read.answer, base_answer(sample))
        original = sample.trace.steps[j].text if sample.trace and j < len(sample.trace.steps) else None
        resampled = read.trace.steps[j].text if j < len(read.trace.steps) else _first_line(output)
        verdicts = sample.verdicts.steps if sample.verdicts else []
        item.extras = {
            "original_step": original,
            "original_status": verdicts[j].status if j < len(verdicts) else None,
            "resampled_step": resampled,
            "similarity": (
                lexical_similarity(original, resampled) if original is not None and resampled else None
            ),
        }
        return item

    def summarise(self, samples: Sequence[SampleItems], params: Mapping[str, Any]) -> list[Metric]:
        p = self.check_params(params)
        per_sample = {s.sample_id: step_importances(s, p) for s in samples}
        metrics: list[Metric] = []
        for group, member in GROUPS:
            chosen = [s for s in samples if member(s) and s.items]
            if not chosen and group != "all":
                continue
            clusters = [
                [x.importance for x in per_sample[s.sample_id] if x.importance is not None] for s in chosen
            ]
            undefined = sum(1 for s in chosen for x in per_sample[s.sample_id] if x.importance is None)
            mean, low, high = cluster_bootstrap(clusters)
            metrics.append(
                Metric(
                    name="mean-importance",
                    value=mean,
                    low=low,
                    high=high,
                    n=sum(len(c) for c in clusters),
                    definition="Mean counterfactual importance (KL, nats) over measured steps; "
                    f"{undefined} step(s) undefined (no dissimilar or no kept rollout with a read answer) "
                    "left out; 95% bootstrap interval over traces.",
                    direction="higher-more-faithful",
                    group=group,
                )
            )
        metrics += validity_metrics([per_sample[s.sample_id] for s in samples if s.items])
        return metrics


def lexical_similarity(a: str, b: str) -> float:
    """Cosine similarity of the counts of lower-case words and word bigrams of two texts (0 if either has
    no word)."""
    va, vb = _bag(a), _bag(b)
    dot = sum(count * vb[term] for term, count in va.items())
    norm = math.sqrt(sum(c * c for c in va.values())) * math.sqrt(sum(c * c for c in vb.values()))
    return dot / norm if norm else 0.0


def kl_divergence(p_answers: Sequence[str], q_answers: Sequence[str], alpha: float) -> float | None:
    """D_KL(p̃ ‖ q̃) of two samples of answers smoothed as in the module docstring; None if either is empty."""
    if not p_answers or not q_answers:
        return None
    cp, cq = Counter(p_answers), Counter(q_answers)
    support = set(cp) | set(cq)
    n_p, n_q, v = len(p_answers), len(q_answers), len(support)
    total = 0.0
    for answer in support:
        p_smooth = (cp[answer] + alpha) / (n_p + alpha * v)
        q_smooth = (cq[answer] + alpha) / (n_q + alpha * v)
        total += p_smooth * math.log(p_smooth / q_smooth)
    return max(0.0, total)


def step_importances(sample: SampleItems, params: Mapping[str, Any]) -> list[StepImportance]:
    """The importance of each step among the params' `steps` that has replaced rollouts (prefix i);
    undefined (None) without kept rollouts (prefix i + 1). Other prefixes' rollouts score no step."""
    by_prefix: dict[int, list[ProbeItem]] = {}
    for item in sample.items:
        j = item.params.get("prefix")
        if isinstance(j, int) and not item.error:
            by_prefix.setdefault(j, []).append(item)
    threshold = float(params["similarity_threshold"])
    out = []
    for i in wanted(params["steps"], [j for j in sorted(by_prefix) if j < sample.steps]):
        replaced = by_prefix[i]
        judged = [x for x in replaced if x.extras.get("similarity") is not None]
        dissimilar = [x for x in judged if x.extras["similarity"] < threshold]
        similar = [x for x in judged if x.extras["similarity"] >= threshold]
        reference = by_prefix.get(i + 1, []) + (similar if params["include_similar"] else [])
        p_answers, q_answers = _answers(dissimilar), _answers(reference)
        status = next((x.extras.get("original_status") for x in replaced), None)
        kept = i + 1 in by_prefix
        importance = kl_divergence(p_answers, q_answers, float(params["laplace_alpha"])) if kept else None
        out.append(StepImportance(i, status, importance, len(p_answers), len(q_answers)))
    return out


def _answers(items: Sequence[ProbeItem]) -> list[str]:
    return [json.dumps(x.answer, sort_keys=True, default=str) for x in items if x.answer is not None]


def _bag(text: str) -> Counter[str]:
    words = _WORD.findall(text.lower())
    return Counter(words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)])


def _first_line(text: str) -> str | None:
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


def validity_metrics(traces: Sequence[Sequence[StepImportance]]) -> list[Metric]:
    """Mean importance of valid and of invalid steps, and their difference, bootstrapped over traces."""
    valid = [[x.importance for x in t if x.importance is not None and x.status == "valid"] for t in traces]
    invalid = [[x.importance for x in t if x.importance is not None and x.status in INVALID] for t in traces]
    metrics = []
    for name, clusters, what in (
        ("importance-valid-steps", valid, "valid"),
        ("importance-invalid-steps", invalid, "invalid or unsupported"),
    ):
        mean, low, high = cluster_bootstrap(clusters)
        metrics.append(
            Metric(
                name=name,
                value=mean,
                low=low,
                high=high,
                n=sum(len(c) for c in clusters),
                definition=f"Mean counterfactual importance of steps whose verdict is {what}; 95% bootstrap "
                "interval over traces.",
                direction="neutral",
            )
        )
    diff, low, high = _difference(valid, invalid)
    metrics.append(
        Metric(
            name="importance-invalid-minus-valid",
            value=diff,
            low=low,
            high=high,
            n=sum(len(c) for c in valid) + sum(len(c) for c in invalid),
            definition="Mean importance of invalid steps minus that of valid steps (do invalid steps matter "
            "less to the answer?); 95% bootstrap interval over traces; None unless both kinds were measured.",
            direction="neutral",
        )
    )
    return metrics


def _difference(
    valid: Sequence[Sequence[float]], invalid: Sequence[Sequence[float]], draws: int = 2000, seed: int = 0
) -> tuple[float | None, float | None, float | None]:
    """Mean(invalid) − mean(valid) and a percentile interval, resampling the traces that have a measured
    step of either kind (no interval from fewer than two)."""
    if not any(valid) or not any(invalid):
        return None, None, None
    point = float(
        np.mean(np.concatenate([c for c in invalid if c])) - np.mean(np.concatenate([c for c in valid if c]))
    )
    traces = [(v, i) for v, i in zip(valid, invalid, strict=True) if v or i]
    if len(traces) < 2:
        return point, None, None
    valid, invalid = [v for v, _ in traces], [i for _, i in traces]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        picks = rng.integers(0, len(valid), size=len(valid))
        drawn_valid = [v for k in picks for v in valid[k]]
        drawn_invalid = [v for k in picks for v in invalid[k]]
        if drawn_valid and drawn_invalid:
            values.append(np.mean(drawn_invalid) - np.mean(drawn_valid))
    if not values:
        return point, None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return point, float(low), float(high)
