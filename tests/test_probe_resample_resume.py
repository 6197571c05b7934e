"""A resampling probe interrupted part-way plans only what is missing and ends with the same items as an
uninterrupted one (the engine stores items one by one; this is the probes' half of resuming)."""

from __future__ import annotations

from typing import Any

import pytest
from probe_drive import deduction_sample, drive, send
from probe_fakes import ScriptedGenerator

from modulo.model import ChatMessage
from modulo.probes.base import Probe, ProbeContext, ProbeItem
from modulo.probes.confidence import ConfidenceTrajectory
from modulo.probes.importance import CounterfactualImportance
from modulo.probes.paraphrase import Paraphrase


def reply(messages: list[ChatMessage]) -> str:
    """Deterministic in the request: paraphrases echo, continuations answer by the prefix's length."""
    last = messages[-1]
    if last.role == "user" and last.content.startswith("Please rewrite"):
        return "Rewritten text: " + last.content.split("Text: ", 1)[1]
    partial = last.content if last.role == "assistant" else ""
    return "Answer: True" if partial.count("\n") % 2 else "Stella is kind.\nAnswer: False"


CASES: list[tuple[Probe, dict[str, Any]]] = [
    (Paraphrase(), {"ks": [1, 4, 9]}),
    (ConfidenceTrajectory(), {"method": "resample", "samples": 2}),
    (ConfidenceTrajectory(), {}),
    (CounterfactualImportance(), {"samples": 2, "steps": [0, 5, 8]}),
]


@pytest.mark.parametrize(("probe", "params"), CASES, ids=lambda c: getattr(c, "name", str(c)))
def test_interrupted_and_resumed_gives_the_same_items(probe: Probe, params: dict[str, Any]) -> None:
    sample, domain = deduction_sample()
    generator = ScriptedGenerator(reply, score=lambda m, o: -float(len(m[-1].content) % 3 + len(o)))
    whole, _ = drive(probe, sample, domain, generator, params)

    context = ProbeContext(params=probe.check_params(params))  # type: ignore[attr-defined]
    done: dict[str, ProbeItem] = {}
    killed_after = 3
    for _ in range(10):
        planned = probe.plan(sample, domain, context, done)
        if not planned:
            break
        assert not set(i.key for i in planned) & set(done), "planned an item already stored"
        for intervention in planned[:killed_after]:  # the run dies after a few items of each round
            done[intervention.key] = probe.judge(
                sample, domain, intervention, send(generator, intervention), None
            )
    assert done.keys() == whole.keys()
    assert {k: v.model_dump() for k, v in done.items()} == {k: v.model_dump() for k, v in whole.items()}
