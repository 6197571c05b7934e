"""ProofWriter's own semantics ("rules"): facts and rules applied forward, never contraposed.

The dataset labels its questions by forward chaining over ground literals (Tafjord et al., 2021): a rule
fires for an individual when each of its conditions holds, and adds its conclusions. Under the open world
(OWA) a condition `not p(x)` holds only if `not p(x)` was stated or derived; a statement is True if it is
derived, False if its negation is, Unknown otherwise. Under the closed world (CWA) negation is by failure:
`not p(x)` holds when `p(x)` cannot be derived, with rules applied stratum by stratum so that nothing a
negated condition looks at is derived after it was read; a statement is True iff derived. Classical logic
(`theory.decide`) also reasons by contraposition and by cases, and so settles some questions this leaves
Unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from modulo.domains.logic.theory import Answer, World
from modulo.model import StepVerdict
from modulo.verifiers.smt import And, Atom, Const, ForAll, Formula, Implies, Not, constants_of

Literal_ = Atom | Not
Instances = list[tuple[list[Literal_], list[Literal_]]]
"""Ground rule instances: (conditions, conclusions)."""


class RulesError(ValueError):
    """A premise or statement outside what the rules semantics answers; the message says why."""


@dataclass(frozen=True)
class Rule:
    """`if body then head` for every individual bound to its variable (none for a ground rule)."""

    body: tuple[Literal_, ...]
    head: tuple[Literal_, ...]


def _literals(formula: Formula, what: str) -> tuple[Literal_, ...]:
    """The literals of a literal or a conjunction of literals."""
    out: list[Literal_] = []
    for part in formula.parts if isinstance(formula, And) else (formula,):
        if not (isinstance(part, Atom) or (isinstance(part, Not) and isinstance(part.body, Atom))):
            raise RulesError(f"{what} is not a literal or a conjunction of literals")
        out.append(part)
    return tuple(out)


def rule_base(premises: Sequence[Formula]) -> tuple[set[Literal_], list[Rule]]:
    """The ground facts and the rules of a context; a RulesError for a premise of another shape."""
    facts: set[Literal_] = set()
    rules: list[Rule] = []
    for number, premise in enumerate(premises, 1):
        body = premise.body if isinstance(premise, ForAll) else premise
        if isinstance(body, Implies):
            what = f"premise {number}"
            rules.append(Rule(_literals(body.premise, what), _literals(body.conclusion, what)))
        elif isinstance(premise, ForAll):
            raise RulesError(f"premise {number} is a universal sentence without 'if ... then'")
        else:
            facts.update(_literals(premise, f"premise {number}"))
    return facts, rules


def _ground(literal: Literal_, name: str) -> Literal_:
    """The literal with its variable (if any) replaced by the individual `name`."""
    atom = _atom(literal)
    ground = Atom(atom.pred, tuple(a if isinstance(a, Const) else Const(name) for a in atom.args))
    return Not(ground) if isinstance(literal, Not) else ground


def _instances(rules: Iterable[Rule], names: Sequence[str]) -> Instances:
    """Every rule's ground instances (body, head) over the individuals `names`."""
    return [
        ([_ground(b, n) for b in rule.body], [_ground(h, n) for h in rule.head])
        for rule in rules
        for n in names
    ]


def _saturate(
    known: set[Literal_],
    instances: list[tuple[list[Literal_], list[Literal_]]],
    holds: Callable[[Literal_, set[Literal_]], bool],
) -> None:
    """Apply the instances until nothing new follows (`holds(literal, known)`: does a condition hold)."""
    changed = True
    while changed:
        changed = False
        for body, head in instances:
            if all(holds(b, known) for b in body):
                for literal in head:
                    if literal not in known:
                        known.add(literal)
                        changed = True


def open_closure(facts: set[Literal_], rules: Sequence[Rule], names: Sequence[str]) -> set[Literal_]:
    """Every literal forward chaining derives under the open world (stated negations only)."""
    known = set(facts)
    _saturate(known, _instances(rules, names), lambda literal, seen: literal in seen)
    return known


def _atom(literal: Literal_) -> Atom:
    """The atom of a literal (literals are atoms or negated atoms, checked by `_literals`)."""
    atom = literal.body if isinstance(literal, Not) else literal
    assert isinstance(atom, Atom)
    return atom


