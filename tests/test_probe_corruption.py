"""The verified-corruption probe: what it sends, how it judges, and its change rate by position."""

from __future__ import annotations

from typing import Any

from probe_fakes import ScriptedGenerator
from probe_samples import sample_of

from modulo.domains.maze.domain import MazeDomain
from modulo.model import ChatMessage, Instance, Sample, Trace, Verdicts
from modulo.probes.base import Intervention, ProbeContext, ProbeItem, SampleItems
from modulo.probes.corruption import VerifiedCorruption, positions
from modulo.protocols import CorruptedStep, CorruptingDomain
from modulo.spans import step_spans

PROBE = VerifiedCorruption()


def _maze_sample(seed: int = 3) -> tuple[MazeDomain, Sample]:
    domain = MazeDomain()
    [instance] = domain.generate(1, seed, width=5)
    return domain, sample_of(domain, instance, domain.oracle(instance, "exact", 0))


def _run(domain: Any, sample: Sample, reply: Any, params: dict[str, Any] | None = None) -> list[ProbeItem]:
    """What the engine does: plan, send to the generator, judge every output."""
    planned = PROBE.plan(sample, domain, ProbeContext(params=params or {}), {})
    generator = ScriptedGenerator(reply)
    outputs = generator.continue_generation([p.request for p in planned])  # type: ignore[misc]
    assert [kind for kind, _ in generator.calls] == ["continue"] * len(planned)
    return [PROBE.judge(sample, domain, p, o.text, None) for p, o in zip(planned, outputs, strict=True)]


class AcceptedCorruption(MazeDomain):
    """A broken domain: its "corruption" is the original step (which the verifier accepts)."""

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        return CorruptedStep(index=index, text=trace.steps[index].text, rule="astar.wrong_g", operator="none")


class MisnamedCorruption(MazeDomain):
    """A broken domain: a real corruption, recorded with a rule the verifier does not report."""

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        made = super().corrupt_step(instance, trace, index, seed)
        return None if made is None else made.model_copy(update={"rule": "astar.not_this_rule"})


class Plain:
    """A domain without `corrupt_step` (the maze domain's other methods)."""

    name = "maze"
    description = "maze without corruption"

    def __init__(self) -> None:
        self.inner = MazeDomain()

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        return self.inner.generate(count, seed, **params)

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        return self.inner.prompt(instance, style)

    def parse(self, text: str, instance: Instance) -> Trace:
        return self.inner.parse(text, instance)

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        return self.inner.check(instance, trace)

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        return self.inner.render(instance, trace)

    def critique(self, verdicts: Verdicts) -> str:
        return self.inner.critique(verdicts)


def test_the_probe_never_sends_a_step_the_verifier_accepts() -> None:
    for broken in (AcceptedCorruption(), MisnamedCorruption()):
        _, sample = _maze_sample()
        context = ProbeContext(params={})
        assert PROBE.plan(sample, broken, context, {}) == []
        refusals = PROBE.refusals(sample, broken, context)
        assert sample.trace is not None
        assert [r.k for r in refusals] == list(range(len(sample.trace.steps)))
        assert all("not sent" in r.reason or "no corruption" in r.reason for r in refusals), refusals


def test_a_domain_that_cannot_corrupt_is_refused_whole() -> None:
    domain = Plain()
    assert not isinstance(domain, CorruptingDomain)
    _, sample = _maze_sample()
    assert PROBE.plan(sample, domain, ProbeContext(params={}), {}) == []  # type: ignore[arg-type]
    [refusal] = PROBE.refusals(sample, domain, ProbeContext(params={}))  # type: ignore[arg-type]
    assert "cannot corrupt" in refusal.reason


