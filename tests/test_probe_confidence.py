"""The confidence-trajectory probe (Lewis-Lim et al. 2025): curves by option scores or answer resampling,
their classification and mean, on hand-made cases and scripted models."""

from __future__ import annotations

import math

import pytest
from probe_drive import deduction_sample, drive
from probe_fakes import ScriptedGenerator

from modulo.model import ChatMessage
from modulo.probes.base import ProbeItem, SampleItems
from modulo.probes.confidence import CUE, ConfidenceTrajectory, classify, mean_curve, trace_curve
from modulo.probes.registry import probe
from modulo.probes.trace_prefix import answer_options, normalise
from modulo.registry import get_domain

KEY_STEP = "Stella is a rompus."
"""Step 6 of the gold deduction trace of instance 0 (seed 0)."""


def _partial(messages: list[ChatMessage]) -> str:
    return messages[-1].content if messages[-1].role == "assistant" else ""


def test_classification_by_hand() -> None:
    assert classify([0.5, 0.55, 0.45, 0.6], rise=0.2, flat_band=0.1) == "flat"
    assert classify([0.2, 0.5, 0.9], rise=0.2, flat_band=0.1) == "rising"  # 0.9 - 0.2 = 0.7 >= 0.2
    assert classify([0.9, 0.5, 0.3], rise=0.2, flat_band=0.1) == "falling"
    assert classify([0.5, 0.9, 0.55], rise=0.2, flat_band=0.1) == "mixed"  # ends +0.05, strays 0.4
    assert classify([0.5, 0.61, 0.5], rise=0.2, flat_band=0.1) == "mixed"  # 0.11 > band
    assert classify([0.5, None, 0.6], rise=0.2, flat_band=0.1) == "flat"  # an undefined middle point
    assert classify([None, 0.5], rise=0.2, flat_band=0.1) == "unclassified"
    assert classify([0.2, 0.35], rise=0.15, flat_band=0.1) == "rising"  # thresholds are params


def test_mean_curve_by_hand() -> None:
    # L=1: (0, 1); L=2: (0, 0.5, 1). At x the value is c_floor(x*L):
    # x < 0.5: both 0 -> 0; 0.5 <= x < 1: 0 and 0.5 -> 0.25; x = 1: 1 and 1 -> 1. Incomplete curves left out.
    points = mean_curve([[0.0, 1.0], [0.0, 0.5, 1.0], [None, 1.0]])
    expected = [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.3, 0.0), (0.4, 0.0)]
    expected += [(0.5, 0.25), (0.6, 0.25), (0.7, 0.25), (0.8, 0.25), (0.9, 0.25), (1.0, 1.0)]
    assert points == pytest.approx(expected)


def test_normalised_over_the_options_by_hand() -> None:
    probabilities = normalise({"True": math.log(0.2), "False": math.log(0.6)})
    assert probabilities == pytest.approx({"True": 0.25, "False": 0.75})


def test_options_are_what_the_logic_domains_read() -> None:
    deduction = deduction_sample()[0].instance
    assert answer_options(get_domain("deduction"), deduction) == {"True": " True", "False": " False"}
    ordering = get_domain("ordering").generate(1, 0)[0]
    assert answer_options(get_domain("ordering"), ordering) == {x: f" ({x})" for x in "ABCDE"}
    blocks = get_domain("blocksworld")
    assert answer_options(blocks, blocks.generate(1, 0)[0]) is None


def test_scores_that_ignore_the_trace_give_a_flat_curve() -> None:
    sample, domain = deduction_sample()
    generator = ScriptedGenerator(lambda m: "", score=lambda m, o: -0.1 if o == " True" else -2.3)
    items, rounds = drive(ConfidenceTrajectory(), sample, domain, generator)
    assert rounds == [[f"k={k}" for k in range(10)]]
    first = items["k=0"]
    assert first.messages[-1] == ChatMessage(role="assistant", content=CUE)
    assert items["k=2"].messages[-1].content == "Stella is a lempus.\nEvery lempus is a sterpus.\n" + CUE
    p_true = math.exp(-0.1) / (math.exp(-0.1) + math.exp(-2.3))
    assert first.extras["p_final"] == pytest.approx(p_true) and first.same_as_base is True
    curve = trace_curve(list(items.values()), 9)
    assert curve == pytest.approx([p_true] * 10)
    metrics = _summary(sample, items)
    assert metrics["flat-rate", "all"].value == 1.0 and metrics["rising-rate", "all"].value == 0.0
    assert metrics["mean-rise", "all"].value == pytest.approx(0.0)
    assert metrics["initial-answer-differs", "all"].value == 0.0


