"""Integrity of what the store holds: sample identity, verdicts tied to their text, concurrent writers,
kills, stale verdicts and `reverify`, read-only readers (issue 12, items 1–3, 16, 17)."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modulo import store as store_module
from modulo.claims import utc_now
from modulo.cli import app
from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.packing import unpack
from modulo.protocols import Generation, GenerationRequest
from modulo.reverify import reverify
from modulo.runner import Runner, deterministic_sampling
from modulo.store import Store

cli = CliRunner()


def maze_task(variant: str | None = None, **params: object) -> TaskConfig:
    generator = None if variant is None else GeneratorConfig(name="oracle", params={"variant": variant})
    return TaskConfig(
        domain="maze", count=3, seed=0, params={"kind": "dfs", "width": 7, **params}, generator=generator
    )


def test_tasks_that_differ_only_in_generator_keep_their_own_samples(tmp_path: Path) -> None:
    """The repro's collide.toml: same domain, seed and size; exact, swapped and wrong_g oracles."""
    config = RunConfig(
        name="collide",
        tasks=[maze_task("exact"), maze_task("swapped"), maze_task("wrong_g", dialect="searchformer")],
    )
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(config, store).run()
        samples = store.samples(summary.run.id)
        assert reverify(store, summary.run.id, check=True).differences == []
    assert summary.generated == summary.verified == len(samples) == 9
    by_generator: dict[str, list[bool]] = {}
    for s in samples:
        assert s.verdicts is not None
        by_generator.setdefault(s.generator, []).append(s.verdicts.trace_valid)
    # exact traces are valid A*; swapped and wrong_g traces are not — each verdict sits with its own text
    assert by_generator == {
        "oracle:exact": [True] * 3,
        "oracle:swapped": [False] * 3,
        "oracle:wrong_g": [False] * 3,
    }
    wrong_g = [s for s in samples if s.generator == "oracle:wrong_g"]
    assert all(s.verdicts and "astar.wrong_g" in s.verdicts.rule_counts() for s in wrong_g)
    assert all(s.text.startswith("create") or "create" in s.text for s in wrong_g)


def test_tasks_that_differ_only_in_style_keep_their_own_samples(tmp_path: Path) -> None:
    tasks = [maze_task(), maze_task().model_copy(update={"style": "few-shot"})]
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(RunConfig(name="styles", tasks=tasks), store).run()
        samples = store.samples(summary.run.id)
    assert len(samples) == 6
    prompts = {json.dumps([m.model_dump() for m in s.prompt]) for s in samples}
    assert len(prompts) == 6, "each style's prompt is stored with its own sample"


def test_same_config_same_ids_and_resume(tmp_path: Path) -> None:
    config = RunConfig(name="again", tasks=[maze_task("exact"), maze_task("swapped")])
    with Store(tmp_path / "s.sqlite") as store:
        first = Runner(config, store, limit=2).run()
        second = Runner(config, store).run()
        again = Runner(config, store).run()
        ids = store.sample_ids(first.run.id)
    assert (first.generated, second.generated, second.skipped) == (4, 2, 4)
    assert (again.generated, again.skipped) == (0, 6) and len(ids) == 6


def test_a_verdict_is_written_only_for_the_text_it_was_computed_from(tmp_path: Path) -> None:
    config = RunConfig(name="guard", tasks=[maze_task("exact")])
    with Store(tmp_path / "s.sqlite") as store:
        run_id = Runner(config, store).run().run.id
        sample = store.samples(run_id)[0]
        assert sample.verdicts is not None
        forged = sample.model_copy(
            update={
                "text": "plan: nothing",
                "verdicts": sample.verdicts.model_copy(update={"steps": []}),
            }
        )
        assert store.set_verdicts(forged) is False
        assert store.set_verdicts(forged.model_copy(update={"id": "no-such-sample"})) is False
        assert store.sample(sample.id) == sample


