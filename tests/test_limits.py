"""Resource caps: a suite or an input file that asks for too much fails at once with a clear message."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from modulo.limits import CAPS
from modulo.model import Instance, RunConfig
from modulo.probes.config import load_probe_config
from modulo.registry import get_domain
from modulo.runner import ConfigError, load_config
from modulo.verify import verify_text

ROOT = Path(__file__).resolve().parents[1]
SUITE = """name = "caps"
rounds = {rounds}
batch_size = {batch}
[[tasks]]
domain = "maze"
count = {count}
samples = {samples}
"""


def suite(tmp_path: Path, count: str = "2", samples: str = "1", rounds: str = "1", batch: str = "8") -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(SUITE.format(count=count, samples=samples, rounds=rounds, batch=batch), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("field", "where", "env"),
    [
        ({"count": "1e9"}, "tasks[0].count = 1000000000", "MODULO_MAX_INSTANCES"),
        ({"samples": "1e9"}, "tasks[0].count × samples = 2000000000", "MODULO_MAX_SAMPLES"),
        ({"rounds": "1e9"}, "rounds = 1000000000", "MODULO_MAX_ROUNDS"),
        ({"batch": "1e9"}, "batch_size = 1000000000", "MODULO_MAX_BATCH"),
    ],
)
def test_a_suite_over_a_cap_is_refused_naming_the_field_and_the_variable(
    tmp_path: Path, field: dict[str, str], where: str, env: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(suite(tmp_path, **field))
    assert where in str(caught.value) and env in str(caught.value)


def test_caps_follow_their_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODULO_MAX_INSTANCES", "5")
    assert load_config(suite(tmp_path, count="5")).tasks[0].count == 5
    with pytest.raises(ConfigError, match=r"count = 6 is over the cap of 5 instances per task"):
        load_config(suite(tmp_path, count="6"))
    monkeypatch.setenv("MODULO_MAX_INSTANCES", "lots")
    with pytest.raises(ConfigError, match="MODULO_MAX_INSTANCES must be a positive whole number, got 'lots'"):
        load_config(suite(tmp_path))


def test_the_cli_refuses_a_huge_count_at_once_and_writes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "runs.sqlite"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "modulo", "run", str(suite(tmp_path, count="1e9")), "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "over the cap" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 30 and not store.exists()


def test_shipped_suites_fit_the_default_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    for cap in CAPS:
        monkeypatch.delenv(cap.env, raising=False)
    suites = sorted(ROOT.glob("benchmarks/**/*.toml"))
    assert suites
    for path in suites:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "probes" in data:  # a probe config: the run it probes (docs/probes.md)
            run = {k: v for k, v in data.items() if k not in ("probes", "probe")}
            assert load_probe_config(path, check=False).run == RunConfig.model_validate(run), path
        elif "tasks" in data:
            assert load_config(path) == RunConfig.model_validate(data), path


def _limit_memory() -> None:
    limit = 3 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_a_huge_maze_in_verify_input_is_an_explicit_verdict_and_the_rest_go_on(tmp_path: Path) -> None:
    def record(name: str, side: int) -> str:
        maze = {"width": side, "height": side, "walls": [], "start": [0, 0], "goal": [0, 1]}
        return json.dumps(
            {"id": name, "domain": "maze", "instance": {"maze": maze}, "text": "plan: (0, 0) (0, 1)"}
        )

    traces = tmp_path / "traces.jsonl"
    traces.write_text(record("huge", 100_000) + "\n" + record("small", 3) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "MODULO_MAX_MAZE_CELLS"}
    done = subprocess.run(
        [sys.executable, "-m", "modulo", "verify", str(traces)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 0, done.stderr[-500:]
    huge, small = (json.loads(line) for line in done.stdout.splitlines())
    assert huge["answer_status"] == "unknown"
    assert "100000×100000 maze has 10000000000 cells, over the cap of 250000" in huge["answer_message"]
    assert "MODULO_MAX_MAZE_CELLS" in huge["answer_message"]
    assert (small["id"], small["answer_status"]) == ("small", "correct")


def test_the_maze_cap_follows_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODULO_MAX_MAZE_CELLS", "20")
    maze = get_domain("maze")

    def answer(width: int) -> str:
        payload = {"maze": {"width": width, "height": 5, "walls": [], "start": [0, 0], "goal": [0, 1]}}
        _, verdicts = verify_text(
            maze, Instance(domain="maze", id=f"w{width}", payload=payload), "plan: (0, 0) (0, 1)"
        )
        return verdicts.answer.status

    assert answer(4) == "correct"
    assert answer(5) == "unknown"
