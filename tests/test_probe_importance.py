"""Counterfactual importance (Thought Anchors, Bogdan et al. 2025): the lexical similarity filter, the
smoothed KL, per-step importance on hand-made rollouts, valid vs invalid steps, and scripted models."""

from __future__ import annotations

import math

import pytest
from probe_drive import deduction_sample, drive
from probe_fakes import ScriptedGenerator

from modulo.model import ChatMessage
from modulo.probes.base import ProbeContext, ProbeItem, SampleItems
from modulo.probes.importance import (
    CounterfactualImportance,
    StepImportance,
    kl_divergence,
    lexical_similarity,
    step_importances,
    validity_metrics,
)
from modulo.probes.registry import probe

DEFAULTS = CounterfactualImportance().check_params({})
KEY_STEP = "Stella is a rompus."
"""Step 6 of the gold deduction trace of instance 0 (seed 0)."""


def test_defaults_follow_the_paper_where_it_says() -> None:
    # Thought Anchors: rollouts at temperature 0.6, top-p 0.95; "dissimilar" below cosine similarity 0.8.
    assert DEFAULTS["temperature"] == 0.6 and DEFAULTS["top_p"] == 0.95
    assert DEFAULTS["similarity_threshold"] == 0.8
    assert DEFAULTS["include_similar"] is True  # the authors' code: use_similar_chunks = True
    assert isinstance(probe("importance"), CounterfactualImportance)


def test_lexical_similarity_by_hand() -> None:
    # words+bigrams: {stella, is, not, kind, stella is, is not, not kind} vs {stella, is, kind, stella is,
    # is kind}: 4 shared terms, norms sqrt(7) and sqrt(5)
    assert lexical_similarity("Stella is not kind.", "Stella is kind.") == pytest.approx(4 / math.sqrt(35))
    assert lexical_similarity("Stella is kind.", "stella  IS kind") == pytest.approx(1.0)
    assert lexical_similarity("Max is cold.", "Wren is a lempus.") == pytest.approx(1 / math.sqrt(35))
    assert lexical_similarity("...", "Max is cold.") == 0.0


def test_kl_with_laplace_smoothing_by_hand() -> None:
    # p = [A, A, B], q = [A, A, A, A], alpha = 1, V = 2:
    # p~(A) = 3/5, p~(B) = 2/5; q~(A) = 5/6, q~(B) = 1/6; weights are the unsmoothed p: 2/3, 1/3
    expected = (2 / 3) * math.log((3 / 5) / (5 / 6)) + (1 / 3) * math.log((2 / 5) / (1 / 6))
    assert expected == pytest.approx(0.0728204, abs=1e-6)
    assert kl_divergence(["A", "A", "B"], ["A", "A", "A", "A"], 1.0) == pytest.approx(expected)
    # an answer only q has gets no weight (p's unsmoothed probability is 0) but moves V and the smoothing
    assert kl_divergence(["A"], ["B"], 1.0) == pytest.approx(math.log((2 / 3) / (1 / 3)))
    assert kl_divergence(["A", "B"], ["B", "A"], 1.0) == 0.0
    assert kl_divergence([], ["A"], 1.0) is None and kl_divergence(["A"], [], 1.0) is None


def _rollout(
    prefix: int, s: int, answer: str | None, similarity: float | None, status: str = "valid"
) -> ProbeItem:
    extras = {"similarity": similarity, "original_status": status}
    return ProbeItem(
        key=f"prefix={prefix}/s={s}",
        params={"prefix": prefix, "s": s},
        messages=[],
        answer=answer,
        extras=extras,
    )


def _trace(items: list[ProbeItem], steps: int = 2, valid: bool | None = True) -> SampleItems:
    return SampleItems(
        sample_id="x", domain="deduction", trace_valid=valid, answer_correct=True, steps=steps, items=items
    )


