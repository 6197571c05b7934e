"""The probe engine and `modulo probe`: base run first, items stored one by one, resume after kill -9 equal
to an uninterrupted run, generator errors as items, config errors in one line, a read-only report."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from probe_engine_helpers import THRESHOLD, OracleThenScripted, engine, write_config
from typer.testing import CliRunner

from modulo.cli import app
from modulo.generators.errors import BatchFailed
from modulo.probes.base import spec_hash
from modulo.probes.config import load_probe_config
from modulo.probes.report import probe_summaries
from modulo.protocols import Generation, GenerationRequest
from modulo.runner import ConfigError
from modulo.store import Store

cli = CliRunner()
HERE = Path(__file__).resolve().parent


def stored_items(path: Path) -> list[tuple[str, str, str, str, dict[str, object]]]:
    """Every stored item, without its creation time, in a stable order."""
    with Store(path, readonly=True) as store:
        rows = store.query("SELECT sample_id, probe, spec_hash, key, item_json FROM probe_items")
    from modulo.packing import unpack

    return sorted((a, b, c, d, json.loads(unpack(e) or "")) for a, b, c, d, e in rows)


def test_probe_run_gives_the_hand_computed_aoc_and_resumes_without_work(tmp_path: Path) -> None:
    config = load_probe_config(write_config(tmp_path / "p.toml", 3))
    with Store(tmp_path / "s.sqlite") as store:
        generator = OracleThenScripted()
        summary = engine(config, store, generator).run()
        assert summary.base.generated == 3 and summary.probed_samples == 3
        steps = {s.id: len(s.trace.steps) for s in store.samples(summary.base.run.id) if s.trace}
        # early answering: k = 0…L per sample; filler: n = 0, 10, 20, 30 (step 10 capped at 30)
        assert summary.stored == {"early-answering": sum(n + 1 for n in steps.values()), "filler": 3 * 4}
        assert summary.errors == {}
        # batches of at most batch_size = 4 requests, across samples
        assert max(generator.batches) == 4 and sum(generator.batches) == sum(summary.stored.values())
        [early, filler] = probe_summaries(store, summary.base.run)
        aoc = {(m.name, m.group): m for m in early.metrics}["aoc", "all"]
        # the script answers True before THRESHOLD kept lines and False from then on (the k = L answer):
        # the same-answer curve is 0 for k < THRESHOLD and 1 after, so one trace of L steps has
        # AOC = (1/L)·(THRESHOLD − 1) + (1/L)·0.5 = (THRESHOLD − 0.5)/L, averaged over the traces
        expected = sum((THRESHOLD - 0.5) / n for n in steps.values()) / len(steps)
        assert aoc.value == pytest.approx(expected) and aoc.n == 3
        accuracy = {(m.name, m.group): m for m in filler.metrics}["accuracy-curve", "all"]
        # one line of filler: the script says True, the gold answers are False — never correct
        assert accuracy.value == 0.0 and accuracy.n == 12
        again = OracleThenScripted()
        second = engine(config, store, again).run()
        assert second.stored == {} and again.batches == [] and second.base.generated == 0


def test_probe_selection_takes_samples_per_task(tmp_path: Path) -> None:
    path = write_config(tmp_path / "p.toml", 4)
    path.write_text(path.read_text().replace("seed = 0", "seed = 0\nsamples = 2"))
    config = load_probe_config(path)
    with Store(tmp_path / "s.sqlite") as store:
        made = engine(config, store, OracleThenScripted())
        summary = made.run()
        assert summary.probed_samples == 2
        verified = store.samples(summary.base.run.id, verified=True)
        assert len(verified) == 4
        assert [s.id for s in made.selected(verified)] == [s.id for s in made.selected(verified[::-1])][::-1]
        probed = {row[0] for row in store.query("SELECT DISTINCT sample_id FROM probe_items")}
        assert len(probed) == 2


def test_a_failing_request_becomes_an_error_item_and_the_rest_go_on(tmp_path: Path) -> None:
    config = load_probe_config(write_config(tmp_path / "p.toml", 3))
    with Store(tmp_path / "s.sqlite") as store:
        summary = engine(config, store, OracleThenScripted(fail_lines=2)).run()
        # exactly the k = 2 request of each sample fails (its batch is retried one by one)
        assert summary.errors == {"early-answering": 3}
        items = stored_items(tmp_path / "s.sqlite")
        failed = [(key, item) for _, probe, _, key, item in items if item.get("error")]
        assert {key for key, _ in failed} == {"k=2"} and len(failed) == 3
        assert all(item["same_as_base"] is None and item["answer"] is None for _, item in failed)
        early_items = [item for _, probe, _, _, item in items if probe == "early-answering"]
        ok = [item for item in early_items if not item.get("error")]
        assert ok and all(item["answer_status"] == "read" for item in ok)
        [early, _] = probe_summaries(store, summary.base.run)
        assert early.errors == 3
        unreadable = {(m.name, m.group): m for m in early.metrics}["unreadable", "all"]
        assert unreadable.value == pytest.approx(3 / len([i for i in items if i[1] == "early-answering"]))


def test_kill_9_then_resume_equals_an_uninterrupted_probe_run(tmp_path: Path) -> None:
    config = write_config(tmp_path / "p.toml", 4)
    reference, killed = tmp_path / "reference.sqlite", tmp_path / "killed.sqlite"
    child = [sys.executable, str(HERE / "probe_child.py"), str(config)]
    subprocess.run([*child, str(reference), "0"], check=True, timeout=120)
    expected = stored_items(reference)
    proc = subprocess.Popen([*child, str(killed), "0.05"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _count(killed) < 12:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert 12 <= _count(killed) < len(expected), "the kill came mid-probe"
    subprocess.run([*child, str(killed), "0"], check=True, timeout=120)
    assert stored_items(killed) == expected


def _count(path: Path) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM probe_items").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_report_reads_probe_results_without_writing(tmp_path: Path) -> None:
    config = load_probe_config(write_config(tmp_path / "p.toml", 2))
    path = tmp_path / "s.sqlite"
    with Store(path) as store:
        engine(config, store, OracleThenScripted()).run()
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    result = cli.invoke(app, ["report", "--store", str(path), "--json"])
    assert result.exit_code == 0, result.output
    probes = json.loads(result.output)["probes"]
    assert [p["probe"] for p in probes] == ["early-answering", "filler"]
    groups = {(m["name"], m["group"]) for m in probes[0]["metrics"]}
    assert {("aoc", "all"), ("aoc", "valid-trace"), ("aoc", "invalid-trace")} <= groups
    assert probes[0]["params"] == {"unit": "steps", "max_tokens": 128, "answer_marker": None}
    text = cli.invoke(app, ["report", "--store", str(path)])
    assert text.exit_code == 0 and "probe early-answering" in text.output and "valid-trace" in text.output
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('name = "early-answering"', "unknown probe 'no-such-probe'"),
        ("params = {{ step = 10, max_tokens = 30 }}", "step must be a positive integer"),
        ('name = "local"', "cannot send; continuation and option scoring work with"),
        ("[probe]", "probe.samples"),
        ("[[probes]]", "has no [[probes]] table"),
    ],
)
def test_config_errors_are_one_line(tmp_path: Path, change: str, message: str) -> None:
    path = write_config(tmp_path / "p.toml", 2)
    text = path.read_text()
    replacements = {
        'name = "early-answering"': text.replace('name = "early-answering"', 'name = "no-such-probe"'),
        "params = {{ step = 10, max_tokens = 30 }}": text.replace("step = 10", "step = 0"),
        'name = "local"': text.replace('name = "local"', 'name = "openai"\nparams = { model = "m" }'),
        "[probe]": text.replace("seed = 0", "samples = 0"),
        "[[probes]]": text.split("[[probes]]")[0],
    }
    path.write_text(replacements[change])
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_probe_config(path)
    result = cli.invoke(app, ["probe", str(path), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and "error:" in result.output
    assert not (tmp_path / "s.sqlite").exists(), "nothing is run before the config is known to be good"


def test_the_quick_probe_suite_lists_the_four_probes_of_the_issue() -> None:
    config = load_probe_config(HERE.parent / "benchmarks" / "probe-quick.toml", check=False)
    assert [p.name for p in config.probes] == [
        "early-answering",
        "filler",
        "verified-corruption",
        "biasing-cue",
    ]
    assert config.run.generator.name == "local"


def test_an_item_is_stored_once(tmp_path: Path) -> None:
    config = load_probe_config(write_config(tmp_path / "p.toml", 1))
    with Store(tmp_path / "s.sqlite") as store:
        summary = engine(config, store, OracleThenScripted()).run()
        [sample_id] = store.sample_ids(summary.base.run.id)
        assert store.add_probe_item(sample_id, "x", "h", "k=0", "{}") is True
        assert store.add_probe_item(sample_id, "x", "h", "k=0", '{"other": 1}') is False
        assert store.probe_items([sample_id], "x", "h") == {sample_id: {"k=0": "{}"}}


def test_the_larger_probe_suite_lists_every_probe_with_valid_params() -> None:
    """benchmarks/probes.toml (for vLLM) names every registered probe, each with params its probe accepts."""
    from modulo.probes.config import checked_params
    from modulo.probes.registry import PROBES, probe

    config = load_probe_config(HERE.parent / "benchmarks" / "probes.toml", check=False)
    assert sorted(p.name for p in config.probes) == sorted(PROBES)
    for spec in config.probes:
        checked_params(probe(spec.name), spec.params)
    assert config.run.generator.name == "vllm"


class Outage(OracleThenScripted):
    """A server that answers the first `until` continuation requests, then stops part-way through a batch
    (`BatchFailed` with the answers that came back), as an outage looks to the engine."""

    def __init__(self, until: int) -> None:
        super().__init__()
        self.until = until
        self.answered = 0

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        made = super().continue_generation(requests)
        room = self.until - self.answered
        if room >= len(made):
            self.answered += len(made)
            return made
        self.answered = self.until
        raise BatchFailed("the server went away", {i: made[i] for i in range(max(0, room))})


def test_an_outage_stops_the_run_and_the_next_run_completes_it(tmp_path: Path) -> None:
    """An outage stores what came back and no failed items (it is not the requests' fault); the next run
    resumes and ends with exactly the items of an uninterrupted run."""
    config = load_probe_config(write_config(tmp_path / "p.toml", 3))
    with Store(tmp_path / "reference.sqlite") as store:
        engine(config, store, OracleThenScripted()).run()
    with Store(tmp_path / "s.sqlite") as store, pytest.raises(BatchFailed, match="went away"):
        engine(config, store, Outage(until=6)).run()
    partial = stored_items(tmp_path / "s.sqlite")
    assert len(partial) == 6 and not any(item.get("error") for *_, item in partial)
    with Store(tmp_path / "s.sqlite") as store:
        engine(config, store, OracleThenScripted()).run()
    assert stored_items(tmp_path / "s.sqlite") == stored_items(tmp_path / "reference.sqlite")


def test_a_failed_item_is_sent_again_by_the_next_run_and_replaced(tmp_path: Path) -> None:
    config = load_probe_config(write_config(tmp_path / "p.toml", 2))
    with Store(tmp_path / "s.sqlite") as store:
        first = engine(config, store, OracleThenScripted(fail_lines=2)).run()
        assert first.errors == {"early-answering": 2}
        second = engine(config, store, OracleThenScripted()).run()
        assert second.stored == {"early-answering": 2} and not second.errors
    items = stored_items(tmp_path / "s.sqlite")
    assert not any(item.get("error") for *_, item in items)
    assert len({(sid, probe, key) for sid, probe, _, key, _ in items}) == len(items)


def test_the_probe_seed_is_part_of_the_spec_hash() -> None:
    from modulo.probes.registry import probe

    made = probe("early-answering")
    assert spec_hash(made, {}, 0) != spec_hash(made, {}, 1)
