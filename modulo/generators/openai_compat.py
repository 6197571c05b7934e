"""The `openai` generator: any OpenAI-compatible chat-completions server (vLLM, llama.cpp, hosted APIs).

The API key is read from the environment at request time; it is never stored on the generator, put in
its name or params, or written into an error message (server replies are redacted before they are quoted).

Each HTTP request has a total deadline (`timeout`), enforced by shutting its socket down, so a server that
drips its reply byte by byte cannot hold a request open. A prompt the server rejects (HTTP 400, 413, 422,
e.g. too long for the context) becomes that sample's generation error and the others go on; problems that
concern every request (no server, a refused key, malformed replies) raise GeneratorError. Requests run on
daemon threads: an interrupt (Ctrl-C) aborts the in-flight ones and returns at once.

`base_url` may list several endpoints (replicas serving the same model): requests go to the one with the
fewest in flight, at most `concurrency` on each; an endpoint where a request failed after all its retries
is set aside for `cooldown` seconds and the request is retried on another one. The batch fails only when
a request has no endpoint left. Endpoints and other serving settings are not part of the model's identity
(`SERVING_PARAMS`): adding or removing a replica keeps a run's sample ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from modulo.generators.endpoints import Endpoint, Pool
from modulo.generators.errors import BatchFailed, GeneratorError
from modulo.generators.parallel import run_parallel
from modulo.generators.sampling import effective, split_params
from modulo.protocols import DomainLookup, Generation, GenerationRequest
from modulo.redact import redact, url_credentials

if TYPE_CHECKING:
    import httpx

BASE_URL_ENVS = ("MODULO_OPENAI_BASE_URL", "OPENAI_BASE_URL")
KEY_ENVS = ("MODULO_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
PROMPT_REJECTED = frozenset({400, 413, 422})
"""Statuses that reject this one prompt (too long, bad content): a generation error, not a stopped run."""
MAX_DELAY = 60.0
REASONING_FIELDS = ("reasoning_content", "reasoning")
"""Where servers put a reasoning model's thinking apart from the answer (vLLM, DeepSeek, llama.cpp)."""
MAX_REPLY_BYTES = 16 << 20
"""Default cap on one reply's size (16 MiB: ~100k tokens with logprobs); larger replies are errors."""
ERROR_BODY_BYTES = 4096
"""How much of an error reply is read (and, redacted, at most 300 characters quoted)."""
OWN = {
    "base_url",
    "base_urls",
    "cooldown",
    "model",
    "api_key_env",
    "concurrency",
    "timeout",
    "max_retries",
    "backoff",
    "max_reply_bytes",
    "structured_output",
}
CONTINUATION = "continuation"
"""The opt-in param that makes the generator continue and score through a vLLM server (vllm_server.py)."""
SERVING_PARAMS = frozenset((OWN | {CONTINUATION}) - {"model", "structured_output"})
"""Params that decide where and how requests are sent, not what the model writes: left out of run ids,
sample ids and cache keys, so a run resumes (and reuses texts) with other endpoints or retry settings.
`continuation` is one too: it says what the server can do, and changes no fresh generation."""
DEFAULT_COOLDOWN = 120.0
STRUCTURED = ("response_format", "structured_outputs", "none")
"""How a request's JSON schema reaches the server: OpenAI's `response_format` (json_schema: enforced by vLLM
and llama.cpp's llama-server, ignored by llama-cpp-python's server; docs/generators.md), vLLM's own
`structured_outputs: {"json": ...}` field, or not at all (the prompt alone)."""


T = TypeVar("T")
R = TypeVar("R")
Route = Callable[[str], str]
"""Where a request goes: the full URL for an endpoint's base URL."""
Parse = Callable[[bytes, Iterable[str | None]], dict[str, Any]]
"""A 2xx reply's body as checked JSON; GeneratorError when it is not the reply the request expects."""


class Cancelled(Exception):
    """The batch was interrupted; in-flight requests stop without a result."""


@dataclass
class Session:
    """What the requests of one batch share: a client per endpoint, the endpoint pool, the calls."""

    clients: dict[str, httpx.Client]
    pool: Pool
    calls: _Calls


