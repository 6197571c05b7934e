"""Plans for STRIPS problems: breadth-first search (optimal lengths) and greedy best-first (any plan)."""

from __future__ import annotations

import heapq
from collections import deque
from functools import lru_cache

from modulo.verifiers.strips import (
    GroundAction,
    PlanAction,
    State,
    StripsProblem,
    applicable,
    apply,
    ground_all,
    holds,
)


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


def optimal_plan(problem: StripsProblem, max_states: int = 200_000) -> list[PlanAction] | None:
    """A shortest plan by breadth-first search; None if none is found within `max_states` states."""
    actions = ground_all(problem)
    parents: dict[State, tuple[State, GroundAction] | None] = {problem.init: None}
    queue = deque([problem.init])
    while queue:
        state = queue.popleft()
        if _goal(problem, state):
            return _path(parents, state)
        for action in applicable(actions, state):
            child = apply(action, state)
            if child not in parents:
                parents[child] = (state, action)
                queue.append(child)
        if len(parents) > max_states:
            return None
    return None


@lru_cache(maxsize=1024)
def optimal_length(problem: StripsProblem, max_states: int = 200_000) -> int | None:
    """Length of a shortest plan (cached per problem); None if unknown within the state budget."""
    plan = optimal_plan(problem, max_states)
    return None if plan is None else len(plan)


def greedy_plan(problem: StripsProblem, max_states: int = 500_000) -> list[PlanAction] | None:
    """Some plan, by greedy best-first search on the number of unmet goals (not optimal)."""
    actions = ground_all(problem)
    parents: dict[State, tuple[State, GroundAction] | None] = {problem.init: None}
    frontier = [(_unmet_goals(problem, problem.init), 0, problem.init)]
    counter = 0
    while frontier:
        _, _, state = heapq.heappop(frontier)
        if _goal(problem, state):
            return _path(parents, state)
        for action in applicable(actions, state):
            child = apply(action, state)
            if child not in parents:
                parents[child] = (state, action)
                counter += 1
                heapq.heappush(frontier, (_unmet_goals(problem, child), counter, child))
        if len(parents) > max_states:
            return None
    return None
