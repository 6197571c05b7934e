"""Benchmark: validating an exact A* trace vs running networkx's A* on the same 30x30 mazes.

Run `python benchmarks/astar_validator.py [--mazes N] [--size S] [--repeat R]`. Prints validator
steps per second and the ratio validate_time / networkx_time (target <= 1.0), both for the replay
alone and with every step's `StepVerdict` built.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import networkx as nx

from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import astar_trace, check_trace
from modulo.verifiers.search_events import SearchEvent


def random_maze(size: int, rng: random.Random, wall_fraction: float = 0.3) -> Maze:
    """A solvable size x size maze: uniform random walls, start and goal in one region."""
    cells = [(x, y) for x in range(size) for y in range(size)]
    while True:
        walls = frozenset(rng.sample(cells, round(wall_fraction * len(cells))))
        free = [c for c in cells if c not in walls]
        start, goal = rng.sample(free, 2)
        maze = Maze(width=size, height=size, walls=walls, start=start, goal=goal)
        if nx.has_path(maze.graph, start, goal):
            return maze


def best_time(run: Callable[[], object], repeat: int) -> float:
    """Minimum wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def bench(mazes: list[tuple[Maze, list[SearchEvent]]], repeat: int, strict: bool) -> dict[str, float]:
    """Summed best-of-`repeat` times over the mazes for networkx, the replay, and replay + verdicts;
    `strict` also checks Searchformer's tie-break order."""
    total = {"networkx": 0.0, "validate": 0.0, "validate+verdicts": 0.0}
    for maze, events in mazes:
        graph = maze.graph

        def heuristic(a: object, b: object, maze: Maze = maze) -> float:
            return maze.manhattan(a)  # type: ignore[arg-type]

        def astar(maze: Maze = maze, graph: nx.Graph = graph) -> None:
            nx.astar_path(graph, maze.start, maze.goal, heuristic=heuristic)

        def validate(maze: Maze = maze, events: list[SearchEvent] = events, strict: bool = strict) -> None:
            assert check_trace(maze, events, strict=strict).trace_valid

        def validate_all(
            maze: Maze = maze, events: list[SearchEvent] = events, strict: bool = strict
        ) -> None:
            assert len(check_trace(maze, events, strict=strict).steps) == len(events)

        total["networkx"] += best_time(astar, repeat)
        total["validate"] += best_time(validate, repeat)
        total["validate+verdicts"] += best_time(validate_all, repeat)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mazes", type=int, default=50)
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    mazes = [random_maze(args.size, rng) for _ in range(args.mazes)]
    traced = [(maze, astar_trace(maze).events) for maze in mazes]
    steps = sum(len(events) for _, events in traced)
    print(f"{args.mazes} mazes {args.size}x{args.size}, {steps} trace steps, best of {args.repeat}")
    for strict in (False, True):
        total = bench(traced, args.repeat, strict)
        print(f"{'strict tie-break' if strict else 'ties allowed'}:")
        print(f"  networkx astar_path     {total['networkx'] * 1e3:8.2f} ms")
        for name in ("validate", "validate+verdicts"):
            ratio = total[name] / total["networkx"]
            rate = steps / total[name]
            print(f"  {name:<23} {total[name] * 1e3:8.2f} ms  {rate:>10,.0f} steps/s  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
