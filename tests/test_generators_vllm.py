"""The `vllm` generator on a real vLLM engine with the embedded Qwen2.5-Coder-0.5B model (slow: needs vLLM,
which lives in its own venv, see docs/vllm.md; skipped with the reason otherwise). Param errors run fast."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator

import pytest
from generator_contract import SYSTEM, TASK, check_option_scoring, no_domains, request

from modulo.generators.errors import GeneratorError
from modulo.generators.vllm_engine import VLLMGenerator
from modulo.model import ChatMessage
from modulo.protocols import ContinuingGenerator, ScoreRequest

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.fixture(scope="module")
def engine() -> VLLMGenerator:
    if not HAS_VLLM:
        pytest.skip("vLLM is not importable here; run in the vLLM venv (docs/vllm.md): pytest -m slow")
    return VLLMGenerator({"max_tokens": 96}, no_domains)


def test_params_are_checked_before_any_engine_starts() -> None:
    with pytest.raises(ValueError, match="n must be 1"):
        VLLMGenerator({"n": 2}, no_domains)


def test_data_parallel_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(ValueError, match=r"data_parallel_size = 2: .*vllm serve --data-parallel-size N"):
        VLLMGenerator({"data_parallel_size": 2}, no_domains)


@pytest.mark.slow
def test_parallel_sizes_are_engine_args_and_vllm_itself_refuses_offline_data_parallel() -> None:
    """What the generator's pass-through and its data-parallel refusal rest on, checked on vLLM itself."""
    if not HAS_VLLM:
        pytest.skip("vLLM is not importable here")
    import dataclasses

    import vllm

    fields = {field.name for field in dataclasses.fields(vllm.EngineArgs)}
    assert {"tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size"} <= fields
    with pytest.raises(ValueError, match="data_parallel_size=2"):
        vllm.LLM(model="no-such-model", data_parallel_size=2)


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here")
def test_without_vllm_the_error_says_how_to_install_it() -> None:
    with pytest.raises(GeneratorError, match=r"pip install 'modulo\[vllm\]'.*docs/vllm.md"):
        VLLMGenerator({}, no_domains)


@pytest.mark.slow
def test_unknown_engine_params_are_named() -> None:
    if not HAS_VLLM:
        pytest.skip("vLLM is not importable here")
    with pytest.raises(ValueError, match=r"unknown vllm params \['max_model_length'\]"):
        VLLMGenerator({"max_model_length": 10}, no_domains)


@pytest.mark.slow
def test_follows_the_step_answer_format(engine: VLLMGenerator) -> None:
    assert isinstance(engine, ContinuingGenerator)
    assert engine.name == "vllm:qwen2.5-coder-0.5b-instruct"
    assert engine.engine_version.count(".") >= 1
    [gen] = engine.generate([request("fmt")])
    assert gen.text.lstrip().startswith("Step 1:"), gen.text
    assert "Answer: 5" in gen.text, gen.text
    assert gen.finish_reason == "stop"
    assert gen.prompt_tokens > 40 and 0 < gen.completion_tokens < 96 and gen.seconds > 0
    assert gen.logprobs is None


@pytest.mark.slow
def test_greedy_and_seeded_sampling_repeat_and_keys_vary_samples(engine: VLLMGenerator) -> None:
    hot = {"temperature": 1.2, "max_tokens": 16}
    batch = [
        request("a", max_tokens=16),
        request("b", max_tokens=16),
        request("a", seed=11, **hot),
        request("b", seed=11, **hot),
        request("a", **hot),
        request("b", **hot),
    ]
    greedy_a, greedy_b, seeded_a, seeded_b, keyed_a, keyed_b = engine.generate(batch)
    assert greedy_a.text == greedy_b.text
    assert seeded_a.text == seeded_b.text
    assert keyed_a.text != keyed_b.text
    [again] = engine.generate([request("a", **hot)])
    assert again.text == keyed_a.text


@pytest.mark.slow
def test_max_tokens_and_stop_strings_end_the_text(engine: VLLMGenerator) -> None:
    short, stopped = engine.generate([request("len", max_tokens=5), request("stop", stop=["Answer"])])
    assert (short.finish_reason, short.completion_tokens) == ("length", 5)
    assert stopped.finish_reason == "stop" and "Answer" not in stopped.text and "Step 1:" in stopped.text


@pytest.mark.slow
def test_continues_a_partial_answer(engine: VLLMGenerator) -> None:
    partial = ChatMessage(role="assistant", content="Step 1: Tom starts with 3 apples.\nStep 2: 3 + 2 = 5.\n")
    [gen] = engine.continue_generation([request("cont", SYSTEM, TASK, partial, max_tokens=8)])
    assert gen.text.startswith("Answer: 5"), gen.text
    with pytest.raises(ValueError, match="partial assistant message"):
        engine.continue_generation([request("bad")])


@pytest.mark.slow
def test_generation_logprobs_agree_with_scoring(engine: VLLMGenerator) -> None:
    [gen] = engine.generate([request("lp", logprobs=True, max_tokens=40)])
    assert gen.logprobs is not None and len(gen.logprobs) == gen.completion_tokens
    assert all(lp <= 0 for lp in gen.logprobs)
    [scores] = engine.score([ScoreRequest(key="lp", messages=[SYSTEM, TASK], options=[gen.text])])
    [option] = scores.options
    assert option.token_logprobs == pytest.approx(gen.logprobs, abs=1e-2)


@pytest.mark.slow
def test_scores_options_after_a_partial_answer(engine: VLLMGenerator) -> None:
    check_option_scoring(engine)


@pytest.fixture
def json_engine(engine: VLLMGenerator) -> Iterator[VLLMGenerator]:
    """The same engine with a JSON schema among its sampling defaults (as the `json_schema` param sets it)."""
    plain = engine.defaults
    schema = {
        "type": "object",
        "properties": {
            "steps": {"type": "array", "items": {"type": "string"}},
            "answer": {"type": "integer"},
        },
        "required": ["steps", "answer"],
    }
    engine.defaults = plain.model_copy(update={"json_schema": schema})
    yield engine
    engine.defaults = plain


@pytest.mark.slow
def test_structured_output_parses_as_the_schema(json_engine: VLLMGenerator) -> None:
    ask = ChatMessage(
        role="user", content="Tom has 3 apples and buys 2 more. Reply in JSON: steps and answer."
    )
    [gen] = json_engine.generate([request("json", ask, max_tokens=96)])
    data = json.loads(gen.text)
    assert set(data) == {"steps", "answer"} and isinstance(data["answer"], int), gen.text
