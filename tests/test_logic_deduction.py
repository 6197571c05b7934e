"""Deduction domain soundness on the shared PrOntoQA / ProofWriter data, the generator and the oracle."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from shared_data import SHARED_DATA

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.english import parse_sentence
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.logic.theory import forward_proof, negate, question_statement, read_theory
from modulo.model import Instance
from modulo.protocols import ImportedItem, OracleDomain

DATA = SHARED_DATA / "logic"
PRONTOQA, PROOFWRITER = DATA / "ProntoQA" / "dev_part1.json", DATA / "ProofWriter" / "dev.json"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared logic data not found at {DATA}")
DOMAIN = DeductionDomain()
MUTATION_RULES = {
    "negated": "logic.contradiction",
    "wrong-individual": "logic.entailment",
    "skip-hop": "logic.hop",
}

# ProofWriter items whose gold label differs from classical entailment (see docs/logic.md): the dataset
# answers by forward chaining, which cannot reason by cases or contraposition.
CLASSICAL_ONLY = 15


def items(path: Path, limit: int | None, semantics: str | None = None) -> list[ImportedItem]:
    """The file as imported; with `semantics`, every instance judged under it instead of the import's."""
    read = LogicLMImporter().read(path, {"dataset": "prontoqa" if "Pronto" in str(path) else "proofwriter"})
    assert all(isinstance(r, ImportedItem) for r in read)
    out = [r for r in read if isinstance(r, ImportedItem)][:limit]
    if semantics is None:
        return out
    for item in out:
        item.instance = item.instance.model_copy(
            update={"payload": {**item.instance.payload, "semantics": semantics}}
        )
    return out


def sweep(path: Path, limit: int | None, semantics: str | None = None) -> dict[str, Any]:
    results = []
    for item in items(path, limit, semantics):
        trace = DOMAIN.parse(item.text, item.instance)
        results.append((item, trace, DOMAIN.check(item.instance, trace)))
    return LogicLMImporter().summarise(results, [])


def mutations(path: Path, limit: int) -> Counter[tuple[str, str]]:
    """(variant, outcome) counts over oracle traces; outcome is `ok` when exactly the expected rule fires."""
    seen: Counter[tuple[str, str]] = Counter()
    for item in items(path, limit):
        gold = DOMAIN.oracle(item.instance, "gold", 7)
        for variant in DOMAIN.oracle_variants:
            text = DOMAIN.oracle(item.instance, variant, 7)
            if variant != "gold" and text == gold:  # nothing derived to corrupt (e.g. Unknown answers)
                seen[variant, "n/a"] += 1
                continue
            verdicts = DOMAIN.check(item.instance, DOMAIN.parse(text, item.instance))
            rules = {v.rule for v in verdicts.steps if v.status != "valid"}
            expected = {MUTATION_RULES[variant]} if variant in MUTATION_RULES else set()
            seen[variant, "ok" if rules == expected else f"got {sorted(map(str, rules))}"] += 1
    return seen


@needs_data
def test_prontoqa_subset_answers_and_gold_steps() -> None:
    summary = sweep(PRONTOQA, 40)
    assert summary["total"] == summary["parsed"] == summary["answer_agree"] == 40
    assert summary["gold_steps"] > 300 and summary["gold_steps_valid"] == summary["gold_steps"]


@needs_data
def test_proofwriter_subset_answers() -> None:
    assert sweep(PROOFWRITER, 40)["answer_agree"] == 40  # imported under the dataset's own semantics
    summary = sweep(PROOFWRITER, 40, semantics="classical")
    assert summary["parsed"] == 40 and summary["answer_agree"] == 39
    # AttNeg-OWA-D5-401: Fiona is kind and not green; blue -> quiet -> round -> green and
    # kind & not blue -> round -> green, so the premises are classically inconsistent.
    # our verdict is `unknown`: not judged, so listed as a problem and never counted as agreement
    [row] = summary["problems"]
    assert row["record"].endswith("D5-401_Q15") and "inconsistent-premises" in row["reason"]
    assert summary["disagreements"] == [] and summary["not_judged"] == 1


@needs_data
def test_mutations_are_caught_with_the_right_rule() -> None:
    seen = mutations(PRONTOQA, 10)
    assert seen == Counter({(v, "ok"): 10 for v in DOMAIN.oracle_variants})


