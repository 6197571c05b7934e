"""The embedded `local` generator on the real Qwen2.5-Coder-0.5B model (slow: needs llama-cpp-python
and the weight packages; skipped with the reason otherwise). Construction errors are tested fast."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, cast

import pytest
from generator_contract import SYSTEM, TASK, check_option_scoring, no_domains, request

from modulo.generators.chatml import render
from modulo.generators.errors import GeneratorError
from modulo.generators.local import LocalGenerator
from modulo.generators.weights import QWEN_CODER_05B, chunk_files
from modulo.model import ChatMessage
from modulo.protocols import ContinuingGenerator, ScoreRequest


def _missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'modulo[local]')"
    try:
        chunk_files(QWEN_CODER_05B)
    except GeneratorError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module")
def local() -> LocalGenerator:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    return LocalGenerator({"n_ctx": 2048, "max_tokens": 160}, no_domains)


def test_a_missing_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GeneratorError, match="is not a file; give the path of a GGUF model"):
        LocalGenerator({"model_path": str(tmp_path / "nope.gguf")}, no_domains)
    with pytest.raises(ValueError, match="unknown local params"):
        LocalGenerator({"modle_path": "x"}, no_domains)


@pytest.mark.slow
def test_follows_the_step_answer_format(local: LocalGenerator) -> None:
    assert isinstance(local, ContinuingGenerator)
    assert local.name == "local:qwen2.5-coder-0.5b-instruct-q4_k_m"
    [gen] = local.generate([request("fmt")])
    assert gen.text.lstrip().startswith("Step 1:"), gen.text
    assert "Answer: 5" in gen.text, gen.text
    assert gen.finish_reason == "stop"
    assert gen.prompt_tokens > 40 and 0 < gen.completion_tokens < 160 and gen.seconds > 0
    assert gen.logprobs is None


@pytest.mark.slow
def test_greedy_and_seeded_sampling_repeat_and_keys_vary_samples(local: LocalGenerator) -> None:
    greedy = local.generate([request("a", max_tokens=24), request("b", max_tokens=24)])
    assert greedy[0].text == greedy[1].text
    hot = {"temperature": 1.2, "max_tokens": 24}
    seeded = local.generate([request("a", seed=11, **hot), request("b", seed=11, **hot)])
    assert seeded[0].text == seeded[1].text
    keyed = local.generate([request("a", **hot), request("b", **hot), request("a", **hot)])
    assert keyed[0].text == keyed[2].text != keyed[1].text


@pytest.mark.slow
def test_max_tokens_and_stop_strings_end_the_text(local: LocalGenerator) -> None:
    short, stopped = local.generate([request("len", max_tokens=5), request("stop", stop=["Answer"])])
    assert (short.finish_reason, short.completion_tokens) == ("length", 5)
    assert stopped.finish_reason == "stop" and "Answer" not in stopped.text and "Step 1:" in stopped.text


@pytest.mark.slow
def test_continues_a_partial_answer(local: LocalGenerator) -> None:
    partial = ChatMessage(
        role="assistant", content="Step 1: Tom starts with 3 apples.\nStep 2: 3 + 2 = 5.\nAnswer:"
    )
    [gen] = local.continue_generation([request("cont", SYSTEM, TASK, partial, max_tokens=8)])
    assert gen.text.strip().startswith("5"), gen.text
    with pytest.raises(ValueError, match="partial assistant message"):
        local.continue_generation([request("bad")])


@pytest.mark.slow
def test_scores_options_after_a_prefix(local: LocalGenerator) -> None:
    check_option_scoring(local)


@pytest.mark.slow
def test_generation_logprobs_agree_with_scoring(local: LocalGenerator) -> None:
    [gen] = local.generate([request("lp", logprobs=True, max_tokens=40)])
    assert gen.logprobs is not None and len(gen.logprobs) == gen.completion_tokens
    assert all(lp <= 0 for lp in gen.logprobs)
    [scores] = local.score([ScoreRequest(key="lp", messages=[SYSTEM, TASK], options=[gen.text])])
    [option] = scores.options
    assert len(option.token_logprobs) == len(gen.logprobs)
    assert option.token_logprobs == pytest.approx(gen.logprobs, abs=1e-3)


@pytest.mark.slow
def test_chatml_matches_the_models_own_template(local: LocalGenerator) -> None:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = local.model.llm.metadata["tokenizer.chat_template"]
    formatter = Jinja2ChatFormatter(template=template, eos_token="<|im_end|>", bos_token="")
    for messages in (
        [TASK],
        [SYSTEM, TASK],
        [SYSTEM, TASK, ChatMessage(role="assistant", content="Step 1"), TASK],
    ):
        expected = formatter(messages=cast(Any, [m.model_dump() for m in messages])).prompt
        assert render(messages) == expected
