"""Deduction under `semantics = "rules"` (ProofWriter's forward chaining) beside `classical` (Z3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.english import parse_sentence
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.logic.rules import RulesError, decide_by_rules
from modulo.domains.logic.theory import read_theory
from modulo.model import Instance, Verdicts
from modulo.protocols import ImportedItem

DOMAIN = DeductionDomain()
PROOFWRITER = SHARED_DATA / "logic" / "ProofWriter" / "dev.json"
PRONTOQA = SHARED_DATA / "logic" / "ProntoQA" / "dev_part1.json"
# rules are not contrapositive: classically Bob is not blue, by the rules nothing is said
CONTRAPOSITION = "If something is blue then it is green. Bob is not green. Bob is kind."
# negation as failure: Bob is not big because nothing says he is
FAILURE = "If something is not big then it is red. Bob is kind."


def by_rules(context: str, statement: str, world: str = "open") -> str:
    theory = read_theory(context)
    return decide_by_rules(theory.formulas, parse_sentence(statement).formula, world)  # type: ignore[arg-type]


def verdicts(context: str, statement: str, text: str, semantics: str, world: str = "open") -> Verdicts:
    payload = {"context": context, "statement": statement, "world": world, "semantics": semantics}
    instance = Instance(domain="deduction", id="t", payload=payload)
    return DOMAIN.check(instance, DOMAIN.parse(text, instance))


def test_forward_chaining_answers() -> None:
    assert by_rules(CONTRAPOSITION, "Bob is blue.") == "Unknown"
    assert by_rules(CONTRAPOSITION, "Bob is not green.") == "True"
    assert (
        by_rules("Bob is blue. Blue things are green. Green things are not cold.", "Bob is cold.") == "False"
    )
    assert by_rules(FAILURE, "Bob is red.", "closed") == "True"
    assert by_rules(FAILURE, "Bob is red.", "open") == "Unknown"
    assert by_rules(FAILURE, "Bob is big.", "closed") == "False"
    # a stratum below reads `big` only once everything that makes things big has fired
    later = "If something is kind then it is big. " + FAILURE
    assert by_rules(later, "Bob is red.", "closed") == "False"


def test_what_the_rules_cannot_answer_is_an_error() -> None:
    loop = "If something is not big then it is red. If something is red then it is big. Bob is kind."
    with pytest.raises(RulesError, match="stratified"):
        by_rules(loop, "Bob is red.", "closed")
    with pytest.raises(RulesError, match="both"):
        by_rules("Bob is blue. Bob is not green. Blue things are green.", "Bob is green.")
    with pytest.raises(RulesError, match="single fact"):
        by_rules("Bob is blue.", "Every cat is blue.")


def test_the_answer_follows_the_chosen_semantics() -> None:
    classical = verdicts(CONTRAPOSITION, "Bob is blue.", "Answer: Unknown", "classical").answer
    assert (classical.status, classical.extras["expected"]) == ("incorrect", "False")
    rules = verdicts(CONTRAPOSITION, "Bob is blue.", "Answer: Unknown", "rules").answer
    assert (rules.status, rules.extras["semantics"]) == ("correct", "rules")
    closed = verdicts(FAILURE, "Bob is red.", "Answer: True", "rules", world="closed").answer
    assert closed.status == "correct"
    odd = verdicts(CONTRAPOSITION, "Bob is blue.", "Answer: Unknown", "fuzzy").answer
    assert (odd.status, odd.detail) == ("unknown", "unknown-semantics")
    inconsistent = "Bob is blue. Bob is not green. Blue things are green."
    both = verdicts(inconsistent, "Bob is green.", "Answer: True", "rules").answer
    assert (both.status, both.detail) == ("unknown", "outside-rules-semantics")


def test_steps_follow_the_chosen_semantics() -> None:
    text = "Bob is not green.\nIf something is blue then it is green.\nBob is not blue.\nAnswer: False"
    classical = verdicts(CONTRAPOSITION, "Bob is blue.", text, "classical").steps
    assert [v.status for v in classical] == ["valid", "valid", "valid"]
    rules = verdicts(CONTRAPOSITION, "Bob is blue.", text, "rules").steps
    assert [(v.status, v.rule) for v in rules][2] == ("unsupported", "logic.rules")
    assert [v.status for v in rules][:2] == ["valid", "valid"]
    closed = verdicts(FAILURE, "Bob is red.", "Bob is not big.\nBob is red.\nAnswer: True", "rules", "closed")
    assert [v.status for v in closed.steps] == ["valid", "valid"]
    assert "negation as failure" in closed.steps[0].message
    classical_closed = verdicts(
        FAILURE, "Bob is red.", "Bob is not big.\nAnswer: True", "classical", "closed"
    )
    assert [v.rule for v in classical_closed.steps] == ["logic.entailment"]


def test_generated_instances_carry_the_semantics() -> None:
    generated = DOMAIN.generate(6, seed=2, world="open", semantics="rules")
    assert all(i.payload["semantics"] == "rules" for i in generated)
    for instance in generated:
        gold = DOMAIN.oracle(instance, "gold", 0)
        assert DOMAIN.check(instance, DOMAIN.parse(gold, instance)).answer.status == "correct"
    assert "semantics" not in DOMAIN.generate(1, seed=2)[0].payload
    with pytest.raises(ValueError, match="semantics"):
        DOMAIN.generate(1, seed=0, semantics="fuzzy")


def imported(path: Path, dataset: str) -> list[ImportedItem]:
    read = LogicLMImporter().read(path, {"dataset": dataset})
    return [r for r in read if isinstance(r, ImportedItem)]


@pytest.mark.skipif(not PROOFWRITER.is_file(), reason=f"ProofWriter not found at {PROOFWRITER}")
def test_proofwriter_imports_use_its_own_semantics() -> None:
    """Against the published labels (all 600 dev items): forward chaining agrees with every one."""
    items = imported(PROOFWRITER, "proofwriter")
    assert len(items) == 600 and {i.instance.payload["semantics"] for i in items} == {"rules"}
    agree = sum(
        by_rules(i.instance.payload["context"], i.instance.payload["statement"]) == i.recorded["answer"]
        for i in items
    )
    assert agree == 600
    if PRONTOQA.is_file():
        assert all("semantics" not in i.instance.payload for i in imported(PRONTOQA, "prontoqa"))