@needs_data
def test_proofwriter_oracle_traces_are_valid() -> None:
    seen = mutations(PROOFWRITER, 12)
    assert {outcome for _, outcome in seen} == {"ok", "n/a"} and seen["gold", "ok"] == 12
    assert seen["negated", "ok"] >= 5


@needs_data
@pytest.mark.slow
def test_full_prontoqa() -> None:
    summary = sweep(PRONTOQA, None)
    assert summary["total"] == summary["parsed"] == summary["answer_agree"] == 250
    assert summary["gold_steps_valid"] == summary["gold_steps"]
    assert mutations(PRONTOQA, 250) == Counter({(v, "ok"): 250 for v in DOMAIN.oracle_variants})


@needs_data
@pytest.mark.slow
def test_full_proofwriter_disagreements_are_classical_only() -> None:
    """Every disagreement with the gold label is an item the dataset's forward chaining cannot settle."""
    summary = sweep(PROOFWRITER, None, semantics="classical")
    assert summary["parsed"] == 600 and summary["answer_agree"] == 600 - CLASSICAL_ONLY
    assert sweep(PROOFWRITER, None)["answer_agree"] == 600  # under the rules semantics, the import default
    by_id = {i.instance.id: i.instance for i in items(PROOFWRITER, None)}
    for row in summary["disagreements"]:
        payload = by_id[row["id"]].payload
        theory = read_theory(payload["context"])
        statement = parse_sentence(payload["statement"]).formula
        if row["detail"] != "inconsistent-premises":
            goal = statement if row["z3"] == "True" else negate(statement)
            assert row["gold"] == "Unknown" and forward_proof(theory, goal) is None


def test_generator_is_deterministic_and_answers_match() -> None:
    for world in ("closed", "open"):
        first = DOMAIN.generate(12, seed=3, hops=4, world=world)
        assert first == DOMAIN.generate(12, seed=3, hops=4, world=world)
        for instance in first:
            verdicts = DOMAIN.check(instance, DOMAIN.parse(DOMAIN.oracle(instance, "gold", 0), instance))
            assert verdicts.answer.extras["expected"] == instance.payload["answer"]
            assert verdicts.answer.status == "correct"
            if instance.payload["answer"] != "Unknown":
                assert verdicts.trace_valid, [v.message for v in verdicts.steps]
    answers = {i.payload["answer"] for i in DOMAIN.generate(30, seed=1, world="open")}
    assert answers == {"True", "False", "Unknown"}
    with pytest.raises(ValueError):
        DOMAIN.generate(1, seed=0, colour="red")


def test_parse_is_total_and_reports_reasons() -> None:
    instance = DOMAIN.generate(1, seed=0)[0]
    trace = DOMAIN.parse(
        "Let us think step by step.\nMax is a yumpus.\nMax \u2603 zorps.\nAnswer: maybe", instance
    )
    assert [c["text"] for c in trace.reading["commentary"]] == ["Let us think step by step."]
    assert ["error" in s.parsed for s in trace.steps] == [False, True]
    assert trace.answer is None and trace.parse_errors
    verdicts = DOMAIN.check(instance, trace)
    assert verdicts.steps[1].status == "unparsed" and verdicts.steps[1].rule == "logic.parse"
    assert verdicts.answer.status == "unparsed"
    assert isinstance(DOMAIN, OracleDomain)


def test_off_path_steps_are_valid_but_flagged() -> None:
    context = "Every wumpus is a yumpus. Yumpuses are not cold. Every wumpus is red. Rex is a wumpus."
    instance = Instance(
        domain="deduction",
        id="t",
        payload={"context": context, "statement": "Rex is cold.", "world": "closed"},
    )
    text = (
        "Rex is a wumpus.\nEvery wumpus is red.\nRex is red.\nEvery wumpus is a yumpus.\nRex is a yumpus.\n"
        "Yumpuses are not cold.\nRex is not cold.\nAnswer: False"
    )
    verdicts = DOMAIN.check(instance, DOMAIN.parse(text, instance))
    assert verdicts.trace_valid and verdicts.answer.status == "correct"
    assert verdicts.answer.extras["valid_steps_off_path"] == 2
    assert "not on the path" in verdicts.steps[2].message


def test_question_statement() -> None:
    assert question_statement("Is the following statement true or false? Max is sour.") == "Max is sour."
