"""Benchmark: speed of the embedded `local` generator (Qwen2.5-Coder-0.5B Q4_K_M through llama.cpp).

Run `python benchmarks/generation.py [--threads N] [--max-tokens M] [--repeat R]`. For each prompt it
prints prompt tokens, prefill tokens/s (prompt evaluated from an empty cache) and decode tokens/s
(generated tokens per second of generation from the cached prompt), the best of R runs; then the totals.
Greedy decoding, logprobs on (free: the generator reads them from the logits it samples from anyway).
"""

from __future__ import annotations

import argparse
import time

from modulo.generators.chatml import render
from modulo.generators.local import LocalGenerator, default_threads
from modulo.model import ChatMessage, Instance
from modulo.protocols import GenerationRequest, SamplingParams
from modulo.registry import get_domain

ARITHMETIC = (
    "A shop sells pens at 3 euros each. Ana buys 4 pens and pays with a 20 euro note. How much change does "
    "she get? Write each step on its own line as 'Step N: ...', then a final line 'Answer: <number>'."
)


def prompts() -> dict[str, list[ChatMessage]]:
    maze = get_domain("maze")
    [instance] = maze.generate(1, seed=1)
    return {
        "arithmetic": [ChatMessage(role="user", content=ARITHMETIC)],
        "maze zero-shot": maze.prompt(instance, "zero-shot"),
        "maze few-shot": maze.prompt(instance, "few-shot"),
    }


def timed(
    local: LocalGenerator, messages: list[ChatMessage], max_tokens: int
) -> tuple[int, int, float, float]:
    """Prompt tokens, generated tokens, prefill seconds (from an empty cache) and decode seconds of one
    greedy generation. Decoding starts from the cached prompt, so it re-evaluates one prompt token: that
    step yields the first generated token, like every later step."""
    tokens = local.model.prompt_tokens(render(messages))
    local.model.llm.reset()
    started = time.perf_counter()
    local.model.feed(tokens)
    prefill = time.perf_counter() - started
    request = GenerationRequest(
        key="bench",
        messages=messages,
        instance=Instance(domain="bench", id="0"),
        sampling=SamplingParams(max_tokens=max_tokens, logprobs=True),
    )
    started = time.perf_counter()
    [gen] = local.generate([request])
    return len(tokens), gen.completion_tokens, prefill, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    local = LocalGenerator({"n_threads": args.threads, "n_ctx": 4096}, get_domain)
    print(
        f"{local.name}: loaded in {time.perf_counter() - started:.1f} s, {args.threads} threads", flush=True
    )
    total_new, total_decode = 0, 0.0
    for name, messages in prompts().items():
        runs = [timed(local, messages, args.max_tokens) for _ in range(args.repeat)]
        prompt_tokens, new = runs[0][:2]
        prefill, decode = min(run[2] for run in runs), min(run[3] for run in runs)
        total_new, total_decode = total_new + new, total_decode + decode
        print(
            f"{name:>15}: {prompt_tokens:4d} prompt tokens, prefill {prompt_tokens / prefill:6.1f} tok/s; "
            f"{new:4d} generated, decode {new / decode:5.1f} tok/s",
            flush=True,
        )
    print(f"decode overall: {total_new / total_decode:.1f} tok/s")


if __name__ == "__main__":
    main()
