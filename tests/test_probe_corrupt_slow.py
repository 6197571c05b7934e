"""The corruption and swapped-trace probes on the real embedded model (slow: needs `modulo[local]`).

Base samples are exact oracle answers to the domain's prompt; the model continues them after a proved
corruption (one maze, one Blocksworld sample) or after a swapped trace (two mazes of the same size)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from generator_contract import no_domains
from probe_samples import sample_of

from modulo.domains.maze.domain import MazeDomain
from modulo.domains.planning.domain import BlocksworldDomain
from modulo.generators.errors import GeneratorError
from modulo.generators.weights import QWEN_CODER_05B, chunk_files
from modulo.model import Sample
from modulo.probes.base import Probe, ProbeContext, ProbeItem, SampleItems
from modulo.probes.corruption import VerifiedCorruption
from modulo.probes.swapped import SwappedTrace
from modulo.protocols import ContinuingGenerator, Domain
from modulo.verify import verify_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model() -> ContinuingGenerator:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'modulo[local]')")
    try:
        chunk_files(QWEN_CODER_05B)
    except GeneratorError as exc:
        pytest.skip(str(exc))
    from modulo.generators.local import LocalGenerator

    return LocalGenerator({"n_ctx": 4096}, no_domains)


def _probe(
    probe: Probe, model: ContinuingGenerator, domain: Domain, sample: Sample, context: ProbeContext
) -> list[ProbeItem]:
    """What the engine does with one sample: plan, send by kind, judge."""
    items = []
    for intervention in probe.plan(sample, domain, context, {}):
        send = model.continue_generation if intervention.kind == "continue" else model.generate
        [out] = send([intervention.request])  # type: ignore[list-item]
        items.append(probe.judge(sample, domain, intervention, out.text, out.error))
    return items


@pytest.mark.parametrize("which", ["maze", "blocksworld"])
def test_verified_corruption_on_the_embedded_model(model: ContinuingGenerator, which: str) -> None:
    domain: Any = MazeDomain() if which == "maze" else BlocksworldDomain()
    params = {"width": 5} if which == "maze" else {"blocks": 3, "timeout": 0}
    [instance] = domain.generate(1, 11, **params)
    sample = sample_of(domain, instance, domain.oracle(instance, "exact", 0))
    probe = VerifiedCorruption()
    context = ProbeContext(params={"positions": 2, "max_tokens": 200}, seed=5)
    items = _probe(probe, model, domain, sample, context)
    assert len(items) == 2 and all(item.error is None for item in items)
    for item in items:
        k = int(item.params["k"])  # type: ignore[arg-type]
        sent = item.messages[-1].content
        trace, verdicts = verify_text(domain, instance, sent)
        assert trace.steps[k].text.strip() == item.params["corrupted"]
        assert verdicts.steps[k].status == "invalid" and verdicts.steps[k].rule == item.params["rule"]
        assert item.output  # the model wrote something
        assert item.extras["corrupted_verdict"] == {"status": "invalid", "rule": item.params["rule"]}
    summary = {(m.group, m.name): m for m in probe.summarise([_items(sample, items)], {})}
    kept = [item for item in items if item.extras.get("corruption_kept", True)]
    read = [item for item in kept if item.same_as_base is not None]
    # a plan's steps are its answer: its corruptions are counted apart, never as changes
    compared = [item for item in read if not item.params.get("trace_is_answer")]
    assert all(item.params.get("trace_is_answer") for item in items) == (which == "blocksworld")
    assert summary[("all", "answer-change-rate")].n == len(compared)
    if kept:
        assert summary[("all", "answer-unreadable-share")].value == (len(kept) - len(read)) / len(kept)


def test_swapped_trace_on_the_embedded_model(model: ContinuingGenerator) -> None:
    domain = MazeDomain()
    samples = [
        sample_of(domain, i, domain.oracle(i, "exact", 0), f"m{k}")
        for k, i in enumerate(domain.generate(2, 12, width=5))
    ]
    probe = SwappedTrace()
    context = ProbeContext(params={"max_tokens": 120}, others=samples)
    items = _probe(probe, model, domain, samples[0], context)
    assert sorted(item.key for item in items) == ["no-trace", "own", "swapped"]
    metrics = {(m.group, m.name): m for m in probe.summarise([_items(samples[0], items)], {})}
    assert metrics[("all", "accuracy-own-trace")].n <= 1
    assert metrics[("all", "no-trace-compliance")].n == 1


def _items(sample: Sample, items: list[ProbeItem]) -> SampleItems:
    assert sample.trace is not None and sample.verdicts is not None
    return SampleItems(
        sample.id,
        sample.instance.domain,
        sample.verdicts.trace_valid,
        sample.verdicts.answer.status == "correct",
        len(sample.trace.steps),
        items,
    )
