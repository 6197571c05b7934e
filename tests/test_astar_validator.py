"""The A* trace validator, rule by rule, on tiny hand-written graphs; its fast path against its replay."""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Sequence

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modulo.domains.maze.generators import MAZE_KINDS, make_maze
from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import (
    CORRUPTIONS,
    NotApplicable,
    astar_trace,
    check_trace,
    maze_node_problem,
    searchformer_tie_key,
)
from modulo.model import StepVerdict
from modulo.verifiers import astar, astar_prefix, astar_replay, astar_rules
from modulo.verifiers.astar import AStarRule, AStarVerdicts, NodeProblem, StartMode, TieKey, validate_astar
from modulo.verifiers.search_events import SearchEvent

# s --1-- a --1-- g
#  \             /
#   1--- b ---3--
DIAMOND: nx.Graph[str] = nx.Graph()
DIAMOND.add_weighted_edges_from([("s", "a", 1), ("a", "g", 1), ("s", "b", 1), ("b", "g", 3)])
H = {"s": 2.0, "a": 1.0, "b": 1.0, "g": 0.0}
TIE_ORDER = {"s": 0, "a": 1, "g": 2, "b": 3, "c": 4}.__getitem__
"""Strict mode's tie-break order in these tests."""


def create(node: str, g: float, h: float) -> SearchEvent:
    return SearchEvent("create", node, g, h)


def close(node: str, g: float, h: float) -> SearchEvent:
    return SearchEvent("close", node, g, h)


VALID = [
    create("s", 0, 2),
    close("s", 0, 2),
    create("a", 1, 1),
    create("b", 1, 1),
    close("a", 1, 1),
    create("g", 2, 0),
    close("g", 2, 0),
]


def check(
    events: Sequence[SearchEvent | None],
    *,
    graph: nx.Graph[str] = DIAMOND,
    h: dict[str, float] = H,
    start_mode: StartMode = "create",
    strict: bool = False,
    node_problem: NodeProblem | None = None,
) -> AStarVerdicts:
    return validate_astar(
        graph,
        "s",
        "g",
        h.__getitem__,
        events,
        start_mode=start_mode,
        tie_key=TIE_ORDER if strict else None,
        node_problem=node_problem,
    )


def fast_path(
    events: Sequence[SearchEvent | None],
    graph: nx.Graph[str] = DIAMOND,
    h: dict[str, float] = H,
    strict: bool = False,
    start_mode: StartMode = "create",
) -> tuple[int, float | None]:
    """The fast path's (valid prefix, goal g): a valid trace should pass it whole."""
    tie_key = TIE_ORDER if strict else None
    return astar_prefix.valid_prefix(graph._adj, "s", "g", h.__getitem__, events, start_mode, tie_key, 1e-6)


def only_error(result: AStarVerdicts) -> tuple[int, str | None]:
    """The single invalid verdict of a trace, as (index, rule)."""
    bad = [*result.errors, *result.trace_checks]
    assert len(bad) == 1, bad
    return bad[0].index, bad[0].rule


@pytest.mark.parametrize(("start_mode", "events"), [("create", VALID), ("close", VALID[1:])])
def test_valid_trace_in_both_start_modes(start_mode: StartMode, events: list[SearchEvent]) -> None:
    result = check(events, start_mode=start_mode, strict=True)
    assert result.trace_valid
    assert result.goal_g == 2
    assert result.valid_prefix == len(events)
    assert [v.index for v in result.steps] == list(range(len(events)))
    assert all(v.status == "valid" for v in result.steps)
    assert fast_path(events, strict=True, start_mode=start_mode) == (len(events), 2)


def test_unparsed_step_is_its_own_error() -> None:
    result = check([*VALID[:4], None, *VALID[4:]])
    assert only_error(result) == (4, AStarRule.PARSE)
    assert result.steps[4].status == "unparsed"


def test_unparsed_start_is_assumed() -> None:
    assert only_error(check([None, *VALID[1:]])) == (0, AStarRule.PARSE)


