"""The answer check: is a plan a path from start to goal through free cells, and is it shortest?

Judged against the maze alone, never against the trace (`plan_matches_trace` is a separate,
independent judgement that callers may record in `AnswerVerdict.extras`).

Verdicts: no plan → `unparsed`; a broken plan → `incorrect` with detail `invalid:<reason>` and
the first offending index; a path → `correct` with detail `valid-optimal` or `valid-suboptimal`.
Lengths in `extras` count moves (cells - 1).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from modulo.domains.maze.grid import Cell, Maze
from modulo.model import AnswerVerdict, JSONScalar
from modulo.verifiers.search_events import SearchEvent

INVALID_REASONS = ("wrong-start", "off-grid", "wall", "not-adjacent", "wrong-goal")
"""Reasons in `invalid:<reason>`, in the order they are checked along the plan."""


def _first_error(maze: Maze, plan: Sequence[Cell]) -> tuple[str, int, str] | None:
    """(reason, index, message) of the first rule the plan breaks, or None for a path."""
    if plan[0] != maze.start:
        return "wrong-start", 0, f"the plan starts at {plan[0]}, not at the start {maze.start}"
    for i, cell in enumerate(plan):
        if not maze.in_bounds(cell):
            return "off-grid", i, f"cell {i} {cell} is outside the {maze.width}x{maze.height} grid"
        if cell in maze.walls:
            return "wall", i, f"cell {i} {cell} is a wall"
        if i and abs(cell[0] - plan[i - 1][0]) + abs(cell[1] - plan[i - 1][1]) != 1:
            return "not-adjacent", i, f"move {i - 1}->{i} from {plan[i - 1]} to {cell} is not one grid step"
    if plan[-1] != maze.goal:
        return "wrong-goal", len(plan) - 1, f"the plan ends at {plan[-1]}, not at the goal {maze.goal}"
    return None


def check_plan(maze: Maze, plan: Sequence[Cell] | None) -> AnswerVerdict:
    """Judge a plan (cells from start to goal) against the maze."""
    if not plan:
        return AnswerVerdict(status="unparsed", detail="unparsed", message="no plan could be read")
    cells = [(cell[0], cell[1]) for cell in plan]
    optimal = maze.shortest_length
    extras: dict[str, JSONScalar] = {"plan_length": len(cells) - 1, "optimal_length": optimal}
    error = _first_error(maze, cells)
    if error is not None:
        reason, extras["first_invalid_index"], message = error
        return AnswerVerdict(status="incorrect", detail=f"invalid:{reason}", message=message, extras=extras)
    detail = "valid-optimal" if len(cells) - 1 == optimal else "valid-suboptimal"
    message = f"a path of {len(cells) - 1} moves; the shortest has {optimal}"
    return AnswerVerdict(status="correct", detail=detail, message=message, extras=extras)


def _parents(events: Sequence[SearchEvent]) -> dict[Hashable, Hashable | None]:
    """Each created node's parent: the node closed last before its best-g (latest on ties) create."""
    parent: dict[Hashable, Hashable | None] = {}
    best_g: dict[Hashable, float] = {}
    last_closed: Hashable | None = None
    for event in events:
        if event.kind == "close":
            last_closed = event.node
        elif event.node not in best_g or event.g <= best_g[event.node]:
            best_g[event.node], parent[event.node] = event.g, last_closed
    return parent


def plan_matches_trace(
    events: Sequence[SearchEvent], plan: Sequence[Cell] | None, start: Cell, goal: Cell
) -> bool | None:
    """Whether the plan is the path the trace implies (goal back to start along parents).

    None when there is nothing to compare: no plan, or the trace never closes the goal.
    False when the implied parent chain breaks (a node without parent, or a cycle) or differs.
    """
    if not plan or not any(e.kind == "close" and e.node == goal for e in events):
        return None
    parent = _parents(events)
    chain: list[Hashable] = [goal]
    while chain[-1] != start:
        previous = parent.get(chain[-1])
        if previous is None or previous in chain:
            return False
        chain.append(previous)
    return chain[::-1] == [(cell[0], cell[1]) for cell in plan]
