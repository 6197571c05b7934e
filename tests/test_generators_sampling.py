"""Pure parts of the model generators: ChatML rendering, sampling settings, numpy token sampling."""

from __future__ import annotations

import numpy as np
import pytest

from modulo.generators.chatml import QWEN_DEFAULT_SYSTEM, render
from modulo.generators.sampling import effective, log_softmax, request_seed, sample_token, split_params
from modulo.model import ChatMessage, Instance
from modulo.protocols import GenerationRequest, SamplingParams

USER = ChatMessage(role="user", content="Solve it.")


def test_chatml_adds_qwens_default_system_prompt_and_opens_an_assistant_turn() -> None:
    assert render([USER]) == (
        f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\nSolve it.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chatml_continues_a_partial_assistant_message() -> None:
    messages = [
        ChatMessage(role="system", content="Be brief."),
        USER,
        ChatMessage(role="assistant", content="Step 1:"),
    ]
    assert render(messages, continue_final=True) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSolve it.<|im_end|>\n"
        "<|im_start|>assistant\nStep 1:"
    )
    assert render(messages).endswith("<|im_start|>assistant\nStep 1:<|im_end|>\n<|im_start|>assistant\n")
    with pytest.raises(ValueError, match="last message is the partial assistant message"):
        render([USER], continue_final=True)


def _request(**sampling: object) -> GenerationRequest:
    return GenerationRequest(
        key="run:maze:1:s0:r0",
        messages=[USER],
        instance=Instance(domain="maze", id="1"),
        sampling=SamplingParams.model_validate(sampling),
    )


def test_request_fields_set_explicitly_override_the_generator_defaults() -> None:
    own, defaults = split_params({"n_ctx": 512, "temperature": 0.8, "max_tokens": 50}, {"n_ctx"}, "local")
    assert own == {"n_ctx": 512}
    merged = effective(defaults, _request(max_tokens=10))
    assert (merged.temperature, merged.max_tokens) == (0.8, 10)
    assert effective(defaults, _request()).max_tokens == 50
    with pytest.raises(ValueError, match="send one request per sample"):
        effective(defaults, _request(n=3))


def test_seeds_come_from_the_request_key_unless_given() -> None:
    assert request_seed(SamplingParams(seed=5), "a") == 5
    assert request_seed(SamplingParams(), "a") == request_seed(SamplingParams(), "a")
    assert request_seed(SamplingParams(), "a") != request_seed(SamplingParams(), "b")


def test_log_softmax_normalises() -> None:
    logprobs = log_softmax(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert np.exp(logprobs).sum() == pytest.approx(1.0)
    assert logprobs[2] - logprobs[1] == pytest.approx(1.0)


def test_greedy_and_nucleus_sampling() -> None:
    probs = np.full(10_000, 1e-9)
    probs[[7, 42, 99]] = [0.5, 0.3, 0.2 - 1e-9 * 9_997]
    logprobs = np.log(probs)
    rng = np.random.default_rng(0)
    assert sample_token(logprobs, 0.0, 1.0, rng) == 7
    assert {sample_token(logprobs, 1.0, 0.5, rng) for _ in range(50)} == {7}
    drawn = [sample_token(logprobs, 1.0, 0.75, rng) for _ in range(2_000)]
    assert set(drawn) == {7, 42}
    assert drawn.count(7) / len(drawn) == pytest.approx(0.5 / 0.8, abs=0.05)
    same = [sample_token(logprobs, 1.0, 1.0, np.random.default_rng(3)) for _ in range(3)]
    assert len(set(same)) == 1
