"""A premise the grammar cannot read makes the answer `unknown` (`unread-premises`), never judged from the
rest; steps are still judged against the premises that were read, and say so."""

from __future__ import annotations

import pytest

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.ordering import OrderingDomain
from modulo.model import Instance

UNREADABLE = "Wumpuses, as everyone knows, are always tumpuses."
# the repro's `dropped-premise` records: read without the second sentence, the statement is Unknown
CONTEXT = f"Wren is a wumpus. {UNREADABLE}"


@pytest.mark.parametrize("given", ["Unknown", "True", "False"])
def test_an_unread_premise_makes_the_answer_unknown(given: str) -> None:
    domain = DeductionDomain()
    instance = Instance(
        domain="deduction",
        id="t",
        payload={"context": CONTEXT, "statement": "Wren is a tumpus.", "world": "open"},
    )
    verdicts = domain.check(instance, domain.parse(f"Wren is a wumpus.\nAnswer: {given}", instance))
    answer = verdicts.answer
    assert (answer.status, answer.detail) == ("unknown", "unread-premises")
    assert UNREADABLE in answer.message and answer.extras["unparsed_premises"] == 1
    [step] = verdicts.steps
    assert step.status == "valid"
    assert "judged against the 1 premises that were read, not the 1 that could not be" in step.message


def test_an_unparsed_step_is_not_flagged_as_partial() -> None:
    domain = DeductionDomain()
    instance = Instance(
        domain="deduction",
        id="t",
        payload={"context": CONTEXT, "statement": "Wren is a tumpus.", "world": "open"},
    )
    [step] = domain.check(instance, domain.parse("Wren, famously, tumps.\nAnswer: True", instance)).steps
    assert step.status == "unparsed" and "premises that were read" not in step.message


def test_an_unread_constraint_makes_the_ordering_answer_unknown() -> None:
    domain = OrderingDomain()
    instance = domain.generate(1, seed=0)[0]
    gold = domain.oracle(instance, "gold", 0)
    assert domain.check(instance, domain.parse(gold, instance)).answer.status == "correct"
    extra = "Mel, as everyone knows, is quick."
    payload = {**instance.payload, "context": instance.payload["context"] + " " + extra}
    unread = instance.model_copy(update={"payload": payload})
    verdicts = domain.check(unread, domain.parse(gold, unread))
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "unread-premises")
    assert extra in verdicts.answer.message
    assert all(v.status == "valid" and "premises that were read" in v.message for v in verdicts.steps)