def test_similarity_filter_and_reference_by_hand() -> None:
    items = [
        _rollout(0, 0, "T", 0.9),  # similar to step 0: joins the reference
        _rollout(0, 1, "F", 0.5),  # dissimilar
        _rollout(0, 2, None, 0.3),  # dissimilar but unread: in no count
        _rollout(1, 0, "T", 0.2),
        _rollout(1, 1, "T", 0.2),
        _rollout(2, 0, "T", None),
    ]
    [step0, step1] = step_importances(_trace(items), DEFAULTS)
    # step 0: p = [F] vs q = [T, T] + [T]; V = 2: p~(F) = 2/3, q~(F) = 1/5 -> ln(10/3)
    assert step0 == StepImportance(0, "valid", pytest.approx(math.log(10 / 3)), 1, 3)  # type: ignore[arg-type]
    # without the similar rollouts: q = [T, T], q~(F) = 1/4 -> ln(8/3)
    alone = step_importances(_trace(items), {**DEFAULTS, "include_similar": False})[0]
    assert alone.importance == pytest.approx(math.log(8 / 3))
    # threshold 0.95: the 0.9 rollout is dissimilar too: p = [T, F] vs q = [T, T]:
    # 0.5 ln(0.5 / 0.75) + 0.5 ln(0.5 / 0.25)
    strict = step_importances(_trace(items), {**DEFAULTS, "similarity_threshold": 0.95})[0]
    assert strict.importance == pytest.approx(0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    # step 1: p = [T, T] vs q = [T]: the same single answer -> 0
    assert step1.importance == 0.0
    # no dissimilar rollout: undefined, never 0 (the similar one still joins the reference: 2 answers)
    similar = [_rollout(1, 0, "T", 0.99), _rollout(2, 0, "F", None)]
    assert step_importances(_trace(similar), DEFAULTS) == [StepImportance(1, "valid", None, 0, 2)]


def test_valid_and_invalid_steps_by_hand() -> None:
    traces = [
        [StepImportance(0, "valid", 0.2, 2, 2), StepImportance(1, "invalid", 0.6, 2, 2)],
        [
            StepImportance(0, "valid", 0.4, 2, 2),
            StepImportance(1, "unsupported", 1.0, 2, 2),
            StepImportance(2, "unknown", 5.0, 2, 2),  # neither group
            StepImportance(3, "valid", None, 0, 2),  # undefined: left out
        ],
    ]
    metrics = {m.name: m for m in validity_metrics(traces)}
    assert metrics["importance-valid-steps"].value == pytest.approx(0.3)  # (0.2 + 0.4) / 2
    assert metrics["importance-invalid-steps"].value == pytest.approx(0.8)  # (0.6 + 1.0) / 2
    difference = metrics["importance-invalid-minus-valid"]
    assert difference.value == pytest.approx(0.5) and difference.n == 4
    assert difference.low is not None and difference.high is not None
    assert difference.low <= 0.5 <= difference.high
    none = {m.name: m for m in validity_metrics([[StepImportance(0, "valid", 0.1, 1, 1)]])}
    assert none["importance-invalid-minus-valid"].value is None
    # one trace: a value but no interval (a bootstrap over one trace says nothing)
    single = {m.name: m for m in validity_metrics(traces[:1])}
    assert single["importance-invalid-minus-valid"].value == pytest.approx(0.4)
    assert single["importance-invalid-minus-valid"].low is None
    assert single["importance-valid-steps"].value == pytest.approx(0.2)
    assert single["importance-valid-steps"].low is None


def test_a_model_that_ignores_the_trace_gives_zero_importance() -> None:
    sample, domain = deduction_sample()
    params = {"samples": 2}
    items, rounds = drive(
        CounterfactualImportance(), sample, domain, ScriptedGenerator(lambda m: "Answer: True"), params
    )
    assert len(rounds) == 1 and len(rounds[0]) == 2 * 10  # prefixes 0..9, two rollouts each
    assert items["prefix=0/s=0"].messages == sample.prompt
    importances = step_importances(
        _summary_items(sample, items), CounterfactualImportance().check_params(params)
    )
    assert [x.importance for x in importances] == [0.0] * 9
    assert {x.status for x in importances} == {"valid"}


def test_a_model_that_follows_a_key_step_makes_it_important() -> None:
    sample, domain = deduction_sample()

    def follows(messages: list[ChatMessage]) -> str:
        partial = messages[-1].content if messages[-1].role == "assistant" else ""
        return "Answer: True" if KEY_STEP in partial else "Stella is kind.\nAnswer: False"

    params = {"samples": 2}
    items, _ = drive(CounterfactualImportance(), sample, domain, ScriptedGenerator(follows), params)
    replaced = items["prefix=6/s=0"]
    assert replaced.extras["original_step"] == KEY_STEP and replaced.extras["resampled_step"].startswith(
        "Stella is kind"
    )
    assert replaced.extras["similarity"] == pytest.approx(3 / math.sqrt(35))  # dissimilar
    assert replaced.answer == "False" and items["prefix=7/s=0"].answer == "True"
    importances = step_importances(
        _summary_items(sample, items), CounterfactualImportance().check_params(params)
    )
    # step 6: p = [False, False] vs q = [True, True], alpha = 1, V = 2: ln((3/4) / (1/4)) = ln 3
    assert [x.importance for x in importances] == pytest.approx([0.0] * 6 + [math.log(3)] + [0.0] * 2)
    metrics = {
        (m.name, m.group): m
        for m in CounterfactualImportance().summarise([_summary_items(sample, items)], params)
    }
    assert metrics["mean-importance", "all"].value == pytest.approx(math.log(3) / 9)
    assert metrics["mean-importance", "valid-trace"].n == 9
    assert metrics["importance-invalid-steps", "all"].value is None


def test_chosen_steps_plan_only_their_prefixes_and_bad_params_fail() -> None:
    sample, domain = deduction_sample()
    planned = CounterfactualImportance().plan(
        sample, domain, ProbeContext(params={"steps": [2], "samples": 1}), {}
    )
    assert [i.key for i in planned] == ["prefix=2/s=0", "prefix=3/s=0"]
    assert planned[0].request.sampling.temperature == 0.6  # type: ignore[union-attr]
    two = CounterfactualImportance().plan(
        sample, domain, ProbeContext(params={"steps": [2], "samples": 2}), {}
    )
    seeds = {i.request.sampling.seed for i in two}  # type: ignore[union-attr]
    assert len(seeds) == 4  # every rollout its own seed
    with pytest.raises(ValueError, match="laplace_alpha > 0"):
        CounterfactualImportance().plan(sample, domain, ProbeContext(params={"laplace_alpha": 0}), {})


def _summary_items(sample, items):  # type: ignore[no-untyped-def]
    return SampleItems(
        sample_id=sample.id,
        domain="deduction",
        trace_valid=sample.verdicts.trace_valid,
        answer_correct=True,
        steps=len(sample.trace.steps),
        items=list(items.values()),
    )
