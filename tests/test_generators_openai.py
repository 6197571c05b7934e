"""The OpenAI-compatible generator against fake servers on loopback: retries, backoff, limits, secrets."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("httpx", reason="the openai generator needs httpx: pip install httpx")

from modulo.generators import openai_compat  # noqa: E402
from modulo.generators.errors import GeneratorError  # noqa: E402
from modulo.generators.openai_compat import OpenAIGenerator  # noqa: E402
from modulo.generators.weights import QWEN_CODER_05B, ensure_model  # noqa: E402
from modulo.model import ChatMessage, Instance  # noqa: E402
from modulo.protocols import Domain, GenerationRequest, SamplingParams  # noqa: E402


def no_domains(name: str) -> Domain:
    raise LookupError(f"no domain {name!r} in these tests")


SECRET = "sk-test-never-leak-1234"
Reply = tuple[int, dict[str, Any] | str, dict[str, str]]


def ok(content: str, logprobs: list[float] | None = None) -> Reply:
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": content},
        "finish_reason": "stop",
    }
    if logprobs is not None:
        choice["logprobs"] = {"content": [{"token": "x", "logprob": lp} for lp in logprobs]}
    return 200, {"choices": [choice], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}, {}


@dataclass
class FakeServer:
    """Answers POSTs with the scripted replies in order (the last one repeats); records what it got."""

    script: list[Reply]
    delay: Callable[[int], float] = lambda n: 0.0
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            number = len(self.received)
            self.received.append((dict(handler.headers), body))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            status, payload, headers = self.script[min(number, len(self.script) - 1)]
        if delay := self.delay(number):
            time.sleep(delay)
        with self.lock:
            self.in_flight -= 1
        if payload == "echo":
            status, payload, headers = ok(body["messages"][-1]["content"].upper())
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            handler.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[FakeServer, str]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(script: list[Reply], delay: Callable[[int], float] = lambda n: 0.0) -> tuple[FakeServer, str]:
        fake = FakeServer(script, delay)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake.handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return fake, f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def request(key: str, text: str = "hello", **sampling: Any) -> GenerationRequest:
    return GenerationRequest(
        key=key,
        messages=[ChatMessage(role="user", content=text)],
        instance=Instance(domain="maze", id=key),
        sampling=SamplingParams(**sampling),
    )


def generator(base_url: str, **params: Any) -> OpenAIGenerator:
    return OpenAIGenerator({"model": "tiny", "base_url": base_url, "backoff": 0.01, **params}, no_domains)


def test_retries_429_and_5xx_then_succeeds_sending_the_key_only_in_the_header(
    serve: Callable[..., tuple[FakeServer, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake, url = serve(
        [(429, {"error": "slow down"}, {"Retry-After": "0"}), (502, "bad gateway", {}), ok("Answer: 4")]
    )
    gen = generator(url)
    [result] = gen.generate([request("k1")])
    assert (result.key, result.text, result.finish_reason) == ("k1", "Answer: 4", "stop")
    assert (result.prompt_tokens, result.completion_tokens) == (7, 3)
    assert len(fake.received) == 3
    assert all(headers["Authorization"] == f"Bearer {SECRET}" for headers, _ in fake.received)
    assert SECRET not in gen.name + repr(vars(gen))


def test_backoff_doubles_and_honours_retry_after(
    serve: Callable[..., tuple[FakeServer, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(openai_compat, "pause", lambda stop, seconds: bool(delays.append(seconds)))
    fake, url = serve(
        [(503, "busy", {}), (503, "busy", {}), (429, "later", {"Retry-After": "7"}), ok("done")]
    )
    [result] = generator(url, backoff=1.0).generate([request("k")])
    assert result.text == "done"
    assert len(delays) == 3
    assert all(base <= d <= base * 1.1 for d, base in zip(delays, [1, 2, 7], strict=True))


def test_gives_up_after_max_retries_with_a_clear_error(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    fake, url = serve([(500, "internal error", {})])
    with pytest.raises(GeneratorError, match=r"failed 3 times; last problem: HTTP 500: internal error"):
        generator(url, max_retries=2).generate([request("k")])
    assert len(fake.received) == 3


def test_client_errors_are_not_retried_and_explain_themselves(
    serve: Callable[..., tuple[FakeServer, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    fake, url = serve([(401, {"error": {"message": "invalid key"}}, {})])
    with pytest.raises(GeneratorError, match="HTTP 401 .the key was refused") as caught:
        generator(url).generate([request("k")])
    assert len(fake.received) == 1
    assert SECRET not in str(caught.value)


def test_connection_refused_is_retried_then_reported() -> None:
    with pytest.raises(GeneratorError, match="ConnectError.*Check that it is running"):
        generator("http://127.0.0.1:9/v1", max_retries=1).generate([request("k")])


def test_a_timeout_is_retried(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    fake, url = serve([ok("slow"), ok("fast")], delay=lambda n: 3.0 if n == 0 else 0.0)
    [result] = generator(url, timeout=1.0).generate([request("k")])
    assert result.text == "fast"
    assert len(fake.received) == 2


def test_concurrency_is_bounded_and_order_is_kept(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    fake, url = serve([(200, "echo", {})], delay=lambda n: 0.4)
    results = generator(url, concurrency=2).generate([request(f"k{i}", f"text {i}") for i in range(6)])
    assert [r.text for r in results] == [f"TEXT {i}" for i in range(6)]
    assert [r.key for r in results] == [f"k{i}" for i in range(6)]
    assert fake.max_in_flight == 2


def test_sampling_defaults_come_from_params_and_requests_override_them(
    serve: Callable[..., tuple[FakeServer, str]],
) -> None:
    fake, url = serve([ok("x", logprobs=[-0.5, -1.0])])
    gen = generator(url, temperature=0.7, max_tokens=64, stop=["\n\n"], logprobs=True)
    [first, second] = gen.generate([request("a"), request("b", temperature=0.0, seed=3)])
    bodies = sorted((body for _, body in fake.received), key=lambda b: b.get("seed", -1))
    assert {k: bodies[0][k] for k in ("model", "temperature", "max_tokens", "stop", "logprobs", "n")} == {
        "model": "tiny",
        "temperature": 0.7,
        "max_tokens": 64,
        "stop": ["\n\n"],
        "logprobs": True,
        "n": 1,
    }
    assert "seed" not in bodies[0]
    assert (bodies[1]["temperature"], bodies[1]["seed"]) == (0.0, 3)
    assert first.logprobs == [-0.5, -1.0]


def test_a_json_schema_is_sent_as_structured_output(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    """OpenAI's `response_format` by default; vLLM's own `structured_outputs` or nothing on request; never
    a schema for a request without one."""
    schema = {"type": "object", "properties": {"plan": {"type": "array"}}, "required": ["plan"]}
    fake, url = serve([ok("{}")])
    for how in ("response_format", "structured_outputs", "none"):
        generator(url, structured_output=how, concurrency=1).generate([request(how, json_schema=schema)])
    generator(url).generate([request("plain")])
    bodies = [body for _, body in fake.received]
    assert bodies[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema},
    }
    assert bodies[1]["structured_outputs"] == {"json": schema} and "response_format" not in bodies[1]
    assert not {"response_format", "structured_outputs"} & (bodies[2].keys() | bodies[3].keys())
    with pytest.raises(ValueError, match="structured_output"):
        generator(url, structured_output="guided_json")


def test_malformed_answers_are_reported(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    _, url = serve([(200, "not json", {})])
    with pytest.raises(GeneratorError, match="non-JSON"):
        generator(url).generate([request("k")])


def test_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODULO_OPENAI_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def make(params: dict[str, Any]) -> OpenAIGenerator:
        return OpenAIGenerator(params, no_domains)

    with pytest.raises(ValueError, match="API keys never go in a config"):
        make({"model": "m", "base_url": "http://h/v1", "api_key": SECRET})
    with pytest.raises(ValueError, match="needs `base_url`"):
        make({"model": "m"})
    with pytest.raises(ValueError, match="must not carry credentials"):
        make({"model": "m", "base_url": "http://user:pw@h/v1"})
    with pytest.raises(ValueError, match="unknown openai params \\['temprature'\\]"):
        make({"model": "m", "base_url": "http://h/v1", "temprature": 1})
    with pytest.raises(ValueError, match="needs `model`"):
        make({"base_url": "http://h/v1"})
    with pytest.raises(ValueError, match="n must be 1"):
        make({"model": "m", "base_url": "http://h/v1", "n": 2})
    monkeypatch.setenv("OPENAI_BASE_URL", "http://server:8000/v1/")
    gen = make({"model": "qwen"})
    assert (gen.name, gen.base_urls) == ("openai:qwen", ("http://server:8000/v1",))


@pytest.mark.slow
def test_against_a_real_llama_cpp_server() -> None:
    """The embedded model behind llama-cpp-python's OpenAI-compatible server, on loopback."""
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server]")
    try:
        model = ensure_model(QWEN_CODER_05B)
    except GeneratorError as exc:
        pytest.skip(str(exc))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        "qwen",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"{url}/models"):
            assert server.poll() is None, "the llama.cpp server exited; run the command by hand to see why"
            assert time.monotonic() < deadline, "the llama.cpp server did not come up within 120 s"
            time.sleep(0.5)
        gen = generator(url, model="qwen", max_tokens=32, concurrency=2)
        asks = [
            request(f"k{i}", f"What is {i} + 2? Reply with one line 'Answer: <number>'.") for i in range(3)
        ]
        results = gen.generate(asks)
    finally:
        server.terminate()
        server.wait(timeout=30)
    for i, result in enumerate(results):
        assert f"Answer: {i + 2}" in result.text, result.text
        assert result.finish_reason == "stop" and result.prompt_tokens > 10 and result.completion_tokens > 0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_a_reply_over_max_reply_bytes_is_that_samples_error(
    serve: Callable[..., tuple[FakeServer, str]],
) -> None:
    fake, url = serve([ok("create (1, 1) g=1 h=1\n" * 100_000), ok("short")])
    results = generator(url, max_reply_bytes=1 << 20, concurrency=1).generate(
        [request("big"), request("small")]
    )
    assert [(r.text, r.finish_reason) for r in results] == [("", "error"), ("short", "stop")]
    assert results[0].error is not None and "max_reply_bytes = 1048576" in results[0].error
    assert len(fake.received) == 2


def test_thinking_returned_apart_is_kept_apart(serve: Callable[..., tuple[FakeServer, str]]) -> None:
    message = {"role": "assistant", "content": "Answer: 4", "reasoning_content": "2 + 2 is 4."}
    reply = {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    _, url = serve([(200, reply, {}), ok("Answer: 5")])
    first, second = generator(url, concurrency=1).generate([request("a"), request("b")])
    assert (first.text, first.reasoning) == ("Answer: 4", "2 + 2 is 4.")
    assert (second.text, second.reasoning) == ("Answer: 5", None)
