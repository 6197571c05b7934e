"""The LLM-Modulo loop's policy: when a sample goes back to the model, and with what critique.

Critics run in two tiers, as in the LLM-Modulo papers: the format critic (steps or answer that could
not be read) speaks first and alone; only a readable output gets the hard critics (broken rules,
wrong answer), either all of them or just the first error.
"""

from __future__ import annotations

from typing import Literal

from modulo.model import ChatMessage, StepVerdict, Verdicts
from modulo.protocols import Domain

RetryOn = Literal["answer", "trace", "either"]
CritiquePolicy = Literal["all", "first-error"]


def needs_retry(verdicts: Verdicts, retry_on: RetryOn) -> bool:
    """Whether a sample's verdicts call for another round."""
    wrong_answer = verdicts.answer.status != "correct"
    if retry_on == "answer":
        return wrong_answer
    if retry_on == "trace":
        return not verdicts.trace_valid
    return wrong_answer or not verdicts.trace_valid


def critic_view(verdicts: Verdicts, policy: CritiquePolicy) -> Verdicts:
    """The verdicts the critique is built from: format problems first, then all or the first hard error."""
    failing = [v for v in [*verdicts.steps, *verdicts.trace_checks] if v.status != "valid"]
    unparsed = [v for v in failing if v.status == "unparsed"]
    if unparsed or verdicts.answer.status == "unparsed":
        chosen = unparsed
    else:
        chosen = failing[:1] if policy == "first-error" else failing
    return _restrict(verdicts, chosen)


def _restrict(verdicts: Verdicts, chosen: list[StepVerdict]) -> Verdicts:
    keep = {id(v) for v in chosen}
    return verdicts.model_copy(
        update={
            "steps": [v for v in verdicts.steps if id(v) in keep],
            "trace_checks": [v for v in verdicts.trace_checks if id(v) in keep],
        }
    )


def back_prompt(
    domain: Domain, messages: list[ChatMessage], text: str, verdicts: Verdicts, policy: CritiquePolicy
) -> list[ChatMessage]:
    """The conversation so far, the model's answer, and the critique of it as the next user turn."""
    critique = domain.critique(critic_view(verdicts, policy))
    return [
        *messages,
        ChatMessage(role="assistant", content=text),
        ChatMessage(role="user", content=critique),
    ]


def first_critic(verdicts: Verdicts) -> str:
    """The rule that fires first for a sample (for the report's `critics_fired`)."""
    failing = [v for v in [*verdicts.steps, *verdicts.trace_checks] if v.status != "valid"]
    if failing:
        return failing[0].rule or failing[0].status
    return f"answer.{verdicts.answer.detail or verdicts.answer.status}"