def _strata(rules: Sequence[Rule]) -> list[list[Rule]]:
    """Rules grouped so that every predicate a negated condition reads is complete before it is read: a rule's
    conclusions sit at one level, at least that of its positive conditions and above that of its negated
    ones. A RulesError if no such levels exist (a predicate depends on its own negation)."""
    level = {_atom(h).pred: 0 for r in rules for h in r.head}
    for _ in range(len(level) + 1):
        changed = False
        for rule in rules:
            need = max(
                (level.get(_atom(b).pred, 0) + isinstance(b, Not) for b in rule.body),
                default=0,
            )
            top = max(need, *(level[_atom(h).pred] for h in rule.head))
            for h in rule.head:
                if level[_atom(h).pred] < top:
                    level[_atom(h).pred], changed = top, True
        if not changed:
            out: list[list[Rule]] = [[] for _ in range(max(level.values(), default=0) + 1)]
            for rule in rules:
                out[level[_atom(rule.head[0]).pred]].append(rule)
            return out
    raise RulesError("the rules are not stratified (a predicate depends on its own negation)")


def closed_closure(facts: set[Literal_], rules: Sequence[Rule], names: Sequence[str]) -> set[Literal_]:
    """Every atom forward chaining derives under the closed world (negation as failure, by strata)."""
    if any(isinstance(f, Not) for f in facts) or any(isinstance(h, Not) for r in rules for h in r.head):
        raise RulesError("a negated fact or conclusion has no meaning under negation as failure")
    known = set(facts)

    def holds(literal: Literal_, seen: set[Literal_]) -> bool:
        return literal.body not in seen if isinstance(literal, Not) else literal in seen

    for stratum in _strata(rules):
        _saturate(known, _instances(stratum, names), holds)
    return known


def decide_by_rules(premises: Sequence[Formula], statement: Formula, world: World = "open") -> Answer:
    """The answer ProofWriter's semantics gives to the ground literal `statement`; a RulesError if it gives
    none (a premise or statement of another shape, unstratified rules, or a literal derived both ways)."""
    if not is_literal(statement):
        raise RulesError("the statement is not a single fact")
    atom = _atom(statement)  # type: ignore[arg-type]
    if not all(isinstance(a, Const) for a in atom.args):
        raise RulesError("the statement is not about named individuals")
    facts, rules = rule_base(premises)
    names = list(dict.fromkeys(c for f in (*premises, statement) for c in constants_of(f)))
    if world == "closed":
        known = closed_closure(facts, rules, names)
        return "True" if (atom in known) != isinstance(statement, Not) else "False"
    known = open_closure(facts, rules, names)
    opposite = atom if isinstance(statement, Not) else Not(atom)
    if statement in known and opposite in known:
        raise RulesError("forward chaining derives both the statement and its negation")
    return "True" if statement in known else "False" if opposite in known else "Unknown"


def is_literal(formula: Formula) -> bool:
    """An atom or a negated atom."""
    return isinstance(formula, Atom) or (isinstance(formula, Not) and isinstance(formula.body, Atom))


def rules_steps(
    verdicts: Sequence[StepVerdict],
    claims: Sequence[Formula | None],
    premises: Sequence[Formula],
    world: World,
) -> list[StepVerdict]:
    """Step verdicts under the rules semantics: a fact the classical check found `valid` (or, under the
    closed world, `unsupported`) is valid iff forward chaining from the premises and the earlier steps that
    are context derives it; facts with other verdicts, and rules, keep their classical verdict.

    Rule `logic.rules` marks a fact that follows classically (by contraposition or by cases) but not by
    applying the rules forward; under the closed world a fact that holds by negation as failure is valid.
    """
    out: list[StepVerdict] = []
    context: list[Formula] = list(premises)
    for verdict, claim in zip(verdicts, claims, strict=True):
        out.append(_rules_step(verdict, claim, context, world))
        # the checker's context: steps not invalid; a negation by failure is no fact to chain from
        by_failure = world == "closed" and isinstance(claim, Not)
        if claim is not None and verdict.status in ("valid", "unsupported") and not by_failure:
            context.append(claim)
    return out


def _rules_step(
    verdict: StepVerdict, claim: Formula | None, context: list[Formula], world: World
) -> StepVerdict:
    checkable = verdict.status == "valid" or (world == "closed" and verdict.rule == "logic.entailment")
    if claim is None or not checkable or not is_literal(claim):
        return verdict
    try:
        holds = decide_by_rules(context, claim, world) == "True"
    except RulesError:
        return verdict
    if holds and verdict.status == "valid":
        return verdict
    if holds:
        message = "holds by negation as failure (closed world, rules semantics)"
        return StepVerdict(index=verdict.index, status="valid", message=message)
    return StepVerdict(
        index=verdict.index,
        status="unsupported",
        rule="logic.rules",
        message="follows classically (by contraposition or by cases) but not by applying the rules forward, "
        "as the dataset's semantics does",
    )
