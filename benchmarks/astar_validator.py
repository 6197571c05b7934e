"""Benchmark: validating an exact A* trace vs running networkx's A* on the same 30x30 mazes.

Run `python benchmarks/astar_validator.py [--mazes N] [--size S] [--repeat R]`. Prints validator
steps per second and the ratio validate_time / networkx_time (target <= 1.0) for three paths:

- `trace_valid`: `check_trace(...).trace_valid`, the judgement alone;
- `+ verdicts`: `check_trace(...).steps`, one `StepVerdict` per step: what `MazeDomain.check` pays;
- `1 wrong g + verdicts`: the same trace with one g shifted (oracle's `wrong_g`): the fast path gives
  up and the replay judges the whole trace.

networkx runs `astar_path` with its defaults and the very heuristic the validator gets,
`maze.manhattan`. Times are summed over the mazes, each the best of R rounds in which the paths
take turns; the load average is printed because other processes on the machine add noise.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Sequence

import networkx as nx

from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import CORRUPTIONS, astar_trace, check_trace
from modulo.verifiers.search_events import SearchEvent

Case = tuple[Maze, list[SearchEvent], list[SearchEvent]]
"""A maze, its exact trace, and that trace with one wrong g."""


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


def best_times(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Minimum wall time of each run over `repeat` rounds, in seconds; the runs take turns in each
    round, so that a load that comes and goes weighs on all of them alike."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            began = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - began)
    return best


def bench(cases: Sequence[Case], repeat: int, strict: bool) -> dict[str, float]:
    """Summed best-of-`repeat` times over the mazes for networkx and each validator path;
    `strict` also checks Searchformer's tie-break order."""
    total = {"networkx": 0.0, "trace_valid": 0.0, "+ verdicts": 0.0, "1 wrong g + verdicts": 0.0}
    for maze, events, wrong in cases:

        def astar(maze: Maze = maze) -> None:
            nx.astar_path(maze.graph, maze.start, maze.goal, heuristic=maze.manhattan)

        def valid(maze: Maze = maze, events: list[SearchEvent] = events) -> None:
            assert check_trace(maze, events, strict=strict).trace_valid

        def verdicts(maze: Maze = maze, events: list[SearchEvent] = events) -> None:
            assert len(check_trace(maze, events, strict=strict).steps) == len(events)

        def wrong_verdicts(maze: Maze = maze, wrong: list[SearchEvent] = wrong) -> None:
            assert len(check_trace(maze, wrong, strict=strict).steps) == len(wrong)

        runs = dict(zip(total, (astar, valid, verdicts, wrong_verdicts), strict=True))
        for name, seconds in best_times(runs, repeat).items():
            total[name] += seconds
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mazes", type=int, default=50)
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng, corrupt_rng = random.Random(args.seed), random.Random(args.seed + 1)
    cases: list[Case] = []
    for maze in [random_maze(args.size, rng) for _ in range(args.mazes)]:
        events = astar_trace(maze).events
        cases.append((maze, events, CORRUPTIONS["wrong_g"](events, maze, corrupt_rng).events))
    steps = sum(len(events) for _, events, _ in cases)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.mazes} mazes {args.size}x{args.size}, {steps} trace steps, best of {args.repeat}")
    print(f"load average {load} on {os.cpu_count()} CPUs")
    for strict in (False, True):
        total = bench(cases, args.repeat, strict)
        print(f"{'strict tie-break' if strict else 'ties allowed'}:")
        print(f"  networkx astar_path     {total['networkx'] * 1e3:8.2f} ms")
        for name in ("trace_valid", "+ verdicts", "1 wrong g + verdicts"):
            ratio = total[name] / total["networkx"]
            rate = steps / total[name]
            print(f"  {name:<23} {total[name] * 1e3:8.2f} ms  {rate:>10,.0f} steps/s  ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