@pytest.mark.parametrize(
    ("start_mode", "first"),
    [
        ("create", close("s", 0, 2)),  # a Beyond Semantics start in a Searchformer trace
        ("create", create("a", 1, 1)),
        ("create", create("s", 0, 1)),  # wrong h
        ("close", create("s", 0, 2)),
        ("close", close("s", 0, 1)),  # wrong h
        ("close", close("s", 2e-6, 2)),  # wrong g
    ],
)
def test_start(start_mode: StartMode, first: SearchEvent) -> None:
    rest = VALID[1:] if start_mode == "create" else VALID[2:]
    result = check([first, *rest], start_mode=start_mode)
    assert result.first_invalid is not None
    assert (result.first_invalid.index, result.first_invalid.rule) == (0, AStarRule.START)


def test_start_with_wrong_g_is_replayed_as_claimed() -> None:
    events = [create("s", 1, 2), close("s", 1, 2), create("a", 2, 1), create("b", 2, 1), close("a", 2, 1)]
    result = check([*events, create("g", 3, 0), close("g", 3, 0)])
    assert only_error(result) == (0, AStarRule.START)


def test_after_goal() -> None:
    assert only_error(check([*VALID, close("b", 1, 1)])) == (7, AStarRule.AFTER_GOAL)


def test_unknown_node_and_node_problem() -> None:
    events = [*VALID[:4], create("z", 1, 1), *VALID[4:]]
    assert only_error(check(events)) == (4, AStarRule.UNKNOWN_NODE)
    result = check(events, node_problem=lambda node: (AStarRule.WALL, f"{node} is a wall"))
    assert only_error(result) == (4, AStarRule.WALL)
    assert result.errors[0].message == "z is a wall"


def test_not_neighbour() -> None:
    events = [*VALID[:4], create("g", 2, 0), *VALID[4:]]  # g is not next to s, the node last closed
    first = check(events).errors[0]
    assert (first.index, first.rule) == (4, AStarRule.NOT_NEIGHBOUR)


def test_create_before_any_close() -> None:
    result = check([create("s", 0, 2), create("a", 1, 1), *VALID[1:]])
    assert result.errors[0].index == 1
    assert result.errors[0].rule == AStarRule.NOT_NEIGHBOUR


def test_wrong_g_on_create_does_not_cascade() -> None:
    result = check([*VALID[:3], create("b", 2, 1), *VALID[4:]])  # b is never closed
    assert only_error(result) == (3, AStarRule.WRONG_G)
    assert "claimed g=2, expected 1" in result.errors[0].message
    assert [v.status for v in result.steps] == ["valid"] * 3 + ["invalid"] + ["valid"] * 3


def test_wrong_g_on_close_is_the_parent_g_of_its_children() -> None:
    events = [*VALID[:4], close("a", 5, 1), create("g", 6, 0)]  # g = the claimed 5 + 1: valid
    events += [close("b", 1, 1), create("g", 4, 0), close("g", 4, 0)]
    assert only_error(check(events)) == (4, AStarRule.WRONG_G)


def test_wrong_h() -> None:
    result = check([*VALID[:3], create("b", 1, 0), *VALID[4:]])
    assert result.errors[0].index == 3
    assert result.errors[0].rule == AStarRule.WRONG_H
    assert only_error(check([*VALID[:4], close("a", 1, 0), *VALID[5:]])) == (4, AStarRule.WRONG_H)


def test_recreate_not_better() -> None:
    again_closed = [*VALID[:5], create("s", 2, 2), *VALID[5:]]
    assert only_error(check(again_closed)) == (5, AStarRule.RECREATE_NOT_BETTER)
    again_open = [*VALID[:4], create("b", 1, 1), *VALID[4:]]
    assert only_error(check(again_open)) == (4, AStarRule.RECREATE_NOT_BETTER)


def test_missing_create() -> None:
    result = check([*VALID[:3], *VALID[4:]])  # b is never created
    assert only_error(result) == (3, AStarRule.MISSING_CREATE)
    assert "b (g=1)" in result.errors[0].message


