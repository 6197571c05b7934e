"""The A* validator's vocabulary: rule ids, the verdicts object and the types its parts share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

import networkx as nx

from modulo.model import StepVerdict

StartMode = Literal["create", "close"]
"""How a trace begins: Searchformer writes `create start`; Beyond Semantics starts at `close start`."""

Heuristic = Callable[[Any], float]
TieKey = Callable[[Any], Any]
NodeProblem = Callable[[Any], tuple[str, str] | None]
"""Classifies a node absent from the graph: (rule id, message), or None for `astar.unknown_node`."""

Adjacency = Mapping[Any, Mapping[Any, Mapping[str, Any]]]
"""node -> successor -> edge attributes: a networkx graph's own adjacency dicts (`graph._adj`), or any
mapping that reads the same (a lazy grid adjacency, say). `node in adjacency` says whether it is a node."""

TOLERANCE = 1e-6
TIE_DIGITS = 9


class AStarRule(StrEnum):
    """Stable rule ids of the A* validator (see the module docstring for their semantics)."""

    PARSE = "astar.parse"
    START = "astar.start"
    AFTER_GOAL = "astar.after_goal"
    OUT_OF_BOUNDS = "astar.out_of_bounds"
    WALL = "astar.wall"
    UNKNOWN_NODE = "astar.unknown_node"
    NOT_NEIGHBOUR = "astar.not_neighbour"
    WRONG_G = "astar.wrong_g"
    WRONG_H = "astar.wrong_h"
    RECREATE_NOT_BETTER = "astar.recreate_not_better"
    MISSING_CREATE = "astar.missing_create"
    CLOSE_NOT_OPEN = "astar.close_not_open"
    MIN_F = "astar.min_f"
    TIE_BREAK = "astar.tie_break"
    GOAL_NOT_CLOSED = "astar.goal_not_closed"


_VALID_KEPT = 1 << 14
_valid: list[StepVerdict] = []
"""`StepVerdict(index=i, status="valid")` for i = 0, 1, ...: verdicts are frozen, so every trace shares
these. The list is only ever replaced by a longer one with the same prefix, never changed in place."""


def valid_steps(n: int) -> list[StepVerdict]:
    """`valid` verdicts for indices 0 .. n-1, in a new list."""
    global _valid
    shared = _valid
    if len(shared) >= n:
        return shared[:n]
    more = [StepVerdict(index=i, status="valid") for i in range(len(shared), n)]
    if n <= _VALID_KEPT:
        _valid = [*shared, *more]
    return [*shared, *more]


Issue = tuple[str, str]
"""A broken rule: (rule id, message)."""


@dataclass(frozen=True)
class AStarVerdicts:
    """The validator's judgement: failing verdicts are kept; valid ones are shared (frozen) instances."""

    n_steps: int
    errors: list[StepVerdict]
    """Non-valid step verdicts, in index order."""
    trace_checks: list[StepVerdict]
    """Failing whole-trace checks, at index `n_steps`."""
    goal_g: float | None
    """The g the trace claimed when it closed the goal (its claimed plan cost), if it did."""

    @cached_property
    def steps(self) -> list[StepVerdict]:
        """One verdict per event, same indices, in a list of its own."""
        verdicts = valid_steps(self.n_steps)
        for verdict in self.errors:
            verdicts[verdict.index] = verdict
        return verdicts

    @property
    def trace_valid(self) -> bool:
        return self.n_steps > 0 and not self.errors and not self.trace_checks

    @property
    def first_invalid(self) -> StepVerdict | None:
        """The first non-valid verdict (a whole-trace check if every step is valid)."""
        return next(iter([*self.errors, *self.trace_checks]), None)

    @property
    def valid_prefix(self) -> int:
        return self.errors[0].index if self.errors else self.n_steps


def adjacency_of(graph: nx.Graph | Adjacency) -> Adjacency:
    """The adjacency the validator reads: a networkx graph's own dicts (views cost too much), else `graph`."""
    if isinstance(graph, nx.Graph):
        return graph._adj  # type: ignore[attr-defined]
    return graph
