"""Loading a PDDL domain/problem pair into a `StripsProblem` (with `modulo.verifiers.pddl_read`).

Supported: `:strips`, `:typing`, `:negative-preconditions`, `:equality` (conjunctive preconditions
and goals, add/delete effects). Anything else raises `UnsupportedPddl` naming what is missing; text that
cannot be read raises `PddlSyntaxError` (both one line, both `ValueError`s). Each distinct pair of texts
is read once per process: `load_problem` returns the same object for the same texts (`StripsProblem` is
compared by identity, and the validator caches ground actions per problem).
"""

from __future__ import annotations

from functools import lru_cache

from modulo.verifiers.pddl_read import Domain, PddlSyntaxError, UnsupportedPddl, read_domain, read_problem
from modulo.verifiers.strips import StripsProblem

__all__ = ["PddlSyntaxError", "UnsupportedPddl", "load_problem"]


@lru_cache(maxsize=4096)
def load_problem(domain_text: str, problem_text: str) -> StripsProblem:
    """Read (cached by the texts) a domain/problem pair."""
    return read_problem(_domain(domain_text), problem_text)


@lru_cache(maxsize=64)
def _domain(text: str) -> Domain:
    return read_domain(text)
