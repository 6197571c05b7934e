"""Benchmark: `modulo verify` throughput (items/s) against workers, on the local pool and on Ray.

Run `python benchmarks/scaling.py [--repeat R] [--mazes N] [--no-ray] [--crossover] [--profile]
[--only NAME]`. Workloads, real data:

- mazes: N Searchformer-format lines of 30x30 mazes made by the repo's generators (one in three traces
  corrupted; benchmarks/verify_mazes.py writes them), `--domain maze --format searchformer`;
- planbench: GPT-4's 500 zero-shot Blocksworld answers (PlanBench, ../shared/data) as traces-in records;
- logic: the 250 PrOntoQA gold proof chains (Logic-LM's file) as traces-in records.

Each round runs, taking turns, the real command in a child process: `--workers 1` (in-process), `--workers
2` (local pool), and with Ray `--executor ray` on a 1-CPU and on a 2-CPU Ray head started for the run
(`ray start --head`; Ray's parallelism is the cluster's CPUs). Items/s = records / wall seconds of the
whole command (start-up included: what a user waits for). It prints median and range over the rounds and
the ratio to `--workers 1` of the same round, and the driver's CPU seconds (reading, writing, pickling:
the serial part; with `--workers 1` all the work). `--crossover` also times verify_file on the first n
maze lines in a fresh interpreter, in-process against a new two-process pool (its start-up included),
to find where the pool starts to pay. `--profile` measures the part that does not scale (see `profile`).
Other processes on the machine add noise: the load is printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from shared_data import SHARED_DATA  # noqa: E402
from verify_mazes import published_lines  # noqa: E402

from modulo.domains.logic.importer import LogicLMImporter  # noqa: E402
from modulo.domains.planning.importer import PlanBenchImporter  # noqa: E402
from modulo.protocols import ImportedItem, Importer  # noqa: E402
from modulo.verify import TraceRecord  # noqa: E402

LIB = SHARED_DATA / "planbench" / "llm_planning_analysis"
PLANBENCH = SHARED_DATA / "planbench" / "results" / "blocksworld__gpt-4_chat__zero_shot.json"
PLANBENCH_OPTIONS = {
    "domain-file": str(LIB / "instances/blocksworld/generated_domain.pddl"),
    "config": str(LIB / "configs/blocksworld.yaml"),
    "instances": str(LIB / "instances/blocksworld/generated_basic"),
}
PRONTOQA = SHARED_DATA / "logic" / "ProntoQA" / "dev_part1.json"
RAY = Path(sys.executable).with_name("ray")


def traces(path: Path, importer: Importer, source: Path, options: dict[str, str]) -> int:
    """Write the importer's records of `source` as traces-in lines; returns how many."""
    items = [i for i in importer.read(source, options) if isinstance(i, ImportedItem)]
    with path.open("w", encoding="utf-8") as handle:
        for n, item in enumerate(items):
            instance = item.instance.model_dump(mode="json", exclude={"domain"})
            record = TraceRecord(id=str(n), domain=item.instance.domain, instance=instance, text=item.text)
            handle.write(record.model_dump_json() + "\n")
    return len(items)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, the driver's CPU seconds) of a command; it must succeed."""
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    assert child.stderr is not None
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {child.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def ray_head(cpus: int) -> tuple[subprocess.Popen[bytes], str]:
    """A Ray head with `cpus` CPUs on a free port (`ray start --head --block`, token auth off); returns
    the process (stop it with `stop_head`) and its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", f"--num-cpus={cpus}", f"--port={port}"]
        + ["--include-dashboard=false", "--disable-usage-stats"],
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return head, f"127.0.0.1:{port}"
        if head.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("ray start --head failed")
        time.sleep(0.5)


def stop_head(head: subprocess.Popen[bytes]) -> None:
    """Stop the processes one `ray_head` started (its own process group), and no others."""
    os.killpg(head.pid, signal.SIGTERM)
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


CROSSOVER = """
import sys, time
from pathlib import Path
from modulo.executors import InProcess, LocalPool, domain_modules
from modulo.verify_stream import LineReader, verify_file
if __name__ == "__main__":
    path, n, kind = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    head = path.with_suffix(f".{n}.txt")
    head.write_text("".join(path.read_text().splitlines(keepends=True)[:n]))
    reader = LineReader(str(head), "maze", "searchformer", {})
    began = time.perf_counter()
    preload = domain_modules(["maze"])
    executor = InProcess() if kind == "in-process" else LocalPool(2, small=0, preload=preload)
    assert len(list(verify_file(head, reader, executor))) == n
    executor.close()
    print(time.perf_counter() - began)
"""


def crossover(mazes: Path, repeat: int) -> None:
    print("\ncrossover: seconds for the first n maze lines (pool start-up included), median of rounds")
    for n in (10, 25, 50, 100, 200, 400):
        times: dict[str, list[float]] = {"in-process": [], "pool of 2": []}
        for _ in range(repeat):
            for kind in times:
                done = subprocess.run(
                    [sys.executable, "-c", CROSSOVER, str(mazes), str(n), kind],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                times[kind].append(float(done.stdout))
        one, two = (statistics.median(v) for v in times.values())
        print(f"  n={n:4d}  in-process {one:6.2f} s   pool of 2 {two:6.2f} s   ratio {one / two:4.2f}")


def profile(name: str, path: Path, count: int, extra: list[str], repeat: int, tmp: Path) -> None:
    """Per record: the driver's CPU with a pool (reading, pickling, writing: what does not scale) and all
    the CPU of `--workers 1`, each the difference between the file twice over and the file (so start-up
    cancels out, and both stay above the in-process threshold); their ratio bounds the speed-up on any
    number of cores (Amdahl)."""
    double = tmp / f"double{path.suffix}"
    double.write_text(path.read_text(encoding="utf-8") * 2, encoding="utf-8")
    serial, total = [], []
    for _ in range(repeat):
        cpu = {}
        for workers in ("1", "2"):
            for file in (double, path):
                command = [sys.executable, "-m", "modulo", "verify", str(file), *extra, "--workers", workers]
                cpu[workers, file] = timed([*command, "--out", str(tmp / "out.jsonl")], dict(os.environ))[1]
        total.append((cpu["1", double] - cpu["1", path]) / count)
        serial.append((cpu["2", double] - cpu["2", path]) / count)
    t, s = statistics.median(total), statistics.median(serial)
    bound = f"at most x{t / s:.1f} on any number of cores" if s > 0 else "below this measurement's noise"
    print(
        f"  {name}: {1e3 * t:.2f} ms CPU per record in all, {1e3 * s:.2f} ms of it in the driver with a pool "
        f"({100 * s / t:.0f}%): {bound}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mazes", type=int, default=1000)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--crossover", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", help="run only the workload whose name starts with this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        mazes = tmp / "mazes.txt"
        mazes.write_text("\n".join(published_lines(args.mazes, 30, 0)[0]) + "\n", encoding="utf-8")
        maze_args = ["--domain", "maze", "--format", "searchformer", "--size", "30"]
        workloads: list[tuple[str, Path, int, list[str]]] = [("mazes 30x30", mazes, args.mazes, maze_args)]
        if PLANBENCH.exists() and PRONTOQA.exists():
            pb, pq = tmp / "planbench.jsonl", tmp / "prontoqa.jsonl"
            workloads.append(
                ("planbench", pb, traces(pb, PlanBenchImporter(), PLANBENCH, PLANBENCH_OPTIONS), [])
            )
            workloads.append(
                ("logic", pq, traces(pq, LogicLMImporter(), PRONTOQA, {"dataset": "prontoqa"}), [])
            )
        heads = {} if args.no_ray else {cpus: ray_head(cpus) for cpus in (1, 2)}
        try:
            configs: dict[str, tuple[list[str], dict[str, str]]] = {
                "local 1": (["--workers", "1"], dict(os.environ)),
                "local 2": (["--workers", "2"], dict(os.environ)),
            }
            for cpus, (_, address) in heads.items():
                configs[f"ray {cpus}"] = (["--executor", "ray"], {**os.environ, "RAY_ADDRESS": address})
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"load average {load} on {os.cpu_count()} CPUs; {args.repeat} interleaved rounds")
            workloads = [w for w in workloads if not args.only or w[0].startswith(args.only)]
            for name, path, count, extra in workloads:
                report(name, path, count, extra, configs, args.repeat, tmp)
            if args.profile:
                print("\nprofile: CPU per record, start-up left out (the file twice over minus the file)")
                for name, path, count, extra in workloads:
                    profile(name, path, count, extra, args.repeat, tmp)
            if args.crossover:
                crossover(mazes, args.repeat)
        finally:
            for head, _ in heads.values():
                stop_head(head)
        print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def report(
    name: str,
    path: Path,
    count: int,
    extra: list[str],
    configs: dict[str, tuple[list[str], dict[str, str]]],
    repeat: int,
    tmp: Path,
) -> None:
    rates: dict[str, list[float]] = {c: [] for c in configs}
    ratios: dict[str, list[float]] = {c: [] for c in configs}
    driver: dict[str, list[float]] = {c: [] for c in configs}
    for _ in range(repeat):
        walls = {}
        for config, (flags, env) in configs.items():
            command = [sys.executable, "-m", "modulo", "verify", str(path), *extra, *flags]
            wall, cpu = timed([*command, "--out", str(tmp / "out.jsonl")], env)
            walls[config] = wall
            rates[config].append(count / wall)
            driver[config].append(cpu)
        for config in configs:
            ratios[config].append(walls["local 1"] / walls[config])
    print(f"\n{name}: {count} records")
    show: Callable[[list[float]], str] = lambda v: (  # noqa: E731
        f"{statistics.median(v):8.1f} ({min(v):.1f}-{max(v):.1f})"
    )
    for config in configs:
        ratio = ratios[config]
        cpu = statistics.median(driver[config])
        print(
            f"  {config:8s} items/s {show(rates[config])}   x{statistics.median(ratio):.2f} "
            f"({min(ratio):.2f}-{max(ratio):.2f}) vs local 1   driver CPU {cpu:.1f} s"
        )


if __name__ == "__main__":
    main()
