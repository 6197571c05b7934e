"""The formula language of the SMT checker: individuals, integer terms, atoms, connectives, `ForAll`, `Cmp`.

Plain frozen dataclasses that hash once (they are keys of several caches) and pickle without that hash, plus
the structural queries the checker's grounding needs. Nothing here imports z3.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Const:
    """A named individual."""

    name: str


@dataclass(frozen=True)
class Var:
    """A variable bound by an enclosing `ForAll`."""

    name: str


Term = Const | Var


@dataclass(frozen=True)
class Num:
    """An integer constant."""

    value: int


@dataclass(frozen=True)
class Fn:
    """An integer-valued function of individuals, e.g. `pos(owl)`."""

    name: str
    args: tuple[Term, ...]


IntTerm = Num | Fn


@dataclass(frozen=True)
class Atom:
    """A predicate applied to individuals: `red(bob)`, `visit(bear, cat)`."""

    pred: str
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Not:
    body: Formula


@dataclass(frozen=True)
class And:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Implies:
    premise: Formula
    conclusion: Formula


@dataclass(frozen=True)
class ForAll:
    """`body` holds for every individual of the finite domain bound to `var`."""

    var: Var
    body: Formula


CmpOp = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Cmp:
    """An integer comparison, e.g. `pos(owl) < pos(robin)`."""

    op: CmpOp
    left: IntTerm
    right: IntTerm


Formula = Atom | Not | And | Or | Implies | ForAll | Cmp


def _hash_once(node: Any) -> int:
    """The dataclass's structural hash, computed once per object: formulas are keys of several caches, and a
    dataclass hashes its whole tree on every lookup."""
    found = node.__dict__.get("_hash")
    if found is None:
        found = hash((type(node).__name__, *(getattr(node, name) for name in node.__dataclass_fields__)))
        object.__setattr__(node, "_hash", found)
    return int(found)


def _state(node: Any) -> dict[str, Any]:
    """What pickling keeps: the fields, not the hash (string hashes differ between processes)."""
    return {name: value for name, value in node.__dict__.items() if name != "_hash"}


# setattr, since mypy refuses to assign a method
for _node in (Const, Var, Num, Fn, Atom, Not, And, Or, Implies, ForAll, Cmp):
    setattr(_node, "__hash__", _hash_once)  # noqa: B010
    setattr(_node, "__getstate__", _state)  # noqa: B010


@dataclass(frozen=True)
class IntRange:
    """Bounds every `Fn` value of the given name to [low, high]."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"empty range [{self.low}, {self.high}]: every claim would follow from it")


def constants_of(formula: Formula) -> list[str]:
    """Names of the individuals a formula mentions, in order of first mention."""
    if isinstance(formula, Atom):
        return [a.name for a in formula.args if isinstance(a, Const)]
    if isinstance(formula, Cmp):
        return [
            a.name
            for t in (formula.left, formula.right)
            if isinstance(t, Fn)
            for a in t.args
            if isinstance(a, Const)
        ]
    if isinstance(formula, Not | ForAll):
        return constants_of(formula.body)
    if isinstance(formula, Implies):
        return constants_of(formula.premise) + constants_of(formula.conclusion)
    return [name for part in formula.parts for name in constants_of(part)]


def has_forall(formula: Formula) -> bool:
    """Whether a quantifier occurs anywhere in the formula."""
    if isinstance(formula, ForAll):
        return True
    if isinstance(formula, Not):
        return has_forall(formula.body)
    if isinstance(formula, Implies):
        return has_forall(formula.premise) or has_forall(formula.conclusion)
    if isinstance(formula, And | Or):
        return any(has_forall(p) for p in formula.parts)
    return False


def universals(formula: Formula, positive: bool = True) -> int:
    """How many `ForAll`s occur under positive polarity: each may need a witness of its own to be refuted.

    With `positive` False, how many occur under negative polarity (an odd number of negations and
    implication premises): existentials, whose grounding a new individual weakens, not strengthens."""
    if isinstance(formula, ForAll):
        return int(positive) + universals(formula.body, positive)
    if isinstance(formula, Not):
        return universals(formula.body, not positive)
    if isinstance(formula, Implies):
        return universals(formula.premise, not positive) + universals(formula.conclusion, positive)
    if isinstance(formula, And | Or):
        return sum(universals(p, positive) for p in formula.parts)
    return 0


def check_names(names: Iterable[str]) -> None:
    for name in names:
        if name.startswith("?"):
            raise ValueError(f"individual {name!r}: names starting with '?' are kept for fresh individuals")
