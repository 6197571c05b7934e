"""What every real-model generator test shares: a tiny arithmetic task and the option-scoring contract."""

from __future__ import annotations

import pytest

from modulo.model import ChatMessage, Instance
from modulo.protocols import ContinuingGenerator, Domain, GenerationRequest, SamplingParams, ScoreRequest

SYSTEM = ChatMessage(role="system", content="You are a careful assistant. Follow the output format exactly.")
TASK = ChatMessage(
    role="user",
    content="Tom has 3 apples and buys 2 more. How many apples does he have? "
    "Write each step on its own line as 'Step N: ...', then a final line 'Answer: <number>'.",
)


def no_domains(name: str) -> Domain:
    raise LookupError(f"no domain {name!r} in these tests")


def request(key: str, *messages: ChatMessage, **sampling: object) -> GenerationRequest:
    return GenerationRequest(
        key=key,
        messages=list(messages) or [SYSTEM, TASK],
        instance=Instance(domain="arith", id=key),
        sampling=SamplingParams.model_validate(sampling),
    )


def check_option_scoring(generator: ContinuingGenerator) -> None:
    """After a partial answer, the right option outscores a wrong one; totals are token sums."""
    partial = ChatMessage(role="assistant", content="Step 1: 3 + 2 = 5.\nAnswer:")
    [scores] = generator.score(
        [ScoreRequest(key="s", messages=[SYSTEM, TASK, partial], options=[" 5", " 7", ""])]
    )
    right, wrong, empty = scores.options
    assert right.logprob > wrong.logprob
    assert right.logprob == pytest.approx(sum(right.token_logprobs)) and right.logprob < 0
    assert (empty.logprob, empty.token_logprobs) == (0.0, [])
    assert scores.prompt_tokens > 40
