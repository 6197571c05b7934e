"""Benchmark: `modulo verify --domain maze --format searchformer` on 30x30 mazes, per line, against
networkx's `astar_path` on the same mazes' already-built graphs, measured in the same run.

Run `python benchmarks/verify_mazes.py [--lines N] [--repeat R] [--size S]`. It writes N lines the
way a published Searchformer file holds them (query, A* trace, plan; `searchformer` obstacle mazes,
one line in three with a corrupted trace, one of each corruption operator in turn), then in each of R
rounds, taking turns:

- networkx: `astar_path(maze.graph, start, goal, heuristic=maze.manhattan)` over the N mazes, graphs
  built beforehand and not timed; CPU time per maze;
- verify: the real command in a child process on the N-line file (`--out` a file), and on its first
  line alone; CPU per line = (CPU(N lines) - CPU(1 line)) / (N - 1), so start-up does not count.

It prints the ratio verify / networkx per round as median and range, and the peak memory (VmHWM, Linux)
of the command on the N-line file and on a file of 10 N lines (the same lines ten times): memory
flat in the file's length means the two are close. Other processes on the machine add noise; the
load average is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

from modulo.domains.maze.formats import format_output, format_prompt
from modulo.domains.maze.generators import make_maze
from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import CORRUPTIONS, NotApplicable, astar_trace


def published_lines(count: int, size: int, seed: int) -> tuple[list[str], list[Maze]]:
    """`count` Searchformer-format lines of size x size mazes and their mazes; every third trace is
    corrupted (the operators in turn; one that does not apply leaves the trace exact)."""
    names = sorted(CORRUPTIONS)
    lines, mazes = [], []
    for k in range(count):
        rng = random.Random(f"verify-bench:{seed}:{k}")
        maze = make_maze("searchformer", size, size, rng)
        exact = astar_trace(maze, "create")
        events = exact.events
        if k % 3 == 0:
            with contextlib.suppress(NotApplicable):
                events = CORRUPTIONS[names[k // 3 % len(names)]](events, maze, rng).events
        lines.append(
            f"{format_prompt(maze, 'searchformer')} {format_output(events, exact.plan, 'searchformer')}"
        )
        mazes.append(maze)
    return lines, mazes


PEAK_WRAPPER = """
import runpy, sys
peak_file, sys.argv = sys.argv[1], ["modulo", *sys.argv[2:]]
try:
    runpy.run_module("modulo", run_name="__main__")
finally:
    status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
    open(peak_file, "w").write(status)
"""
"""Runs the command and writes its peak RSS (VmHWM, KiB) to a file. The kernel's ru_maxrss of a child
would count the pages it shared with this process between fork and exec."""


def run_verify(path: Path, size: int, tmp: Path) -> tuple[float, int]:
    """(CPU seconds, peak RSS in KiB) of `modulo verify` on `path`, in a child process of its own."""
    peak = tmp / "peak"
    command = [sys.executable, "-c", PEAK_WRAPPER, str(peak), "verify", "--domain", "maze"]
    command += ["--format", "searchformer", "--size", str(size), "--out", str(tmp / "out.jsonl"), str(path)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"modulo verify exited with {child.returncode} on {path}")
    return usage.ru_utime + usage.ru_stime, int(peak.read_text())


def networkx_cpu(mazes: list[Maze]) -> float:
    """CPU seconds of networkx's A* over the mazes, graphs built beforehand."""
    graphs = [(maze.graph, maze) for maze in mazes]
    began = time.process_time()
    for graph, maze in graphs:
        nx.astar_path(graph, maze.start, maze.goal, heuristic=maze.manhattan)
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--size", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lines, mazes = published_lines(args.lines, args.size, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        many, one, ten = tmp / "many.txt", tmp / "one.txt", tmp / "ten.txt"
        many.write_text("\n".join(lines) + "\n", encoding="utf-8")
        one.write_text(lines[0] + "\n", encoding="utf-8")
        ten.write_text("\n".join(lines * 10) + "\n", encoding="utf-8")
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"{args.lines} lines, {args.size}x{args.size} searchformer mazes "
            f"({many.stat().st_size / 1e6:.1f} MB)"
        )
        print(f"load average {load} on {os.cpu_count()} CPUs; {args.repeat} interleaved rounds")
        ratios, per_line, per_maze = [], [], []
        for _ in range(args.repeat):
            base = networkx_cpu(mazes) / len(mazes)
            whole, peak = run_verify(many, args.size, tmp)
            alone, _ = run_verify(one, args.size, tmp)
            line = (whole - alone) / (len(lines) - 1)
            per_maze.append(base)
            per_line.append(line)
            ratios.append(line / base)
        _, peak_ten = run_verify(ten, args.size, tmp)

    def show(values: list[float], scale: float = 1.0) -> str:
        low, mid, high = (scale * v for v in (min(values), statistics.median(values), max(values)))
        return f"median {mid:.3f}, range {low:.3f}-{high:.3f}"

    print(f"networkx astar_path, prebuilt graph:  ms per maze  {show(per_maze, 1e3)}")
    print(f"modulo verify --format searchformer:  ms per line  {show(per_line, 1e3)}")
    print(f"ratio verify / astar_path:                         {show(ratios)}")
    print(f"lines per CPU second: {1 / statistics.median(per_line):,.0f}")
    print(
        f"peak RSS: {peak / 1024:.0f} MiB for {len(lines)} lines, "
        f"{peak_ten / 1024:.0f} MiB for {10 * len(lines)} lines"
    )


if __name__ == "__main__":
    main()
