"""Reference check of the A* validator on mazes: exact traces pass, corruptions are caught at their step."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modulo.domains.maze.generators import MAZE_KINDS, make_maze
from modulo.domains.maze.grid import Cell, Maze
from modulo.domains.maze.oracle import (
    CORRUPTIONS,
    NotApplicable,
    astar_trace,
    check_trace,
    swapped_trace,
)
from modulo.verifiers.astar import AStarRule, StartMode
from modulo.verifiers.search_events import SearchEvent

START_MODES: tuple[StartMode, ...] = ("create", "close")


def random_maze(width: int, height: int, rng: random.Random, wall_fraction: float = 0.3) -> Maze:
    """Uniform random walls; start and goal are two cells of the largest free region."""
    cells = [(x, y) for x in range(width) for y in range(height)]
    while True:
        walls = frozenset(rng.sample(cells, round(wall_fraction * len(cells))))
        graph = Maze(width=width, height=height, walls=walls, start=(0, 0), goal=(0, 0)).graph
        region = max(map(sorted, nx.connected_components(graph)), key=len)
        if len(region) >= 2:
            start, goal = rng.sample(region, 2)
            return Maze(width=width, height=height, walls=walls, start=start, goal=goal)


def assert_exact(maze: Maze, start_mode: StartMode, rng: random.Random | None) -> None:
    """The oracle's trace is valid (strictly so when deterministic) and its plan is optimal."""
    trace = astar_trace(maze, start_mode, rng)
    result = check_trace(maze, trace.events, start_mode, strict=rng is None)
    assert result.trace_valid, result.first_invalid
    optimum = nx.astar_path_length(
        maze.graph, maze.start, maze.goal, heuristic=lambda a, _: maze.manhattan(a)
    )
    assert result.goal_g == optimum == len(trace.plan) - 1
    assert trace.plan[0] == maze.start and trace.plan[-1] == maze.goal
    assert all(maze.graph.has_edge(a, b) for a, b in zip(trace.plan, trace.plan[1:], strict=False))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 20),
    st.integers(2, 20),
    st.floats(0.0, 0.45),
    st.integers(0, 2**32),
    st.sampled_from(START_MODES),
)
def test_exact_traces_are_accepted(
    width: int, height: int, walls: float, seed: int, start_mode: StartMode
) -> None:
    maze = random_maze(width, height, random.Random(seed), walls)
    assert_exact(maze, start_mode, None)
    assert_exact(maze, start_mode, random.Random(seed))


@pytest.mark.parametrize("kind", MAZE_KINDS)
@pytest.mark.parametrize("start_mode", START_MODES)
def test_exact_traces_on_generated_mazes(kind: str, start_mode: StartMode) -> None:
    rng = random.Random(kind)
    for size in (5, 8, 13, 21):
        maze = make_maze(kind, size, size, rng)
        assert_exact(maze, start_mode, None)
        assert_exact(maze, start_mode, rng)


def test_deterministic_trace_follows_searchformer_order() -> None:
    """Open 3x2 grid from (0,0) to (2,1): ties in f go to the lowest y, then the lowest x."""
    maze = Maze(width=3, height=2, walls=frozenset(), start=(0, 0), goal=(2, 1))
    kinds_nodes = [(e.kind, e.node) for e in astar_trace(maze).events]
    assert kinds_nodes == [
        ("create", (0, 0)),
        ("close", (0, 0)),
        ("create", (0, 1)),  # children: up, down, left, right
        ("create", (1, 0)),
        ("close", (1, 0)),  # f = 3 for (0,1) and (1,0): y = 0 first
        ("create", (1, 1)),
        ("create", (2, 0)),
        ("close", (2, 0)),  # f = 3 for (0,1), (1,1), (2,0): (2,0) has y = 0
        ("create", (2, 1)),
        ("close", (0, 1)),  # then (0,1) before (1,1) and (2,1): lowest y = 1, lowest x
        ("close", (1, 1)),
        ("close", (2, 1)),
    ]


def test_strict_mode_rejects_random_tie_breaks() -> None:
    rng = random.Random(7)
    rules = set()
    for _ in range(20):
        maze = Maze(width=8, height=8, walls=frozenset(), start=(0, 0), goal=(7, 7))
        events = astar_trace(maze, rng=rng).events
        assert check_trace(maze, events).trace_valid
        result = check_trace(maze, events, strict=True)
        if result.first_invalid is not None:
            rules.add(result.first_invalid.rule)
    assert rules == {AStarRule.TIE_BREAK}


