"""Plans for STRIPS problems: breadth-first search (optimal lengths) and greedy best-first (any plan)."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from functools import lru_cache

from modulo.verifiers.strips import (
    Atom,
    GroundAction,
    PlanAction,
    State,
    StripsProblem,
    apply,
    ground_all,
    holds,
)

SEARCH_BUDGET = 1_000
"""States breadth-first search generates by default before it gives up (optimal length unknown): counted,
not timed, so the answer never depends on the machine. Every PlanBench Blocksworld instance (3-5 blocks)
is solved within it, in ~1.5 ms; a Logistics search that gives up costs ~50 ms."""

Successors = list[tuple[frozenset[Atom], frozenset[Atom], GroundAction]]
"""Ground actions as (positive preconditions, negative ones, action), in `ground_all`'s order."""


def _successors(problem: StripsProblem) -> Successors:
    """The ground actions whose equalities hold (they never change), their conditions as atom sets, so
    that applicability is two set operations."""
    out = []
    for action in ground_all(problem):
        if all(holds(c, frozenset()) for c in action.pre if c.atom[0] == "="):
            pos = frozenset(c.atom for c in action.pre if c.positive and c.atom[0] != "=")
            neg = frozenset(c.atom for c in action.pre if not c.positive and c.atom[0] != "=")
            out.append((pos, neg, action))
    return out


def _applicable(successors: Successors, state: State) -> Iterator[GroundAction]:
    """The same actions, in the same order, as `strips.applicable`."""
    return (a for pos, neg, a in successors if pos <= state and neg.isdisjoint(state))


def _goal(problem: StripsProblem, state: State) -> bool:
    return all(holds(c, state) for c in problem.goal)


def _unmet_goals(problem: StripsProblem, state: State) -> int:
    return sum(not holds(c, state) for c in problem.goal)


def _path(parents: dict[State, tuple[State, GroundAction] | None], state: State) -> list[PlanAction]:
    plan = []
    while (link := parents[state]) is not None:
        state, action = link
        plan.append((action.name, *action.args))
    return plan[::-1]


def optimal_plan(problem: StripsProblem, max_states: int = SEARCH_BUDGET) -> list[PlanAction] | None:
    """A shortest plan by breadth-first search; None if none is found within `max_states` states."""
    actions = _successors(problem)
    parents: dict[State, tuple[State, GroundAction] | None] = {problem.init: None}
    queue = deque([problem.init])
    while queue:
        state = queue.popleft()
        if _goal(problem, state):
            return _path(parents, state)
        for action in _applicable(actions, state):
            child = apply(action, state)
            if child not in parents:
                parents[child] = (state, action)
                queue.append(child)
        if len(parents) > max_states:
            return None
    return None


@lru_cache(maxsize=1024)
def optimal_length(problem: StripsProblem, max_states: int = SEARCH_BUDGET) -> int | None:
    """Length of a shortest plan (cached per problem); None if unknown within the state budget."""
    plan = optimal_plan(problem, max_states)
    return None if plan is None else len(plan)


def greedy_plan(problem: StripsProblem, max_states: int = 500_000) -> list[PlanAction] | None:
    """Some plan, by greedy best-first search on the number of unmet goals (not optimal)."""
    actions = _successors(problem)
    parents: dict[State, tuple[State, GroundAction] | None] = {problem.init: None}
    frontier = [(_unmet_goals(problem, problem.init), 0, problem.init)]
    counter = 0
    while frontier:
        _, _, state = heapq.heappop(frontier)
        if _goal(problem, state):
            return _path(parents, state)
        for action in _applicable(actions, state):
            child = apply(action, state)
            if child not in parents:
                parents[child] = (state, action)
                counter += 1
                heapq.heappush(frontier, (_unmet_goals(problem, child), counter, child))
        if len(parents) > max_states:
            return None
    return None