def test_a_failed_run_leaves_no_run_behind(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
            raise RuntimeError("server down")

    config = RunConfig(name="fails", tasks=[maze_task()])
    with Store(tmp_path / "s.sqlite") as store:
        runner = Runner(config, store)
        runner._generators[config.generator.model_dump_json()] = Broken()  # type: ignore[assignment]
        with pytest.raises(RuntimeError):
            runner.run()
        assert store.runs() == []
        assert store._db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def test_failed_generations_are_stored_apart_and_retried_on_request(tmp_path: Path) -> None:
    class Rejecting:
        name = "rejecting"
        calls = 0

        def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
            Rejecting.calls += len(requests)
            return [
                Generation(key=r.key, text="", error="HTTP 400: context length")
                if i == 0
                else Generation(key=r.key, text="plan: (0, 0)")
                for i, r in enumerate(requests)
            ]

    config = RunConfig(name="rejects", batch_size=3, tasks=[maze_task()])
    with Store(tmp_path / "s.sqlite") as store:

        def runner(**options: bool) -> Runner:
            r = Runner(config, store, **options)  # type: ignore[arg-type]
            r._generators[config.generator.model_dump_json()] = Rejecting()  # type: ignore[assignment]
            return r

        first = runner().run()
        samples = store.samples(first.run.id)
        assert (first.generated, first.failed, first.verified) == (3, 1, 2)
        failed = [s for s in samples if s.generation_error]
        assert len(failed) == 1 and failed[0].verdicts is None and failed[0].trace is None
        again = runner().run()
        assert (again.generated, again.skipped) == (0, 3), "a failed generation is not retried by default"
        retried = runner(retry_failed=True).run()
        assert (retried.generated, retried.failed) == (1, 1)
        from modulo.report import build_report

        report = build_report(retried.run, store.samples(retried.run.id))
        assert report.failed_generations == 1 and report.overall.samples == 2 and report.unverified == 0


def test_cache_reuse_only_for_deterministic_sampling(tmp_path: Path) -> None:
    assert deterministic_sampling(GeneratorConfig(name="oracle"))
    assert deterministic_sampling(GeneratorConfig(name="openai", params={"temperature": 0}))
    assert not deterministic_sampling(GeneratorConfig(name="openai", params={"temperature": 0.8}))
    config = RunConfig(name="a", tasks=[maze_task("exact")])
    with Store(tmp_path / "s.sqlite") as store:
        Runner(config, store).run()
        renamed = config.model_copy(update={"name": "b"})
        assert Runner(renamed, store).run().cached == 3
        never = config.model_copy(update={"name": "c"})
        assert Runner(never, store, reuse="never").run().cached == 0


def test_rounds_stop_when_nothing_is_left_to_retry(tmp_path: Path) -> None:
    config = RunConfig(name="many-rounds", rounds=1000, tasks=[maze_task("exact")])
    started = time.perf_counter()
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(config, store).run()
    assert summary.generated == 3
    assert time.perf_counter() - started < 60  # 1000 empty rounds used to be planned one by one


def _sha_and_mtime(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_readers_never_write_the_store(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        run_id = Runner(RunConfig(name="ro", tasks=[maze_task("exact")]), store).run().run.id
    before = _sha_and_mtime(path)
    for args in (
        ["report"],
        ["report", "--json"],
        ["export"],
        ["export", "--traces"],
        ["reverify", "--check"],
    ):
        result = cli.invoke(app, [*args, "--store", str(path)])
        assert result.exit_code == 0, result.output
        assert _sha_and_mtime(path) == before, f"`modulo {' '.join(args)}` changed the store"
    with Store(path, readonly=True) as store:
        assert len(store.samples(run_id)) == 3
        with pytest.raises(Exception, match="read-only"):
            store.delete_failed(run_id)


def test_readers_work_on_a_file_they_may_not_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        Runner(RunConfig(name="ro", tasks=[maze_task("exact")]), store).run()
    # as for another user's file in another user's folder (root may write anything, so say it here)
    monkeypatch.setattr(store_module, "_writable", lambda _: False)
    result = cli.invoke(app, ["report", "--json", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["samples"] == 3


def test_readers_on_a_missing_store_create_nothing(tmp_path: Path) -> None:
    for command in (["report"], ["export"], ["reverify", "--check"], ["tui"]):
        result = cli.invoke(app, [*command, "--store", str(tmp_path / "typo.sqlite")])
        assert result.exit_code == 2 and "no store at" in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_stale_verdicts_are_reported_and_reverify_recomputes_them(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        run_id = Runner(RunConfig(name="stale", tasks=[maze_task("exact")]), store).run().run.id
        target = store.samples(run_id)[1]
    # what an older verifier would have left: another answer, made by other code
    with sqlite3.connect(path) as db:
        verdicts = json.loads(
            unpack(db.execute("SELECT verdicts_json FROM samples WHERE id = ?", (target.id,)).fetchone()[0])
            or ""
        )
        verdicts["answer"]["status"] = "incorrect"
        db.execute(
            "UPDATE samples SET verdicts_json = ?, answer_status = 'incorrect', verified_by = ? WHERE id = ?",
            (json.dumps(verdicts), json.dumps({"modulo": "0.0.1+old"}), target.id),
        )
    report = cli.invoke(app, ["report", "--json", "--store", str(path)])
    assert json.loads(report.stdout)["stale_verdicts"] == 1
    assert "reverify" in cli.invoke(app, ["report", "--store", str(path)]).stdout
    check = cli.invoke(app, ["reverify", "--check", "--store", str(path)])
    assert check.exit_code == 1 and target.id in check.stdout and "answer: incorrect" in check.stdout
    assert cli.invoke(app, ["reverify", "--store", str(path)]).exit_code == 0
    assert cli.invoke(app, ["reverify", "--check", "--store", str(path)]).exit_code == 0
    assert (
        json.loads(cli.invoke(app, ["report", "--json", "--store", str(path)]).stdout)["stale_verdicts"] == 0
    )


# --- several processes, kills, colliding configs -------------------------------------------------------

SUITE = """
name = "chaos"
batch_size = 2
rounds = 2
retry_on = "either"
[generator]
name = "oracle"
params = {{ variant = "exact", latency = {latency} }}
[[tasks]]
domain = "sums"
count = 6
seed = 3
[[tasks]]
domain = "sums"
count = 6
seed = 3
generator = {{ name = "oracle", params = {{ variant = "arithmetic-slip", latency = {latency} }} }}
"""
"""Two tasks that collide on everything but their generator; 6 + 6 first attempts and 6 retries."""

OTHER_SUITE = """
name = "chaos"
batch_size = 3
[generator]
name = "oracle"
params = {{ variant = "arithmetic-slip", latency = {latency} }}
[[tasks]]
domain = "sums"
count = 5
seed = 3
"""
"""Another config of the same name, domain and seed: a different run, whose samples must stay its own."""


def _snapshot(path: Path) -> dict[str, tuple[str, str, str | None]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, generator, text, verdicts_json FROM samples").fetchall()
    return {r[0]: (r[1], unpack(r[2]) or "", unpack(r[3])) for r in rows}


def _verdicts_only(rows: dict[str, tuple[str, str, str | None]]) -> dict[str, tuple[str, str, object]]:
    return {k: (g, t, None if v is None else json.loads(v)) for k, (g, t, v) in rows.items()}


def _modulo(*args: str) -> list[str]:
    return [sys.executable, "-m", "modulo", *args]


def _chaos(tmp_path: Path, env: dict[str, str], seed: int) -> None:
    """Random interleavings of concurrent runs of two colliding configs, and kills, on one store; then each
    config once more to finish. The store must equal the union of the configs run alone, one by one."""
    rng = random.Random(seed)
    suites = [tmp_path / "chaos.toml", tmp_path / "other.toml"]
    suites[0].write_text(SUITE.format(latency=0.03), encoding="utf-8")
    suites[1].write_text(OTHER_SUITE.format(latency=0.03), encoding="utf-8")
    path = tmp_path / f"chaos-{seed}.sqlite"
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    for _ in range(rng.randint(1, 3)):
        procs = [
            subprocess.Popen(
                _modulo("run", str(rng.choice(suites)), "--store", str(path), "--no-report"), **quiet
            )
            for _ in range(rng.randint(1, 3))
        ]
        time.sleep(rng.uniform(0.5, 2.5))
        for proc in procs:
            if rng.random() < 0.6:
                proc.send_signal(signal.SIGKILL)
        for proc in procs:
            assert proc.wait(timeout=120) in (0, -signal.SIGKILL)
    reference = tmp_path / f"reference-{seed}.sqlite"
    for suite in suites:
        subprocess.run(_modulo("run", str(suite), "--store", str(path), "--no-report"), check=True, **quiet)
        subprocess.run(
            _modulo("run", str(suite), "--store", str(reference), "--no-report"), check=True, **quiet
        )
    got, want = _snapshot(path), _snapshot(reference)
    assert len(want) == 18 + 5  # nothing lost, nothing twice
    assert got.keys() == want.keys()
    assert _verdicts_only(got) == _verdicts_only(want)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
        runs = db.execute("SELECT id FROM runs").fetchall()
    assert len(runs) == 2
    for (run_id,) in runs:
        check = subprocess.run(
            _modulo("reverify", run_id, "--check", "--store", str(path)), env=env, capture_output=True
        )
        assert check.returncode == 0, check.stdout + check.stderr


def test_concurrent_runs_and_kills_lose_and_duplicate_nothing(
    with_plugin: dict[str, str], tmp_path: Path
) -> None:
    _chaos(tmp_path, with_plugin, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 12))
def test_concurrent_runs_and_kills_many_interleavings(
    with_plugin: dict[str, str], tmp_path: Path, seed: int
) -> None:
    _chaos(tmp_path, with_plugin, seed)


def test_two_concurrent_runs_split_the_work(with_plugin: dict[str, str], tmp_path: Path) -> None:
    suite = tmp_path / "split.toml"
    suite.write_text(SUITE.format(latency=0.05), encoding="utf-8")
    path = tmp_path / "split.sqlite"
    command = _modulo("run", str(suite), "--store", str(path), "--no-report")
    procs = [subprocess.Popen(command, env=with_plugin, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=120)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    generated = [int(out.split(" generated")[0].rsplit(" ", 1)[1]) for out in outputs]
    assert sum(generated) == 18, outputs  # each sample generated by exactly one of the two
    assert len(_snapshot(path)) == 18


def test_a_version_2_store_is_upgraded_and_its_runs_stay_readable(tmp_path: Path) -> None:
    from modulo.store import _SCHEMA, MIGRATIONS

    config = RunConfig(name="old", tasks=[maze_task("exact")])
    path = tmp_path / "v2.sqlite"
    with Store(tmp_path / "fresh.sqlite") as fresh:
        run = Runner(config, fresh).run().run
        sample = fresh.samples(run.id)[0]
    with sqlite3.connect(path) as db:  # the same sample as modulo 0.1's schema 2 stored it
        db.executescript(_SCHEMA)
        for statement in MIGRATIONS[2]:
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
        db.execute(
            "INSERT INTO runs VALUES ('old-1234', 'old', ?, '{}', 'then')", (config.model_dump_json(),)
        )
        i = sample.instance
        db.execute(
            "INSERT INTO instances VALUES ('old-1234', ?, 'maze', ?, ?, ?)",
            (i.id, i.seed, json.dumps(i.difficulty), json.dumps(i.payload)),
        )
        db.execute(
            """INSERT INTO samples (id, run_id, instance_id, domain, generator, sample_index, round,
               prompt_json, text, prompt_tokens, completion_tokens, timings_json, cache_key)
               VALUES ('old-1234:maze:x:s0:r0', 'old-1234', ?, 'maze', 'oracle:exact', 0, 0,
                       '[]', ?, 0, 0, '{}', ?)""",
            (i.id, sample.text, sample.cache_key),
        )
    read_only = cli.invoke(app, ["report", "--store", str(path)])
    assert read_only.exit_code == 2 and "older schema" in read_only.output
    with Store(path) as store:
        old = store.samples("old-1234")
        assert [(s.instance, s.text) for s in old] == [(sample.instance, sample.text)]
        rerun = Runner(config, store).run()
        assert rerun.run.id != "old-1234" and rerun.cached == 1 and rerun.generated == 3
        assert len(store.samples("old-1234")) == 1 and len(store.samples(rerun.run.id)) == 3


def test_a_config_built_in_code_with_a_key_is_refused_before_anything_is_stored(tmp_path: Path) -> None:
    from modulo.runner import ConfigError

    generator = GeneratorConfig(name="oracle", params={"api_key": "sk-live-1234567890abcdef"})
    config = RunConfig(name="leak", generator=generator, tasks=[maze_task()])
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ConfigError) as caught:
            Runner(config, store).run()
        assert "sk-live" not in str(caught.value)
        assert store.runs() == []


def test_progress_totals_match_the_work_done(with_plugin: dict[str, str], tmp_path: Path) -> None:
    """The progress bar's total (and so its ETA) grows by each round's pending samples, and ends full."""
    config = RunConfig(
        name="totals",
        rounds=3,
        generator=GeneratorConfig(name="oracle", params={"variant": "arithmetic-slip"}),
        tasks=[TaskConfig(domain="sums", count=4, seed=1)],
    )
    planned: list[int] = []
    done: list[int] = []
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(config, store).run(progress=lambda _, n: done.append(n), planned=planned.append)
    assert planned == [4, 4, 4] and sum(done) == 12 == summary.generated


def test_a_domain_whose_instances_change_resumes_without_doubling_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by an adversarial review: new instance content under the same ids added a second copy of
    every sample to the run. The stored samples stay, judged against their stored instances."""
    from modulo.domains.maze.domain import MazeDomain

    config = RunConfig(name="changing", tasks=[maze_task("exact")])
    with Store(tmp_path / "s.sqlite") as store:
        first = Runner(config, store).run()
        original = MazeDomain.generate

        def changed(self: MazeDomain, *args: object, **kwargs: object) -> list:  # type: ignore[type-arg]
            return [
                i.model_copy(update={"payload": {**i.payload, "v": 2}})
                for i in original(self, *args, **kwargs)  # type: ignore[arg-type]
            ]

        monkeypatch.setattr(MazeDomain, "generate", changed)
        again = Runner(config, store).run()
        assert (again.generated, again.skipped) == (0, 3)
        assert len(store.samples(first.run.id)) == 3


def test_two_identical_tasks_are_refused(tmp_path: Path) -> None:
    from modulo.runner import ConfigError

    config = RunConfig(name="twice", tasks=[maze_task("exact"), maze_task("exact")])
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(ConfigError, match="same task"):
            Runner(config, store).run()
        assert store.runs() == []


def test_reverify_of_logic_runs_finds_nothing_and_rewrites_nothing(tmp_path: Path) -> None:
    """Found by an adversarial review: parsed steps came back from the store as lists where a fresh
    reading holds tuples, so deduction and zebra samples always 'differed'."""
    tasks = [
        TaskConfig(
            domain="deduction", count=2, seed=0, generator=GeneratorConfig(params={"variant": "gold"})
        ),
        TaskConfig(domain="zebra", count=1, seed=0, generator=GeneratorConfig(params={"variant": "gold"})),
    ]
    with Store(tmp_path / "s.sqlite") as store:
        run_id = Runner(RunConfig(name="logic", tasks=tasks), store).run().run.id
        assert reverify(store, run_id, check=True).differences == []
        assert reverify(store, run_id, check=False).rewritten == 0


def test_reverify_prints_ids_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        gold = GeneratorConfig(params={"variant": "gold"})
        run_id = (
            Runner(RunConfig(name="z", tasks=[TaskConfig(domain="zebra", count=1, generator=gold)]), store)
            .run()
            .run.id
        )
        target = store.samples(run_id)[0]
    with sqlite3.connect(path) as db:  # tampered with, and written back uncompressed as before schema 6
        for sample_id, stored in db.execute("SELECT id, verdicts_json FROM samples").fetchall():
            tampered = (unpack(stored) or "").replace("correct", "incorrect")
            db.execute("UPDATE samples SET verdicts_json = ? WHERE id = ?", (tampered, sample_id))
    check = cli.invoke(app, ["reverify", "--check", "--store", str(path)])
    assert check.exit_code == 1 and target.id in check.stdout and ":zebra:" in target.id


def test_export_traces_leaves_out_failed_generations(tmp_path: Path) -> None:
    class Rejecting:
        name = "rejecting"

        def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
            return [Generation(key=r.key, text="", error="HTTP 400") for r in requests[:1]] + [
                Generation(key=r.key, text="plan: (0, 0)") for r in requests[1:]
            ]

    config = RunConfig(name="export", batch_size=3, tasks=[maze_task()])
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        runner = Runner(config, store)
        runner._generators[config.generator.model_dump_json()] = Rejecting()  # type: ignore[assignment]
        runner.run()
    result = cli.invoke(app, ["export", "--traces", "--store", str(path)])
    assert result.exit_code == 0
    assert len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 2


def test_many_processes_may_create_one_store_at_once(tmp_path: Path) -> None:
    """Switching a new file to WAL answers 'database is locked' at once, without SQLite's busy wait; a
    run that started together with another on a fresh store failed on it (found under load)."""
    opener = (
        "import sys, time; from modulo.store import Store\n"
        "while time.time() < float(sys.argv[2]): pass\n"  # all processes open at the same moment
        "Store(sys.argv[1]).close()"
    )
    for attempt in range(5):
        path, start = tmp_path / f"fresh-{attempt}.sqlite", str(time.time() + 1.5)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", opener, str(path), start], stderr=subprocess.PIPE, text=True
            )
            for _ in range(6)
        ]
        errors = [proc.communicate(timeout=60)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0] * 6, errors


def test_claims_a_killed_process_left_on_finished_samples_are_dropped(tmp_path: Path) -> None:
    """A process killed after writing verdicts but before releasing its claims leaves them behind;
    the next run drops every claim whose owner is dead, and keeps a live owner's."""
    config = RunConfig(name="claims", tasks=[maze_task("exact")])
    owner = (
        "from modulo.claims import process_owner; import time; "
        "print(process_owner(), flush=True); time.sleep(60)"
    )
    dead = subprocess.Popen([sys.executable, "-c", owner], stdout=subprocess.PIPE, text=True)
    live = subprocess.Popen([sys.executable, "-c", owner], stdout=subprocess.PIPE, text=True)
    try:
        assert dead.stdout is not None and live.stdout is not None
        dead_owner, live_owner = dead.stdout.readline().strip(), live.stdout.readline().strip()
        dead.kill()
        dead.wait()
        with Store(tmp_path / "claims.sqlite") as store:
            run = Runner(config, store).run().run
            ids = [s.id for s in store.samples(run.id)]
            with sqlite3.connect(tmp_path / "claims.sqlite") as db:
                db.execute("INSERT INTO claims VALUES (?, ?, ?)", (ids[0], dead_owner, utc_now()))
                db.execute("INSERT INTO claims VALUES (?, ?, ?)", (ids[1], live_owner, utc_now()))
            Runner(config, store).run()
            with sqlite3.connect(tmp_path / "claims.sqlite") as db:
                left = db.execute("SELECT sample_id, owner FROM claims").fetchall()
    finally:
        live.kill()
        live.wait()
    assert left == [(ids[1], live_owner)]  # the dead owner's claim is gone, the live one's kept
