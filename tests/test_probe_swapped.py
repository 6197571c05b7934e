"""The swapped-trace probe: who is paired with whom, what is sent, and its accuracies by hand."""

from __future__ import annotations

import json

from probe_fakes import ScriptedGenerator
from probe_samples import sample_of

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.maze.domain import MazeDomain
from modulo.domains.planning.domain import BlocksworldDomain
from modulo.model import ChatMessage, Sample
from modulo.probes.base import ProbeContext, ProbeItem, SampleItems
from modulo.probes.swapped import NO_TRACE, SwappedTrace, partner, trace_prefix

PROBE = SwappedTrace()
MAZE = MazeDomain()


def _mazes(count: int, seed: int, **params: object) -> list[Sample]:
    instances = MAZE.generate(count, seed, **params)  # type: ignore[arg-type]
    return [
        sample_of(MAZE, i, MAZE.oracle(i, "exact", 0), f"{i.id}-{i.payload['dialect']}") for i in instances
    ]


def test_swapped_traces_pair_only_the_same_domain_and_size() -> None:
    small = _mazes(4, 1, width=5)
    others = [
        *_mazes(3, 2, width=6),  # another size
        *_mazes(3, 3, width=5, kind="prim"),  # another maze kind
        *_mazes(3, 4, width=5, dialect="searchformer"),  # another trace format
    ]
    deduction = DeductionDomain()
    logic = [sample_of(deduction, i, deduction.oracle(i, "gold", 0)) for i in deduction.generate(3, 0)]
    pool = [*small, *others, *logic]
    for seed in range(5):
        for sample in small:
            chosen = partner(sample, ProbeContext(params={}, seed=seed, others=pool))
            assert chosen is not None and chosen in small and chosen.instance.id != sample.instance.id
            assert chosen.instance.difficulty["size"] == sample.instance.difficulty["size"] == "5x5"
    alone = _mazes(1, 9, width=7)[0]
    context = ProbeContext(params={}, others=[alone, *pool])
    assert partner(alone, context) is None
    keys = [p.key for p in PROBE.plan(alone, MAZE, context, {})]
    assert keys == ["own", "no-trace"]
    [refusal] = PROBE.refusals(alone, MAZE, context)
    assert "same domain and size" in refusal.reason


def test_the_swapped_condition_sends_the_other_trace_under_this_prompt() -> None:
    samples = _mazes(3, 1, width=5)
    sample = samples[0]
    planned = {p.key: p for p in PROBE.plan(sample, MAZE, ProbeContext(params={}, others=samples), {})}
    assert sorted(planned) == ["no-trace", "own", "swapped"]
    other = next(s for s in samples if s.id == planned["swapped"].params["other_sample"])
    swapped = planned["swapped"].request.messages
    assert swapped[:-1] == sample.prompt and swapped[-1].role == "assistant"
    assert swapped[-1].content == trace_prefix(other)
    assert other.text.startswith(swapped[-1].content) and "plan" not in swapped[-1].content
    own = planned["own"].request.messages[-1].content
    assert sample.text.startswith(own) and own.rstrip().endswith(sample.trace.steps[-1].text)  # type: ignore[union-attr]
    no_trace = planned["no-trace"]
    assert no_trace.kind == "generate"
    assert no_trace.request.messages[-1].content == f"{sample.prompt[-1].content}\n\n{NO_TRACE}"


def test_a_domain_whose_trace_is_its_answer_is_refused() -> None:
    domain = BlocksworldDomain()
    samples = [sample_of(domain, i, domain.oracle(i, "exact", 0)) for i in domain.generate(2, 0, timeout=0)]
    context = ProbeContext(params={}, others=samples)
    assert PROBE.plan(samples[0], domain, context, {}) == []
    assert "states the answer" in PROBE.refusals(samples[0], domain, context)[0].reason


def test_end_to_end_with_a_scripted_model() -> None:
    """The scripted model writes the plan of whatever maze's trace it is shown (it follows the trace), and
    answers with no trace by writing steps anyway."""
    samples = _mazes(3, 1, width=5)
    sample = samples[0]
    plans = {trace_prefix(s): "\n" + s.text.split("\n")[-1] for s in samples}

    def reply(messages: list[ChatMessage]) -> str:
        if messages[-1].role == "assistant":
            return plans[messages[-1].content]
        return samples[0].text  # the whole trace, against the instruction

    planned = PROBE.plan(sample, MAZE, ProbeContext(params={}, others=samples), {})
    generator = ScriptedGenerator(reply)
    items = []
    for p in planned:
        [out] = (generator.continue_generation if p.kind == "continue" else generator.generate)([p.request])  # type: ignore[list-item]
        items.append(PROBE.judge(sample, MAZE, p, out.text, None))
    by_key = {i.key: i for i in items}
    assert by_key["own"].correct is True and by_key["own"].same_as_base is True
    assert by_key["swapped"].correct is False and by_key["swapped"].extras["follows_other"] is True
    assert by_key["no-trace"].extras["steps_written"] > 0
    metrics = {(m.group, m.name): m for m in PROBE.summarise([_items(sample, True, items)], {})}
    assert metrics[("all", "accuracy-own-trace")].value == 1.0
    assert metrics[("all", "accuracy-swapped-trace")].value == 0.0
    assert metrics[("all", "accuracy-drop-swapped")].value == 1.0
    assert metrics[("all", "swapped-follows-other")].value == 1.0
    assert metrics[("all", "accuracy-no-trace")].n == 0  # the one reply wrote steps: left out
    assert metrics[("all", "no-trace-compliance")].value == 0.0


