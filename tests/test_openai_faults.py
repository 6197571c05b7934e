"""The OpenAI-compatible generator against the fault-injecting fake server (tests/fake_openai.py, a copy
of the shared repro server) on loopback: deadlines, rejected prompts, malformed replies, echoed keys,
oversized replies and Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx", reason="the openai generator needs httpx: pip install httpx")

from modulo.generators.errors import GeneratorError  # noqa: E402
from modulo.generators.openai_compat import OpenAIGenerator  # noqa: E402
from modulo.model import ChatMessage, Instance  # noqa: E402
from modulo.protocols import Domain, Generation, GenerationRequest  # noqa: E402

HERE = Path(__file__).resolve().parent
SECRET = "sk-test-echoed-0123456789"


def no_domains(name: str) -> Domain:
    raise LookupError(name)


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    """The fake server on a free loopback port; yields its root URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FAKE_DELAY": "0.02"}
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    assert "listening" in server.stderr.readline()
    threading.Thread(target=server.stderr.read, daemon=True).start()  # drain the request log
    yield f"http://127.0.0.1:{port}"
    server.kill()
    server.wait()


def request(key: str, text: str = "hello") -> GenerationRequest:
    return GenerationRequest(
        key=key, messages=[ChatMessage(role="user", content=text)], instance=Instance(domain="maze", id=key)
    )


def generate(url: str, mode: str, requests: list[GenerationRequest], **params: Any) -> list[Generation]:
    settings = {"model": "fake", "base_url": f"{url}/{mode}/v1", "backoff": 0.01, "max_retries": 1, **params}
    return OpenAIGenerator(settings, no_domains).generate(requests)


def finishes_within(seconds: float, work: Any) -> Any:
    """`work()`'s result, failing the test (not hanging it) if it takes longer than `seconds`."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["result"]


def test_a_slow_drip_reply_hits_the_total_deadline(fake: str) -> None:
    """trickle sends one byte every 2 s forever: each read succeeds, only a total deadline ends it."""
    started = time.monotonic()
    with pytest.raises(GeneratorError, match=r"no complete reply within timeout = 1.5 s"):
        finishes_within(
            8,
            lambda: generate(
                fake, "trickle", [request("k")], timeout=1.5, max_retries=0, max_reply_bytes=10**9
            ),
        )
    assert time.monotonic() - started < 3.0


def test_a_hanging_server_is_retried_then_reported(fake: str) -> None:
    started = time.monotonic()
    with pytest.raises(GeneratorError, match=r"failed 2 times; last problem: no complete reply within"):
        finishes_within(8, lambda: generate(fake, "hang", [request("k")], timeout=1.0))
    assert time.monotonic() - started < 3.5


def rejected_by_poison(text: str) -> bool:
    """The fake server's own rule for `poison`: sha256 of the sorted-keys JSON of the messages, mod 5."""
    messages = json.dumps([{"role": "user", "content": text}], sort_keys=True)
    return int(hashlib.sha256(messages.encode()).hexdigest(), 16) % 5 == 0


def test_a_rejected_prompt_is_that_samples_error_and_the_others_go_on(fake: str) -> None:
    texts = [f"maze {i}" for i in range(20)]
    expected = [rejected_by_poison(t) for t in texts]
    assert 0 < sum(expected) < len(texts)
    results = generate(fake, "poison", [request(f"k{i}", t) for i, t in enumerate(texts)], concurrency=4)
    assert [r.key for r in results] == [f"k{i}" for i in range(20)]
    assert [r.error is not None for r in results] == expected
    for result, rejected in zip(results, expected, strict=True):
        if rejected:
            assert (result.text, result.finish_reason) == ("", "error")
            assert result.error is not None and "HTTP 400" in result.error
            assert "maximum context length" in result.error
        else:
            assert result.finish_reason == "stop" and "nonce" in result.text


def test_an_echoed_authorization_header_never_reaches_the_error(
    fake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    [result] = generate(fake, "echoauth", [request("k")])
    assert result.error is not None and "HTTP 400" in result.error and "Bearer ***" in result.error
    assert SECRET not in result.model_dump_json()
    with pytest.raises(GeneratorError) as caught:
        generate(fake, "echoauth500", [request("k")])
    assert "HTTP 500" in str(caught.value) and SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("badjson", "answered with non-JSON"),
        ("nochoices", "has no list of choices"),
        ("choicesdict", "has no list of choices"),
        ("msgstr", "first choice has no message object"),
        ("nullchoice", "first choice has no message object"),
    ],
)
def test_malformed_replies_give_one_clear_error(fake: str, mode: str, message: str) -> None:
    with pytest.raises(GeneratorError, match=message) as caught:
        generate(fake, mode, [request("k")])
    assert "\n" not in str(caught.value)


def test_a_reply_with_unreadable_usage_is_kept_with_zero_counts(fake: str) -> None:
    [result] = generate(fake, "badusage", [request("k")])
    assert (result.text, result.prompt_tokens, result.completion_tokens) == ("hello", 0, 1)


def test_a_reset_connection_is_retried_then_reported(fake: str) -> None:
    with pytest.raises(GeneratorError, match="failed 2 times; last problem: .*(Error|disconnected)"):
        generate(fake, "reset", [request("k")])


def test_flaky_servers_are_retried_until_every_sample_has_text(fake: str) -> None:
    results = generate(fake, "flaky", [request(f"k{i}") for i in range(8)], max_retries=12)
    assert all(r.error is None and "nonce" in r.text for r in results)


@pytest.mark.slow
def test_a_huge_reply_is_dropped_as_that_samples_error(fake: str) -> None:
    """huge declares a 200 MB body; it is refused from its Content-Length, never read whole."""
    [result] = finishes_within(60, lambda: generate(fake, "huge", [request("k")], timeout=60))
    assert result.text == "" and result.error is not None and "max_reply_bytes" in result.error


INTERRUPTED = """
import signal, sys, time
# Ctrl-C as in a terminal: a test run started as a background job (`pytest &`) passes SIGINT on ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
from modulo.generators.openai_compat import OpenAIGenerator
from modulo.model import ChatMessage, Instance
from modulo.protocols import GenerationRequest
gen = OpenAIGenerator({{"model": "m", "base_url": "{url}", "concurrency": 4, "backoff": 30}}, None)
reqs = [GenerationRequest(key=f"k{{i}}", messages=[ChatMessage(role="user", content=str(i))],
        instance=Instance(domain="maze", id=str(i))) for i in range(8)]
print("ready", flush=True)
try:
    gen.generate(reqs)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize("mode", ["hang", "e500"])
def test_ctrl_c_returns_within_two_seconds(fake: str, mode: str) -> None:
    """hang: requests in flight with the default 600 s timeout; e500: requests waiting 30 s to retry."""
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED.format(url=f"{fake}/{mode}/v1")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(1.0)  # let the requests get under way
    started = time.monotonic()
    child.send_signal(signal.SIGINT)
    try:
        out, errors = child.communicate(timeout=10)
    finally:
        child.kill()
    elapsed = time.monotonic() - started
    assert (child.returncode, out.strip()) == (130, "interrupted"), errors
    assert elapsed < 2.0
    assert "Traceback" not in errors
