"""A context read into premises, the Z3 answer to a true/false/unknown question, and oracle proofs.

Answers follow the dataset's world assumption: `open` (ProofWriter OWA, PrOntoQA): True if the
statement is entailed, False if its negation is, Unknown otherwise; `closed` (ProofWriter CWA):
a positive statement is True iff entailed, and `not A` is True iff `A` is not entailed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modulo.domains.logic.english import EnglishError, parse_sentence
from modulo.verifiers.smt import And, Atom, Const, ForAll, Formula, Implies, Not, SmtChecker, constants_of

Answer = Literal["True", "False", "Unknown"]
World = Literal["open", "closed"]
Literal_ = Atom | Not


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, split after full stops (and line breaks)."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


@dataclass(frozen=True)
class Theory:
    """The readable premises of a context, with what could not be read."""

    sentences: tuple[str, ...]
    """The premise sentences that parsed, aligned with `formulas`."""
    formulas: tuple[Formula, ...]
    unparsed: tuple[tuple[str, str], ...]
    """(sentence, reason) for each context sentence outside the grammar."""
    nouns: frozenset[str]

    @property
    def constants(self) -> list[str]:
        return list(dict.fromkeys(c for f in self.formulas for c in constants_of(f)))

    def checker(self, timeout_ms: int = 2000, minimize: bool = True) -> SmtChecker:
        return SmtChecker(self.formulas, self.constants, timeout_ms=timeout_ms, minimize=minimize)


def read_theory(context: str) -> Theory:
    """Parse every sentence of the context; unreadable ones are kept aside with the reason."""
    sentences: list[str] = []
    formulas: list[Formula] = []
    unparsed: list[tuple[str, str]] = []
    nouns: set[str] = set()
    for text in split_sentences(context):
        try:
            parsed = parse_sentence(text)
        except EnglishError as error:
            unparsed.append((text, str(error)))
            continue
        sentences.append(text)
        formulas.append(parsed.formula)
        nouns |= parsed.nouns
    return Theory(tuple(sentences), tuple(formulas), tuple(unparsed), frozenset(nouns))


def question_statement(question: str) -> str:
    """The statement of 'Is the following statement true or false? Max is sour.' (or the question itself)."""
    return re.split(r"\?\s+", question.strip(), maxsplit=1)[-1]


def decide(statement: Formula, checker: SmtChecker, world: World = "open") -> Answer | None:
    """The answer the premises alone give to `statement`; None when the solver timed out."""
    if world == "closed":
        positive = statement.body if isinstance(statement, Not) else statement
        status = checker.judge(positive, use_steps=False, explain=False).status
        if status == "unknown":
            return None
        holds = status == "valid"
        return "True" if holds != isinstance(statement, Not) else "False"
    status = checker.judge(statement, use_steps=False, explain=False).status
    return {"valid": "True", "invalid": "False", "unsupported": "Unknown"}.get(status)  # type: ignore[return-value]


def negate(formula: Formula) -> Formula:
    return formula.body if isinstance(formula, Not) else Not(formula)


@dataclass(frozen=True)
class _Rule:
    index: int
    body: tuple[Formula, ...]
    head: tuple[Formula, ...]


def _rules(theory: Theory) -> list[_Rule]:
    rules = []
    for index, formula in enumerate(theory.formulas):
        body = formula.body if isinstance(formula, ForAll) else formula
        if isinstance(body, Implies):
            parts = lambda f: f.parts if isinstance(f, And) else (f,)  # noqa: E731
            rules.append(_Rule(index, parts(body.premise), parts(body.conclusion)))
    return rules


def _substitute(formula: Formula, name: str) -> Formula:
    """The literal with the variable replaced by the individual `name`."""
    if isinstance(formula, Not):
        return Not(_substitute(formula.body, name))
    assert isinstance(formula, Atom)
    return Atom(formula.pred, tuple(a if isinstance(a, Const) else Const(name) for a in formula.args))


def forward_proof(theory: Theory, goal: Formula) -> list[tuple[int | None, Formula]] | None:
    """A modus-ponens proof of the ground literal `goal` as (premise index, literal) steps, or None.

    Each premise used is restated (index, its formula) before the literal it yields (None, literal).
    """
    known: dict[Formula, tuple[int, list[Formula]] | None] = {
        f: None for f in theory.formulas if isinstance(f, Atom | Not)
    }
    index_of = {f: i for i, f in enumerate(theory.formulas)}
    rules = _rules(theory)
    changed = True
    while changed and goal not in known:
        changed = False
        for rule in rules:
            for name in theory.constants:
                body = [_substitute(b, name) for b in rule.body]
                if all(b in known for b in body):
                    for head in (_substitute(h, name) for h in rule.head):
                        if head not in known:
                            known[head] = (rule.index, body)
                            changed = True
    if goal not in known:
        return None
    steps: list[tuple[int | None, Formula]] = []
    done: set[Formula] = set()

    def prove(literal: Formula) -> None:
        if literal in done:
            return
        done.add(literal)
        reason = known[literal]
        if reason is None:
            steps.append((index_of[literal], literal))
            return
        rule, body = reason
        for premise in body:
            prove(premise)
        steps.append((rule, theory.formulas[rule]))
        steps.append((None, literal))

    prove(goal)
    return steps


def display(name: str, start: bool) -> str:
    """`Max`, `The bear` at the start of a sentence, `the bear` elsewhere."""
    if name.startswith("the "):
        return ("The" if start else "the") + name[3:]
    return name[:1].upper() + name[1:]


def render_literal(literal: Formula, nouns: frozenset[str]) -> str:
    """English for a ground literal, in the datasets' templates."""
    negated = isinstance(literal, Not)
    atom = literal.body if isinstance(literal, Not) else literal
    if not isinstance(atom, Atom) or not all(isinstance(a, Const) for a in atom.args):
        raise ValueError(f"not a ground literal: {literal}")
    subject = display(atom.args[0].name, start=True)
    if len(atom.args) == 2:
        obj = display(atom.args[1].name, start=False)
        if negated:
            return f"{subject} does not {atom.pred} {obj}."
        return f"{subject} {third_person(atom.pred)} {obj}."
    neg = " not" if negated else ""
    if atom.pred in nouns:
        article = "an" if atom.pred[0] in "aeiou" else "a"
        return f"{subject} is{neg} {article} {atom.pred}."
    return f"{subject} is{neg} {atom.pred}."


def third_person(verb: str) -> str:
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x", "z")) else "s")
