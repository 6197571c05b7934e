"""`logic.hop` is decided by whether a support with at most one rule exists, whatever the premises' order."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.english import parse_sentence
from modulo.domains.logic.theory import forward_proof, negate, read_theory, render_literal, split_sentences
from modulo.model import Instance

REPRO = Path(__file__).resolve().parents[2] / "shared" / "repro" / "reading" / "logic_repro.jsonl"
PROOFWRITER = SHARED_DATA / "logic" / "ProofWriter" / "dev.json"
DOMAIN = DeductionDomain()


def verdicts(context: str, text: str, statement: str = "Wren is a tumpus.") -> list[tuple[str, str | None]]:
    instance = Instance(
        domain="deduction", id="t", payload={"context": context, "statement": statement, "world": "open"}
    )
    checked = DOMAIN.check(instance, DOMAIN.parse(text, instance))
    return [(v.status, v.rule) for v in checked.steps]


# the repro pair, inline so that the test runs without the shared folder
HOP_ORDER = {
    "A": "Every wumpus is a tumpus. Every wumpus is a jompus. Every jompus is a tumpus. Wren is a wumpus.",
    "B": "Every wumpus is a jompus. Every jompus is a tumpus. Every wumpus is a tumpus. Wren is a wumpus.",
}


@pytest.mark.parametrize("order", sorted(HOP_ORDER))
def test_a_one_rule_step_is_valid_in_either_premise_order(order: str) -> None:
    assert verdicts(HOP_ORDER[order], "Wren is a tumpus.\nAnswer: True") == [("valid", None)]


def test_the_repro_file_pair_is_valid() -> None:
    if not REPRO.is_file():
        pytest.skip(f"repro file not found at {REPRO}")
    rows = [json.loads(line) for line in REPRO.read_text(encoding="utf-8").splitlines()]
    for row in (r for r in rows if r["id"].startswith("hop-order")):
        assert verdicts(row["instance"]["context"], row["text"]) == [("valid", None)], row["id"]


def test_a_step_that_needs_two_rules_is_a_hop_in_every_order() -> None:
    sentences = ["Every wumpus is a jompus.", "Every jompus is a tumpus.", "Wren is a wumpus.", "Rex is red."]
    for seed in range(6):
        shuffled = random.Random(seed).sample(sentences, len(sentences))
        assert verdicts(" ".join(shuffled), "Wren is a tumpus.\nAnswer: True") == [
            ("unsupported", "logic.hop")
        ]


def derived_only(context: str, statement: str) -> list[str] | None:
    """The literals a forward-chaining proof of the statement (or its negation) derives, each by one rule from
    the context's facts and the literals before it; None when there is no proof with three of them."""
    theory = read_theory(context)
    goal = parse_sentence(statement).formula
    proof = forward_proof(theory, goal) or forward_proof(theory, negate(goal))
    derived = [render_literal(f, theory.nouns) for index, f in proof or [] if index is None]
    return derived if len(derived) >= 3 else None


@pytest.mark.skipif(not PROOFWRITER.is_file(), reason=f"ProofWriter not found at {PROOFWRITER}")
def test_shuffled_premises_give_the_same_verdicts_on_proofwriter() -> None:
    """Traces of derived facts only (the rules left unstated): every step uses one rule, so every step is
    valid, and stays valid in every order of the context's sentences."""
    items = json.loads(PROOFWRITER.read_text(encoding="utf-8"))
    tried = 0
    for item in items:
        statement = item["question"].split("? ", 1)[-1]
        derived = derived_only(item["context"], statement)
        if derived is None:
            continue
        sentences = split_sentences(item["context"])
        text = "\n".join(derived)
        for seed in range(3):
            shuffled = " ".join(random.Random(seed).sample(sentences, len(sentences)))
            assert verdicts(shuffled, text, statement) == [("valid", None)] * len(derived), (item["id"], seed)
        tried += 1
        if tried == 20:
            break
    assert tried == 20
