"""Verification on several processes (issue 15): `--workers N` gives byte-identical output to `--workers 1`
on published and imported data, a worker that raises or dies costs only its own item, and a killed
`modulo run --workers 2` resumes to the uninterrupted result."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shared_data import SHARED_DATA
from typer.testing import CliRunner

from modulo.cli import app
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.maze.formats import format_output, format_prompt
from modulo.domains.maze.generators import make_maze
from modulo.domains.maze.oracle import CORRUPTIONS, NotApplicable, astar_trace
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.executors import SMALL_INPUT, Failure, InProcess, LocalPool, make_executor
from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.packing import unpack
from modulo.protocols import ImportedItem, Importer
from modulo.runner import Runner
from modulo.store import Store
from modulo.verify import TraceRecord
from modulo.verify_stream import Line, LineOutcome, LineReader, verify_file

PLANBENCH = SHARED_DATA / "planbench"
LIB = PLANBENCH / "llm_planning_analysis"
LOGIC = SHARED_DATA / "logic"
needs_data = pytest.mark.skipif(
    not (LIB.is_dir() and LOGIC.is_dir()), reason=f"public data not found at {SHARED_DATA}"
)


def modulo(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "modulo", *map(str, args)], capture_output=True, env=env, timeout=600
    )


def published_mazes(path: Path, count: int, size: int = 10) -> Path:
    """`count` Searchformer-format lines made with the repo's maze generators and A* oracle, one in three
    corrupted, plus a line that is no maze and one that is not UTF-8 (skipped, in their place)."""
    names = sorted(CORRUPTIONS)
    with path.open("wb") as handle:
        for k in range(count):
            rng = random.Random(f"workers:{k}")
            maze = make_maze("searchformer", size, size, rng)
            exact = astar_trace(maze, "create")
            events = exact.events
            if k % 3 == 0:
                with contextlib.suppress(NotApplicable):
                    events = CORRUPTIONS[names[k // 3 % len(names)]](events, maze, rng).events
            line = (
                f"{format_prompt(maze, 'searchformer')} {format_output(events, exact.plan, 'searchformer')}"
            )
            handle.write(line.encode() + b"\n")
            if k == count // 2:
                handle.write(b"query 3 4 nothing here\n\xff\xfe not utf-8\n")
    return path


def traces_file(path: Path, importer: Importer, source: Path, options: dict[str, str]) -> Path:
    """A traces-in file of every record an importer reads from a published file (what `modulo verify`
    judges), so the verification itself happens under the test."""
    items = [item for item in importer.read(source, options) if isinstance(item, ImportedItem)]
    with path.open("w", encoding="utf-8") as handle:
        for n, item in enumerate(items):
            instance = item.instance.model_dump(mode="json", exclude={"domain"})
            record = TraceRecord(id=f"{n}", domain=item.instance.domain, instance=instance, text=item.text)
            handle.write(record.model_dump_json() + "\n")
    return path


def verify_both(path: Path, *args: str | Path) -> None:
    """`modulo verify` with --workers 1 and 2: the same bytes out, the same summary and messages."""
    results = []
    for workers in ("1", "2"):
        out = path.with_suffix(f".w{workers}.jsonl")
        done = modulo("verify", path, *args, "--workers", workers, "--out", out, "--json-summary")
        results.append((done.returncode, out.read_bytes(), done.stdout, _messages(done.stderr)))
    assert results[0] == results[1]
    code, verdicts, summary, _ = results[0]
    assert json.loads(summary)["verified"] == len(verdicts.splitlines())


def _messages(stderr: bytes) -> list[str]:
    """stderr without the progress bar (its timings differ run to run)."""
    return [line for line in stderr.decode().splitlines() if "━" not in line and "eta" not in line]


def test_verify_published_mazes_is_identical_on_two_workers(tmp_path: Path) -> None:
    path = published_mazes(tmp_path / "mazes.txt", SMALL_INPUT + 10, size=6)  # enough for a pool
    verify_both(path, "--domain", "maze", "--format", "searchformer")
    lines = (tmp_path / "mazes.w2.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    middle = (SMALL_INPUT + 10) // 2 + 1  # the two unreadable lines follow it
    ids = [str(n) for n in range(1, middle + 1)] + [str(n) for n in range(middle + 3, SMALL_INPUT + 13)]
    assert [r["id"] for r in records] == ids
    assert 0 < sum(r["trace_valid"] for r in records) < len(records)  # corrupted and exact both judged


PLANBENCH_OPTIONS = {
    "domain-file": str(LIB / "instances/blocksworld/generated_domain.pddl"),
    "config": str(LIB / "configs/blocksworld.yaml"),
    "instances": str(LIB / "instances/blocksworld/generated_basic"),
}
PLANBENCH_RESULTS = PLANBENCH / "results" / "blocksworld__gpt-4_chat__zero_shot.json"
PRONTOQA = LOGIC / "ProntoQA" / "dev_part1.json"


def same_on_a_pool(path: Path, count: int) -> list[LineOutcome]:
    """verify_file of the first `count` lines in-process and on a two-process pool: the same outcomes."""
    head = path.with_suffix(".head.jsonl")
    head.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:count]))
    reader = LineReader(str(head))
    pool = LocalPool(2, chunk=5, small=0)
    alone, pooled = list(verify_file(head, reader, InProcess())), list(verify_file(head, reader, pool))
    pool.close()
    assert alone == pooled and len(alone) == count and all(o.record for o in alone)
    assert all(json.loads(o.record or "")["steps"] for o in alone)
    return alone


@needs_data
def test_verify_planbench_records_is_identical_on_two_workers(tmp_path: Path) -> None:
    path = traces_file(
        tmp_path / "planbench.jsonl", PlanBenchImporter(), PLANBENCH_RESULTS, PLANBENCH_OPTIONS
    )
    outcomes = same_on_a_pool(path, 60)
    assert 0 < sum(o.correct for o in outcomes) < 60  # GPT-4 got some right and some wrong


@needs_data
def test_verify_a_logic_suite_is_identical_on_two_workers(tmp_path: Path) -> None:
    path = traces_file(tmp_path / "prontoqa.jsonl", LogicLMImporter(), PRONTOQA, {"dataset": "prontoqa"})
    same_on_a_pool(path, 60)


@pytest.mark.slow
@needs_data
def test_verify_cli_of_whole_published_files_is_identical_on_two_workers(tmp_path: Path) -> None:
    verify_both(traces_file(tmp_path / "pb.jsonl", PlanBenchImporter(), PLANBENCH_RESULTS, PLANBENCH_OPTIONS))
    verify_both(traces_file(tmp_path / "pq.jsonl", LogicLMImporter(), PRONTOQA, {"dataset": "prontoqa"}))


def suite(name: str = "par", count: int = 12) -> RunConfig:
    """Three domains, swapped maze traces so round 2 back-prompts them."""
    return RunConfig(
        name=name,
        rounds=2,
        retry_on="either",
        batch_size=4,
        generator=GeneratorConfig(name="oracle", params={"variant": "swapped"}),
        tasks=[
            TaskConfig(domain="maze", count=count, seed=0, params={"kind": "dfs", "width": 7}),
            TaskConfig(
                domain="blocksworld",
                count=count,
                seed=1,
                params={"blocks": 4},
                generator=GeneratorConfig(name="oracle", params={"variant": "optimal"}),
            ),
            TaskConfig(
                domain="deduction",
                count=count,
                seed=2,
                generator=GeneratorConfig(name="oracle", params={"variant": "skip-hop"}),
            ),
        ],
    )


def snapshot(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, generator, text, trace_json, verdicts_json, verified_by FROM samples ORDER BY id"
        ).fetchall()
    return [(i, g, unpack(t), unpack(tr), unpack(v), by) for i, g, t, tr, v, by in rows]


def test_run_on_a_pool_stores_what_a_run_in_process_stores(tmp_path: Path) -> None:
    stores = {}
    for name, executor in (("one", InProcess()), ("pool", LocalPool(2, chunk=3, small=0))):
        stores[name] = tmp_path / f"{name}.sqlite"
        with Store(stores[name]) as store:
            summary = Runner(suite(), store, executor=executor).run()
        executor.close()
        assert summary.verified == summary.generated == 36 + 24  # swapped mazes, skipped hops back-prompted
    one, pool = snapshot(stores["one"]), snapshot(stores["pool"])
    assert one == pool and len(one) == 60 and all(row[4] is not None for row in one)


@pytest.mark.slow
def test_run_cli_on_two_workers_stores_the_same(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text(
        'name = "cli"\n[generator]\nname = "oracle"\nparams = { variant = "swapped" }\n'
        f'[[tasks]]\ndomain = "maze"\ncount = {SMALL_INPUT + 10}\nparams = {{ kind = "dfs", width = 5 }}\n',
        encoding="utf-8",
    )
    for workers in ("1", "2"):
        done = modulo("run", config, "--store", tmp_path / f"w{workers}.sqlite", "--workers", workers)
        assert done.returncode == 0, done.stderr
    assert snapshot(tmp_path / "w1.sqlite") == snapshot(tmp_path / "w2.sqlite")
    assert len(snapshot(tmp_path / "w1.sqlite")) == SMALL_INPUT + 10


# --- a worker that raises or dies ------------------------------------------------------------------------


def raise_on_multiples_of_five(n: int) -> int:
    if n % 5 == 0:
        raise ValueError(f"{n} is a multiple of five")
    return n * n


def die_once_then_square(task: tuple[int, str]) -> int:
    """Kills its process the first time it sees an item whose marker file is missing; `always` dies."""
    n, marker = task
    if marker == "always" or (marker and not Path(marker).exists()):
        if marker != "always":
            Path(marker).touch()
        os._exit(9)
    return n * n


@pytest.mark.parametrize(
    "executor", [InProcess(), LocalPool(2, chunk=4, small=0)], ids=["in-process", "pool"]
)
def test_a_worker_that_raises_costs_only_its_item(executor: InProcess | LocalPool) -> None:
    results = list(executor.map(raise_on_multiples_of_five, range(40)))
    executor.close()
    assert [r for r in results if not isinstance(r, Failure)] == [n * n for n in range(40) if n % 5]
    assert [r.reason for r in results if isinstance(r, Failure)] == [
        f"ValueError: {n} is a multiple of five" for n in range(0, 40, 5)
    ]
    assert [isinstance(r, Failure) for r in results] == [n % 5 == 0 for n in range(40)]


def test_a_dead_pool_process_is_retried_once_then_reported(tmp_path: Path) -> None:
    pool = LocalPool(2, chunk=4, small=0)
    tasks = [(n, "") for n in range(24)]
    tasks[7] = (7, str(tmp_path / "seven"))  # dies on its first attempt only
    tasks[21] = (21, "always")  # dies every time
    results = list(pool.map(die_once_then_square, tasks))
    pool.close()
    assert results[7] == 49 and (tmp_path / "seven").exists()
    assert isinstance(results[21], Failure) and "died twice" in results[21].reason
    assert [r for n, r in enumerate(results) if n != 21] == [n * n for n in range(24) if n != 21]


class FailingAt:
    """An executor whose item `at` (counted over every map) fails as a worker that died twice would; the
    rest run in-process."""

    name = "local"
    workers = 1

    def __init__(self, at: int) -> None:
        self.at = at
        self.seen = 0

    def map(self, fn, items, count=None):  # type: ignore[no-untyped-def]
        for item in items:
            self.seen += 1
            yield (
                Failure("the worker process verifying it died twice")
                if self.seen == self.at + 1
                else fn(item)
            )

    def close(self) -> None:
        return None


def test_verify_gives_a_failed_line_an_explicit_unknown_verdict(tmp_path: Path) -> None:
    path = published_mazes(tmp_path / "mazes.txt", 4)
    reader = LineReader(str(path), "maze", "searchformer", {})
    outcomes = list(verify_file(path, reader, FailingAt(1)))
    assert [o.record is not None for o in outcomes] == [True, True, True, False, False, True]
    failed = json.loads(outcomes[1].record or "")
    assert failed["id"] == "2" and failed["answer_status"] == "unknown" and not failed["trace_valid"]
    assert failed["trace_status"] == "none" and "died twice" in failed["answer_message"]  # as a parser crash
    assert failed["steps"][0]["status"] == "unknown" and failed["steps"][0]["rule"] == "internal.error"
    assert outcomes[1].state == "none" and not outcomes[1].correct
    assert Line(1, "x") != Line(2, "x")


def test_a_failed_verification_in_a_run_is_stored_as_unknown(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(suite(count=2), store, executor=FailingAt(3)).run()  # type: ignore[arg-type]
        samples = store.samples(summary.run.id)
    unknown = [s for s in samples if s.verdicts and s.verdicts.answer.status == "unknown"]
    assert len(unknown) == 1 and "died twice" in unknown[0].verdicts.answer.message  # type: ignore[union-attr]
    assert not unknown[0].verdicts.trace_valid  # type: ignore[union-attr]


def test_bad_executor_flags_are_one_line_errors(tmp_path: Path) -> None:
    path = published_mazes(tmp_path / "mazes.txt", 2)
    for args, message in (
        (["--executor", "dask"], "--executor must be local or ray"),
        (["--ray-address", "127.0.0.1:1"], "--ray-address goes with --executor ray"),
        (["--workers", "0"], "--workers"),
    ):
        done = CliRunner().invoke(
            app, ["verify", str(path), "--domain", "maze", "--format", "searchformer", *args]
        )
        assert done.exit_code == 2 and message in done.stderr, done.stderr
    assert isinstance(make_executor("local", 1), InProcess)


# --- kill -9 mid-run ------------------------------------------------------------------------------------

KILL_SUITE = """
name = "kill"
batch_size = 8
[generator]
name = "oracle"
params = {{ variant = "swapped", latency = {latency} }}
[[tasks]]
domain = "maze"
count = {count}
seed = 5
params = {{ kind = "dfs", width = 5 }}
"""
KILLED = SMALL_INPUT + 10
"""Samples of the killed suite: enough for a pool."""


def test_kill_9_of_a_run_on_two_workers_then_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    config = tmp_path / "kill.toml"
    config.write_text(KILL_SUITE.format(latency=0.005, count=KILLED), encoding="utf-8")
    path, reference = tmp_path / "killed.sqlite", tmp_path / "reference.sqlite"
    command = [sys.executable, "-m", "modulo", "run", str(config), "--store", str(path), "--no-report"]
    proc = subprocess.Popen(
        [*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _verified(path) < 40 and proc.poll() is None:
        time.sleep(0.1)
    pool = _descendants(proc.pid)
    assert len(pool) >= 3, "a forkserver and two workers verify"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert 40 <= _verified(path) < KILLED, "the kill came mid-run"
    resumed = modulo("run", config, "--store", path, "--no-report", "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    done = modulo("run", config, "--store", reference, "--no-report", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert snapshot(path) == snapshot(reference) and len(snapshot(path)) == KILLED
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    assert not _still_running(pool), "the killed run's pool processes end with it"


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _still_running(pids: set[int], patience: float = 15.0) -> set[int]:
    """Those of `pids` still running (not zombies) after waiting up to `patience` seconds."""
    deadline = time.monotonic() + patience
    while True:
        running = set()
        for pid in pids:
            with contextlib.suppress(OSError, IndexError):
                if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    running.add(pid)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.5)


def _verified(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(
                db.execute("SELECT count(*) FROM samples WHERE verdicts_json IS NOT NULL").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0


def test_ray_missing_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the `ray` extra were not installed
    path = published_mazes(tmp_path / "mazes.txt", 2)
    done = CliRunner().invoke(app, ["verify", str(path), "--domain", "maze", "--executor", "ray"])
    assert done.exit_code == 2 and "pip install 'modulo[ray]'" in done.stderr, done.stderr
    assert not (tmp_path / "out.jsonl").exists()


@needs_data
def test_import_on_a_pool_stores_and_summarises_what_an_import_in_process_does(tmp_path: Path) -> None:
    from modulo.importing import read_records, store_records

    data = json.loads(PLANBENCH_RESULTS.read_text(encoding="utf-8"))
    data["instances"] = data["instances"][:30]
    source = tmp_path / PLANBENCH_RESULTS.name
    source.write_text(json.dumps(data), encoding="utf-8")
    records = read_records(PlanBenchImporter(), source, PLANBENCH_OPTIONS)
    summaries = []
    for name, executor in (("one", InProcess()), ("pool", LocalPool(2, chunk=4, small=0))):
        with Store(tmp_path / f"{name}.sqlite") as store:
            importer = PlanBenchImporter()
            _, summary = store_records(importer, source, PLANBENCH_OPTIONS, records, store, executor=executor)
        executor.close()
        summaries.append(summary)
    assert summaries[0] == summaries[1] and summaries[0]["agree"] + summaries[0]["disagree"] > 0
    assert snapshot(tmp_path / "one.sqlite") == snapshot(tmp_path / "pool.sqlite")
    assert len(snapshot(tmp_path / "one.sqlite")) == 30
