"""The openai generator over several endpoints (fake servers on loopback, tests/fake_openai.py): requests
spread with a bound per endpoint, a dead endpoint skipped, one dying mid-batch (its requests retried
elsewhere, every sample stored once), all dead; and endpoints left out of run and sample ids."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx", reason="the openai generator needs httpx: pip install httpx")

from modulo.generators.endpoints import Pool  # noqa: E402
from modulo.generators.errors import GeneratorError  # noqa: E402
from modulo.generators.openai_compat import OpenAIGenerator  # noqa: E402
from modulo.model import ChatMessage, GeneratorConfig, Instance, RunConfig, TaskConfig  # noqa: E402
from modulo.protocols import Domain, GenerationRequest  # noqa: E402
from modulo.runner import ID_SCHEME, Runner, producer_key, run_id_for  # noqa: E402
from modulo.store import Store  # noqa: E402
from modulo.translation import translator_id  # noqa: E402

HERE = Path(__file__).resolve().parent
ANSWER = re.compile(r"port (\d+) in_flight (\d+)")


def no_domains(name: str) -> Domain:
    raise LookupError(name)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def servers() -> Iterator[Callable[..., str]]:
    """Starts fake servers on free loopback ports; `start(mode, **env)` gives the mode's base URL."""
    started: list[subprocess.Popen[str]] = []

    def start(mode: str, **env: str) -> str:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, str(HERE / "fake_openai.py"), str(port)],
            env={**os.environ, "FAKE_DELAY": "0.05", **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(server)
        assert server.stderr is not None
        assert "listening" in server.stderr.readline()
        threading.Thread(target=server.stderr.read, daemon=True).start()  # drain the request log
        return f"http://127.0.0.1:{port}/{mode}/v1"

    yield start
    for server in started:
        server.kill()
        server.wait()


def port_of(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def request(key: str) -> GenerationRequest:
    return GenerationRequest(
        key=key, messages=[ChatMessage(role="user", content=key)], instance=Instance(domain="maze", id=key)
    )


def generator(urls: list[str], **params: Any) -> OpenAIGenerator:
    settings = {"model": "fake", "base_url": urls, "backoff": 0.01, "max_retries": 1, **params}
    return OpenAIGenerator(settings, no_domains)


def answers(texts: list[str]) -> list[tuple[int, int]]:
    """(port, requests in flight there) of each fake answer."""
    found = [ANSWER.fullmatch(text) for text in texts]
    assert all(found), texts
    return [(int(m[1]), int(m[2])) for m in found if m]


def test_requests_spread_over_endpoints_with_a_bound_on_each(servers: Callable[..., str]) -> None:
    urls = [servers("whoami") for _ in range(3)]
    results = generator(urls, concurrency=2).generate([request(f"k{i}") for i in range(24)])
    assert [r.key for r in results] == [f"k{i}" for i in range(24)]
    assert all(r.error is None for r in results)
    seen = answers([r.text for r in results])
    per_port = Counter(port for port, _ in seen)
    assert set(per_port) == {port_of(u) for u in urls}  # every endpoint served some
    assert sum(per_port.values()) == 24
    assert max(in_flight for _, in_flight in seen) <= 2  # never more than `concurrency` on one server
    assert min(per_port.values()) >= 4  # least in-flight first: no endpoint is starved


def test_a_dead_endpoint_is_skipped_and_nothing_is_lost(servers: Callable[..., str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/whoami/v1"
    alive = servers("whoami")
    results = generator([dead, alive], concurrency=2).generate([request(f"k{i}") for i in range(10)])
    assert [r.key for r in results] == [f"k{i}" for i in range(10)]
    assert all(r.error is None for r in results)
    assert {port for port, _ in answers([r.text for r in results])} == {port_of(alive)}


def test_all_endpoints_dead_fails_the_batch_naming_each(servers: Callable[..., str]) -> None:
    dead = [f"http://127.0.0.1:{free_port()}/whoami/v1" for _ in range(2)]
    with pytest.raises(GeneratorError, match="every endpoint failed or is set aside") as caught:
        generator(dead).generate([request(f"k{i}") for i in range(4)])
    message = str(caught.value)
    assert all(f"{url}: failed 2 times; last problem: ConnectError" in message for url in dead)
    assert "\n" not in message


def test_an_endpoint_set_aside_comes_back_after_its_cooldown() -> None:
    pool = Pool(("http://a/v1", "http://b/v1"), concurrency=1, cooldown=0.3)
    stop = threading.Event()
    a = pool.acquire(set(), stop)
    assert a is not None and a.url == "http://a/v1"
    pool.release(a)
    pool.fail(a, "failed 2 times; last problem: HTTP 500")
    b = pool.acquire(set(), stop)  # a is set aside: b, though a has nothing in flight
    assert b is not None and b.url == "http://b/v1"
    assert pool.acquire({"http://b/v1"}, stop) is None  # this request tried b; a is set aside
    time.sleep(0.35)
    back = pool.acquire({"http://b/v1"}, stop)
    assert back is not None and back.url == "http://a/v1"
    assert "http://a/v1: failed 2 times; last problem: HTTP 500" in pool.problems()


def test_a_full_endpoint_makes_requests_wait_and_stop_ends_the_wait() -> None:
    pool = Pool(("http://a/v1",), concurrency=1, cooldown=60)
    stop = threading.Event()
    held = pool.acquire(set(), stop)
    assert held is not None
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert pool.acquire(set(), stop) is None  # waited for a free slot until stopped
    assert 0.25 < time.monotonic() - started < 2.0


def maze_suite(urls: list[str], **params: Any) -> RunConfig:
    settings = {"model": "fake", "base_url": urls, "backoff": 0.01, "max_retries": 1, **params}
    return RunConfig(
        name="endpoints",
        generator=GeneratorConfig(name="openai", params=settings),
        tasks=[TaskConfig(domain="maze", count=12, params={"width": 5})],
        batch_size=12,
    )


def test_an_endpoint_dying_mid_batch_loses_nothing_and_stores_each_sample_once(
    servers: Callable[..., str], tmp_path: Path
) -> None:
    mortal = servers("mortal", FAKE_DIE_AFTER="3")  # answers 3 requests, then the process exits
    survivor = servers("whoami")
    with Store(tmp_path / "s.sqlite") as store:
        summary = Runner(maze_suite([mortal, survivor], concurrency=2), store).run()
        samples = store.samples(summary.run.id)
        assert (summary.generated, summary.failed) == (12, 0)
        assert len(samples) == len({s.id for s in samples}) == 12
        assert all(s.generation_error is None and s.verdicts for s in samples)
        served = Counter(port for port, _ in answers([s.text for s in samples]))
        assert 1 <= served[port_of(mortal)] <= 3  # requests cut off by its death went to the survivor
        assert served[port_of(mortal)] + served[port_of(survivor)] == 12
        # other endpoints and serving settings: the same run, nothing generated again
        again = Runner(maze_suite([survivor], concurrency=1, max_retries=3), store).run()
        assert again.run.id == summary.run.id
        assert (again.generated, again.skipped) == (0, 12)
        assert len(store.samples(summary.run.id)) == 12


def test_when_every_endpoint_is_gone_the_answers_already_back_are_stored(
    servers: Callable[..., str], tmp_path: Path
) -> None:
    mortal = servers("mortal", FAKE_DIE_AFTER="3")
    dead = f"http://127.0.0.1:{free_port()}/whoami/v1"
    run_id = run_id_for(maze_suite([mortal, dead]))
    with Store(tmp_path / "s.sqlite") as store:
        with pytest.raises(GeneratorError, match="every endpoint failed or is set aside"):
            Runner(maze_suite([mortal, dead], concurrency=2), store).run()
        kept = store.samples(run_id)
        assert 1 <= len(kept) <= 3  # what the mortal server answered before it died: stored, verified
        assert all(s.generation_error is None and s.verdicts for s in kept)
        assert {port for port, _ in answers([s.text for s in kept])} == {port_of(mortal)}
        # a re-run with a live endpoint generates only the rest
        again = Runner(maze_suite([servers("whoami")]), store).run()
        assert (again.skipped, again.generated) == (len(kept), 12 - len(kept))
        assert len({s.id for s in store.samples(run_id)}) == 12


def test_serving_params_are_not_part_of_ids_but_the_model_is() -> None:
    one = maze_suite(["http://a:8000/v1"])
    other = maze_suite(["http://b:8000/v1", "http://c:8000/v1"], concurrency=8, timeout=30, cooldown=5)
    assert run_id_for(one) == run_id_for(other)
    assert producer_key(one.tasks[0], one.generator) == producer_key(other.tasks[0], other.generator)
    renamed = maze_suite(["http://a:8000/v1"], model="another")
    assert run_id_for(renamed) != run_id_for(one)
    sampled = maze_suite(["http://a:8000/v1"], temperature=0.7)
    assert run_id_for(sampled) != run_id_for(one)
    # the translator of an assisted extraction likewise
    ids = {
        translator_id(suite.generator, OpenAIGenerator(suite.generator.params, no_domains))
        for suite in (one, other)
    }
    assert len(ids) == 1
    renamed_id = translator_id(renamed.generator, OpenAIGenerator(renamed.generator.params, no_domains))
    assert renamed_id not in ids


def test_run_ids_of_generators_without_serving_params_are_unchanged() -> None:
    """The run id of a config with nothing to leave out is still the digest of the whole config."""
    config = RunConfig(
        name="plain",
        generator=GeneratorConfig(name="local", params={"temperature": 0.5, "max_tokens": 64}),
        tasks=[TaskConfig(domain="maze", count=2), TaskConfig(domain="maze", generator=GeneratorConfig())],
    )
    content = config.model_dump_json(exclude={"assisted_extraction"})
    expected = hashlib.sha256(f"{ID_SCHEME}:{content}".encode()).hexdigest()[:10]
    assert run_id_for(config) == f"plain-{expected}"


def test_endpoint_lists_are_checked() -> None:
    with pytest.raises(ValueError, match="either `base_url` or `base_urls`"):
        OpenAIGenerator({"model": "m", "base_url": "http://a/v1", "base_urls": ["http://b/v1"]}, no_domains)
    with pytest.raises(ValueError, match="is empty"):
        OpenAIGenerator({"model": "m", "base_urls": []}, no_domains)
    with pytest.raises(ValueError, match="listed twice"):
        OpenAIGenerator({"model": "m", "base_url": ["http://a/v1", "http://a/v1/"]}, no_domains)
    with pytest.raises(ValueError, match="must not carry credentials"):
        OpenAIGenerator({"model": "m", "base_urls": ["http://a/v1", "http://u:p@b/v1"]}, no_domains)
    gen = OpenAIGenerator({"model": "m", "base_urls": ["http://a/v1", "http://b/v1/"]}, no_domains)
    assert gen.base_urls == ("http://a/v1", "http://b/v1") and gen.name == "openai:m"
