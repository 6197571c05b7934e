"""The `openai` generator's opt-in continuation and scoring through vLLM's server extensions, against the fake
server's `vllm` mode (tests/fake_openai.py, which honours the fields as vLLM does and records the bodies)
and its plain `ok` mode (a server that ignores them); the real `vllm serve` is in test_vllm_serve.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("httpx", reason="the openai generator needs httpx: pip install httpx")

from fake_openai import chatml, fake_logprob  # noqa: E402

from modulo.cli import app  # noqa: E402
from modulo.generators.errors import GeneratorError  # noqa: E402
from modulo.generators.openai_compat import FACTORY, OpenAIGenerator  # noqa: E402
from modulo.generators.vllm_server import VLLMServerGenerator  # noqa: E402
from modulo.model import ChatMessage, Instance  # noqa: E402
from modulo.probes.base import Intervention  # noqa: E402
from modulo.probes.config import load_probe_config  # noqa: E402
from modulo.probes.engine import _answers, _Pending  # noqa: E402
from modulo.protocols import ContinuingGenerator, Domain, GenerationRequest, ScoreRequest  # noqa: E402
from modulo.runner import ConfigError  # noqa: E402

HERE = Path(__file__).resolve().parent
QUESTION = "Is Tom an animal?"


def no_domains(name: str) -> Domain:
    raise LookupError(name)


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The fake server on a free loopback port; yields its root URL and the file of recorded requests."""
    record = tmp_path_factory.mktemp("fake") / "requests.jsonl"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FAKE_DELAY": "0.01", "FAKE_RECORD": str(record)}
    server = subprocess.Popen(
        [sys.executable, str(HERE / "fake_openai.py"), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    assert "listening" in server.stderr.readline()
    threading.Thread(target=server.stderr.read, daemon=True).start()
    yield f"http://127.0.0.1:{port}", record
    server.kill()
    server.wait()


def recorded(record: Path) -> list[dict[str, Any]]:
    """The requests recorded since the last call (the file is emptied)."""
    lines = record.read_text().splitlines() if record.exists() else []
    record.write_text("")
    return [json.loads(line) for line in lines]


def server(url: str, mode: str = "vllm", **params: Any) -> VLLMServerGenerator:
    settings = {"model": "fake", "base_url": f"{url}/{mode}/v1", "continuation": "vllm", **params}
    made = FACTORY({"backoff": 0.01, "max_retries": 1, **settings}, no_domains)
    assert isinstance(made, VLLMServerGenerator)
    return made


def partial(key: str, text: str) -> GenerationRequest:
    messages = [ChatMessage(role="user", content=QUESTION), ChatMessage(role="assistant", content=text)]
    return GenerationRequest(key=key, messages=messages, instance=Instance(domain="deduction", id=key))


def test_only_the_opt_in_makes_a_continuing_generator() -> None:
    plain = FACTORY({"model": "m", "base_url": "http://127.0.0.1:9/v1"}, no_domains)
    assert type(plain) is OpenAIGenerator and not isinstance(plain, ContinuingGenerator)
    opted = FACTORY({"model": "m", "base_url": "http://127.0.0.1:9/v1", "continuation": "vllm"}, no_domains)
    assert isinstance(opted, ContinuingGenerator)
    with pytest.raises(ValueError, match="continuation must be one of vllm"):
        FACTORY({"model": "m", "base_url": "http://127.0.0.1:9/v1", "continuation": "yes"}, no_domains)
    with pytest.raises(ValueError, match="must end in /v1"):
        FACTORY({"model": "m", "base_url": "http://127.0.0.1:9/api", "continuation": "vllm"}, no_domains)


def test_continuation_sends_vllms_fields_and_returns_only_what_follows(fake: tuple[str, Path]) -> None:
    url, record = fake
    recorded(record)
    [made] = server(url, max_tokens=7).continue_generation([partial("a", "Tom is a cat, so")])
    assert (made.error, made.text) == (None, " CONTINUED")
    [sent] = recorded(record)
    assert sent["path"] == "/vllm/v1/chat/completions"
    body = sent["body"]
    assert (body["continue_final_message"], body["add_generation_prompt"], body["echo"]) == (
        True,
        False,
        True,
    )
    assert body["messages"][-1] == {"role": "assistant", "content": "Tom is a cat, so"}
    assert body["max_tokens"] == 7
    with pytest.raises(ValueError, match="last message is the partial assistant message"):
        server(url).continue_generation([partial("b", "x").model_copy(update={"messages": []})])


def test_a_server_that_ignores_the_fields_gives_errors_not_continuations(fake: tuple[str, Path]) -> None:
    url, _ = fake
    made = server(url, "ok").continue_generation([partial("a", "Tom is a cat, so"), partial("b", "Step 1:")])
    assert all(g.error and "did not continue the partial message" in g.error and g.text == "" for g in made)


def test_a_rejected_continuation_is_that_requests_error(fake: tuple[str, Path]) -> None:
    url, _ = fake
    made = server(url).continue_generation(
        [partial("a", "fine"), partial("b", "HTTP400"), partial("c", "ok")]
    )
    assert [g.text for g in made] == [" CONTINUED", "", " CONTINUED"]
    assert made[1].error and "HTTP 400" in made[1].error and made[0].error is None


def test_a_failing_request_in_a_probe_batch_becomes_that_items_error(fake: tuple[str, Path]) -> None:
    """An HTTP 500 after its retries fails the generator's batch; the probe engine sends the batch again one
    request at a time, so only that item carries the error."""
    url, _ = fake
    generator = server(url)
    requests = [partial("a", "fine"), partial("b", "HTTP500"), partial("c", "also fine")]
    with pytest.raises(GeneratorError):
        generator.continue_generation(requests)
    pending = [_Pending(None, Intervention(key=r.key, kind="continue", request=r)) for r in requests]  # type: ignore[arg-type]
    answers = _answers(generator, "continue", pending)
    assert [(output, error is None) for _, output, error in answers][::2] == [(" CONTINUED", True)] * 2
    _, output, error = answers[1]
    assert output is None and error and "HTTP 500" in error


def expected_scores(prefix_text: str, option: str) -> list[float]:
    """The fake's logprobs of `option`'s byte tokens after the byte tokens of `prefix_text`."""
    prefix, tokens = list(prefix_text.encode()), list(option.encode())
    ids = prefix + tokens
    return [fake_logprob(ids, i) for i in range(len(prefix), len(ids))]


def test_scores_are_the_option_tokens_prompt_logprobs_after_the_rendered_prefix(
    fake: tuple[str, Path],
) -> None:
    url, record = fake
    recorded(record)
    messages = [ChatMessage(role="user", content=QUESTION), ChatMessage(role="assistant", content="So it is")]
    requests = [
        ScoreRequest(key="partial", messages=messages, options=[" True", " False", ""]),
        ScoreRequest(key="fresh", messages=messages[:1], options=["True"]),
    ]
    got = server(url).score(requests)
    dicts = [m.model_dump() for m in messages]
    cases = [(got[0], chatml(dicts, open_last=True)), (got[1], chatml(dicts[:1], open_last=False))]
    for scores, prefix in cases:
        assert scores.prompt_tokens == len(prefix.encode())
        for option in scores.options:
            assert option.token_logprobs == pytest.approx(expected_scores(prefix, option.option))
            assert option.logprob == pytest.approx(sum(option.token_logprobs))
    assert got[0].options[2].token_logprobs == [] and got[0].options[2].logprob == 0
    sent = recorded(record)
    tokenized = [s["body"] for s in sent if s["path"] == "/vllm/tokenize"]
    assert all(body["add_special_tokens"] is False for body in tokenized)
    chats = {len(body["messages"]): body for body in tokenized if "messages" in body}
    # requests go out concurrently: told apart by their messages, not by the order they arrived in
    assert (chats[2]["continue_final_message"], chats[2]["add_generation_prompt"]) == (True, False)
    assert (chats[1]["continue_final_message"], chats[1]["add_generation_prompt"]) == (False, True)
    completions = [s["body"] for s in sent if s["path"] == "/vllm/v1/completions"]
    assert len(completions) == 3  # an empty option needs no request
    assert all(b["prompt_logprobs"] == 0 and b["max_tokens"] == 1 for b in completions)


def test_a_server_without_prompt_logprobs_stops_scoring_with_a_clear_error(fake: tuple[str, Path]) -> None:
    url, _ = fake
    request = ScoreRequest(key="s", messages=[ChatMessage(role="user", content=QUESTION)], options=["x"])
    with pytest.raises(GeneratorError, match="has no list of token ids"):
        server(url, "ok").score([request])


PROBE_CONFIG = """
name = "probe-openai"
[generator]
name = "openai"
params = {{ model = "m", base_url = "http://127.0.0.1:9/v1"{extra} }}
[[tasks]]
domain = "deduction"
count = 1
[[probes]]
name = "early-answering"
"""


def test_the_probe_config_refuses_a_continuation_probe_without_the_opt_in(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(PROBE_CONFIG.format(extra=""))
    with pytest.raises(ConfigError, match='needs continue requests.*`continuation = "vllm"`'):
        load_probe_config(path)
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["probe", str(path), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 2 and result.output.count("\n") <= 3 and "continuation" in result.output
    assert not (tmp_path / "s.sqlite").exists()
    path.write_text(PROBE_CONFIG.format(extra=', continuation = "vllm"'))
    assert load_probe_config(path).run.generator.params["continuation"] == "vllm"


def test_the_opt_in_keeps_the_runs_identity() -> None:
    """`continuation` says what the server can do, not what the model writes: adding it to a run's config
    keeps its run and sample ids (a run is probed without being generated again)."""
    from modulo.model import GeneratorConfig
    from modulo.registry import generator_identity

    params = {"model": "m", "base_url": "http://127.0.0.1:9/v1", "temperature": 0.0}
    plain = GeneratorConfig(name="openai", params=params)
    opted = GeneratorConfig(name="openai", params={**params, "continuation": "vllm"})
    assert generator_identity(opted) == generator_identity(plain)