def chat_route(url: str) -> str:
    return f"{url}/chat/completions"


class OpenAIGenerator:
    """Params: `model` (required), `base_url` (one URL or a list of endpoints serving the same model; also
    `base_urls`; else $MODULO_OPENAI_BASE_URL or $OPENAI_BASE_URL), `api_key_env` (the variable holding the
    key; default MODULO_OPENAI_API_KEY, then OPENAI_API_KEY), `concurrency` (requests in flight per
    endpoint, default 4), `cooldown` (seconds a failing endpoint is set aside, default 120),
    `timeout` (total seconds per HTTP request, default 600),
    `max_retries` (default 5), `backoff` (first retry delay in seconds, default 1, doubling),
    `max_reply_bytes` (default 16 MiB), `structured_output` (how a JSON schema is sent: `response_format`,
    the default, `structured_outputs` for vLLM's own field, or `none`), plus SamplingParams fields as
    defaults (temperature, top_p, max_tokens, seed, stop, logprobs)."""

    SERVING_PARAMS = SERVING_PARAMS
    OWN: frozenset[str] = frozenset(OWN)

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        if "api_key" in params:
            raise ValueError(
                "API keys never go in a config; put the key in an environment variable "
                f"({' or '.join(KEY_ENVS)}, or the one named by `api_key_env`)"
            )
        own, self.defaults = split_params(params, set(self.OWN), "openai")
        if "model" not in own:
            raise ValueError("the openai generator needs `model`, the model name the server serves")
        self.model = str(own["model"])
        self.base_urls = _base_urls(own.get("base_url"), own.get("base_urls"))
        self.cooldown = float(own.get("cooldown", DEFAULT_COOLDOWN))
        self.key_env = own.get("api_key_env")
        self.concurrency = int(own.get("concurrency", 4))
        self.timeout = float(own.get("timeout", 600.0))
        self.max_retries = int(own.get("max_retries", 5))
        self.backoff = float(own.get("backoff", 1.0))
        self.max_reply_bytes = int(own.get("max_reply_bytes", MAX_REPLY_BYTES))
        self.structured = str(own.get("structured_output", STRUCTURED[0]))
        if self.structured not in STRUCTURED:
            raise ValueError(
                f"structured_output must be one of {', '.join(STRUCTURED)}, not {self.structured!r}"
            )
        if not (
            1 <= self.concurrency <= 256
            and 0 < self.timeout <= 86_400
            and 0 <= self.max_retries <= 100
            and 0 <= self.backoff <= MAX_DELAY
            and self.max_reply_bytes >= 1024
            and 0 <= self.cooldown <= 86_400
        ):
            raise ValueError(
                "concurrency must be 1..256, timeout 0..86400 s (not 0), max_retries 0..100, "
                f"backoff 0..{MAX_DELAY:g} s, cooldown 0..86400 s and max_reply_bytes at least 1024"
            )
        self.name = f"openai:{self.model}"

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        finished: dict[int, Generation] = {}
        try:
            return self._run(lambda session, request: self._one(session, request), requests, finished)
        except GeneratorError as exc:  # keep what came back: the runner stores it before it stops
            raise BatchFailed(str(exc), dict(finished)) from exc

    def _run(self, work: Callable[[Session, T], R], items: list[T], finished: dict[int, R]) -> list[R]:
        """`work` on every item, in parallel over the endpoints; each result lands in `finished` (by index)
        as it comes back. GeneratorError when a request had no endpoint left."""
        import httpx

        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        # no keep-alive: every request opens its own connection, whose socket its deadline can shut
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=0)
        calls = _Calls(key)
        pool = Pool(self.base_urls, self.concurrency, self.cooldown)
        clients = {
            url: httpx.Client(base_url=url, headers=headers, timeout=timeout, limits=limits)
            for url in self.base_urls
        }
        workers = self.concurrency * len(self.base_urls)
        session = Session(clients, pool, calls)

        def one(item: tuple[int, T]) -> R:
            finished[item[0]] = result = work(session, item[1])
            return result

        try:
            return run_parallel(one, list(enumerate(items)), workers, calls.stop)
        finally:
            calls.cancel()
            for client in clients.values():
                client.close()

    def _api_key(self) -> str | None:
        names = (self.key_env,) if self.key_env else KEY_ENVS
        return next((os.environ[name] for name in names if os.environ.get(name)), None)

    def _one(self, session: Session, request: GenerationRequest, **extra: Any) -> Generation:
        """One chat completion; `extra` fields join the request body."""
        body = {**self._chat_body(request), **extra}
        started = time.perf_counter()
        data = self._post(session, body)
        seconds = time.perf_counter() - started
        if isinstance(data, str):
            return Generation(key=request.key, text="", finish_reason="error", error=data, seconds=seconds)
        return _generation(request.key, data, seconds)

    def _chat_body(self, request: GenerationRequest) -> dict[str, Any]:
        sampling = effective(self.defaults, request)
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in request.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "n": 1,
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling.stop:
            body["stop"] = sampling.stop
        if sampling.logprobs:
            body["logprobs"] = True
        if sampling.json_schema is not None:
            body.update(structured_output(self.structured, sampling.json_schema))
        return body

    def _post(
        self, session: Session, body: dict[str, Any], route: Route = chat_route, parse: Parse | None = None
    ) -> dict[str, Any] | str:
        """The reply's JSON (checked by `parse`, by default as a chat completion), or the reason this
        prompt was rejected, from the first endpoint that answers; GeneratorError when every endpoint failed
        this request or is set aside."""
        pool, calls = session.pool, session.calls
        tried: set[str] = set()
        while (endpoint := pool.acquire(tried, calls.stop)) is not None:
            try:
                outcome = self._on(
                    session.clients[endpoint.url], pool, endpoint, calls, body, route, parse or _json
                )
            finally:
                pool.release(endpoint)
            if not isinstance(outcome, _Retry):
                return outcome
            tried.add(endpoint.url)
        if calls.stop.is_set():
            raise Cancelled
        advice = "Check that it is running and reachable, or raise `max_retries`/`timeout`."
        if len(pool.endpoints) == 1:
            [only] = pool.endpoints
            raise GeneratorError(f"the server at {only.url} {only.problem}. {advice}")
        raise GeneratorError(
            f"every endpoint failed or is set aside: {pool.problems()}. {advice.replace('it is', 'they are')}"
        )

    def _on(
        self,
        client: httpx.Client,
        pool: Pool,
        endpoint: Endpoint,
        calls: _Calls,
        body: dict[str, Any],
        route: Route,
        parse: Parse,
    ) -> dict[str, Any] | str | _Retry:
        """The outcome at one endpoint: retries 429, 5xx, timeouts and connection errors (exponential
        backoff with jitter); after the last retry the endpoint is set aside and a _Retry returned. A
        request stops early when another one has set its endpoint aside meanwhile."""
        retry = _Retry("")
        for attempt in range(self.max_retries + 1):
            if attempt and pool.is_set_aside(endpoint):
                return retry
            outcome = self._attempt(client, endpoint.url, calls, body, route, parse)
            if not isinstance(outcome, _Retry):
                return outcome
            retry = outcome
            if attempt < self.max_retries:
                delay = outcome.after if outcome.after is not None else self.backoff * 2**attempt
                if pause(calls.stop, min(delay, MAX_DELAY) * (1 + 0.1 * random.random())):
                    raise Cancelled
        pool.fail(endpoint, f"failed {self.max_retries + 1} times; last problem: {retry.problem}")
        return retry

    def _attempt(
        self,
        client: httpx.Client,
        url: str,
        calls: _Calls,
        body: dict[str, Any],
        route: Route,
        parse: Parse,
    ) -> dict[str, Any] | str | _Retry:
        """One HTTP request under its total deadline."""
        import httpx

        call = calls.open(self.timeout)
        try:
            with client.stream("POST", route(url), json=body, extensions={"trace": call.trace}) as response:
                status = response.status_code
                if status < 400:
                    raw = _read(response, self.max_reply_bytes)
                    if raw is None:
                        return (
                            f"the reply was larger than max_reply_bytes = {self.max_reply_bytes} bytes "
                            "and was dropped; lower max_tokens or raise max_reply_bytes"
                        )
                    return parse(raw, calls.secrets)
                quoted = calls.quote(_read(response, ERROR_BODY_BYTES, truncate=True) or b"")
                if status in RETRY_STATUSES:
                    return _Retry(f"HTTP {status}: {quoted}", _retry_after(response))
                if status in PROMPT_REJECTED:
                    return f"{url} rejected the prompt with HTTP {status}: {quoted}"
                raise GeneratorError(_refusal(url, status, quoted))
        except httpx.TransportError as exc:
            if calls.stop.is_set():
                raise Cancelled from exc
            if call.expired or isinstance(exc, httpx.ReadTimeout):
                return _Retry(f"no complete reply within timeout = {self.timeout:g} s")
            return _Retry(calls.quote(f"{type(exc).__name__}: {exc}"))
        finally:
            calls.close(call)


