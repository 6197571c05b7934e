"""The command line end to end: run, report --json, export, verify, and its error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """name = "cli-test"
[generator]
name = "oracle"
params = { variant = "arithmetic-slip" }
[[tasks]]
domain = "sums"
count = 4
seed = 7
[[tasks]]
domain = "sums"
count = 3
seed = 8
generator = { name = "oracle", params = { variant = "exact" } }
"""


def modulo(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "modulo", *args], env=env, capture_output=True, text=True)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def stored_run(with_plugin: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    config = tmp_path / "suite.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = tmp_path / "runs.sqlite"
    done = modulo(with_plugin, "run", str(config), "--store", str(store))
    assert "first attempts: trace × answer" in done.stdout
    return with_plugin, store


def test_report_json_matches_interchange(stored_run: tuple[dict[str, str], Path]) -> None:
    env, store = stored_run
    report = json.loads(modulo(env, "report", "--json", "--store", str(store)).stdout)
    assert report["run_name"] == "cli-test" and report["samples"] == 7
    table = report["overall"]["table"]
    assert table == {
        "valid_correct": 3,
        "valid_incorrect": 0,
        "invalid_correct": 0,
        "invalid_incorrect": 4,
        "total": 7,
    }
    rate = report["overall"]["answer_correct"]
    assert (rate["k"], rate["n"]) == (3, 7) and rate["low"] < 3 / 7 < rate["high"]
    assert report["overall"]["phi"] == pytest.approx(1.0)
    assert set(report["by_generator"]) == {"oracle:exact", "oracle:arithmetic-slip"}
    assert report["by_domain"]["sums"]["samples"] == 7
    assert "sums:length=4" in report["by_difficulty"]
    assert sum(report["first_error_histogram"].values()) == 4
    assert report["rule_counts"] == {"sums.arithmetic": 4}
    speed = report["throughput"]
    assert (
        speed["completion_tokens"] > 0
        and speed["verify_seconds"] > 0
        and speed["verify_fraction"] is not None
    )


def test_export_then_verify_round_trip(stored_run: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, store = stored_run
    exported = [json.loads(line) for line in modulo(env, "export", "--store", str(store)).stdout.splitlines()]
    assert len(exported) == 7
    keys = {"id", "trace_valid", "first_error", "valid_prefix", "answer_correct", "answer_status", "steps"}
    assert keys <= set(exported[0])
    assert {"index", "text", "status", "rule", "message"} <= set(exported[0]["steps"][0])

    traces = tmp_path / "traces.jsonl"
    traces.write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "id": "a",
                        "domain": "sums",
                        "instance": {"numbers": [1, 2, 3]},
                        "text": "Step 1: 1 + 2 = 3\nStep 2: 3 + 3 = 6\nAnswer: 6",
                    }
                ),
                "{not json",
                json.dumps(
                    {"id": "b", "domain": "sums", "instance": {"numbers": [1, 2]}, "text": "no steps here"}
                ),
                json.dumps({"id": "c", "text": "missing fields"}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "verdicts.jsonl"
    done = modulo(env, "verify", str(traces), "--out", str(out), ok=False)
    assert done.returncode == 2 and "2 line(s)" in done.stderr
    assert ":2: not JSON" in done.stderr and ":4: not a trace record" in done.stderr
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert records["a"]["trace_valid"] and records["a"]["answer_correct"]
    assert not records["b"]["trace_valid"] and records["b"]["answer_status"] == "unparsed"


def test_errors_tell_the_user_what_to_do(with_plugin: dict[str, str], tmp_path: Path) -> None:
    missing = modulo(with_plugin, "run", str(tmp_path / "nope.toml"), ok=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[tasks]]\ndomain = "sums"\ncount = 0\n', encoding="utf-8")
    invalid = modulo(with_plugin, "run", str(bad), "--store", str(tmp_path / "s.sqlite"), ok=False)
    assert invalid.returncode == 2 and "tasks.0.count" in invalid.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('name = "x"\n[[tasks]]\ndomain = "chess"\n', encoding="utf-8")
    listed = modulo(with_plugin, "run", str(unknown), "--store", str(tmp_path / "s.sqlite"), ok=False)
    assert "unknown domain 'chess'" in listed.stderr and "sums" in listed.stderr
    no_store = modulo(with_plugin, "report", "--store", str(tmp_path / "none.sqlite"), ok=False)
    assert "modulo run" in no_store.stderr
    not_sqlite = tmp_path / "text.sqlite"
    not_sqlite.write_text("hello", encoding="utf-8")
    broken = modulo(with_plugin, "report", "--store", str(not_sqlite), ok=False)
    assert broken.returncode == 2 and "not a usable modulo store" in broken.stderr


def test_export_traces_then_replay(tmp_path: Path) -> None:
    """Traces exported from one run replay into another with identical verdicts (maze, no plugin)."""
    env = dict(os.environ)
    store = tmp_path / "runs.sqlite"
    first = tmp_path / "first.toml"
    first.write_text(
        'name = "first"\n[generator]\nname = "oracle"\nparams = { variant = "wrong_h" }\n'
        '[[tasks]]\ndomain = "maze"\ncount = 3\nparams = { kind = "prim", width = 7 }\n',
        encoding="utf-8",
    )
    modulo(env, "run", str(first), "--store", str(store), "--no-report")
    traces = tmp_path / "traces.jsonl"
    modulo(env, "export", "first", "--traces", "--out", str(traces), "--store", str(store))
    records = [json.loads(line) for line in traces.read_text().splitlines()]
    assert len(records) == 3 and records[0]["prompt"][-1]["role"] == "user"
    replay = tmp_path / "replay.toml"
    replay.write_text(
        first.read_text()
        .replace('name = "first"', 'name = "replayed"')
        .replace(
            'name = "oracle"\nparams = { variant = "wrong_h" }',
            f'name = "replay"\nparams = {{ path = "{traces}" }}',
        ),
        encoding="utf-8",
    )
    modulo(env, "run", str(replay), "--store", str(store), "--no-report")
    verdicts = {
        name: [
            {k: r[k] for k in ("trace_valid", "first_error", "rule_counts", "answer_status")}
            for r in map(json.loads, modulo(env, "export", name, "--store", str(store)).stdout.splitlines())
        ]
        for name in ("first", "replayed")
    }
    assert verdicts["first"] == verdicts["replayed"]
    assert all(v["rule_counts"].get("astar.wrong_h") for v in verdicts["first"])
