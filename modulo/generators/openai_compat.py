"""The `openai` generator: any OpenAI-compatible chat-completions server (vLLM, llama.cpp, hosted APIs).

The API key is read from the environment at request time; it is never stored on the generator, put in
its name or params, or written into an error message.
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from modulo.generators.errors import GeneratorError
from modulo.generators.sampling import effective, split_params
from modulo.protocols import DomainLookup, Generation, GenerationRequest

if TYPE_CHECKING:
    import httpx

BASE_URL_ENVS = ("MODULO_OPENAI_BASE_URL", "OPENAI_BASE_URL")
KEY_ENVS = ("MODULO_OPENAI_API_KEY", "OPENAI_API_KEY")
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_DELAY = 60.0
OWN = {"base_url", "model", "api_key_env", "concurrency", "timeout", "max_retries", "backoff"}


class OpenAIGenerator:
    """Params: `model` (required), `base_url` (else $MODULO_OPENAI_BASE_URL or $OPENAI_BASE_URL),
    `api_key_env` (the variable holding the key; default MODULO_OPENAI_API_KEY, then OPENAI_API_KEY),
    `concurrency` (requests in flight, default 4), `timeout` (seconds per request, default 600),
    `max_retries` (default 5) and `backoff` (first retry delay in seconds, default 1, doubling),
    plus SamplingParams fields as defaults (temperature, top_p, max_tokens, seed, stop, logprobs)."""

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        if "api_key" in params:
            raise ValueError(
                "API keys never go in a config; put the key in an environment variable "
                f"({' or '.join(KEY_ENVS)}, or the one named by `api_key_env`)"
            )
        own, self.defaults = split_params(params, OWN, "openai")
        if "model" not in own:
            raise ValueError("the openai generator needs `model`, the model name the server serves")
        self.model = str(own["model"])
        self.base_url = _base_url(own.get("base_url"))
        self.key_env = own.get("api_key_env")
        self.concurrency = int(own.get("concurrency", 4))
        self.timeout = float(own.get("timeout", 600.0))
        self.max_retries = int(own.get("max_retries", 5))
        self.backoff = float(own.get("backoff", 1.0))
        if self.concurrency < 1 or self.timeout <= 0 or self.max_retries < 0 or self.backoff < 0:
            raise ValueError("concurrency must be ≥ 1, timeout > 0, max_retries ≥ 0 and backoff ≥ 0")
        self.name = f"openai:{self.model}"

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        import httpx

        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
        limits = httpx.Limits(max_connections=self.concurrency)
        with (
            httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, limits=limits) as client,
            ThreadPoolExecutor(max_workers=self.concurrency) as pool,
        ):
            return list(pool.map(lambda request: self._one(client, request), requests))

    def _api_key(self) -> str | None:
        names = (self.key_env,) if self.key_env else KEY_ENVS
        return next((os.environ[name] for name in names if os.environ.get(name)), None)

    def _one(self, client: httpx.Client, request: GenerationRequest) -> Generation:
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
        started = time.perf_counter()
        data = self._post(client, "/chat/completions", body)
        return _generation(request.key, data, time.perf_counter() - started)

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with retries on 429, 5xx, timeouts and connection errors (exponential backoff with jitter)."""
        import httpx

        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                response = client.post(path, json=body)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return _json(response)
                if response.status_code not in RETRY_STATUSES:
                    raise GeneratorError(_refusal(self.base_url, response))
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                retry_after = _retry_after(response)
            if attempt < self.max_retries:
                delay = retry_after if retry_after is not None else self.backoff * 2**attempt
                time.sleep(min(delay, MAX_DELAY) * (1 + 0.1 * random.random()))
        raise GeneratorError(
            f"the server at {self.base_url} failed {self.max_retries + 1} times; last problem: {problem}. "
            "Check that it is running and reachable, or raise `max_retries`/`timeout`."
        )


def _base_url(given: Any) -> str:
    url = str(given or next((os.environ[n] for n in BASE_URL_ENVS if os.environ.get(n)), ""))
    if not url:
        raise ValueError(
            "the openai generator needs `base_url` (e.g. http://localhost:8000/v1) "
            f"or the environment variable {BASE_URL_ENVS[0]} or {BASE_URL_ENVS[1]}"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url {url!r} is not an http(s) URL like http://localhost:8000/v1")
    if parts.username or parts.password:
        raise ValueError("base_url must not carry credentials; put the key in the environment instead")
    return url.rstrip("/")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise GeneratorError(f"the server answered with non-JSON: {response.text[:300]!r}") from exc
    if not isinstance(data, dict) or not data.get("choices"):
        raise GeneratorError(f"the server's answer has no choices: {str(data)[:300]}")
    return data


def _refusal(base_url: str, response: httpx.Response) -> str:
    hint = {
        401: "the key was refused: set it in the environment (OPENAI_API_KEY or `api_key_env`)",
        403: "the key may not use this model",
        404: "wrong base_url (it usually ends in /v1) or a model the server does not serve",
    }.get(response.status_code, "the request was rejected")
    return f"{base_url} answered HTTP {response.status_code} ({hint}): {response.text[:300]}"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _generation(key: str, data: dict[str, Any], seconds: float) -> Generation:
    choice = data["choices"][0]
    usage = data.get("usage") or {}
    content = (choice.get("logprobs") or {}).get("content")
    return Generation(
        key=key,
        text=(choice.get("message") or {}).get("content") or "",
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        seconds=seconds,
        logprobs=[float(t["logprob"]) for t in content] if content else None,
    )