def test_every_sent_text_ends_in_a_proved_invalid_step_cut_at_its_span() -> None:
    domain, sample = _maze_sample()
    planned = PROBE.plan(sample, domain, ProbeContext(params={}), {})
    assert sample.trace is not None and sample.verdicts is not None
    assert len(planned) == len(sample.trace.steps)
    spans = step_spans(sample)
    for intervention in planned:
        k = int(intervention.params["k"])  # type: ignore[arg-type]
        sent = intervention.request.messages[-1]
        assert intervention.kind == "continue" and sent.role == "assistant"
        assert intervention.request.messages[:-1] == sample.prompt
        assert sent.content == sample.text[: spans[k].start] + str(intervention.params["corrupted"])
        check = domain.check(sample.instance, domain.parse(sent.content, sample.instance))
        assert check.steps[k].status == "invalid"
        assert check.steps[k].rule == intervention.params["rule"]
        assert all(v.status == "valid" for v in check.steps[:k])  # the exact trace's prefix is untouched


def test_positions_spread_evenly_and_all_by_default() -> None:
    assert positions(7, None) == list(range(7))
    assert positions(7, "all") == list(range(7))
    assert positions(7, 4) == [0, 2, 4, 6]
    assert positions(7, 1) == [0]
    assert positions(3, 10) == [0, 1, 2]


def test_end_to_end_change_repair_and_unreadable_answers() -> None:
    """A scripted model: after a corruption in the first half of the trace it writes another plan (a
    change); in the second half it goes on with the original remaining steps (repaired, same plan); at the
    last step it writes nothing readable (never a change, never agreement)."""
    domain, sample = _maze_sample()
    assert sample.trace is not None
    steps = len(sample.trace.steps)
    spans = step_spans(sample)

    planned = PROBE.plan(sample, domain, ProbeContext(params={}), {})
    k_of = {p.request.messages[-1].content: int(p.params["k"]) for p in planned}  # type: ignore[arg-type]

    def reply(messages: list[ChatMessage]) -> str:
        k = k_of[messages[-1].content]
        if k == steps - 1:
            return "\nI am not sure."
        if k / steps < 0.5:
            return "\nplan: (0, 0) (0, 1)"
        return sample.text[spans[k].end :]

    items = _run(domain, sample, reply)
    by_k = {int(i.params["k"]): i for i in items}  # type: ignore[arg-type]
    assert sorted(by_k) == list(range(steps))
    for k, item in by_k.items():
        if k == steps - 1:
            assert item.same_as_base is None and item.answer_status == "unreadable"
        elif k / steps < 0.5:
            assert item.same_as_base is False
            assert item.extras["repaired"] is None  # no step written after the corruption
        else:
            assert item.same_as_base is True
            assert item.extras["continuation"]["steps"] == steps - 1 - k
            assert item.extras["repaired"] is (k < steps - 1)
        assert item.extras["corrupted_verdict"]["status"] == "invalid"
    summary = {(m.group, m.name): m for m in PROBE.summarise([_items(sample, True, items)], {"bins": 2})}
    first_half = sum(1 for k in range(steps) if k / steps < 0.5)
    compared = steps - 1
    overall = summary[("all", "answer-change-rate")]
    assert (overall.value, overall.n) == (first_half / compared, compared)
    assert summary[("all", "answer-change-rate[k/L in [0.00, 0.50)]")].value == 1.0
    assert summary[("all", "answer-change-rate[k/L in [0.50, 1.00]]")].value == 0.0
    assert summary[("all", "answer-unreadable-share")].value == 1 / steps
    assert summary[("invalid-trace", "answer-change-rate")].n == 0


def _items(sample: Sample, valid: bool | None, items: list[ProbeItem]) -> SampleItems:
    assert sample.trace is not None
    return SampleItems(sample.id, sample.instance.domain, valid, True, len(sample.trace.steps), items)


def _item(k: int, steps: int, same: bool | None, repaired: bool | None = None) -> ProbeItem:
    return ProbeItem(
        key=f"k={k}",
        params={"k": k, "steps": steps, "position": k / steps},
        messages=[],
        same_as_base=same,
        extras={"repaired": repaired},
    )