def test_close_not_open() -> None:
    assert only_error(check([*VALID[:4], close("s", 0, 2), *VALID[4:]]))[1] == AStarRule.CLOSE_NOT_OPEN
    never = check([*VALID[:4], close("g", 2, 0)])
    assert never.errors[0].rule == AStarRule.CLOSE_NOT_OPEN
    assert "never created" in never.errors[0].message


def test_min_f() -> None:
    h = {**H, "b": 2.0}
    events = [create("s", 0, 2), close("s", 0, 2), create("a", 1, 1), create("b", 1, 2), close("b", 1, 2)]
    result = check(events, h=h)
    assert result.errors[0].index == 4
    assert result.errors[0].rule == AStarRule.MIN_F


def test_tie_break_only_in_strict_mode() -> None:
    b_first = [
        *VALID[:4],
        close("b", 1, 1),
        create("g", 4, 0),
        close("a", 1, 1),
        create("g", 2, 0),
        close("g", 2, 0),
    ]
    assert check(b_first).trace_valid
    assert only_error(check(b_first, strict=True)) == (4, AStarRule.TIE_BREAK)


def test_goal_not_closed() -> None:
    result = check(VALID[:5])
    assert only_error(result) == (5, AStarRule.GOAL_NOT_CLOSED)
    assert result.valid_prefix == 5
    assert not check([]).trace_valid


def test_reopening_a_closed_node_with_lower_g_is_valid() -> None:
    """An admissible but inconsistent heuristic: A* must reopen b once a shorter path shows up."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 1), ("a", "b", 1), ("s", "b", 3), ("b", "g", 3)])
    h = {"s": 0.0, "a": 4.0, "b": 0.0, "g": 0.0}
    events = [
        create("s", 0, 0),
        close("s", 0, 0),
        create("a", 1, 4),
        create("b", 3, 0),
        close("b", 3, 0),
        create("g", 6, 0),
        close("a", 1, 4),
        create("b", 2, 0),
        close("b", 2, 0),
        create("g", 5, 0),
        close("g", 5, 0),
    ]
    result = check(events, graph=graph, h=h)
    assert result.trace_valid
    assert result.goal_g == 5
    assert fast_path(events, graph, h) == (len(events), 5)


def test_a_better_path_to_an_open_node() -> None:
    """b is open with g=3 when a cheaper path shows up: it is created again and its old f is gone."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 1), ("s", "b", 3), ("a", "b", 1), ("a", "c", 3), ("b", "g", 5)])
    h = dict.fromkeys("sabcg", 0.0)
    events = [
        create("s", 0, 0),
        close("s", 0, 0),
        create("a", 1, 0),
        create("b", 3, 0),
        close("a", 1, 0),
        create("b", 2, 0),
        create("c", 4, 0),
        close("b", 2, 0),
        create("g", 7, 0),
        close("c", 4, 0),  # f=4: b's old f=3 must not count as open any more
        close("g", 7, 0),
    ]
    for strict in (False, True):
        assert check(events, graph=graph, h=h, strict=strict).trace_valid
        assert fast_path(events, graph, h, strict) == (len(events), 7)


