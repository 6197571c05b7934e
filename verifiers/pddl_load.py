"""Reading PDDL domain and problem text into a `StripsProblem` with the `pddl` package.

Supported: `:strips`, `:typing`, `:negative-preconditions`, `:equality` (conjunctive preconditions
and goals, add/delete effects). Anything else raises `UnsupportedPddl` naming what is missing.
PDDL names are case-insensitive, so every name is lower-cased (IPC files write `LOAD-TRUCK`, PlanBench
configs `load-truck`).

Building the `pddl` package's parser compiles its lark grammar (~60 ms), so each process builds it once
(`_grammar`; `parse_pddl` is the one place that parses, should the parser be swapped). Converted problems
are cached in memory and on disk by the texts' content hash (see `pddl_cache`).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from modulo.verifiers.pddl_cache import cache_key, read_cached, write_cached
from modulo.verifiers.strips import ActionSchema, Atom, Condition, StripsProblem

SUPPORTED = {":strips", ":typing", ":negative-preconditions", ":equality"}


class UnsupportedPddl(ValueError):
    """The PDDL uses a feature beyond STRIPS with typing, negative preconditions and equality."""


class PddlSyntaxError(ValueError):
    """The `pddl` parser rejected the text."""


def load_problem(domain_text: str, problem_text: str) -> StripsProblem:
    """Parse (cached by content, in memory and on disk) and convert a domain/problem pair."""
    return _load(cache_key(domain_text, problem_text), domain_text, problem_text)


@lru_cache(maxsize=4096)
def _load(key: str, domain_text: str, problem_text: str) -> StripsProblem:
    cached = read_cached(key)
    if cached is not None:
        return cached
    problem = _convert(_parse_domain(_digest(domain_text), domain_text), parse_pddl(problem_text, "problem"))
    write_cached(key, problem)
    return problem


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache(maxsize=64)
def _parse_domain(key: str, text: str) -> Any:
    return parse_pddl(text, "domain")


def parse_pddl(text: str, kind: str) -> Any:
    """A `pddl` package `Domain` or `Problem` (`kind` "domain" or "problem") from its text; raises
    `PddlSyntaxError`. The grammar is compiled once per process; each text gets a fresh transformer
    (the package's transformers keep state between calls: objects, constants, requirements)."""
    from pddl.parser.domain import DomainTransformer
    from pddl.parser.problem import ProblemTransformer

    transformer = DomainTransformer() if kind == "domain" else ProblemTransformer()
    try:
        return transformer.transform(_grammar(kind).parse(text))
    except Exception as exc:  # lark and the package raise their own errors alike
        cause = getattr(exc, "orig_exc", exc)  # lark wraps the transformer's errors in a VisitError
        raise PddlSyntaxError(f"cannot parse the PDDL {kind}: {cause}") from exc


@lru_cache(maxsize=2)
def _grammar(start: str) -> Any:
    """The `pddl` package's lark grammar compiled for `start` (what its `DomainParser` and `ProblemParser`
    build on every construction)."""
    from lark import Lark
    from pddl.parser import GRAMMAR_FILE, PARSERS_DIRECTORY

    return Lark(GRAMMAR_FILE.read_text(), parser="lalr", import_paths=[PARSERS_DIRECTORY], start=start)


def _convert(domain: Any, problem: Any) -> StripsProblem:
    unsupported = sorted(str(r) for r in domain.requirements if str(r) not in SUPPORTED)
    if unsupported:
        raise UnsupportedPddl(
            f"domain {domain.name} requires {', '.join(unsupported)}; "
            f"supported: {', '.join(sorted(SUPPORTED))}"
        )
    parents = {_name(t): (_name(p) if p else "object") for t, p in domain.types.items()}
    ancestors = {t: _ancestors(t, parents) for t in [*parents, "object"]}
    # the parser keeps objects, constants and actions in frozensets, whose order follows string hashes
    # (PYTHONHASHSEED): sorted by name, search, grounding and messages are the same in every process
    objects = {_name(o.name): _type_of(o) for o in _by_name([*domain.constants, *problem.objects])}
    actions = {}
    for action in _by_name(domain.actions):
        where = f"action {action.name}"
        add: list[Atom] = []
        delete: list[Atom] = []
        for lit in _conjuncts(action.effect, where):
            (add if lit.positive else delete).append(lit.atom)
            if lit.atom[0] == "=":
                raise UnsupportedPddl(f"{where}: equality in an effect is not STRIPS")
        actions[_name(action.name)] = ActionSchema(
            name=_name(action.name),
            params=tuple(f"?{_name(v.name)}" for v in action.parameters),
            types=tuple(_type_of(v) for v in action.parameters),
            pre=tuple(_conjuncts(action.precondition, where)),
            add=tuple(add),
            delete=tuple(delete),
        )
    return StripsProblem(
        domain_name=_name(domain.name),
        name=_name(problem.name),
        actions=actions,
        objects=objects,
        ancestors=ancestors,
        init=frozenset(_literal(a, "init").atom for a in problem.init),
        goal=tuple(_conjuncts(problem.goal, "goal")),
        predicates={_name(p.name): p.arity for p in _by_name(domain.predicates)},
    )


def _by_name(items: Any) -> list[Any]:
    """Parser items (objects, actions) in the order of their lower-cased names."""
    return sorted(items, key=lambda item: _name(item.name))


def _ancestors(type_name: str, parents: dict[str, str]) -> frozenset[str]:
    seen = {type_name, "object"}
    while type_name in parents and parents[type_name] not in seen:
        type_name = parents[type_name]
        seen.add(type_name)
    return frozenset(seen)


def _name(name: Any) -> str:
    return str(name).lower()


def _type_of(term: Any) -> str:
    tags = sorted(_name(t) for t in term.type_tags)
    if len(tags) > 1:
        raise UnsupportedPddl(f"{term.name} has (either ...) types {tags}; only single types are supported")
    return tags[0] if tags else "object"


def _conjuncts(formula: Any, where: str) -> list[Condition]:
    """The literals of a conjunction (or a single literal); anything else is unsupported."""
    from pddl.logic.base import And

    if formula is None:
        return []
    if isinstance(formula, And):
        return [_literal(op, where) for op in formula.operands]
    return [_literal(formula, where)]


def _literal(formula: Any, where: str) -> Condition:
    from pddl.logic.base import Not
    from pddl.logic.predicates import EqualTo, Predicate

    positive = not isinstance(formula, Not)
    inner = formula if positive else formula.argument
    if isinstance(inner, Predicate):
        return Condition((_name(inner.name), *(_term(t) for t in inner.terms)), positive)
    if isinstance(inner, EqualTo):
        return Condition(("=", _term(inner.left), _term(inner.right)), positive)
    raise UnsupportedPddl(
        f"{where}: {type(inner).__name__} ({inner}) is not STRIPS; "
        f"supported: {', '.join(sorted(SUPPORTED))} with conjunctive conditions"
    )


def _term(term: Any) -> str:
    from pddl.logic.terms import Variable

    return f"?{_name(term.name)}" if isinstance(term, Variable) else _name(term.name)
