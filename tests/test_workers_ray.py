"""`--executor ray` on a local Ray instance (issue 15): the same results as the local executor, a killed
Ray worker's task retried, a killed driver resumed like a local run. Slow: starting Ray takes seconds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_workers import (
    KILL_SUITE,
    KILLED,
    _verified,
    die_once_then_square,
    published_mazes,
    raise_on_multiples_of_five,
    snapshot,
    suite,
)

from modulo.executors import Failure, InProcess
from modulo.runner import Runner
from modulo.store import Store
from modulo.verify_stream import LineReader, verify_file

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray")
RAY = Path(sys.executable).with_name("ray")
TESTS = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def ray_head(cpus: int, env: dict[str, str]) -> Iterator[str]:
    """A Ray head with `cpus` CPUs on a free port (`ray start --head --block`, token auth off as on a
    private network); yields its address. Only the processes it started are stopped afterwards."""
    port = _free_port()
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", f"--num-cpus={cpus}", f"--port={port}"]
        + ["--include-dashboard=false", "--disable-usage-stats"],
        env={**env, "RAY_AUTH_MODE": "disabled"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            assert head.poll() is None and time.monotonic() < deadline, "ray start --head failed"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def cluster() -> Iterator[dict[str, str]]:
    """A two-CPU Ray head on this machine whose workers can import the tests' helpers; yields the
    environment a driver connects with (RAY_ADDRESS)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    with ray_head(2, env) as address:
        try:
            yield {**env, "RAY_ADDRESS": address}
        finally:
            if ray.is_initialized():
                ray.shutdown()


@pytest.fixture(scope="module")
def on_ray(cluster: dict[str, str]) -> Iterator[object]:
    from modulo.executors import RayCluster

    yield RayCluster(address=cluster["RAY_ADDRESS"], chunk=4)


def test_ray_verify_gives_the_local_results(on_ray: object, tmp_path: Path) -> None:
    path = published_mazes(tmp_path / "mazes.txt", 60)
    reader = LineReader(str(path), "maze", "searchformer", {})
    local, remote = list(verify_file(path, reader, InProcess())), list(verify_file(path, reader, on_ray))  # type: ignore[arg-type]
    assert local == remote and len(local) == 62 and sum(o.record is None for o in local) == 2


def test_ray_run_stores_what_a_local_run_stores(on_ray: object, tmp_path: Path) -> None:
    for name, executor in (("local", InProcess()), ("ray", on_ray)):
        with Store(tmp_path / f"{name}.sqlite") as store:
            Runner(suite(count=6), store, executor=executor).run()  # type: ignore[arg-type]
    assert snapshot(tmp_path / "local.sqlite") == snapshot(tmp_path / "ray.sqlite")


def test_a_ray_task_that_raises_costs_only_its_item(on_ray: object) -> None:
    results = list(on_ray.map(raise_on_multiples_of_five, range(20)))  # type: ignore[attr-defined]
    assert [isinstance(r, Failure) for r in results] == [n % 5 == 0 for n in range(20)]
    assert [r for r in results if not isinstance(r, Failure)] == [n * n for n in range(20) if n % 5]


def test_a_killed_ray_worker_is_retried(on_ray: object, tmp_path: Path) -> None:
    tasks = [(n, "") for n in range(12)]
    tasks[5] = (5, str(tmp_path / "five"))  # its worker dies on the first attempt only
    tasks[9] = (9, "always")
    results = list(on_ray.map(die_once_then_square, tasks))  # type: ignore[attr-defined]
    assert results[5] == 25 and (tmp_path / "five").exists()
    assert isinstance(results[9], Failure) and "died twice" in results[9].reason
    assert [r for n, r in enumerate(results) if n != 9] == [n * n for n in range(12) if n != 9]


def test_kill_9_of_the_ray_driver_then_resume(cluster: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "kill.toml"
    config.write_text(KILL_SUITE.format(latency=0.005, count=KILLED), encoding="utf-8")
    path, reference = tmp_path / "killed.sqlite", tmp_path / "reference.sqlite"
    command = [sys.executable, "-m", "modulo", "run", str(config), "--no-report"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = subprocess.Popen([*command, "--store", str(path), "--executor", "ray"], env=cluster, **quiet)  # type: ignore[call-overload]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and _verified(path) < 40 and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert 40 <= _verified(path) < KILLED, "the kill came mid-run"
    resumed = subprocess.run(
        [*command, "--store", str(path), "--executor", "ray"], env=cluster, capture_output=True
    )
    assert resumed.returncode == 0, resumed.stderr
    local = subprocess.run(
        [*command, "--store", str(reference), "--workers", "1"], env=cluster, capture_output=True
    )
    assert local.returncode == 0, local.stderr
    assert snapshot(path) == snapshot(reference) and len(snapshot(path)) == KILLED


def test_an_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    path = published_mazes(tmp_path / "mazes.txt", 2)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = subprocess.run(
        [sys.executable, "-m", "modulo", "verify", str(path), "--domain", "maze", "--format", "searchformer"]
        + ["--executor", "ray", "--ray-address", f"127.0.0.1:{_free_port()}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 2 and "cannot reach a Ray cluster at 127.0.0.1:" in done.stderr, done.stderr
