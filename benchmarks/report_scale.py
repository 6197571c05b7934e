"""Benchmark: `modulo report` on a large store, against the old report (every sample loaded) as baseline.

Run `python benchmarks/report_scale.py [--samples N] [--repeats R] [--store PATH]`. It runs the oracle
suite (benchmarks/oracle.toml: maze, Blocksworld, deduction and zebra traces, every quadrant of the table)
once, then writes N samples (default 100 000) copied from those through the Store API (add_generated, then
set_verdicts), a tenth of them as second-round repairs of a first attempt. A store already at PATH with the
right number of samples is reused. It prints bytes per sample, then for `modulo report --json` (a
subprocess) and for the baseline (a subprocess that loads every sample and calls `build_report`, the
implementation before the report was computed in SQL) wall time, CPU time and peak RSS: median and range
over R interleaved repeats, and the ratio baseline / current. Both reports must be equal, or it stops.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modulo.model import Sample
from modulo.store import Store, StoreError

HERE = Path(__file__).parent
BASELINE = """
import json, sys
from modulo.report import as_json, build_report
from modulo.store import Store, StoreError
with Store(sys.argv[1], readonly=True) as db:
    run = db.find_run(None)
    print(json.dumps(as_json(build_report(run, db.samples(run.id), db.assisted(run.id))), indent=2))
"""


def seed_samples(workdir: Path) -> list[Sample]:
    """Verified samples of the oracle suite (run once into a scratch store)."""
    seed = workdir / "seed.sqlite"
    if not seed.exists():
        subprocess.run(
            [sys.executable, "-m", "modulo", "run", str(HERE / "oracle.toml"), "--store", str(seed)]
            + ["--no-report"],
            check=True,
            capture_output=True,
        )
    with Store(seed, readonly=True) as db:
        run = db.find_run(None)
        return db.samples(run.id, verified=True)


def build_store(path: Path, n: int, workdir: Path) -> None:
    """A store of one run holding `n` verified samples copied from the oracle suite."""
    if path.exists():
        try:
            with Store(path, readonly=True) as db:
                if db.sample_count(db.find_run(None).id) == n:
                    return
        except StoreError:  # written by another schema version: build it again
            pass
        path.unlink()
    seeds = seed_samples(workdir)
    with Store(workdir / "seed.sqlite", readonly=True) as db:
        template = db.find_run(None)
    run = template.model_copy(update={"id": "scale-run"})
    started = time.perf_counter()
    with Store(path) as db:
        for start in range(0, n, 2000):
            batch = [_copy(seeds, i) for i in range(start, min(n, start + 2000))]
            db.add_generated(batch, run=run)
            for sample in batch:
                db.set_verdicts(sample)
    print(f"built {path} with {n} samples in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def _copy(seeds: list[Sample], i: int) -> Sample:
    """Sample i: a copy of a seed; every tenth one a second round repairing the sample before it."""
    seed = seeds[i % len(seeds)]
    repair = i % 10 == 9
    return seed.model_copy(
        update={
            "id": f"s{i:07d}",
            "run_id": "scale-run",
            "sample_index": i // len(seeds),
            "round": 1 if repair else 0,
            "parent_id": f"s{i - 1:07d}" if repair else None,
            "generator": f"{seed.generator}#{i % 3}",
        }
    )


def measure(command: list[str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MB) and stdout of one subprocess."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"{command} failed: {child.stderr.read().decode() if child.stderr else ''}")
        out.seek(0)
        text = out.read().decode()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):8.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=None, help="default: a file in the temp directory")
    parser.add_argument("--no-baseline", action="store_true", help="measure `modulo report` only")
    args = parser.parse_args()
    workdir = Path(tempfile.gettempdir()) / "modulo-report-scale"
    workdir.mkdir(exist_ok=True)
    path = args.store or workdir / f"store-{args.samples}.sqlite"
    build_store(path, args.samples, workdir)
    size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-wal"))
    per_sample = size / args.samples / 1e3
    print(f"store: {args.samples} samples, {size / 1e6:.1f} MB, {per_sample:.2f} kB per sample")
    commands = {"current": [sys.executable, "-m", "modulo", "report", "--json", "--store", str(path)]}
    if not args.no_baseline:
        commands["baseline"] = [sys.executable, "-c", BASELINE, str(path)]
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for _ in range(args.repeats):  # interleaved: current, baseline, current, baseline, ...
        for name, command in commands.items():
            wall, cpu, rss, text = measure(command)
            results[name].append((wall, cpu, rss))
            outputs[name] = text
    if "baseline" in outputs and json.loads(outputs["baseline"]) != json.loads(outputs["current"]):
        raise SystemExit("the reports differ: the current report is not the baseline's")
    print(f"{'':10} {'wall s (median [range])':>26} {'CPU s':>26} {'peak RSS MB':>26}")
    for name, rows in results.items():
        walls, cpus, rsss = zip(*rows, strict=True)
        print(f"{name:10} {summary(list(walls)):>26} {summary(list(cpus)):>26} {summary(list(rsss)):>26}")
    if "baseline" in results:
        pairs = list(zip(results["baseline"], results["current"], strict=True))
        ratios = [summary([b[k] / c[k] for b, c in pairs]) for k in range(3)]
        print(f"{'ratio b/c':10} {ratios[0]:>26} {ratios[1]:>26} {ratios[2]:>26}")


if __name__ == "__main__":
    main()
