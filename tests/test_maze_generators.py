"""Maze generators: deterministic, well-formed, solvable, and trees where they should be."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from modulo.domains.maze.generators import (
    MAZE_KINDS,
    PERFECT_KINDS,
    difficulty,
    make_maze,
    optimal_plan_length,
    shortest_plan,
)
from modulo.domains.maze.grid import Maze

SIZES = [(5, 5), (6, 6), (9, 14), (30, 30)]
SEEDS = [0, 1, 2]


def _assert_well_formed(maze: Maze, min_distance: int) -> None:
    assert all(maze.in_bounds(wall) for wall in maze.walls)
    assert maze.is_free(maze.start) and maze.is_free(maze.goal)
    assert maze.start != maze.goal
    assert maze.manhattan(maze.start) >= min_distance
    assert nx.has_path(maze.graph, maze.start, maze.goal)


@pytest.mark.parametrize("kind", MAZE_KINDS)
@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_kind_makes_a_solvable_deterministic_maze(
    kind: str, width: int, height: int, seed: int
) -> None:
    maze = make_maze(kind, width, height, random.Random(seed))
    assert make_maze(kind, width, height, seed) == maze
    assert (maze.width, maze.height) == (width, height)
    _assert_well_formed(maze, max(width, height) // 2)


@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_different_seeds_give_different_mazes(kind: str) -> None:
    mazes = {make_maze(kind, 15, 15, seed) for seed in range(5)}
    assert len(mazes) > 1


@pytest.mark.parametrize("kind", PERFECT_KINDS)
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_perfect_mazes_are_trees(kind: str, width: int, height: int) -> None:
    for seed in SEEDS:
        maze = make_maze(kind, width, height, seed)
        assert nx.is_tree(maze.graph)


@pytest.mark.parametrize("kind", PERFECT_KINDS)
def test_loops_braid_a_perfect_maze(kind: str) -> None:
    maze = make_maze(kind, 15, 15, 3, loops=0.3)
    assert nx.is_connected(maze.graph)
    assert not nx.is_tree(maze.graph)


@pytest.mark.parametrize("kind", PERFECT_KINDS)
def test_perfect_mazes_on_odd_sides_use_every_even_coordinate(kind: str) -> None:
    maze = make_maze(kind, 11, 7, 0)
    assert all(maze.is_free((x, y)) for x in range(0, 11, 2) for y in range(0, 7, 2))
    assert all((x, y) in maze.walls for x in range(1, 11, 2) for y in range(1, 7, 2))


@pytest.mark.parametrize("kind", PERFECT_KINDS)
def test_even_sides_leave_one_wall_strip_on_a_border(kind: str) -> None:
    offsets = set()
    for seed in range(12):
        maze = make_maze(kind, 8, 8, seed)
        low_column = all((0, y) in maze.walls for y in range(8))
        high_column = all((7, y) in maze.walls for y in range(8))
        assert low_column != high_column
        offsets.add(low_column)
    assert offsets == {True, False}


def test_searchformer_wall_fraction() -> None:
    maze = make_maze("searchformer", 10, 10, 4, wall_fraction=0.25)
    assert len(maze.walls) == 25
    default = [make_maze("searchformer", 20, 20, seed) for seed in range(5)]
    assert all(0.3 * 400 <= len(m.walls) <= 0.5 * 400 for m in default)


def test_drunkards_walk_coverage_and_connectivity() -> None:
    maze = make_maze("drunkards_walk", 20, 10, 5, coverage=0.6)
    assert maze.width * maze.height - len(maze.walls) == 120
    assert nx.is_connected(maze.graph)


@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_min_distance_is_respected(kind: str) -> None:
    for seed in SEEDS:
        _assert_well_formed(make_maze(kind, 21, 21, seed, min_distance=20), 20)


@pytest.mark.parametrize(
    ("kind", "width", "height", "params", "message"),
    [
        ("spiral", 10, 10, {}, "valid kinds: dfs, wilson"),
        ("dfs", 4, 10, {}, "width must be an integer from 5 to 100"),
        ("dfs", 10, 101, {}, "height must be an integer from 5 to 100"),
        ("dfs", 10, 10, {"coverage": 0.5}, "valid: loops, min_distance"),
        ("dfs", 10, 10, {"loops": 1.5}, "loops must be between 0 and 1"),
        ("searchformer", 10, 10, {"wall_fraction": 1.0}, "wall_fraction must be in"),
        ("drunkards_walk", 10, 10, {"coverage": 0}, "coverage must be in"),
        ("kruskal", 5, 5, {"min_distance": 50}, "lower min_distance"),
    ],
)
def test_invalid_requests_say_what_is_valid(
    kind: str, width: int, height: int, params: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_maze(kind, width, height, 0, **params)


@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_difficulty_helpers(kind: str) -> None:
    maze = make_maze(kind, 12, 9, 7)
    plan = shortest_plan(maze)
    assert plan[0] == maze.start and plan[-1] == maze.goal
    assert optimal_plan_length(maze) == len(plan) - 1 >= maze.manhattan(maze.start)
    measures = difficulty(maze)
    assert measures["optimal_length"] == len(plan) - 1
    assert measures["width"] == 12 and measures["height"] == 9


@pytest.mark.slow
@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_sweep_sizes_and_seeds(kind: str) -> None:
    for width in range(5, 33, 3):
        for height in (5, 8, 17, 30, 31):
            for seed in range(10):
                maze = make_maze(kind, width, height, seed)
                _assert_well_formed(maze, max(width, height) // 2)
                if kind in PERFECT_KINDS:
                    assert nx.is_tree(maze.graph)