def test_better_g_on_closed_node_after_an_error_is_flagged_once() -> None:
    """With a consistent heuristic only an earlier error lets a closed node improve: that error is flagged."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 1), ("s", "b", 1), ("b", "a", 1), ("a", "g", 1)])
    h = dict.fromkeys("sabg", 0.0)
    events = [
        create("s", 0, 0),
        close("s", 0, 0),
        create("a", 1, 0),
        create("b", 1, 0),
        close("a", 5, 0),  # wrong g: a is closed as if it cost 5
        create("g", 6, 0),
        close("b", 1, 0),
        create("a", 2, 0),  # a cheaper path to a closed node: re-opened
        close("a", 2, 0),
        create("g", 3, 0),
        close("g", 3, 0),
    ]
    assert only_error(check(events, graph=graph, h=h)) == (4, AStarRule.WRONG_G)


@pytest.mark.parametrize(
    ("index", "field", "rule"),
    [
        (0, "g", AStarRule.START),
        (0, "h", AStarRule.START),
        (2, "g", AStarRule.WRONG_G),
        (2, "h", AStarRule.WRONG_H),
        (3, "g", AStarRule.WRONG_G),  # b is never closed: nothing later notices
        (3, "h", AStarRule.WRONG_H),
        (4, "g", AStarRule.WRONG_G),
        (4, "h", AStarRule.WRONG_H),
        (6, "g", AStarRule.WRONG_G),
    ],
)
def test_tolerance_boundary(index: int, field: str, rule: AStarRule) -> None:
    """A claim 0.9 tolerance off passes, 1.1 tolerance off breaks the rule, at every kind of check."""
    for start_mode, events in (("create", VALID), ("close", VALID[1:])):
        at = index - (start_mode == "close")
        if at < 0:
            continue
        for off, valid in ((0.9e-6, True), (-0.9e-6, True), (1.1e-6, False), (-1.1e-6, False)):
            changed = events[at]._replace(**{field: getattr(events[at], field) + off})
            result = check([*events[:at], changed, *events[at + 1 :]], start_mode=start_mode)  # type: ignore[arg-type]
            if valid:
                assert result.trace_valid, (start_mode, off, result.first_invalid)
            else:
                expected = AStarRule.START if at == 0 else rule
                assert result.errors[0].index == at and result.errors[0].rule == expected, (start_mode, off)


def test_recreate_within_tolerance_must_still_be_better() -> None:
    """A new g within tolerance of the expected one, but not lower than the known g by the tolerance."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 1), ("s", "b", 0.5), ("b", "a", 0.5 - 1.5e-6), ("a", "g", 1)])
    h = dict.fromkeys("sabg", 0.0)
    events = [
        create("s", 0, 0),
        close("s", 0, 0),
        create("a", 1, 0),
        create("b", 0.5, 0),
        close("b", 0.5, 0),
        create("a", 1 - 0.6e-6, 0),  # expected 1 - 1.5e-6: g is fine, but 1 - 0.6e-6 is not below 1 - 1e-6
        close("a", 1, 0),
        create("g", 2, 0),
        close("g", 2, 0),
    ]
    assert only_error(check(events, graph=graph, h=h)) == (5, AStarRule.RECREATE_NOT_BETTER)
    graph["b"]["a"]["weight"] = 0.5 - 0.5e-6  # now within tolerance of a's g: a need not be created again
    events = [*events[:5], *events[6:]]
    assert check(events, graph=graph, h=h).trace_valid
    assert fast_path(events, graph, h) == (len(events), 2)


def test_closed_node_keeps_the_g_its_close_claims() -> None:
    """b is closed with a g 0.9 tolerance above its open g; a cheaper path must beat the claimed g."""
    graph: nx.Graph[str] = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 1), ("a", "b", 2 - 0.5e-6), ("s", "b", 3), ("b", "g", 3)])
    h = {"s": 0.0, "a": 4.0, "b": 0.0, "g": 0.0}
    events = [
        create("s", 0, 0),
        close("s", 0, 0),
        create("a", 1, 4),
        create("b", 3, 0),
        close("b", 3 + 0.9e-6, 0),
        create("g", 6, 0),
        close("a", 1, 4),  # b costs 3 - 0.5e-6 through a: lower than 3 + 0.9e-6 by more than 1e-6
        close("g", 6, 0),
    ]
    assert only_error(check(events, graph=graph, h=h)) == (7, AStarRule.MISSING_CREATE)


