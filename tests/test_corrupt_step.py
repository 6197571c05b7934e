"""Every corruption a domain returns is rejected at its step with its rule, checked here on its own.

For every domain, many instances, exact oracle traces, invalid oracle traces and real published traces
(PlanBench model answers, Logic-LM gold chains through the importers), at every step index: the step the
domain returns is re-checked in three ways that do not go through `corrupt_step`'s own proof —
1. the contract: the trace's earlier step texts and the new step, read and checked by `verify_text`;
2. the raw text cut at the step's span with the new step appended (what the probe sends), by `verify_text`;
3. for maze and planning, an independent reference: the A* validator on the events, or a STRIPS replay of
   the plan read (the corrupted action's precondition must fail in the true state before it).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from corruption_data import LIB, LOGIC, PLANBENCH_FILES, logic_items, planbench_items
from probe_samples import sample_of

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.ordering import OrderingDomain
from modulo.domains.logic.zebra_domain import ZebraDomain
from modulo.domains.maze.domain import MazeDomain
from modulo.domains.maze.formats import parse_output
from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import check_trace
from modulo.domains.planning.domain import BlocksworldDomain, problem_of, templates_of
from modulo.model import Instance
from modulo.protocols import CorruptedStep, CorruptingDomain, Domain
from modulo.registry import get_domain
from modulo.spans import step_spans
from modulo.verifiers.strips import GroundAction, apply, ground, unmet
from modulo.verify import verify_text

PROVING = ("invalid", "unsupported")
needs_planbench = pytest.mark.skipif(not LIB.is_dir(), reason=f"PlanBench data not found at {LIB}")
needs_logic = pytest.mark.skipif(not LOGIC.is_dir(), reason=f"logic data not found at {LOGIC}")


def _check_every_step(domain: Domain, instance: Instance, text: str, seed: int = 0) -> Counter[str]:
    """Corrupt every step of `text`'s trace and check each corruption returned; counts what happened."""
    assert isinstance(domain, CorruptingDomain)
    sample = sample_of(domain, instance, text)
    assert sample.trace is not None
    spans = step_spans(sample)  # the spans the probe cuts at
    seen: Counter[str] = Counter()
    for k in range(len(sample.trace.steps)):
        seen["steps"] += 1
        corrupted = domain.corrupt_step(instance, sample.trace, k, seed)
        if corrupted is None:
            continue
        seen["corrupted"] += 1
        assert corrupted.index == k
        assert corrupted.text.strip() != sample.trace.steps[k].text.strip()
        _assert_contract(domain, instance, [s.text for s in sample.trace.steps[:k]], corrupted)
        span = spans.get(k)
        if span is not None and span.source == "response":
            sendable = _rejected_in(domain, instance, text[: span.start] + corrupted.text, corrupted)
            seen["sendable"] += sendable
        _assert_reference(domain, instance, [s.parsed for s in sample.trace.steps[:k]], corrupted)
    return seen


def _separator(instance: Instance) -> str:
    return " " if instance.domain == "maze" and instance.payload.get("dialect") != "lines" else "\n"


def _assert_contract(domain: Domain, instance: Instance, before: list[str], corrupted: CorruptedStep) -> None:
    text = _separator(instance).join([*before, corrupted.text])
    assert _rejected_in(domain, instance, text, corrupted), (instance.id, corrupted)


def _rejected_in(domain: Domain, instance: Instance, text: str, corrupted: CorruptedStep) -> bool:
    """Whether `text` read as a sample has the corrupted step at its index, rejected with its rule."""
    trace, verdicts = verify_text(domain, instance, text)
    k = corrupted.index
    if len(trace.steps) <= k or trace.steps[k].text.strip() != corrupted.text.strip():
        return False
    return verdicts.steps[k].status in PROVING and verdicts.steps[k].rule == corrupted.rule


def _assert_reference(
    domain: Domain, instance: Instance, before: list[object], corrupted: CorruptedStep
) -> None:
    """The independent check of maze and planning corruptions (logic is checked by the two readings)."""
    if instance.domain == "maze":
        dialect = instance.payload["dialect"]
        [step] = parse_output(corrupted.text, "lines" if dialect == "lines" else "searchformer").steps
        events = [_maze_event(p) for p in before] + [step.event]
        maze = Maze.model_validate(instance.payload["maze"])
        first = "close" if dialect == "beyond_semantics" else "create"
        verdict = check_trace(maze, events, first, strict=bool(instance.payload.get("strict_ties"))).steps[-1]
        assert (verdict.status, verdict.rule) == ("invalid", corrupted.rule)
    elif isinstance(domain, BlocksworldDomain) or instance.domain in ("pddl", "blocksworld"):
        problem = problem_of(instance)
        state = problem.init
        for parsed in before:
            action = parsed.get("action") if isinstance(parsed, dict) else None
            grounded = ground(problem, tuple(action)) if action else None
            if isinstance(grounded, GroundAction) and not unmet(grounded.pre, state):
                state = apply(grounded, state)
        read = templates_of(instance, problem).read_action(_action_line(corrupted.text))
        assert read.action is not None, corrupted.text
        grounded = ground(problem, read.action)
        assert isinstance(grounded, GroundAction)
        assert unmet(grounded.pre, state), f"{corrupted.text!r} is applicable before step {corrupted.index}"
        assert corrupted.rule == "strips.precondition"


