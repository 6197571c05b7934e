"""The `openai` generator with `continuation = "vllm"`: continuing a partial assistant message and scoring
answer options through vLLM's OpenAI-compatible server (`vllm serve`), with vLLM's own request fields.

Continue: a chat completion with `continue_final_message: true` and `add_generation_prompt: false` (the
chat template leaves the last, assistant message open, as the offline `vllm` generator's
`llm.chat(..., continue_final_message=True)` does) and `echo: true`, with which vLLM puts the partial
message in front of its reply. The continuation is what follows it. A reply that does not begin with the
partial message comes from a server that ignored the fields and started a new turn: that request's error,
never a continuation. (A server that ignores all three fields and whose new turn happens to begin with the
partial message verbatim would pass: the opt-in is a promise that the server is vLLM.)

Score: exact, as the offline engine scores. The server's `/tokenize` (beside `/v1`) renders and tokenizes the
chat prefix (the same two fields; a fresh assistant turn when the last message is not the assistant's) and
each option alone (no special tokens); `/v1/completions` gets the token ids prefix + option with
`prompt_logprobs: 0` and `max_tokens: 1`, and each option token's logprob given every token before it is
read from the reply's `prompt_logprobs` under that token's id. vLLM reports a log-probability of minus
infinity as -9999.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from modulo.generators.errors import GeneratorError
from modulo.generators.openai_compat import CONTINUATION, OpenAIGenerator, Session, json_object
from modulo.protocols import DomainLookup, Generation, GenerationRequest, OptionScore, ScoreRequest, Scores
from modulo.redact import redact

SERVERS = ("vllm",)
"""Values of `continuation`: the servers whose extensions modulo knows."""
NOT_VLLM = 'is base_url a vLLM server? `continuation = "vllm"` promises one'


class VLLMServerGenerator(OpenAIGenerator):
    """The `openai` generator's params plus `continuation = "vllm"`; every base_url must end in /v1."""

    OWN = OpenAIGenerator.OWN | {CONTINUATION}

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        super().__init__(params, domains)
        if params[CONTINUATION] not in SERVERS:
            raise ValueError(
                f"continuation must be one of {', '.join(SERVERS)} (a server with vLLM's chat extensions), "
                f"not {params[CONTINUATION]!r}"
            )
        if not all(url.endswith("/v1") for url in self.base_urls):
            raise ValueError(
                'with continuation = "vllm" every base_url must end in /v1 (vLLM\'s /tokenize is beside it)'
            )

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        for request in requests:
            if not request.messages or request.messages[-1].role != "assistant":
                raise ValueError(
                    f"request {request.key!r}: continuing needs a chat whose last message is the partial "
                    "assistant message"
                )
        return self._run(self._continue_one, requests, {})

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        return self._run(self._score_one, requests, {})

    def _continue_one(self, session: Session, request: GenerationRequest) -> Generation:
        generation = self._one(
            session, request, continue_final_message=True, add_generation_prompt=False, echo=True
        )
        if generation.error is not None:
            return generation
        partial = request.messages[-1].content
        if not generation.text.startswith(partial):
            return generation.model_copy(
                update={
                    "text": "",
                    "finish_reason": "error",
                    "error": "the server did not continue the partial message (its reply does not begin "
                    f"with it, as vLLM's echo would): it started a new turn; {NOT_VLLM}",
                }
            )
        return generation.model_copy(update={"text": generation.text[len(partial) :]})

    def _score_one(self, session: Session, request: ScoreRequest) -> Scores:
        started = time.perf_counter()
        partial = bool(request.messages) and request.messages[-1].role == "assistant"
        prefix = self._tokens(
            session,
            request.key,
            {
                "messages": [m.model_dump() for m in request.messages],
                "add_generation_prompt": not partial,
                "continue_final_message": partial,
                "add_special_tokens": False,
            },
        )
        scored = []
        for option in request.options:
            tokens = self._tokens(session, request.key, {"prompt": option, "add_special_tokens": False})
            logprobs = self._prompt_logprobs(session, request.key, prefix, tokens) if tokens else []
            scored.append(OptionScore(option=option, logprob=sum(logprobs), token_logprobs=logprobs))
        seconds = time.perf_counter() - started
        return Scores(key=request.key, options=scored, prompt_tokens=len(prefix), seconds=seconds)

    def _tokens(self, session: Session, key: str, fields: dict[str, Any]) -> list[int]:
        data = _answer(key, self._post(session, {"model": self.model, **fields}, _tokenize, _token_list))
        return list(data["tokens"])

    def _prompt_logprobs(
        self, session: Session, key: str, prefix: list[int], tokens: list[int]
    ) -> list[float]:
        """Each of `tokens`' logprobs after `prefix` and the tokens before it."""
        ids = prefix + tokens
        body = {
            "model": self.model,
            "prompt": ids,
            "max_tokens": 1,
            "temperature": 1.0,
            "top_p": 1.0,
            "prompt_logprobs": 0,
        }
        data = _answer(key, self._post(session, body, _completions, json_object))
        choices = data.get("choices")
        steps = choices[0].get("prompt_logprobs") if isinstance(choices, list) and choices else None
        if not isinstance(steps, list) or len(steps) != len(ids):
            raise GeneratorError(
                f"the server's completion has no prompt_logprobs for the {len(ids)} prompt tokens "
                f"({redact(str(data)[:200])}); {NOT_VLLM}"
            )
        return [_logprob(steps[i], ids[i]) for i in range(len(prefix), len(ids))]


def _tokenize(url: str) -> str:
    return f"{url.removesuffix('/v1')}/tokenize"


def _completions(url: str) -> str:
    return f"{url}/completions"


def _token_list(raw: bytes, secrets: Iterable[str | None]) -> dict[str, Any]:
    """A /tokenize reply, checked: its `tokens` are a list of token ids."""
    data = json_object(raw, secrets)
    tokens = data.get("tokens")
    if not isinstance(tokens, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in tokens
    ):
        raise GeneratorError(
            f"the server's /tokenize reply has no list of token ids: {redact(str(data)[:200], secrets)}; "
            f"{NOT_VLLM}"
        )
    return data


def _answer(key: str, outcome: dict[str, Any] | str) -> dict[str, Any]:
    """The reply, or ValueError when the server rejected this request's prompt (e.g. too long)."""
    if isinstance(outcome, str):
        raise ValueError(f"request {key!r}: {outcome}")
    return outcome


def _logprob(step: Any, token: int) -> float:
    """The logprob of `token` in one position of vLLM's prompt_logprobs (keyed by token id)."""
    entry = step.get(str(token)) if isinstance(step, dict) else None
    value = entry.get("logprob") if isinstance(entry, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise GeneratorError(f"the server's prompt_logprobs lack token {token} at its position; {NOT_VLLM}")
    return float(value)