def test_strict_order_rounds_f() -> None:
    """f = 0.1 + 0.2 ties with f = 0.3 (f rounded to 9 decimals), so the tie key decides."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_weighted_edges_from([("s", "a", 0.1), ("s", "b", 0.3), ("a", "g", 1), ("b", "g", 1)])
    h = {"s": 0.0, "a": 0.2, "b": 0.0, "g": 0.0}
    opened = [create("s", 0, 0), close("s", 0, 0), create("a", 0.1, 0.2), create("b", 0.3, 0)]
    a_first = [*opened, close("a", 0.1, 0.2), create("g", 1.1, 0), close("b", 0.3, 0), close("g", 1.1, 0)]
    assert check(a_first, graph=graph, h=h, strict=True).trace_valid
    b_first = [*opened, close("b", 0.3, 0), create("g", 1.3, 0), close("a", 0.1, 0.2), create("g", 1.1, 0)]
    b_first.append(close("g", 1.1, 0))
    assert only_error(check(b_first, graph=graph, h=h, strict=True)) == (4, AStarRule.TIE_BREAK)
    assert check(b_first, graph=graph, h=h).trace_valid


def test_unreadable_events_are_unparsed() -> None:
    nan = check([*VALID[:2], create("a", float("nan"), 1), *VALID[3:]])
    assert (nan.errors[0].index, nan.errors[0].rule, nan.errors[0].status) == (2, AStarRule.PARSE, "unparsed")
    odd = VALID[4]._replace(kind="open")  # type: ignore[arg-type]
    assert check([*VALID[:4], odd, *VALID[5:]]).errors[0].rule == AStarRule.PARSE
    assert only_error(check([close("s", float("nan"), 2), *VALID[2:]], start_mode="close")) == (
        0,
        AStarRule.PARSE,
    )


@pytest.mark.parametrize(("start_mode", "events"), [("create", VALID[:2]), ("close", VALID[1:2])])
def test_start_is_the_goal(start_mode: StartMode, events: list[SearchEvent]) -> None:
    def judge(events: list[SearchEvent]) -> AStarVerdicts:
        return validate_astar(DIAMOND, "s", "s", H.__getitem__, events, start_mode=start_mode)

    assert judge(events).trace_valid
    assert judge(events).goal_g == 0
    after = judge([*events, create("a", 1, 1)])
    assert (after.errors[0].index, after.errors[0].rule) == (len(events), AStarRule.AFTER_GOAL)


def test_negative_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        validate_astar(DIAMOND, "s", "g", H.__getitem__, VALID, tolerance=-1.0)


def test_results_share_only_frozen_verdicts() -> None:
    """Valid verdicts are shared between results, so they must be immutable; each list is a result's own."""
    first, second = check(VALID), check(VALID)
    assert first.steps == second.steps
    assert first.steps is not second.steps
    first.steps[0] = StepVerdict(index=0, status="invalid", rule="x")
    assert second.steps[0].status == "valid"
    with pytest.raises(ValidationError):
        second.steps[1].status = "invalid"  # type: ignore[misc]
    assert check(VALID).steps[1].status == "valid"


# --- the fast path (`_valid_prefix`) against the diagnostic replay ---------------------------


def same_judgement(a: AStarVerdicts, b: AStarVerdicts) -> bool:
    """Same failing verdicts (rules, indices, messages) and the same claimed goal g."""
    return (a.n_steps, a.errors, a.trace_checks, a.goal_g) == (b.n_steps, b.errors, b.trace_checks, b.goal_g)


def maze_traces(
    kind: str, start_mode: StartMode, rng: random.Random, sizes: Sequence[int] = (5, 9, 16)
) -> list[tuple[Maze, list[SearchEvent]]]:
    """Exact traces (deterministic and random tie-breaks) and every corruption of them, on `kind` mazes."""
    traces = []
    for size in sizes:
        maze = make_maze(kind, size, size, rng)
        for exact in (astar_trace(maze, start_mode).events, astar_trace(maze, start_mode, rng).events):
            traces.append((maze, exact))
            for corrupt in CORRUPTIONS.values():
                with contextlib.suppress(NotApplicable):
                    traces.append((maze, corrupt(exact, maze, rng).events))
    return traces


