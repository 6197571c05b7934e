"""Benchmark: CPU per record of `modulo import planbench`, end to end, against a baseline in the same run.

Run `python benchmarks/import_planbench.py [--data ../shared/data/planbench] [--records N] [--repeat R]`.
For the GPT-4 Blocksworld (zero-shot, 500 records) and Logistics (one-shot, 200) results files it
reads the file and stores and verifies its first N records (default all; `read_records` +
`store_records` into a temporary store), in three ways, interleaved (the order rotates each round),
R rounds:

- `fresh-parser`: the baseline, the old way: a new `pddl` parser (a full lark grammar compile) for
  every domain and problem, no disk cache;
- `cold`: one grammar compiled for the process, an empty disk cache (a first import);
- `warm`: the disk cache filled by earlier rounds (an import in a new process, or a re-import).

Every measurement starts from empty in-memory caches (parsed problems, optimal lengths, templates).
It prints CPU ms per record and per plan action (of PlanBench's ground-truth plans), median and range
over the rounds, and the median ratio to the baseline. Optimal lengths are searched as `modulo import`
does (only for valid plans, within `SEARCH_BUDGET` states); the importer's summary is checked to be the
same in every way and round.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
WAYS = ("fresh-parser", "cold", "warm")


def fresh_parse(text: str, kind: str) -> Any:
    """The old `parse_pddl`: the `pddl` package's own parser, built anew for every text."""
    from pddl.parser.domain import DomainParser
    from pddl.parser.problem import ProblemParser

    return (DomainParser() if kind == "domain" else ProblemParser())(text)


@contextmanager
def way(name: str, warm_cache: Path) -> Iterator[None]:
    """The parser and cache setting of one way (see the module docstring)."""
    for cached in (pddl_load._load, pddl_load._parse_domain, planning_domain._templates, optimal_length):
        cached.cache_clear()
    saved = pddl_load.parse_pddl, pddl_load.read_cached, pddl_load.write_cached
    with tempfile.TemporaryDirectory() as empty:
        os.environ["MODULO_CACHE"] = str(warm_cache if name == "warm" else empty)
        if name == "fresh-parser":
            pddl_load.parse_pddl = fresh_parse  # type: ignore[assignment]
            pddl_load.read_cached = lambda key: None  # type: ignore[assignment]
            pddl_load.write_cached = lambda key, problem: None  # type: ignore[assignment]
        elif name == "cold":
            pddl_load._grammar.cache_clear()  # one compile per process: this measurement's
        try:
            yield
        finally:
            pddl_load.parse_pddl, pddl_load.read_cached, pddl_load.write_cached = saved


def measure(path: Path, options: dict[str, str], records: int) -> tuple[float, dict[str, Any]]:
    """CPU seconds to read and store `records` records into a new store, and the summary."""
    importer = PlanBenchImporter()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "store.db")
        started = time.process_time()
        read = read_records(importer, path, options)[:records]
        _, summary = store_records(importer, path, options, read, store)
        return time.process_time() - started, summary


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
        times: dict[str, list[float]] = {w: [] for w in WAYS}
        summaries = set()
        with tempfile.TemporaryDirectory() as warm:
            with way("cold", Path(warm)):  # fills the warm cache
                measure(path, options, count)
            for r in range(args.repeat):
                for w in WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)]:
                    with way(w, Path(warm)):
                        seconds, summary = measure(path, options, count)
                    times[w].append(seconds)
                    summaries.add(json.dumps(summary, sort_keys=True))
        print(f"{name}: {count} records, {actions / count:.1f} ground-truth actions per record")
        if len(summaries) != 1:
            print("  WARNING: the summaries differ between ways or rounds")
        base = statistics.median(times["fresh-parser"])
        report(times, count, actions, base)


def report(times: dict[str, list[float]], count: int, actions: int, base: float) -> None:
    per: Callable[[list[float], int], list[float]] = lambda ts, n: [t * 1000 / n for t in ts]  # noqa: E731
    print(f"  {'way':<13} {'ms/record median (range)':<26} {'ms/action':<22} vs fresh-parser")
    for w, ts in times.items():
        ratio = statistics.median(ts) / base
        print(f"  {w:<13} {fmt(per(ts, count)):<26} {fmt(per(ts, actions)):<22} {ratio:.3f}x")


if __name__ == "__main__":
    main()
