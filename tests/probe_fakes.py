"""A scripted ContinuingGenerator for probe tests: its outputs are a function of the request, so tests know
what the model "said" after each intervention."""

from __future__ import annotations

from collections.abc import Callable

from modulo.model import ChatMessage
from modulo.protocols import Generation, GenerationRequest, OptionScore, ScoreRequest, Scores

Reply = Callable[[list[ChatMessage]], str]
Score = Callable[[list[ChatMessage], str], float]


class ScriptedGenerator:
    """`reply(messages)` is the text generated (or continued) for a request; `score(messages, option)` the
    log-probability of an option. Every request is recorded in `calls` as (kind, key)."""

    name = "scripted"

    def __init__(self, reply: Reply, score: Score | None = None) -> None:
        self.reply = reply
        self.option_score = score or (lambda messages, option: -1.0)
        self.calls: list[tuple[str, str]] = []

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [self._answer("generate", request) for request in requests]

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [self._answer("continue", request) for request in requests]

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        out = []
        for request in requests:
            self.calls.append(("score", request.key))
            logprobs = [self.option_score(request.messages, option) for option in request.options]
            options = [
                OptionScore(option=o, logprob=lp, token_logprobs=[lp])
                for o, lp in zip(request.options, logprobs, strict=True)
            ]
            out.append(Scores(key=request.key, options=options))
        return out

    def _answer(self, kind: str, request: GenerationRequest) -> Generation:
        self.calls.append((kind, request.key))
        text = self.reply(request.messages)
        tokens = len(text.split())
        return Generation(key=request.key, text=text, finish_reason="stop", completion_tokens=tokens)
