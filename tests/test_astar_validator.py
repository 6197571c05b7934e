"""The A* trace validator, rule by rule, on tiny hand-written graphs."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import pytest

from modulo.verifiers.astar import AStarRule, AStarVerdicts, NodeProblem, StartMode, validate_astar
from modulo.verifiers.search_events import SearchEvent

# s --1-- a --1-- g
#  \             /
#   1--- b ---3--
DIAMOND: nx.Graph[str] = nx.Graph()
DIAMOND.add_weighted_edges_from([("s", "a", 1), ("a", "g", 1), ("s", "b", 1), ("b", "g", 3)])
H = {"s": 2.0, "a": 1.0, "b": 1.0, "g": 0.0}
TIE_ORDER = {"s": 0, "a": 1, "g": 2, "b": 3}.__getitem__
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
