"""Ordering domain: grammar coverage and Z3 answers on BIG-Bench LogicalDeduction, oracle reference checks,
the generator, and total parsing."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from shared_data import SHARED_DATA

from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.logic.ordering import OrderingDomain
from modulo.domains.logic.puzzle import PuzzleError, pos, read_puzzle
from modulo.model import Instance
from modulo.protocols import ImportedItem, OracleDomain
from modulo.verifiers.smt import Judgement, SmtChecker

DATA = SHARED_DATA / "logic" / "LogicalDeduction" / "train.json"
needs_data = pytest.mark.skipif(not DATA.is_file(), reason=f"LogicalDeduction data not found at {DATA}")
DOMAIN = OrderingDomain()
PUZZLE = (
    "The following paragraphs each describe a set of three objects arranged in a fixed order. The statements "
    "are logically consistent within each paragraph.\n\nOn a branch, there are three birds: a hawk, an owl, "
    "and a blue jay. The owl is to the left of the hawk."
)


def items(step: int = 1) -> list[ImportedItem]:
    read = LogicLMImporter().read(DATA, {"dataset": "logicaldeduction"})
    assert all(isinstance(r, ImportedItem) for r in read)
    return [r for r in read if isinstance(r, ImportedItem)][::step]


def sweep(chosen: list[ImportedItem]) -> dict[str, Any]:
    results = []
    for item in chosen:
        trace = DOMAIN.parse(item.text, item.instance)
        results.append((item, trace, DOMAIN.check(item.instance, trace)))
    return LogicLMImporter().summarise(results, [])


def instance(options: list[str], context: str = PUZZLE) -> Instance:
    return Instance(domain="ordering", id="t", payload={"context": context, "options": options})


@needs_data
def test_grammar_covers_every_sentence_and_option() -> None:
    records = json.loads(DATA.read_text(encoding="utf-8"))
    for record in records:
        puzzle = read_puzzle(record["context"])
        assert puzzle.unparsed == ()
        for option in record["options"]:
            puzzle.claim(option[3:])
    assert len(records) == 1200


@needs_data
def test_subset_answers_agree_with_gold() -> None:
    summary = sweep(items(step=40))
    assert summary["total"] == summary["parsed"] == summary["answer_agree"] == 30
    assert summary["gold_steps"] == 0 and summary["disagreements"] == []


@needs_data
@pytest.mark.slow
def test_every_logicaldeduction_answer_agrees_with_gold() -> None:
    summary = sweep(items())
    assert summary["total"] == summary["parsed"] == summary["answer_agree"] == 1200


def oracle_outcomes(chosen: list[Instance]) -> Counter[tuple[str, str, str]]:
    """(variant, answer status, rules that fired) over oracle traces."""
    seen: Counter[tuple[str, str, str]] = Counter()
    for inst in chosen:
        gold = DOMAIN.parse(DOMAIN.oracle(inst, "gold", 3), inst)
        for variant in DOMAIN.oracle_variants:
            trace = DOMAIN.parse(DOMAIN.oracle(inst, variant, 3), inst)
            verdicts = DOMAIN.check(inst, trace)
            rules = sorted({str(v.rule) for v in verdicts.steps if v.status != "valid"})
            seen[variant, verdicts.answer.status, ",".join(rules)] += 1
            if variant == "wrong-deduction":  # exactly the changed step is wrong
                changed = [s.index for s, g in zip(trace.steps, gold.steps, strict=True) if s.text != g.text]
                assert [v.index for v in verdicts.steps if v.status != "valid"] == changed
    return seen


@needs_data
def test_oracle_traces_on_logicaldeduction() -> None:
    chosen = [item.instance for item in items(step=100)]
    assert oracle_outcomes(chosen) == Counter(
        {
            ("gold", "correct", ""): 12,
            ("wrong-deduction", "correct", "ordering.contradiction"): 12,
            ("wrong-option", "incorrect", ""): 12,
        }
    )


def test_generator_is_deterministic_unique_and_oracle_checked() -> None:
    assert isinstance(DOMAIN, OracleDomain)
    made = DOMAIN.generate(3, seed=5, objects=5) + DOMAIN.generate(2, seed=6, objects=3, theme="golfers")
    assert [i.payload for i in made[:3]] == [i.payload for i in DOMAIN.generate(3, seed=5, objects=5)]
    for inst in made:
        puzzle = read_puzzle(inst.payload["context"])
        checker = SmtChecker(puzzle.premises, puzzle.objects, generic=0, ranges=puzzle.ranges)
        order = [o.lower() for o in inst.payload["order"]]
        assert checker.models([pos(o) for o in puzzle.objects], limit=2) == [
            tuple(order.index(o) + 1 for o in puzzle.objects)
        ]
    outcomes = oracle_outcomes(made)
    assert outcomes[("gold", "correct", "")] == 5
    assert outcomes[("wrong-deduction", "correct", "ordering.contradiction")] == 5
    assert outcomes[("wrong-option", "incorrect", "")] == 5
    with pytest.raises(ValueError, match="unknown ordering params"):
        DOMAIN.generate(1, seed=0, size=3)


def test_statuses_rules_and_total_parsing() -> None:
    inst = instance(["A) The hawk is the rightmost.", "B) The owl is the rightmost.", "C) The jay is first."])
    text = "\n".join(
        [
            "The hawk is not the leftmost.",  # follows from the owl being to its left
            "The owl is the leftmost.",  # consistent, not entailed
            "The owl is to the right of the hawk.",  # contradicts the puzzle
            "The eagle flies high.",  # outside the grammar
            "The hawk is older than the owl.",  # another scale
            "So the order from left to right is: the owl, the blue jay, the hawk.",
            "Answer: (A) The hawk is the rightmost.",
        ]
    )
    trace = DOMAIN.parse(text, inst)
    verdicts = DOMAIN.check(inst, trace)
    assert [(v.status, v.rule) for v in verdicts.steps] == [
        ("valid", None),
        ("unsupported", "ordering.entailment"),
        ("invalid", "ordering.contradiction"),
        ("unparsed", "ordering.parse"),
        ("unparsed", "ordering.parse"),
        ("unsupported", "ordering.entailment"),
    ]
    assert "speaks of age" in verdicts.steps[4].message
    assert trace.answer == "A"
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "options-unparsed")


def test_answer_needs_exactly_one_entailed_option() -> None:
    inst = instance(
        ["A) The hawk is the leftmost.", "B) The owl is the rightmost.", "C) The blue jay is last."]
    )
    verdicts = DOMAIN.check(inst, DOMAIN.parse("Answer: B", inst))
    assert verdicts.answer.status == "unknown" and "scale" not in verdicts.answer.message
    inst = instance(["A) The hawk is the leftmost.", "B) The owl is the rightmost."])
    assert DOMAIN.check(inst, DOMAIN.parse("Answer: (B)", inst)).answer.detail == "no-unique-option"
    fixed = PUZZLE + " The blue jay is the leftmost."
    inst = instance(["A) The hawk is the leftmost.", "B) The owl is the second from the left."], fixed)
    assert DOMAIN.check(inst, DOMAIN.parse("Answer: (B)", inst)).answer.status == "correct"
    assert DOMAIN.check(inst, DOMAIN.parse("Answer: (A)", inst)).answer.status == "incorrect"
    assert DOMAIN.check(inst, DOMAIN.parse("no answer", inst)).answer.status == "unparsed"


def test_a_timed_out_step_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        SmtChecker, "judge", lambda self, claim, use_steps=True, explain=True: Judgement("unknown")
    )
    inst = instance(["A) The hawk is the rightmost.", "B) The owl is the rightmost."])
    verdicts = DOMAIN.check(inst, DOMAIN.parse("The hawk is the rightmost.\nAnswer: (A)", inst))
    assert [(v.status, v.rule) for v in verdicts.steps] == [("unknown", "logic.timeout")]
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "timeout")


def test_unreadable_puzzles_are_reported_not_raised() -> None:
    with pytest.raises(PuzzleError, match="lists"):
        read_puzzle("On a shelf, there are three books: a red book and a blue book.")
    inst = instance(["A) x"], context="Nothing to see here.")
    verdicts = DOMAIN.check(inst, DOMAIN.parse("The red book is the leftmost.\nAnswer: (A)", inst))
    assert verdicts.answer.detail == "puzzle-unparsed"
    assert [v.rule for v in verdicts.steps] == ["ordering.parse"]
