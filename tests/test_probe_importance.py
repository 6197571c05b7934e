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


def test_defaults_smooth_as_the_authors_do() -> None:
    # the authors' calculate_kl_divergence(laplace_smooth=False): alpha = 1e-9
    assert DEFAULTS["laplace_alpha"] == 1e-9


def test_kl_with_laplace_smoothing_by_hand() -> None:
    # the authors' calculate_kl_divergence: kl += p~ * ln(p~ / q~), p~ and q~ both smoothed.
    # p = [A, A, B], q = [A, A, A, A], alpha = 1, V = 2:
    # p~(A) = 3/5, p~(B) = 2/5; q~(A) = 5/6, q~(B) = 1/6
    expected = (3 / 5) * math.log((3 / 5) / (5 / 6)) + (2 / 5) * math.log((2 / 5) / (1 / 6))
    assert expected == pytest.approx(0.153085, abs=1e-6)
    assert kl_divergence(["A", "A", "B"], ["A", "A", "A", "A"], 1.0) == pytest.approx(expected)
    # [A] vs [B]: p~ = (2/3, 1/3), q~ = (1/3, 2/3): (2/3) ln 2 + (1/3) ln(1/2) = (1/3) ln 2 = 0.231
    assert kl_divergence(["A"], ["B"], 1.0) == pytest.approx(0.231049, abs=1e-6)
    # an answer only q has weighs p~ = alpha / (n_p + alpha V) > 0 as well: [A] vs [A, B], alpha = 1:
    # p~ = (2/3, 1/3), q~ = (2/4, 2/4)
    assert kl_divergence(["A"], ["A", "B"], 1.0) == pytest.approx(
        (2 / 3) * math.log((2 / 3) / (1 / 2)) + (1 / 3) * math.log((1 / 3) / (1 / 2))
    )
    # the default alpha = 1e-9: [A] vs [B] is ~ ln(1e9) (p~(A) = (1 + 1e-9) / (1 + 2e-9), q~(A) = 1e-9 / ...)
    assert kl_divergence(["A"], ["B"], 1e-9) == pytest.approx(math.log(1e9), rel=1e-6)
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
    add_one = {**DEFAULTS, "laplace_alpha": 1.0}
    [step0, step1] = step_importances(_trace(items), add_one)
    # step 0: p = [F] vs q = [T, T] + [T]; V = 2, alpha = 1: p~ = (F 2/3, T 1/3), q~ = (F 1/5, T 4/5)
    expected = (2 / 3) * math.log((2 / 3) / (1 / 5)) + (1 / 3) * math.log((1 / 3) / (4 / 5))
    assert step0 == StepImportance(0, "valid", pytest.approx(expected), 1, 3)  # type: ignore[arg-type]
    # without the similar rollouts: q = [T, T], q~ = (F 1/4, T 3/4)
    alone = step_importances(_trace(items), {**add_one, "include_similar": False})[0]
    assert alone.importance == pytest.approx(
        (2 / 3) * math.log((2 / 3) / (1 / 4)) + (1 / 3) * math.log((1 / 3) / (3 / 4))
    )
    # threshold 0.95: the 0.9 rollout is dissimilar too: p = [T, F] vs q = [T, T]:
    # p~ = (1/2, 1/2), q~ = (T 3/4, F 1/4): 0.5 ln(0.5 / 0.75) + 0.5 ln(0.5 / 0.25)
    strict = step_importances(_trace(items), {**add_one, "similarity_threshold": 0.95})[0]
    assert strict.importance == pytest.approx(0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25))
    # step 1: p = [T, T] vs q = [T]: the same single answer -> 0
    assert step1.importance == 0.0
    # no dissimilar rollout: undefined, never 0 (the similar one still joins the reference: 2 answers)
    similar = [_rollout(1, 0, "T", 0.99), _rollout(2, 0, "F", None)]
    assert step_importances(_trace(similar), DEFAULTS) == [StepImportance(1, "valid", None, 0, 2)]


def test_only_requested_steps_with_kept_rollouts_are_scored() -> None:
    # steps = [1] plans prefixes 1 and 2 only. The prefix-2 rollouts are step 1's kept rollouts; they also
    # resample step 2, but step 2 was not asked for and has no prefix-3 (kept) rollouts: it must not be
    # scored against its similar resamples alone (before the fix: p = [F] vs q = [T] -> importance > 0).
    items = [
        _rollout(1, 0, "F", 0.2),
        _rollout(1, 1, "F", 0.1),
        _rollout(2, 0, "T", 0.9),  # similar to step 2
        _rollout(2, 1, "F", 0.1),  # dissimilar to step 2
    ]
    params = {**DEFAULTS, "steps": [1], "laplace_alpha": 1.0}
    # step 1: p = [F, F] vs q = [T, F]: p~ = (F 3/4, T 1/4), q~ = (F 1/2, T 1/2)
    expected = (3 / 4) * math.log((3 / 4) / (1 / 2)) + (1 / 4) * math.log((1 / 4) / (1 / 2))
    assert step_importances(_trace(items, steps=3), params) == [
        StepImportance(1, "valid", pytest.approx(expected), 2, 2)  # type: ignore[arg-type]
    ]
    # all steps asked for, but prefix 3 has no rollout (e.g. its requests failed): step 2 is undefined
    everything = step_importances(_trace(items, steps=3), {**params, "steps": "all"})
    assert everything[-1] == StepImportance(2, "valid", None, 1, 1)
    # asked for, with kept rollouts, but step 2 is not among the steps: absent from the summary too
    metrics = {
        (m.name, m.group): m for m in CounterfactualImportance().summarise([_trace(items, steps=3)], params)
    }
    assert metrics["mean-importance", "all"].n == 1
    assert metrics["mean-importance", "all"].value == pytest.approx(expected)
    assert metrics["importance-valid-steps", "all"].n == 1


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
    # step 6: p = [False, False] vs q = [True, True], the default alpha a = 1e-9, V = 2:
    # p~(F) = q~(T) = (2 + a) / (2 + 2a), p~(T) = q~(F) = a / (2 + 2a), so
    # KL = (p~(F) - p~(T)) ln(p~(F) / p~(T)) = (2 / (2 + 2a)) ln((2 + a) / a) ~ ln(2e9)
    a = 1e-9
    key = (2 / (2 + 2 * a)) * math.log((2 + a) / a)
    assert key == pytest.approx(21.4164, abs=1e-4)
    assert [x.importance for x in importances] == pytest.approx([0.0] * 6 + [key] + [0.0] * 2)
    metrics = {
        (m.name, m.group): m
        for m in CounterfactualImportance().summarise([_summary_items(sample, items)], params)
    }
    assert metrics["mean-importance", "all"].value == pytest.approx(key / 9)
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
