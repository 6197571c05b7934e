"""Optimal plan lengths: breadth-first search for small problems, Fast Downward (optional) beyond.

Fast Downward runs through `up-fast-downward` (unified-planning's `fast-downward-opt` engine, an
A* with an admissible heuristic). Without it, or with a timeout of 0, the length past the search budget
is unknown (None). When it runs out of time or memory the problem is refused (`PlannerLimit`): an
instance must not depend on how fast or busy the machine was.
"""

from __future__ import annotations

from importlib.util import find_spec

from modulo.verifiers.strips import PlanAction, StripsProblem

from .search import SEARCH_BUDGET, optimal_plan

BFS_BUDGET = SEARCH_BUDGET
"""States breadth-first search may generate before handing over to Fast Downward."""


class PlannerLimit(ValueError):
    """Fast Downward ran out of its time (or memory) limit: what it would find depends on the machine."""


def shortest_plan(
    problem: StripsProblem, domain_pddl: str, problem_pddl: str, timeout: float = 10.0
) -> list[PlanAction] | None:
    """An optimal plan, or None if search runs out of budget and Fast Downward is missing or off
    (`timeout` 0); raises `PlannerLimit` if Fast Downward runs out of `timeout` seconds."""
    found = optimal_plan(problem, BFS_BUDGET)
    if found is not None or timeout <= 0:
        return found
    return fast_downward_plan(domain_pddl, problem_pddl, timeout)


def fast_downward_plan(domain_pddl: str, problem_pddl: str, timeout: float) -> list[PlanAction] | None:
    """An optimal plan from Fast Downward (None if `up-fast-downward` is missing or finds none);
    raises `PlannerLimit` on a timeout or memory-out."""
    if find_spec("up_fast_downward") is None:  # the engine is missing: skip importing unified-planning
        return None
    try:
        from unified_planning.engines import PlanGenerationResultStatus as Status
        from unified_planning.io import PDDLReader
        from unified_planning.shortcuts import OneshotPlanner, get_environment
    except ImportError:
        return None
    get_environment().credits_stream = None
    problem = PDDLReader().parse_problem_string(domain_pddl, problem_pddl)
    try:
        with OneshotPlanner(name="fast-downward-opt") as planner:
            result = planner.solve(problem, timeout=timeout)
    except Exception:  # engine not installed (up-fast-downward missing) or failed to start
        return None
    # the opt engine's plans are optimal; it reports them as SOLVED_SATISFICING all the same
    if result.status in (Status.SOLVED_OPTIMALLY, Status.SOLVED_SATISFICING) and result.plan is not None:
        return [(a.action.name, *(str(p) for p in a.actual_parameters)) for a in result.plan.actions]
    if result.status in (Status.TIMEOUT, Status.MEMOUT):
        limit = "memory" if result.status == Status.MEMOUT else f"its {timeout:g} s"
        raise PlannerLimit(
            f"Fast Downward ran out of {limit} on problem {problem.name}; raise `timeout`, or set it to 0 "
            "to leave optimal lengths past breadth-first search unknown"
        )
    return None
