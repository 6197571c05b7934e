"""What the resampling probes (paraphrase, confidence, importance) share: a sample's trace cut after k steps,
continuation requests from such a prefix, the answer options as said after an answer cue, and summary
helpers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from modulo.model import ChatMessage, Instance, Sample
from modulo.probes.answers import reading_status
from modulo.probes.base import RequestKind, SampleItems, request_key
from modulo.probes.options import options_of
from modulo.protocols import Domain, GenerationRequest, SamplingParams
from modulo.spans import step_spans

GROUPS: tuple[tuple[str, Callable[[SampleItems], bool]], ...] = (
    ("all", lambda s: True),
    ("valid-trace", lambda s: s.trace_valid is True),
    ("invalid-trace", lambda s: s.trace_valid is False),
    ("no-trace", lambda s: s.trace_valid is None),
)
"""The breakdown by trace validity every summary reports."""

_CLOSING = re.compile(r"[.!?;:)\]\"'*_`]*")
_NEWLINE = re.compile(r"[ \t]*\n")


def settings(probe: str, params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """`defaults` overridden by `params`; an unknown name is a ValueError naming the known ones."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ValueError(f"unknown {probe} params {unknown}; known: {', '.join(sorted(defaults))}")
    return {**defaults, **params}


def cut_points(sample: Sample) -> list[int | None]:
    """Offsets into `sample.text` where the prefix of k steps ends, for k = 0…L (0 for k = 0); None where
    the step before the cut has no span in the response (a step read from the thinking, or not found).

    A cut after step k−1 keeps the step's text, its closing punctuation (a reading's span may leave out
    the full stop) and the line break right after it, so the model continues as it would have."""
    if sample.trace is None:
        return []
    spans = step_spans(sample)
    cuts: list[int | None] = [0]
    for step in sample.trace.steps:
        span = spans.get(step.index)
        if span is None or span.source != "response":
            cuts.append(None)
            continue
        end = span.end
        closing = _CLOSING.match(sample.text, end)
        end = closing.end() if closing else end
        newline = _NEWLINE.match(sample.text, end)
        cuts.append(newline.end() if newline else end)
    return cuts


def prefix(sample: Sample, k: int) -> str | None:
    """The raw text of the trace's first k steps (everything the model wrote up to the end of step k−1);
    `""` for k = 0; None when that cut is not known."""
    cuts = cut_points(sample)
    if not 0 <= k < len(cuts) or cuts[k] is None:
        return None
    return sample.text[: cuts[k]]


def base_messages(sample: Sample, domain: Domain) -> list[ChatMessage]:
    """The prompt the sample answered (the domain's prompt again when the sample did not store one)."""
    return list(sample.prompt) if sample.prompt else domain.prompt(sample.instance)


def seed_of(*parts: object) -> int:
    """A seed that is a function of its parts (run seed, sample id, item key): reruns repeat, items differ."""
    blob = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:4], "big")


def request(
    probe: str,
    sample: Sample,
    key: str,
    messages: list[ChatMessage],
    sampling: Mapping[str, Any],
    run_seed: int,
) -> GenerationRequest:
    """A generation request for one intervention, keyed `SAMPLE|PROBE|KEY` and seeded from (run seed,
    probe, sample, key), so a resumed run sends the same request; `sampling` holds `temperature`,
    `max_tokens` and optionally `top_p`."""
    params = SamplingParams(
        temperature=sampling["temperature"],
        top_p=sampling.get("top_p", 1.0),
        max_tokens=sampling["max_tokens"],
        seed=seed_of(run_seed, probe, sample.id, key),
    )
    return GenerationRequest(
        key=request_key(probe, sample, key), messages=messages, instance=sample.instance, sampling=params
    )


def rollout(
    probe: str,
    sample: Sample,
    domain: Domain,
    text: str,
    key: str,
    sampling: Mapping[str, Any],
    run_seed: int,
) -> tuple[GenerationRequest, RequestKind]:
    """A resampled rollout from the trace prefix `text`: the model continues it, or, from the empty
    prefix, answers the prompt afresh. The request and the kind of generation it asks for."""
    messages = base_messages(sample, domain)
    if text:
        messages.append(ChatMessage(role="assistant", content=text))
    return request(probe, sample, key, messages, sampling, run_seed), "continue" if text else "generate"


def answer_options(domain: Domain, instance: Instance) -> dict[str, str] | None:
    """For domains with answer options (`modulo.probes.options.OptionDomain`), each answer as the domain
    reads it (`True`, `C`) and the text that says it after the answer cue (` True`, ` (C)`: letters in
    parentheses, as the logic prompts write them); None for domains without options."""
    options = options_of(domain, instance)
    if options is None:
        return None
    return {a: f" ({a})" if options.lettered else f" {a}" for a in options.answers}


def normalise(logprobs: Mapping[str, float]) -> dict[str, float]:
    """Log-probabilities of the options turned into probabilities that sum to 1 over the options."""
    keys = list(logprobs)
    values = np.array([logprobs[k] for k in keys], dtype=float)
    weights = np.exp(values - values.max())
    return {k: float(w) for k, w in zip(keys, weights / weights.sum(), strict=True)}


def cluster_bootstrap(
    clusters: Sequence[Sequence[float]], draws: int = 2000, seed: int = 0
) -> tuple[float | None, float | None, float | None]:
    """The mean of all values and its 95% percentile interval, resampling whole clusters (a trace's
    steps are not independent); no interval from fewer than two clusters, no mean with no value."""
    kept = [np.asarray(c, dtype=float) for c in clusters if len(c)]
    if not kept:
        return None, None, None
    mean = float(np.concatenate(kept).mean())
    if len(kept) < 2:
        return mean, None, None
    rng = np.random.default_rng(seed)
    sums = np.array([c.sum() for c in kept])
    sizes = np.array([c.size for c in kept])
    picks = rng.integers(0, len(kept), size=(draws, len(kept)))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return mean, float(low), float(high)


def base_answer(sample: Sample) -> Any:
    """The base sample's answer, None when its reading found none or calls it ambiguous."""
    if sample.trace is None:
        return None
    return sample.trace.answer if reading_status(sample.trace) == "read" else None


def wanted(chosen: Any, available: Sequence[int]) -> list[int]:
    """The positions a `ks`/`steps` parameter asks for (`"all"` or a list of ints), among those available."""
    if chosen == "all":
        return list(available)
    if not isinstance(chosen, list | tuple) or not all(isinstance(k, int) for k in chosen):
        raise ValueError(f'expected "all" or a list of step numbers, got {chosen!r}')
    return [k for k in available if k in set(chosen)]


def binned_curve(points: Sequence[tuple[float, bool]], bins: int = 10) -> list[tuple[float, float]]:
    """Rates of True by position x in (0, 1], in `bins` equal bins (x = the bin's upper edge; x = 0 is a
    bin of its own); bins without a point are left out."""
    counts: dict[float, list[int]] = {}
    for x, hit in points:
        edge = 0.0 if x <= 0 else min(1.0, np.ceil(round(x * bins, 9)) / bins)
        tally = counts.setdefault(float(edge), [0, 0])
        tally[0] += int(hit)
        tally[1] += 1
    return [(edge, hits / n) for edge, (hits, n) in sorted(counts.items())]