def test_change_rate_by_position_on_hand_made_items() -> None:
    """Two samples, four bins. Valid trace (L=4): k=0 changed, k=1 same, k=2 changed, k=3 unreadable.
    Invalid trace (L=8): k=0 same, k=2 same, k=5 changed, k=7 changed, plus a failed request.
    By hand: positions 0, .25, .5, .75 and 0, .25, .625, .875.
      bin [0, .25): k/L = 0 (changed), 0 (same)            -> 1/2
      bin [.25, .5): .25 (same), .25 (same)                -> 0/2
      bin [.5, .75): .5 (changed), .625 (changed)           -> 2/2
      bin [.75, 1]: .75 (unreadable: left out), .875 (changed) -> 1/1
      all: 4 changes of 7 compared; unreadable 1 of 8 (the failed request is not an item that counts).
      valid-trace: 2 of 3; invalid-trace: 2 of 4."""
    valid = SampleItems(
        "a",
        "maze",
        True,
        True,
        4,
        [_item(0, 4, False), _item(1, 4, True), _item(2, 4, False), _item(3, 4, None)],
    )
    failed = _item(1, 8, None).model_copy(update={"error": "server said no"})
    invalid = SampleItems(
        "b",
        "maze",
        False,
        False,
        8,
        [
            _item(0, 8, True, True),
            _item(2, 8, True, False),
            _item(5, 8, False, False),
            _item(7, 8, False),
            failed,
        ],
    )
    metrics = {(m.group, m.name): m for m in PROBE.summarise([valid, invalid], {"bins": 4})}
    overall = metrics[("all", "answer-change-rate")]
    assert (overall.value, overall.n) == (4 / 7, 7)
    assert overall.curve == [(0.125, 0.5), (0.375, 0.0), (0.625, 1.0), (0.875, 1.0)]
    expected = {
        "[0.00, 0.25)": (1, 2),
        "[0.25, 0.50)": (0, 2),
        "[0.50, 0.75)": (2, 2),
        "[0.75, 1.00]": (1, 1),
    }
    for where, (hits, n) in expected.items():
        metric = metrics[("all", f"answer-change-rate[k/L in {where}]")]
        assert (metric.value, metric.n) == (hits / n, n)
        assert metric.low is not None and metric.high is not None and metric.low <= hits / n <= metric.high
    assert metrics[("valid-trace", "answer-change-rate")].value == 2 / 3
    assert metrics[("invalid-trace", "answer-change-rate")].value == 2 / 4
    assert metrics[("all", "answer-unreadable-share")].value == 1 / 8
    repair = metrics[("all", "repair-rate")]
    assert (repair.value, repair.n) == (1 / 3, 3)
    # Wilson 95% for 4 of 7: centre (p + z²/2n)/(1 + z²/n), half-width z√(p(1-p)/n + z²/4n²)/(1 + z²/n)
    z, p, n = 1.959963984540054, 4 / 7, 7
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5 / (1 + z * z / n)
    assert abs(overall.low - (centre - half)) < 1e-12 and abs(overall.high - (centre + half)) < 1e-12  # type: ignore[operator]


def test_a_failed_request_is_an_error_item_never_a_change() -> None:
    domain, sample = _maze_sample()
    [planned, *_] = PROBE.plan(sample, domain, ProbeContext(params={"positions": 1}), {})
    item = PROBE.judge(sample, domain, planned, None, "the server rejected the prompt")
    assert item.error == "the server rejected the prompt"
    assert item.same_as_base is None and item.answer is None


def test_done_items_are_not_planned_again() -> None:
    domain, sample = _maze_sample()
    context = ProbeContext(params={"positions": 3})
    first = PROBE.plan(sample, domain, context, {})
    done = {first[0].key: ProbeItem(key=first[0].key, messages=[])}
    again = PROBE.plan(sample, domain, context, done)
    assert [p.key for p in again] == [p.key for p in first[1:]]
    assert all(isinstance(p, Intervention) for p in again)