def corruption_cases(count: int, sizes: range) -> list[tuple[Maze, StartMode, bool]]:
    rng = random.Random(count)
    return [
        (random_maze(rng.choice(sizes), rng.choice(sizes), rng, rng.uniform(0.0, 0.4)), mode, deterministic)
        for _ in range(count)
        for mode in START_MODES
        for deterministic in (True, False)
    ]


def assert_corruptions_caught(cases: list[tuple[Maze, StartMode, bool]], seed: int) -> dict[str, int]:
    """Apply every operator to every case; return how often each could be applied."""
    rng = random.Random(seed)
    applied = dict.fromkeys(CORRUPTIONS, 0)
    for maze, mode, deterministic in cases:
        events = astar_trace(maze, mode, None if deterministic else rng).events
        for name, corrupt in CORRUPTIONS.items():
            try:
                corrupted = corrupt(events, maze, rng)
            except NotApplicable:
                continue
            applied[name] += 1
            result = check_trace(maze, corrupted.events, mode, strict=deterministic)
            first = result.first_invalid
            assert first is not None, (name, corrupted)
            assert (first.index, first.rule) == (corrupted.index, corrupted.rule), (name, first)
    return applied


def test_every_corruption_is_caught_at_its_step_by_its_rule() -> None:
    applied = assert_corruptions_caught(corruption_cases(40, range(4, 16)), seed=1)
    assert min(applied.values()) >= 40, applied


def test_corruption_not_applicable_is_reported() -> None:
    maze = Maze(width=2, height=1, walls=frozenset(), start=(0, 0), goal=(1, 0))
    events = astar_trace(maze, "close").events  # close start, create goal, close goal
    with pytest.raises(NotApplicable):
        CORRUPTIONS["skipped_lowest_f"](events, maze, random.Random(0))
    with pytest.raises(NotApplicable):
        CORRUPTIONS["wall_create"](events, maze, random.Random(0))


def untouched(maze: Maze, events: list[SearchEvent], index: int) -> bool:
    """No step after `index` names its cell again or closes one of the cell's neighbours."""
    cell = events[index].node
    near = {cell, *maze.graph.neighbors(cell)}
    return all(e.node != cell and (e.kind == "create" or e.node not in near) for e in events[index + 1 :])


def test_wrong_g_is_local() -> None:
    """A too-high g on a cell that no later step touches or expands next to: only that step is invalid."""
    rng = random.Random(3)
    checked = 0
    while checked < 20:
        maze = random_maze(12, 12, rng)
        events = astar_trace(maze).events

        frontier = [
            i for i, e in enumerate(events) if i and e.kind == "create" and untouched(maze, events, i)
        ]
        if not frontier:
            continue
        index = rng.choice(frontier)
        corrupted = [*events[:index], events[index]._replace(g=events[index].g + 1), *events[index + 1 :]]
        result = check_trace(maze, corrupted, strict=True)
        assert [(v.index, v.rule) for v in result.errors] == [(index, AStarRule.WRONG_G)]
        assert not result.trace_checks
        assert all(v.status == "valid" for v in result.steps[index + 1 :])
        checked += 1


def swap_rejection_rate(pairs: int, size: int, seed: int) -> float:
    rng = random.Random(seed)
    rejected = 0
    for _ in range(pairs):
        maze, other = random_maze(size, size, rng), random_maze(size, size, rng)
        rejected += not check_trace(maze, swapped_trace(other), "create").trace_valid
    return rejected / pairs


def test_swapped_traces_are_rejected() -> None:
    rate = swap_rejection_rate(200, 10, seed=5)
    print(f"swapped-trace rejection rate: {rate:.3f}")
    assert rate >= 0.95


@pytest.mark.slow
def test_exact_traces_large_sweep() -> None:
    rng = random.Random(11)
    for size in (30, 50, 80):
        for _ in range(10):
            for mode in START_MODES:
                maze = random_maze(size, size, rng, rng.uniform(0.0, 0.45))
                assert_exact(maze, mode, None)
                assert_exact(maze, mode, rng)


@pytest.mark.slow
def test_corruptions_large_sweep() -> None:
    applied = assert_corruptions_caught(corruption_cases(200, range(4, 41)), seed=2)
    assert min(applied.values()) >= 200, applied


@pytest.mark.slow
def test_swapped_traces_large_sample() -> None:
    for size in (5, 10, 30):
        assert swap_rejection_rate(500, size, seed=size) >= 0.95


def test_plan_is_the_parent_chain() -> None:
    maze = Maze(width=4, height=1, walls=frozenset(), start=(0, 0), goal=(3, 0))
    cells: list[Cell] = [(0, 0), (1, 0), (2, 0), (3, 0)]
    assert astar_trace(maze).plan == cells
