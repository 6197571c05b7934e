"""The plan check, rule by rule, and the trace-implied plan."""

from __future__ import annotations

import pytest

from modulo.domains.maze.generators import MAZE_KINDS, make_maze, shortest_plan
from modulo.domains.maze.grid import Cell, Maze
from modulo.domains.maze.plan import INVALID_REASONS, check_plan, plan_matches_trace
from modulo.verifiers.search_events import SearchEvent

# . # . .
# . # . .
# . . . .
MAZE = Maze(width=4, height=3, walls=frozenset({(1, 0), (1, 1)}), start=(0, 0), goal=(2, 0))
OPTIMAL = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0)]
DETOUR = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (3, 2), (3, 1), (2, 1), (2, 0)]


def test_optimal_plan() -> None:
    verdict = check_plan(MAZE, OPTIMAL)
    assert (verdict.status, verdict.detail) == ("correct", "valid-optimal")
    assert verdict.extras == {"plan_length": 6, "optimal_length": 6}


def test_suboptimal_plan_is_still_correct() -> None:
    verdict = check_plan(MAZE, DETOUR)
    assert (verdict.status, verdict.detail) == ("correct", "valid-suboptimal")
    assert verdict.extras == {"plan_length": 8, "optimal_length": 6}


@pytest.mark.parametrize("plan", [None, []])
def test_missing_plan_is_unparsed(plan: list[Cell] | None) -> None:
    verdict = check_plan(MAZE, plan)
    assert (verdict.status, verdict.detail) == ("unparsed", "unparsed")


@pytest.mark.parametrize(
    ("plan", "reason", "index"),
    [
        ([(0, 1), (0, 2)], "wrong-start", 0),
        ([(0, 0), (0, 1), (-1, 1)], "off-grid", 2),
        ([(0, 0), (0, 1), (0, 2), (0, 3)], "off-grid", 3),
        ([(0, 0), (1, 0), (2, 0)], "wall", 1),
        ([(0, 0), (0, 1), (1, 1), (2, 1), (2, 0)], "wall", 2),
        ([(0, 0), (0, 1), (1, 2), (2, 2)], "not-adjacent", 2),
        ([(0, 0), (0, 2)], "not-adjacent", 1),
        ([(0, 0), (0, 0), (0, 1)], "not-adjacent", 1),
        (OPTIMAL[:-1], "wrong-goal", 5),
        ([(0, 0)], "wrong-goal", 0),
        ([(0, 1), (5, 5)], "wrong-start", 0),
        ([(0, 0), (0, 2), (9, 9)], "not-adjacent", 1),
    ],
)
def test_invalid_plans_name_the_first_broken_rule(plan: list[Cell], reason: str, index: int) -> None:
    verdict = check_plan(MAZE, plan)
    assert verdict.status == "incorrect"
    assert reason in INVALID_REASONS
    assert verdict.detail == f"invalid:{reason}"
    assert verdict.extras["first_invalid_index"] == index
    assert verdict.extras["plan_length"] == len(plan) - 1
    assert verdict.message


@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_shortest_plans_of_generated_mazes_are_optimal(kind: str) -> None:
    for seed in range(3):
        maze = make_maze(kind, 13, 11, seed)
        assert check_plan(maze, shortest_plan(maze)).detail == "valid-optimal"


def _searchformer_corridor() -> list[SearchEvent]:
    """Exact A* on a 3x1 corridor from (0, 0) to (2, 0), Searchformer style."""
    return [
        SearchEvent("create", (0, 0), 0, 2),
        SearchEvent("close", (0, 0), 0, 2),
        SearchEvent("create", (1, 0), 1, 1),
        SearchEvent("close", (1, 0), 1, 1),
        SearchEvent("create", (2, 0), 2, 0),
        SearchEvent("close", (2, 0), 2, 0),
    ]


def test_plan_matches_trace_both_dialect_openings() -> None:
    events = _searchformer_corridor()
    plan = [(0, 0), (1, 0), (2, 0)]
    assert plan_matches_trace(events, plan, (0, 0), (2, 0)) is True
    assert plan_matches_trace(events[1:], plan, (0, 0), (2, 0)) is True  # Beyond Semantics opening
    assert plan_matches_trace(events, [(0, 0), (2, 0)], (0, 0), (2, 0)) is False


def test_plan_matches_trace_is_none_without_goal_or_plan() -> None:
    events = _searchformer_corridor()
    assert plan_matches_trace(events[:-1], [(0, 0), (1, 0), (2, 0)], (0, 0), (2, 0)) is None
    assert plan_matches_trace(events, None, (0, 0), (2, 0)) is None


def test_parent_is_the_node_closed_before_the_best_create() -> None:
    start, a, b, goal = (0, 0), (1, 0), (0, 1), (1, 1)
    events = [
        SearchEvent("close", start, 0, 2),
        SearchEvent("create", a, 5, 1),  # worse create: parent would be start
        SearchEvent("create", b, 1, 1),
        SearchEvent("close", b, 1, 1),
        SearchEvent("create", goal, 2, 0),
        SearchEvent("create", a, 1, 1),  # better create of `a` after closing b: parent b
        SearchEvent("close", a, 1, 1),
        SearchEvent("create", goal, 2, 0),  # equal g, later: parent a
        SearchEvent("close", goal, 2, 0),
    ]
    assert plan_matches_trace(events, [start, b, a, goal], start, goal) is True
    assert plan_matches_trace(events, [start, b, goal], start, goal) is False


def test_broken_parent_chain_does_not_match() -> None:
    events = [SearchEvent("close", (2, 0), 2, 0)]  # goal closed, never created
    assert plan_matches_trace(events, [(0, 0), (1, 0), (2, 0)], (0, 0), (2, 0)) is False
