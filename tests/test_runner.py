"""Running suites into the store: verdicts stored, resume without duplicates, LLM-Modulo rounds, SIGKILL."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.packing import unpack
from modulo.runner import Runner
from modulo.store import Store


def sums_config(variant: str = "exact", count: int = 5, rounds: int = 1, **extra: object) -> RunConfig:
    return RunConfig(
        name="sums-test",
        generator=GeneratorConfig(name="oracle", params={"variant": variant}),
        rounds=rounds,
        tasks=[TaskConfig(domain="sums", count=count, seed=1, params={"length": 4})],
        **extra,  # type: ignore[arg-type]
    )


def test_exact_oracle_all_valid_and_stored(with_plugin: dict[str, str], tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(sums_config(), store).run()
        samples = store.samples(summary.run.id)
    assert summary.generated == summary.verified == 5
    assert len(samples) == 5
    for s in samples:
        assert s.verdicts is not None and s.verdicts.trace_valid and s.verdicts.answer.status == "correct"
        assert s.generator == "oracle:exact" and s.text.startswith("Step 1:")


def test_corrupted_oracle_caught_at_the_slip(with_plugin: dict[str, str], tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = Runner(sums_config("arithmetic-slip"), store).run().run
        samples = store.samples(run.id)
    for s in samples:
        assert s.verdicts is not None and not s.verdicts.trace_valid
        first = s.verdicts.first_error
        assert first is not None and s.verdicts.steps[first].rule == "sums.arithmetic"
        # local validity: steps after the slip build on the trace's own (wrong) total and stay valid
        assert all(v.status == "valid" for v in s.verdicts.steps[first + 1 :])
        assert s.verdicts.answer.status == "incorrect"


def test_rerun_resumes_without_duplicates(with_plugin: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        first = Runner(sums_config(), store, limit=2).run()
        second = Runner(sums_config(), store).run()
        again = Runner(sums_config(), store).run()
        assert first.run.id == second.run.id
        assert (first.generated, second.generated, second.skipped) == (2, 3, 2)
        assert (again.generated, again.skipped) == (0, 5)
        assert len(store.samples(first.run.id)) == 5


def test_rounds_back_prompt_with_critique(with_plugin: dict[str, str], tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        run = Runner(sums_config("arithmetic-slip", count=2, rounds=3), store).run().run
        samples = store.samples(run.id)
    assert sorted(s.round for s in samples) == [0, 0, 1, 1, 2, 2]
    by_id = {s.id: s for s in samples}
    for s in samples:
        if s.round == 0:
            assert s.parent_id is None
            continue
        parent = by_id[s.parent_id or ""]
        assert parent.round == s.round - 1 and parent.instance.id == s.instance.id
        assert s.prompt[-2].content == parent.text
        assert s.prompt[-1].content.startswith("Fix these steps")


def test_sigkill_loses_only_samples_in_flight(with_plugin: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "slow.toml"
    config.write_text(
        'name = "slow"\nbatch_size = 1\n[generator]\nname = "oracle"\nparams = { latency = 0.15 }\n'
        '[[tasks]]\ndomain = "sums"\ncount = 40\n',
        encoding="utf-8",
    )
    store_path = tmp_path / "kill.sqlite"
    command = [sys.executable, "-m", "modulo", "run", str(config), "--store", str(store_path), "--no-report"]
    proc = subprocess.Popen(command, env=with_plugin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while _count(store_path, "") < 5:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run stored nothing within 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        proc.kill()
    before = _rows(store_path)
    assert 5 <= len(before) < 40
    subprocess.run(command, env=with_plugin, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = _rows(store_path)
    assert len(after) == 40, "the resumed run must complete every sample exactly once"
    assert _count(store_path, "WHERE verdicts_json IS NULL") == 0
    for sample_id, (text, generated_at) in before.items():
        assert after[sample_id] == (text, generated_at), "a stored text was regenerated"


def _count(path: Path, where: str) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute(f"SELECT COUNT(*) FROM samples {where}").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def _rows(path: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, text, generated_at FROM samples").fetchall()
    return {r[0]: (unpack(r[1]) or "", r[2]) for r in rows}


def test_generation_cache_reuses_texts_across_runs(with_plugin: dict[str, str], tmp_path: Path) -> None:
    """Same generator, params, prompt and sample: the text is reused, even under another suite name."""
    with Store(tmp_path / "s.sqlite") as store:
        first = Runner(sums_config("arithmetic-slip"), store).run()
        renamed = sums_config("arithmetic-slip").model_copy(update={"name": "renamed"})
        second = Runner(renamed, store).run()
        other = Runner(sums_config("exact").model_copy(update={"name": "other"}), store).run()
        texts = [[s.text for s in store.samples(r.run.id)] for r in (first, second, other)]
    assert first.run.id != second.run.id
    assert (first.cached, second.generated, second.cached) == (0, 5, 5)
    assert texts[0] == texts[1]
    assert other.cached == 0 and texts[2] != texts[0]