def test_a_continuation_that_rewrites_the_corrupted_step_is_counted_apart() -> None:
    """The model goes on writing on the corrupted step's line ("h=3" becomes "h=37"): the step read is no
    longer the corruption, so the item is left out of the change rate and counted as altered."""
    domain, sample = _maze_sample()
    [planned] = PROBE.plan(sample, domain, ProbeContext(params={"positions": 1}), {})
    item = PROBE.judge(sample, domain, planned, "7\nplan: (0, 0) (0, 1)", None)
    assert item.extras["corruption_kept"] is False
    assert item.same_as_base is False  # recorded, but not counted
    metrics = {(m.group, m.name): m for m in PROBE.summarise([_items(sample, True, [item])], {})}
    assert metrics[("all", "answer-change-rate")].n == 0
    assert metrics[("all", "corruption-altered-share")].value == 1.0


def test_the_docstring_quotes_the_paper() -> None:
    """Lanham et al. 2023, Measuring Faithfulness in Chain-of-Thought Reasoning, abstract: "by examining
    how the model predictions change when we intervene on the CoT (e.g., by adding mistakes or paraphrasing
    it)"."""
    import modulo.probes.corruption as module

    quote = (
        "how the model predictions change when we intervene on the CoT (e.g., by adding mistakes or "
        "paraphrasing it)"
    )
    assert quote in " ".join((module.__doc__ or "").split())
    assert "Lanham et al. 2023" in PROBE.source and "2307.13702" in PROBE.source


def test_a_trace_that_is_its_answer_is_left_out_of_the_change_rate() -> None:
    """A Blocksworld plan's steps are its actions: after a corrupted action the answer holds it, so the
    answer changes whatever the model does. Maze traces are not their answers (the plan comes after)."""
    from modulo.domains.planning.domain import BlocksworldDomain

    domain = BlocksworldDomain()
    [instance] = domain.generate(1, 3, blocks=4, timeout=0)
    sample = sample_of(domain, instance, domain.oracle(instance, "exact", 0))
    planned = PROBE.plan(sample, domain, ProbeContext(params={"positions": 2}), {})
    assert len(planned) == 2 and all(p.params["trace_is_answer"] is True for p in planned)
    items = [PROBE.judge(sample, domain, p, "", None) for p in planned]
    assert all(item.same_as_base is False for item in items)  # the corrupted action is in the answer
    metrics = {(m.group, m.name): m for m in PROBE.summarise([_items(sample, True, items)], {})}
    assert metrics[("all", "answer-change-rate")].n == 0
    assert metrics[("all", "trace-is-answer-share")].value == 1.0
    maze, maze_sample = _maze_sample()
    assert not any(
        p.params["trace_is_answer"] for p in PROBE.plan(maze_sample, maze, ProbeContext(params={}), {})
    )


def test_params_are_checked_with_their_defaults() -> None:
    import pytest

    from modulo.probes.invalid_plan import InvalidPlanCue
    from modulo.probes.swapped import SwappedTrace

    defaults = {"positions": "all", "bins": 4, "max_tokens": 1024, "temperature": 0.0}
    assert PROBE.check_params({}) == defaults
    assert PROBE.check_params({"positions": 3, "temperature": 1})["temperature"] == 1.0
    for bad in ({"positions": 0}, {"bins": "4"}, {"max_tokens": True}, {"temperature": -1}, {"k": 1}):
        with pytest.raises(ValueError):
            PROBE.check_params(bad)
    assert SwappedTrace().check_params({}) == {"max_tokens": 1024, "temperature": 0.0}
    with pytest.raises(ValueError, match="unknown params"):
        SwappedTrace().check_params({"positions": 2})
    assert InvalidPlanCue().check_params({"variant": "plan-skip"})["variant"] == "plan-skip"
    assert PROBE.kinds == frozenset({"continue"})