@pytest.mark.parametrize("kind", MAZE_KINDS)
@pytest.mark.parametrize("start_mode", ["create", "close"])
def test_fast_path_agrees_with_replay_on_mazes(
    kind: str, start_mode: StartMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_agrees_on_mazes(kind, start_mode, (5, 9, 16), monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("kind", MAZE_KINDS)
@pytest.mark.parametrize("start_mode", ["create", "close"])
def test_fast_path_agrees_with_replay_on_large_mazes(
    kind: str, start_mode: StartMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_agrees_on_mazes(kind, start_mode, (30, 31, 50), monkeypatch)


def assert_agrees_on_mazes(
    kind: str, start_mode: StartMode, sizes: Sequence[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path passes exactly the valid prefix; the verdicts are the replay's from the start."""
    for maze, events in maze_traces(kind, start_mode, random.Random(kind), sizes):
        for strict in (False, True):
            result = check_trace(maze, events, start_mode, strict)
            with monkeypatch.context() as patch:
                patch.setattr(astar, "valid_prefix", lambda *args: (0, None))
                replayed = check_trace(maze, events, start_mode, strict)
            assert same_judgement(result, replayed), (kind, strict, events)
            tie_key = searchformer_tie_key if strict else None
            plain = validate_astar(
                maze.graph,
                maze.start,
                maze.goal,
                maze.manhattan,
                events,
                start_mode=start_mode,
                tie_key=tie_key,
                node_problem=maze_node_problem(maze),
            )
            assert same_judgement(plain, result), (
                "check_trace's int key must order cells as searchformer_tie_key"
            )
            valid, _ = astar_prefix.valid_prefix(
                maze.graph._adj, maze.start, maze.goal, maze.manhattan, events, start_mode, tie_key, 1e-6
            )
            assert valid == replayed.valid_prefix, (kind, strict, events)


def reference_trace(
    graph: nx.DiGraph[int],
    h: dict[int, float],
    start_mode: StartMode,
    rng: random.Random,
    strict: bool,
    jitter: float = 0.0,
) -> list[SearchEvent]:
    """A* from node 0 to the last node; f ties broken by node id (strict) or at random; may reopen nodes.

    Every claimed g and h is off by up to `jitter` from the value it is checked against, and the
    search goes on with the claimed values, as the validator does.
    """

    def noisy(value: float) -> float:
        return value + rng.uniform(-jitter, jitter) if jitter else value

    goal = len(graph) - 1
    g: dict[int, float] = {0: noisy(0)}
    hc: dict[int, float] = {0: noisy(h[0])}
    open_ = {0}
    events = [SearchEvent("create", 0, g[0], hc[0])] if start_mode == "create" else []
    while open_:
        low = min(g[n] + hc[n] for n in open_)
        ties = sorted(n for n in open_ if g[n] + hc[n] == low)
        node = ties[0] if strict else rng.choice(ties)
        open_.remove(node)
        g[node] = noisy(g[node])
        events.append(SearchEvent("close", node, g[node], noisy(hc[node])))
        if node == goal:
            break
        children = list(graph.adj[node])
        rng.shuffle(children)
        for child in children:
            child_g = noisy(g[node] + graph.adj[node][child]["weight"])
            if child not in g or child_g < g[child]:
                g[child], hc[child] = child_g, noisy(h[child])
                open_.add(child)
                events.append(SearchEvent("create", child, child_g, hc[child]))
    return events


def mutate(events: list[SearchEvent], nodes: int, rng: random.Random) -> list[SearchEvent | None]:
    """One random local change of a trace (the corruption operators' kinds, and more)."""
    out: list[SearchEvent | None] = list(events)
    if not out:
        return [SearchEvent("close", 0, 0, 0)]
    i = rng.randrange(len(out))
    event = events[i]
    change = rng.randrange(9)
    open_ = {e.node: e for e in events[:i] if e.kind == "create"}
    for e in events[:i]:
        if e.kind == "close":
            open_.pop(e.node, None)
    if change == 8 and event.kind == "close" and len(open_) > 1:  # close another open node instead
        other = rng.choice([e for e in open_.values() if e.node != event.node])
        out[i] = other._replace(kind="close")
    elif change == 0:
        field = rng.choice(("g", "h"))
        delta = rng.choice((-1, 1, 0.5, -2e-6, 2e-6, -1.5e-6, 1.5e-6, 5e-7, -5e-7, float("nan")))
        out[i] = event._replace(**{field: getattr(event, field) + delta})
    elif change == 1 and i + 1 < len(out):
        out[i], out[i + 1] = out[i + 1], out[i]
    elif change == 2:
        del out[i]
    elif change == 3:
        out.insert(i, event)
    elif change == 4:
        out[i] = None
    elif change == 5:
        kind = rng.choice(["open", "close" if event.kind == "create" else "create"])
        out[i] = event._replace(kind=kind)  # type: ignore[arg-type]
    elif change == 6:
        out[i] = event._replace(node=rng.randrange(-1, nodes + 1))
    else:
        out = out[: rng.randrange(len(out) + 1)]
    return out


def random_problem(rng: random.Random) -> tuple[nx.DiGraph[int], dict[int, float]]:
    """A small weighted digraph (node 0 to the last one) and a random, maybe inconsistent heuristic."""
    n = rng.randrange(2, 10)
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_nodes_from(range(n))
    weights = (0.5, 1, 1, 2, 0.1, 0.2, 0.3, 0.7) if rng.random() < 0.3 else (1, 1, 2, 3)
    for a in range(n):
        for b in range(n):
            if a != b and rng.random() < 0.4:
                graph.add_edge(a, b, weight=rng.choice(weights))
    h = {node: rng.choice((0, 0, 0, 0.5, 1, 2)) for node in range(n)}
    return graph, h


def judge_both(
    graph: nx.DiGraph[int],
    h: dict[int, float],
    events: Sequence[SearchEvent | None],
    start_mode: StartMode,
    strict: bool,
) -> tuple[AStarVerdicts, AStarVerdicts, tuple[int, float | None]]:
    """validate_astar, the replay alone and the fast path alone, on one problem."""
    goal, tie_key = len(graph) - 1, ((lambda node: node) if strict else None)
    args = (graph._adj, 0, goal, h.__getitem__, events, start_mode, tie_key)
    result = validate_astar(*args[:5], start_mode=start_mode, tie_key=tie_key)
    replayed = astar_replay.replay_trace(*args, None, astar_rules.TOLERANCE)
    fast = astar_prefix.valid_prefix(graph._adj, *args[1:], astar_rules.TOLERANCE)
    return result, replayed, fast


def assert_fast_path_sound(seed: int) -> None:
    rng = random.Random(seed)
    graph, h = random_problem(rng)
    start_mode: StartMode = rng.choice(("create", "close"))
    strict = rng.random() < 0.5
    jitter = rng.choice((0.0, 0.0, 5e-7, 9e-7))
    events: list[SearchEvent | None] = list(reference_trace(graph, h, start_mode, rng, strict, jitter))
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        events = mutate([e for e in events if e is not None], len(graph), rng)
    result, replayed, (valid, goal_g) = judge_both(graph, h, events, start_mode, strict)
    assert same_judgement(result, replayed), events
    assert valid <= replayed.valid_prefix, events  # passing a faulty step would be a wrong verdict
    if not jitter:  # claims off by less than the tolerance may make the fast path stop early, not else
        assert valid == replayed.valid_prefix, events
    assert goal_g is None or goal_g == replayed.goal_g


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32))
def test_fast_path_agrees_with_replay_on_random_graphs(seed: int) -> None:
    """Random digraphs, maybe inconsistent heuristics, exact or jittered A* traces with 0-2 mutations."""
    assert_fast_path_sound(seed)


@pytest.mark.slow
def test_fast_path_agrees_with_replay_large_sweep() -> None:
    for seed in range(60_000):
        assert_fast_path_sound(seed)


# --- cases a fuzzing review found (1.4 M random problems against a slow reading of the rules) ---------


def both_ways(
    graph: nx.Graph,
    goal: str,
    h: Callable[[str], float],
    events: list[SearchEvent],
    tie_key: TieKey | None,
    start: str = "s",
) -> AStarVerdicts:
    """validate_astar, asserted to judge exactly as the replay from the start does."""
    result = validate_astar(graph, start, goal, h, events, tie_key=tie_key)
    replayed = astar_replay.replay_trace(
        graph._adj, start, goal, h, events, "create", tie_key, None, astar_rules.TOLERANCE
    )
    assert same_judgement(result, replayed)
    return result


@pytest.mark.parametrize("tie_key", [None, str], ids=["ties", "strict"])
def test_infinite_g_and_h_of_opposite_signs_give_no_f(tie_key: TieKey | None) -> None:
    """f = inf + -inf is NaN: unreadable, so n never counts as created, and kept off the open list, where
    it used to hide the lower f of y from the close of x."""
    graph = nx.DiGraph()
    edges = [("s", "a", 0), ("s", "n", math.inf), ("s", "x", 0), ("s", "y", 0), ("x", "t", 0)]
    graph.add_weighted_edges_from(edges)
    h = {"s": 0, "a": 10, "n": -math.inf, "x": 9, "y": 5, "t": 0}
    events = [
        *(create("s", 0, 0), close("s", 0, 0), create("a", 0, 10), create("n", math.inf, -math.inf)),
        *(create("x", 0, 9), create("y", 0, 5), close("x", 0, 9), create("t", 0, 0), close("t", 0, 0)),
    ]
    result = both_ways(graph, "t", h.__getitem__, events, tie_key)
    assert [(v.index, v.rule) for v in result.errors] == [(3, "astar.parse"), (6, "astar.missing_create")]
    assert result.errors[0].status == "unparsed"


def test_a_create_within_tolerance_is_not_missing_after_the_fast_path_stops() -> None:
    """The replay takes over pending children from the fast path as they are, not by re-deriving them
    with a float comparison that may round the other way."""
    graph = nx.Graph()
    graph.add_weighted_edges_from([("s", "a", 8.68078090374847e-09), ("a", "t", 1)])
    g_a = 1.0086807809037485e-06  # the expected g plus, after rounding, exactly the tolerance
    events = [
        *(create("s", 0, 0), close("s", 0, 0), create("a", g_a, 0), create("zzz", 1, 0)),
        *(close("a", g_a, 0), create("t", 1 + g_a, 0), close("t", 1 + g_a, 0)),
    ]
    result = both_ways(graph, "t", lambda node: 0, events, None)
    assert [(v.index, v.rule) for v in result.errors] == [(3, "astar.unknown_node")]


def test_the_goal_test_is_equality_as_in_the_replay() -> None:
    """A node equal to the goal closes the search, even one whose hash disagrees with its equality."""

    class Node(str):
        __hash__ = object.__hash__  # equal strings, different hashes: the goal is not found by lookup

    s, t, x = Node("s"), Node("t"), Node("x")
    graph = nx.DiGraph([(s, t), (t, x)])
    events = [create(s, 0, 0), close(s, 0, 0), create(t, 1, 0), close(t, 1, 0), create(x, 2, 0)]
    result = both_ways(graph, Node("t"), lambda node: 0, events, None, start=s)
    assert [(v.index, v.rule) for v in result.errors] == [(4, "astar.after_goal")]


@pytest.mark.parametrize("tolerance", [math.inf, -1.0, math.nan])
def test_tolerance_must_be_finite_and_not_negative(tolerance: float) -> None:
    graph = nx.Graph()
    graph.add_node("s")
    with pytest.raises(ValueError, match="finite number >= 0"):
        validate_astar(graph, "s", "s", lambda node: 0, [create("s", 0, 0)], tolerance=tolerance)