def _action_line(text: str) -> str:
    """The action's words: the `Action:` line of a state-tracking step, else the step's one line."""
    if "\n" not in text.strip():
        return text
    return next(
        line.split(":", 1)[1] for line in text.splitlines() if line.strip().lower().startswith("action")
    )


def _maze_event(parsed: object) -> object:
    from modulo.verifiers.search_events import SearchEvent

    if not isinstance(parsed, dict) or "kind" not in parsed:
        return None
    return SearchEvent(parsed["kind"], tuple(parsed["node"]), parsed["g"], parsed["h"])


@pytest.mark.parametrize("dialect", ["lines", "searchformer", "beyond_semantics"])
@pytest.mark.parametrize("variant", ["exact", "exact-random", "wrong_g", "close_not_open", "swapped"])
def test_maze_corruptions_are_rejected_with_their_rule(dialect: str, variant: str) -> None:
    domain = MazeDomain()
    seen: Counter[str] = Counter()
    for instance in domain.generate(4, 7, kind="dfs", width=6, dialect=dialect):
        seen += _check_every_step(domain, instance, domain.oracle(instance, variant, 3))
    assert seen["steps"] > 40
    if variant.startswith("exact"):
        assert seen["corrupted"] == seen["steps"] == seen["sendable"], seen
    elif variant == "swapped":  # another maze's search: most steps break some rule already
        assert seen["corrupted"] >= 0.5 * seen["steps"], seen
    else:
        assert seen["corrupted"] >= 0.9 * seen["steps"], seen


@pytest.mark.parametrize("variant", ["exact", "state-tracking", "precondition-violation", "state-error"])
def test_blocksworld_corruptions_are_rejected_with_their_rule(variant: str) -> None:
    domain = BlocksworldDomain()
    seen: Counter[str] = Counter()
    for instance in domain.generate(4, 2, blocks=5, timeout=0):
        seen += _check_every_step(domain, instance, domain.oracle(instance, variant, 1))
    assert seen["steps"] > 20
    assert seen["corrupted"] >= 0.9 * seen["steps"], seen
    assert seen["sendable"] == seen["corrupted"], seen


@needs_planbench
@pytest.mark.parametrize("name", sorted(PLANBENCH_FILES))
def test_published_planbench_corruptions_are_rejected_with_their_rule(tmp_path: Path, name: str) -> None:
    """GPT-4's Blocksworld (plans and state tracking), Mystery Blocksworld and Logistics answers."""
    seen: Counter[str] = Counter()
    for item in planbench_items(tmp_path, name, 8):
        seen += _check_every_step(get_domain(item.instance.domain), item.instance, item.text)
    assert seen["steps"] > 30
    assert seen["corrupted"] >= 0.9 * seen["steps"], seen
    assert seen["sendable"] >= 0.9 * seen["corrupted"], seen


@needs_logic
@pytest.mark.parametrize("dataset", ["prontoqa", "proofwriter", "logicaldeduction"])
def test_published_logic_corruptions_are_rejected_with_their_rule(tmp_path: Path, dataset: str) -> None:
    """PrOntoQA's gold chains as the file has them; ProofWriter and LogicalDeduction (no chains in the
    file) with the oracle's gold chain for each imported problem."""
    seen: Counter[str] = Counter()
    for item in logic_items(tmp_path, dataset, 6):
        domain = get_domain(item.instance.domain)
        chain = item.text if dataset == "prontoqa" else domain.oracle(item.instance, "gold", 0)  # type: ignore[attr-defined]
        seen += _check_every_step(domain, item.instance, chain)
    assert seen["steps"] > 20
    assert seen["corrupted"] >= 0.9 * seen["steps"], seen


@pytest.mark.parametrize(
    ("domain", "params", "variants"),
    [
        (DeductionDomain(), {}, ("gold", "negated", "wrong-individual", "skip-hop")),
        (OrderingDomain(), {}, ("gold", "wrong-deduction")),
        (ZebraDomain(), {"houses": 3}, ("gold", "wrong-deduction")),
    ],
    ids=["deduction", "ordering", "zebra"],
)
def test_generated_logic_corruptions_are_rejected_with_their_rule(
    domain: Domain, params: dict[str, int], variants: tuple[str, ...]
) -> None:
    seen: Counter[str] = Counter()
    for instance in domain.generate(3, 5, **params):
        for variant in variants:
            seen += _check_every_step(domain, instance, domain.oracle(instance, variant, 2))  # type: ignore[attr-defined]
    assert seen["corrupted"] >= 0.9 * seen["steps"], seen
    assert seen["sendable"] == seen["corrupted"], seen


def test_an_unreadable_step_or_an_index_outside_the_trace_gives_no_corruption() -> None:
    domain = MazeDomain()
    [instance] = domain.generate(1, 0, width=5)
    sample = sample_of(domain, instance, "create (0, 0) g=0 h=4\nthis is not a step create\nclose")
    assert sample.trace is not None
    for k in (-1, len(sample.trace.steps), len(sample.trace.steps) + 3):
        assert domain.corrupt_step(instance, sample.trace, k, 0) is None