def structured_output(how: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request fields that constrain the reply to JSON of `schema`."""
    if how == "response_format":
        return {
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
        }
    if how == "structured_outputs":
        return {"structured_outputs": {"json": schema}}
    return {}


@dataclass
class _Retry:
    problem: str
    after: float | None = None


@dataclass
class _Call:
    """One HTTP request in flight: its socket (learnt from httpcore's trace events) and its deadline."""

    expired: bool = False
    sock: socket.socket | None = None
    timer: threading.Timer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            with self.lock:
                self.sock = stream.get_extra_info("socket") if stream is not None else None
                if self.expired:
                    _shut(self.sock)

    def expire(self) -> None:
        """Abort the request: a blocked read returns at once."""
        with self.lock:
            self.expired = True
            _shut(self.sock)

    def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


@dataclass
class _Calls:
    """The requests of one `generate` call, so that an interrupt can abort all of them."""

    key: str | None
    stop: threading.Event = field(default_factory=threading.Event)
    calls: dict[int, _Call] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.key,)

    def quote(self, text: str | bytes) -> str:
        """At most 300 characters of a server's words, with credentials masked."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        return redact(text, self.secrets)[:300]

    def open(self, timeout: float) -> _Call:
        if self.stop.is_set():
            raise Cancelled
        call = _Call()
        call.timer = threading.Timer(timeout, call.expire)
        call.timer.daemon = True
        with self.lock:
            self.calls[id(call)] = call
        call.timer.start()
        return call

    def close(self, call: _Call) -> None:
        call.close()
        with self.lock:
            self.calls.pop(id(call), None)

    def cancel(self) -> None:
        self.stop.set()
        with self.lock:
            calls = list(self.calls.values())
        for call in calls:
            call.close()
            call.expire()


def pause(stop: threading.Event, seconds: float) -> bool:
    """Wait before a retry; True if the batch was interrupted meanwhile."""
    return stop.wait(seconds)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


def _read(response: httpx.Response, limit: int, truncate: bool = False) -> bytes | None:
    """The body, or None once it grows past `limit` bytes (with `truncate`: its first `limit` bytes)."""
    declared = response.headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]) if truncate else None
    return bytes(body)


def _base_urls(given: Any, listed: Any) -> tuple[str, ...]:
    """The endpoints from `base_url` (one URL or a list) or `base_urls`, each checked; at least one."""
    if given is not None and listed is not None:
        raise ValueError("give either `base_url` or `base_urls`, not both")
    chosen = listed if listed is not None else given
    if isinstance(chosen, list | tuple):
        if not chosen:
            raise ValueError("the list of endpoints (`base_url`/`base_urls`) is empty")
        urls = tuple(_base_url(url) for url in chosen)
    elif listed is not None:
        raise ValueError("`base_urls` must be a list of URLs")
    else:
        urls = (_base_url(chosen),)
    if len(set(urls)) < len(urls):
        raise ValueError(f"an endpoint is listed twice in {[redact(u) for u in urls]}")
    return urls


def _base_url(given: Any) -> str:
    url = str(given or next((os.environ[n] for n in BASE_URL_ENVS if os.environ.get(n)), ""))
    if not url:
        raise ValueError(
            "the openai generator needs `base_url` (e.g. http://localhost:8000/v1) "
            f"or the environment variable {BASE_URL_ENVS[0]} or {BASE_URL_ENVS[1]}"
        )
    if (kind := url_credentials(url)) is not None:
        raise ValueError(
            f"base_url must not carry credentials ({kind}); put the key in the environment instead"
        )
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url {redact(url)!r} is not an http(s) URL like http://localhost:8000/v1")
    return url.rstrip("/")


def json_object(raw: bytes, secrets: Iterable[str | None]) -> dict[str, Any]:
    """A reply's JSON object; GeneratorError (with credentials masked) when it is not one."""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        text = redact(raw[:300].decode("utf-8", errors="replace"), secrets)
        raise GeneratorError(f"the server answered with non-JSON: {text!r}") from exc
    if not isinstance(data, dict):
        raise GeneratorError(
            f"the server answered with JSON that is not an object: {redact(str(data)[:300], secrets)}"
        )
    return data


def _json(raw: bytes, secrets: Iterable[str | None]) -> dict[str, Any]:
    """A chat completion's reply, checked."""
    data = json_object(raw, secrets)
    if not isinstance(data.get("choices"), list) or not data["choices"]:
        raise GeneratorError(
            f"the server's answer has no list of choices: {redact(str(data)[:300], secrets)}; "
            "is base_url an OpenAI-compatible /v1 endpoint?"
        )
    choice = data["choices"][0]
    if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
        raise GeneratorError(
            "the server's answer is not a chat completion (its first choice has no message object): "
            f"{redact(str(choice)[:300], secrets)}; is base_url an OpenAI-compatible /v1 endpoint?"
        )
    content = choice["message"].get("content")
    if content is not None and not isinstance(content, str):
        raise GeneratorError(
            f"the server's message content is not text: {redact(str(content)[:300], secrets)}"
        )
    return data


def _refusal(base_url: str, status: int, quoted: str) -> str:
    hint = {
        401: "the key was refused: set it in the environment (OPENAI_API_KEY or `api_key_env`)",
        403: "the key may not use this model",
        404: "wrong base_url (it usually ends in /v1) or a model the server does not serve",
    }.get(status, "the request was rejected")
    return f"{base_url} answered HTTP {status} ({hint}): {quoted}"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _count(value: Any) -> int:
    """A token count as the server gave it; 0 when it gave none or something that is not a count."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _logprobs(choice: dict[str, Any]) -> list[float] | None:
    content = (
        (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) else None
    )
    if not isinstance(content, list) or not content:
        return None
    try:
        return [float(token["logprob"]) for token in content]
    except (TypeError, KeyError, ValueError):
        return None


def _generation(key: str, data: dict[str, Any], seconds: float) -> Generation:
    """A checked reply (see `_json`) as a Generation."""
    choice = data["choices"][0]
    given = data.get("usage")
    usage: dict[str, Any] = given if isinstance(given, dict) else {}
    finish = choice.get("finish_reason")
    message = choice["message"]
    reasoning = next(
        (message[f] for f in REASONING_FIELDS if isinstance(message.get(f), str) and message[f]), None
    )
    return Generation(
        key=key,
        text=message.get("content") or "",
        reasoning=reasoning,
        finish_reason=finish if isinstance(finish, str) else None,
        prompt_tokens=_count(usage.get("prompt_tokens")),
        completion_tokens=_count(usage.get("completion_tokens")),
        seconds=seconds,
        logprobs=_logprobs(choice),
    )


class OpenAIFactory:
    """The `openai` entry point: an OpenAIGenerator, or with `continuation = "vllm"` one that also continues
    partial assistant messages and scores options through vLLM's server extensions (vllm_server.py)."""

    SERVING_PARAMS = SERVING_PARAMS

    @staticmethod
    def continues(params: dict[str, Any]) -> bool:
        """Whether a generator made from `params` continues and scores (the probe config check asks)."""
        return CONTINUATION in params

    def __call__(self, params: dict[str, Any], domains: DomainLookup) -> OpenAIGenerator:
        if CONTINUATION in params:
            from modulo.generators.vllm_server import VLLMServerGenerator

            return VLLMServerGenerator(params, domains)
        return OpenAIGenerator(params, domains)


FACTORY = OpenAIFactory()
