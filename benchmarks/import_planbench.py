"""Benchmark: CPU per record of `modulo import planbench`, end to end, and the share spent reading PDDL.

Run `python benchmarks/import_planbench.py [--data ../shared/data/planbench] [--records N] [--repeat R]`.
For the GPT-4 Blocksworld (zero-shot, 500 records) and Logistics (one-shot, 200) results files it
reads the file and stores and verifies its first N records (default all; `read_records` +
`store_records` into a temporary store), R rounds, each from empty in-memory caches (parsed problems,
optimal lengths, templates): what a first import in a new process does.

It prints CPU ms per record and per plan action (of PlanBench's ground-truth plans), median and range
over the rounds, and the part of it spent in `modulo.verifiers.pddl_read` (reading the domain and the
problems). Optimal lengths are searched as `modulo import` does (only for valid plans, within
`SEARCH_BUDGET` states); the importer's summary is checked to be the same in every round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from planbench_agreement import options_for

from modulo.domains.planning import domain as planning_domain
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.domains.planning.search import optimal_length
from modulo.importing import read_records, store_records
from modulo.store import Store
from modulo.verifiers import pddl_load

FILES = ("blocksworld__gpt-4_chat__zero_shot.json", "logistics__gpt-4_chat__one_shot.json")


class ReadTimer:
    """Counts the CPU seconds spent in the PDDL reader (patched into `pddl_load` while measuring)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, read: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.process_time()
            try:
                return read(*args)
            finally:
                self.seconds += time.process_time() - started

        return timed


def clear_caches() -> None:
    for cached in (pddl_load.load_problem, pddl_load._domain, planning_domain._templates, optimal_length):
        cached.cache_clear()


def measure(path: Path, options: dict[str, str], records: int) -> tuple[float, float, dict[str, Any]]:
    """CPU seconds to read and store `records` records into a new store, of them reading PDDL, and the
    summary."""
    clear_caches()
    timer = ReadTimer()
    saved = pddl_load.read_domain, pddl_load.read_problem
    pddl_load.read_domain, pddl_load.read_problem = timer.wrap(saved[0]), timer.wrap(saved[1])
    importer = PlanBenchImporter()
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = Store(Path(folder) / "store.db")
            started = time.process_time()
            read = read_records(importer, path, options)[:records]
            _, summary = store_records(importer, path, options, read, store)
            return time.process_time() - started, timer.seconds, summary
    finally:
        pddl_load.read_domain, pddl_load.read_problem = saved


def plan_actions(path: Path, records: int) -> int:
    """Actions in the ground-truth plans of the first records (the work per record grows with them)."""
    data = json.loads(path.read_text())["instances"][:records]
    return sum(len(r.get("ground_truth_plan") or []) for r in data)


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "planbench"
    parser.add_argument("--data", type=Path, default=default, help="PlanBench's folder")
    parser.add_argument("--records", type=int, default=10**9, help="records per file (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    for name in FILES:
        path = args.data / "results" / name
        options = {k: v for k, v in options_for(args.data, path, "response").items() if k != "plan-source"}
        count = min(args.records, len(json.loads(path.read_text())["instances"]))
        actions = plan_actions(path, count)
        totals: list[float] = []
        reading: list[float] = []
        summaries = set()
        for _ in range(args.repeat):
            seconds, read_seconds, summary = measure(path, options, count)
            totals.append(seconds)
            reading.append(read_seconds)
            summaries.add(json.dumps(summary, sort_keys=True))
        print(f"{name}: {count} records, {actions / count:.1f} ground-truth actions per record")
        if len(summaries) != 1:
            print("  WARNING: the summaries differ between rounds")
        per = lambda ts, n: [t * 1000 / n for t in ts]  # noqa: E731
        share = [r / t for r, t in zip(reading, totals, strict=True)]
        print(f"  ms/record {fmt(per(totals, count))}   ms/action {fmt(per(totals, actions))}")
        print(f"  reading PDDL: ms/record {fmt(per(reading, count))}, {statistics.median(share):.1%} of it")


if __name__ == "__main__":
    main()