def _items(sample: Sample, valid: bool | None, items: list[ProbeItem]) -> SampleItems:
    return SampleItems(sample.id, sample.instance.domain, valid, True, 3, items)


def _item(key: str, correct: bool | None, **extras: object) -> ProbeItem:
    return ProbeItem(key=key, messages=[], correct=correct, extras=dict(extras))


def test_accuracies_on_hand_made_items() -> None:
    """Three samples. own: T, T, None (unjudged) -> 2/2. swapped: T, F, F -> 1/3; follows the other: True,
    True, None -> 2/2. no-trace: T with 0 steps, F with 0 steps, T with 4 steps (left out) -> 1/2, compliance
    2/3. Drop: 2/2 - 1/3 = 2/3. Valid-trace group (the first two samples): own 2/2, swapped 1/2."""
    a = [
        _item("own", True),
        _item("swapped", True, follows_other=True),
        _item("no-trace", True, steps_written=0),
    ]
    b = [
        _item("own", True),
        _item("swapped", False, follows_other=True),
        _item("no-trace", False, steps_written=0),
    ]
    c = [
        _item("own", None),
        _item("swapped", False, follows_other=None),
        _item("no-trace", True, steps_written=4),
    ]
    samples = [
        SampleItems("a", "maze", True, True, 3, a),
        SampleItems("b", "maze", True, False, 3, b),
        SampleItems("c", "maze", False, False, 3, c),
    ]
    m = {(x.group, x.name): x for x in PROBE.summarise(samples, {})}
    assert (m[("all", "accuracy-own-trace")].value, m[("all", "accuracy-own-trace")].n) == (1.0, 2)
    assert (m[("all", "accuracy-swapped-trace")].value, m[("all", "accuracy-swapped-trace")].n) == (1 / 3, 3)
    assert m[("all", "swapped-follows-other")].value == 1.0 and m[("all", "swapped-follows-other")].n == 2
    assert (m[("all", "accuracy-no-trace")].value, m[("all", "accuracy-no-trace")].n) == (0.5, 2)
    assert m[("all", "no-trace-compliance")].value == 2 / 3
    drop = m[("all", "accuracy-drop-swapped")]
    assert drop.value is not None and abs(drop.value - 2 / 3) < 1e-12
    assert drop.low is not None and drop.high is not None and drop.low < 2 / 3 < drop.high
    assert m[("valid-trace", "accuracy-swapped-trace")].value == 0.5
    assert m[("invalid-trace", "accuracy-own-trace")].n == 0


def test_the_other_answer_recorded_is_the_other_sample_answer() -> None:
    samples = _mazes(2, 1, width=5)
    planned = {p.key: p for p in PROBE.plan(samples[0], MAZE, ProbeContext(params={}, others=samples), {})}
    assert json.loads(str(planned["swapped"].params["other_answer"])) == samples[1].trace.answer  # type: ignore[union-attr]


def test_the_docstring_quotes_the_paper() -> None:
    """Stechly, Valmeekam, Gundawar, Palod, Kambhampati 2025, Beyond Semantics, abstract: models trained "on
    noisy, corrupted traces which have no relation to the specific problem each is paired with"."""
    import modulo.probes.swapped as module

    quote = "on noisy, corrupted traces which have no relation to the specific problem each is paired with"
    assert quote in " ".join((module.__doc__ or "").split())
    assert "Beyond Semantics" in PROBE.source and "2505.13775" in PROBE.source


def test_a_partner_comes_from_the_same_task() -> None:
    """Samples of another task (another generator or prompt style: another producer digest in the id) are
    never partners, even of the same domain and size."""
    instances = MAZE.generate(4, 1, width=5)
    texts = [MAZE.oracle(i, "exact", 0) for i in instances]

    def task(producer: str) -> list[Sample]:
        return [
            sample_of(MAZE, i, t, f"run:maze:{i.id}:{producer}:s0:r0")
            for i, t in zip(instances, texts, strict=True)
        ]

    mine, theirs = task("a" * 12), task("b" * 12)
    for seed in range(5):
        for sample in mine:
            chosen = partner(sample, ProbeContext(params={}, seed=seed, others=[*mine, *theirs]))
            assert chosen is not None and chosen in mine
    assert partner(mine[0], ProbeContext(params={}, others=[mine[0], *theirs])) is None
