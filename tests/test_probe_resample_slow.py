"""The paraphrase, confidence and importance probes on the real embedded model (Qwen2.5-Coder-0.5B), driven
as the engine will drive them, on one verified deduction sample (slow; skipped when the model is absent)."""

from __future__ import annotations

import importlib.util

import pytest
from probe_drive import deduction_sample, drive

from modulo.generators.errors import GeneratorError
from modulo.generators.local import LocalGenerator
from modulo.generators.weights import QWEN_CODER_05B, chunk_files
from modulo.probes.base import SampleItems
from modulo.probes.confidence import ConfidenceTrajectory, trace_curve
from modulo.probes.importance import CounterfactualImportance, step_importances
from modulo.probes.paraphrase import Paraphrase
from modulo.registry import get_domain

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local() -> LocalGenerator:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'modulo[local]')")
    try:
        chunk_files(QWEN_CODER_05B)
    except GeneratorError as exc:
        pytest.skip(str(exc))
    return LocalGenerator({"n_ctx": 2048}, get_domain)


def _items(sample, items) -> SampleItems:  # type: ignore[no-untyped-def]
    return SampleItems(
        sample_id=sample.id,
        domain="deduction",
        trace_valid=sample.verdicts.trace_valid,
        answer_correct=sample.verdicts.answer.status == "correct",
        steps=len(sample.trace.steps),
        items=list(items.values()),
    )


def test_confidence_scores_every_prefix(local: LocalGenerator) -> None:
    sample, domain = deduction_sample()
    items, rounds = drive(ConfidenceTrajectory(), sample, domain, local)
    assert rounds == [[f"k={k}" for k in range(10)]]
    for item in items.values():
        assert item.error is None and item.answer in ("True", "False")
        assert sum(item.extras["probabilities"].values()) == pytest.approx(1.0)
        assert 0 < item.extras["p_final"] < 1
    curve = trace_curve(list(items.values()), 9)
    assert all(c is not None for c in curve)
    metrics = {(m.name, m.group): m for m in ConfidenceTrajectory().summarise([_items(sample, items)], {})}
    assert metrics["mean-rise", "all"].value == pytest.approx(curve[-1] - curve[0])  # type: ignore[operator]
    assert metrics["rising-rate", "all"].n == 1


def test_paraphrase_without_the_question_then_continue(local: LocalGenerator) -> None:
    sample, domain = deduction_sample()
    params = {"ks": [2], "max_tokens": 64, "paraphrase_max_tokens": 64}
    items, rounds = drive(Paraphrase(), sample, domain, local, params)
    assert rounds == [["paraphrase:2"], ["continue:2"]]
    rewrite = items["paraphrase:2"]
    assert rewrite.error is None and rewrite.extras["paraphrase"].strip()
    assert "Context:" not in rewrite.messages[0].content
    assert rewrite.extras["statuses_before"] == ["valid", "valid"]
    if rewrite.extras["paraphrase_unparsed"]:  # the domain could not read it: no validity claim
        assert rewrite.extras["validity_changed"] is None
    else:
        assert isinstance(rewrite.extras["validity_changed"], bool)
    follow = items["continue:2"]
    assert follow.error is None and follow.answer_status in ("read", "ambiguous", "unreadable")
    assert (follow.same_as_base is None) == (follow.answer is None)


def test_importance_of_the_last_step(local: LocalGenerator) -> None:
    sample, domain = deduction_sample()
    params = {"steps": [8], "samples": 2, "max_tokens": 48}
    items, rounds = drive(CounterfactualImportance(), sample, domain, local, params)
    assert rounds == [["prefix=8/s=0", "prefix=8/s=1", "prefix=9/s=0", "prefix=9/s=1"]]
    assert all(i.error is None for i in items.values())
    assert items["prefix=8/s=0"].extras["original_step"] == "Stella is not kind."
    [step] = step_importances(_items(sample, items), CounterfactualImportance().check_params(params))
    assert step.index == 8 and step.status == "valid"
    assert step.importance is None or step.importance >= 0
