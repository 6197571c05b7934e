"""A reasoning model's thinking is stored apart from the response that is verified (issue 13, item 3)."""

from __future__ import annotations

from pathlib import Path

from modulo.model import RunConfig, TaskConfig
from modulo.protocols import Generation, GenerationRequest
from modulo.runner import Runner
from modulo.store import Store


class Thinking:
    """A generator whose API returns the thinking in its own field, as DeepSeek-R1's does."""

    name = "thinking"

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [
            Generation(key=r.key, text="plan: (0, 0)", reasoning="Let me think. plan: (9, 9) is wrong.")
            for r in requests
        ]


def test_reasoning_is_stored_apart_and_not_verified(tmp_path: Path) -> None:
    config = RunConfig(name="r", tasks=[TaskConfig(domain="maze", count=2, params={"width": 7})])
    with Store(tmp_path / "s.sqlite") as store:
        runner = Runner(config, store)
        runner._generators[config.generator.model_dump_json()] = Thinking()  # type: ignore[assignment]
        run_id = runner.run().run.id
        samples = store.samples(run_id)
    assert [s.reasoning for s in samples] == ["Let me think. plan: (9, 9) is wrong."] * 2
    assert all(s.text == "plan: (0, 0)" for s in samples)
    for s in samples:  # the verdicts are about the response: its one-cell plan, never the thinking's
        assert s.trace is not None and s.trace.answer_text is not None and "9" not in s.trace.answer_text


class Tagged:
    """A generator (vLLM offline, a server without a reasoning parser) whose thinking is in the text."""

    name = "tagged"

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return [Generation(key=r.key, text="<think>plan: (9, 9)?</think>\nplan: (0, 0)") for r in requests]


def test_thinking_in_the_text_is_stored_apart_and_the_raw_text_kept(tmp_path: Path) -> None:
    config = RunConfig(name="t", tasks=[TaskConfig(domain="maze", count=1, params={"width": 7})])
    with Store(tmp_path / "s.sqlite") as store:
        runner = Runner(config, store)
        runner._generators[config.generator.model_dump_json()] = Tagged()  # type: ignore[assignment]
        (sample,) = store.samples(runner.run().run.id)
    assert sample.reasoning == "plan: (9, 9)?"
    assert sample.text == "<think>plan: (9, 9)?</think>\nplan: (0, 0)"
    assert sample.trace is not None and sample.trace.answer == [[0, 0]], "the thinking was read as the plan"
