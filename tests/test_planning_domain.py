"""The blocksworld domain: generator, prompts, parse totality, and the oracle reference check."""

from __future__ import annotations

import pytest

from modulo.domains.planning.domain import BlocksworldDomain
from modulo.model import Instance

DOMAIN = BlocksworldDomain()


@pytest.fixture(scope="module")
def instances() -> list[Instance]:
    return DOMAIN.generate(6, seed=3, blocks=4)


def test_generator_is_seeded(instances: list[Instance]) -> None:
    again = DOMAIN.generate(6, seed=3, blocks=4)
    assert [i.payload for i in again] == [i.payload for i in instances]
    assert all(i.difficulty["optimal_length"] == len(i.payload["plan"]) for i in instances)
    with pytest.raises(ValueError, match="blocks"):
        DOMAIN.generate(1, seed=0, colour="red")


def test_oracle_exact_traces_are_accepted(instances: list[Instance]) -> None:
    for instance in instances:
        for variant in ("exact", "state-tracking"):
            verdicts = DOMAIN.check(instance, DOMAIN.parse(DOMAIN.oracle(instance, variant, 0), instance))
            assert verdicts.trace_valid, variant
            assert verdicts.answer.detail == "valid-optimal"


@pytest.mark.parametrize(
    ("variant", "rule", "answer"),
    [
        ("precondition-violation", "strips.precondition", "not-executable"),
        ("goal-missing", "strips.goal", "goal-not-reached"),
        ("state-error", "strips.state_missing", "valid-optimal"),
    ],
)
def test_oracle_corruptions_are_caught(
    instances: list[Instance], variant: str, rule: str, answer: str
) -> None:
    for seed, instance in enumerate(instances):
        verdicts = DOMAIN.check(instance, DOMAIN.parse(DOMAIN.oracle(instance, variant, seed), instance))
        first = [*verdicts.steps, *verdicts.trace_checks][verdicts.first_error or 0]
        assert first.rule == rule
        assert verdicts.answer.detail == answer


def test_prompts(instances: list[Instance]) -> None:
    for style in ("zero-shot", "few-shot", "state-tracking"):
        text = DOMAIN.prompt(instances[0], style)[0].content
        assert "[STATEMENT]" in text and "My goal is to have that" in text
    with pytest.raises(ValueError, match="style"):
        DOMAIN.prompt(instances[0], "nonsense")


@pytest.mark.parametrize(
    "text", ["", "no plan possible", "(no plan possible)", "1. fly away\n2. ???", "\x00" * 5]
)
def test_parse_is_total(instances: list[Instance], text: str) -> None:
    trace = DOMAIN.parse(text, instances[0])
    assert DOMAIN.check(instances[0], trace).answer.status == "unparsed"