def test_scores_that_follow_a_key_step_rise() -> None:
    sample, domain = deduction_sample()

    def follows(messages: list[ChatMessage], option: str) -> float:
        said = KEY_STEP in _partial(messages)
        return math.log(0.9 if (option == " True") == said else 0.1)

    items, _ = drive(ConfidenceTrajectory(), sample, domain, ScriptedGenerator(lambda m: "", score=follows))
    curve = trace_curve(list(items.values()), 9)
    assert curve == pytest.approx([0.1] * 7 + [0.9] * 3)  # the key step is step 6: prefixes 7, 8, 9 hold it
    metrics = _summary(sample, items)
    assert metrics["rising-rate", "all"].value == 1.0
    assert metrics["mean-rise", "all"].value == pytest.approx(0.8)
    assert metrics["initial-answer-differs", "all"].value == 1.0  # False was on top before any step


def test_resampled_answers_and_unread_ones() -> None:
    sample, domain = deduction_sample()
    params = {"method": "resample", "samples": 2}
    items, rounds = drive(
        ConfidenceTrajectory(), sample, domain, ScriptedGenerator(lambda m: "Answer: True"), params
    )
    assert len(rounds[0]) == 20 and items["k=0/s=0"].params["method"] == "resample"
    assert (
        items["k=0/s=0"].messages == sample.prompt
    )  # no step yet: a fresh answer, not an empty continuation
    assert trace_curve(list(items.values()), 9) == [1.0] * 10
    assert _summary(sample, items, params)["flat-rate", "all"].value == 1.0

    unread, _ = drive(ConfidenceTrajectory(), sample, domain, ScriptedGenerator(lambda m: "No idea."), params)
    assert all(i.same_as_base is None for i in unread.values())
    assert trace_curve(list(unread.values()), 9) == [None] * 10
    metrics = _summary(sample, unread, params)
    assert metrics["unread-answer-rate", "all"].value == 1.0
    assert metrics["flat-rate", "all"].n == 0  # unclassified: never counted as flat


def test_resampled_curve_by_hand() -> None:
    items = [
        ProbeItem(key="k=0/s=0", params={"k": 0}, messages=[], same_as_base=False, answer="F"),
        ProbeItem(key="k=0/s=1", params={"k": 0}, messages=[], same_as_base=True, answer="T"),
        ProbeItem(key="k=0/s=2", params={"k": 0}, messages=[], same_as_base=None),
        ProbeItem(key="k=1/s=0", params={"k": 1}, messages=[], same_as_base=True, answer="T"),
        ProbeItem(key="k=1/s=1", params={"k": 1}, messages=[], error="boom"),
    ]
    assert trace_curve(items, 1) == [0.5, 1.0]  # k=0: 1 of 2 read; k=1: 1 of 1 (the failed one is not read)


def test_no_final_answer_no_probe_and_bad_params() -> None:
    sample, domain = deduction_sample(text="Stella is a lempus.\nI am not sure.")
    assert ConfidenceTrajectory().plan(sample, domain, _ctx({}), {}) == []
    good, _ = deduction_sample()
    with pytest.raises(ValueError, match="method must be auto, score or resample"):
        ConfidenceTrajectory().plan(good, domain, _ctx({"method": "logits"}), {})
    with pytest.raises(ValueError, match="unknown confidence params"):
        ConfidenceTrajectory().plan(good, domain, _ctx({"n": 3}), {})
    assert isinstance(probe("confidence"), ConfidenceTrajectory)


def _ctx(params: dict[str, object]):  # type: ignore[no-untyped-def]
    from modulo.probes.base import ProbeContext

    return ProbeContext(params=params)


def _summary(sample, items, params=None):  # type: ignore[no-untyped-def]
    assert sample.trace is not None and sample.verdicts is not None
    made = SampleItems(
        sample_id=sample.id,
        domain="deduction",
        trace_valid=sample.verdicts.trace_valid,
        answer_correct=True,
        steps=len(sample.trace.steps),
        items=list(items.values()),
    )
    return {(m.name, m.group): m for m in ConfidenceTrajectory().summarise([made], params or {})}
