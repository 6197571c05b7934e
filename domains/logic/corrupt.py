"""Step corruptions for the logic domains: one claim replaced by a claim Z3 refutes or that does not follow.

Deduction (PrOntoQA, ProofWriter): `negated_claim` (the step's own ground literal, negated) and
`negated_premise` (a ground fact of the context, negated). Ordering and zebra: `misplaced_object` (an object
put at a position the puzzle's one solution refutes) and, when the puzzle leaves the order open,
`false_option` (an answer option the puzzle refutes). Each is written in the domain's English and kept
only if the checker gives the step an `invalid` or `unsupported` verdict with its `*.contradiction` or
`*.entailment` rule (`modulo.domains.corrupt_proof`); a `logic.hop` verdict (true, but several rules at
once) never counts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING

from modulo.domains.corrupt_proof import proved_rule
from modulo.domains.logic.steps import claim_of
from modulo.domains.logic.theory import negate, read_theory, render_literal
from modulo.model import Instance, Trace
from modulo.protocols import CorruptedStep, Domain
from modulo.verifiers.smt import Atom, Const, Formula, Not

if TYPE_CHECKING:
    from modulo.domains.logic.ordering import OrderingDomain

ATTEMPTS = 6
"""Candidate claims proved at most per call (each is a Z3 check)."""


def refuting_rule(rule: str) -> bool:
    """The rules that prove a replaced claim wrong: contradicted, or not following."""
    return rule.endswith((".contradiction", ".entailment"))


def corrupt_deduction_step(
    domain: Domain, instance: Instance, trace: Trace, index: int, seed: int
) -> CorruptedStep | None:
    """A proved corruption of step `index` of a deduction trace, or None."""
    if not 0 <= index < len(trace.steps):
        return None
    theory = read_theory(instance.payload["context"])
    rng = random.Random(f"logic-corrupt:{seed}:{index}")
    candidates: list[tuple[str, Formula]] = []
    claim = claim_of(trace.steps[index])
    if claim is not None and _ground_literal(claim):
        candidates.append(("negated_claim", negate(claim)))
    facts = [f for f in theory.formulas if _ground_literal(f) and f != claim]
    rng.shuffle(facts)
    candidates += [("negated_premise", negate(f)) for f in facts]
    texts = ((op, render_literal(f, theory.nouns)) for op, f in candidates)
    return _first_proved(domain, instance, trace, index, texts)


def corrupt_position_step(
    domain: OrderingDomain, instance: Instance, trace: Trace, index: int, seed: int
) -> CorruptedStep | None:
    """A proved corruption of step `index` of an ordering or zebra trace, or None."""
    from modulo.domains.logic.ordering import options, solution
    from modulo.domains.logic.puzzle import PuzzleError

    if not 0 <= index < len(trace.steps):
        return None
    try:
        read = domain.read(instance.payload["context"])
    except PuzzleError:
        return None
    checker = domain.checker(read)
    rng = random.Random(f"position-corrupt:{seed}:{index}")
    fixed = solution(read, checker)
    texts: list[tuple[str, str]]
    if fixed:
        high = read.ranges["pos"].high
        texts = [
            ("misplaced_object", read.say_at(o, k)) for w, o in fixed for k in range(1, high + 1) if k != w
        ]
    else:
        texts = [("false_option", text) for _, text in options(instance)]
    rng.shuffle(texts)
    return _first_proved(domain, instance, trace, index, iter(texts))


def _first_proved(
    domain: Domain, instance: Instance, trace: Trace, index: int, texts: Iterator[tuple[str, str]]
) -> CorruptedStep | None:
    for attempt, (operator, text) in enumerate(texts):
        if attempt >= ATTEMPTS:
            break
        if text.strip() == trace.steps[index].text.strip():
            continue
        rule = proved_rule(domain, instance, trace, index, text, refuting_rule)
        if rule is not None:
            return CorruptedStep(index=index, text=text, rule=rule, operator=operator)
    return None


def _ground_literal(formula: Formula) -> bool:
    atom = formula.body if isinstance(formula, Not) else formula
    return isinstance(atom, Atom) and all(isinstance(a, Const) for a in atom.args)
