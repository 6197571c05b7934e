"""Reference A* traces for mazes, and the corruption operators of the validator's reference check.

`astar_trace` runs exact A* with the Manhattan heuristic. Deterministic mode follows Searchformer's
A* (facebookresearch/searchformer, `searchformer/astar.py`): among open cells of equal f it
closes the one with the lowest y, then the lowest x (`searchformer_tie_key`); children are
created in the order up (y+1), down (y-1), left (x-1), right (x+1); a child is created only when
it is new or its g is strictly lower than the g it is open or closed with. Randomised mode
(a seeded `random.Random`) breaks f ties uniformly at random and shuffles the children.
`check_trace` validates a maze trace with the matching settings.

Each corruption operator `(events, maze, rng) -> Corruption` takes an exact trace of `maze` and
returns the corrupted events, the index where the validator must flag it (`len(events)` for a
whole-trace error) and the rule it must report. An operator that cannot be applied to the
trace (e.g. no open cell with a higher f exists at any close) raises `NotApplicable`.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from modulo.domains.maze.grid import Cell, Maze
from modulo.verifiers.astar import AStarRule, AStarVerdicts, NodeProblem, StartMode, TieKey, validate_astar
from modulo.verifiers.search_events import SearchEvent

MOVES: tuple[Cell, ...] = ((0, 1), (0, -1), (-1, 0), (1, 0))
"""Searchformer's child order: up (y+1), down (y-1), left (x-1), right (x+1)."""


class OracleTrace(NamedTuple):
    events: list[SearchEvent]
    plan: list[Cell]
    """Cells from start to goal, following the parent chain back from the goal."""


def searchformer_tie_key(cell: Any) -> tuple[int, int]:
    """Searchformer's order among equal f: lower y first, then lower x."""
    return cell[1], cell[0]


def _children(maze: Maze, cell: Cell) -> list[Cell]:
    x, y = cell
    return [(x + dx, y + dy) for dx, dy in MOVES if maze.is_free((x + dx, y + dy))]


def astar_trace(
    maze: Maze, start_mode: StartMode = "create", rng: random.Random | None = None
) -> OracleTrace:
    """Exact A* on `maze`: deterministic without `rng`, randomised tie-breaking with it.

    Raises ValueError when the goal is unreachable.
    """
    g: dict[Cell, int] = {maze.start: 0}
    parent: dict[Cell, Cell] = {}
    closed: set[Cell] = set()
    heap: list[tuple[int, Any, Cell]] = []

    def push(cell: Cell) -> None:
        key = searchformer_tie_key(cell) if rng is None else rng.random()
        heapq.heappush(heap, (g[cell] + maze.manhattan(cell), key, cell))

    events = (
        [SearchEvent("create", maze.start, 0, maze.manhattan(maze.start))] if start_mode == "create" else []
    )
    push(maze.start)
    while heap:
        f, _, cell = heapq.heappop(heap)
        if cell in closed or f != g[cell] + maze.manhattan(cell):
            continue  # stale entry: closed already, or pushed again with a lower g
        closed.add(cell)
        events.append(SearchEvent("close", cell, g[cell], maze.manhattan(cell)))
        if cell == maze.goal:
            return OracleTrace(events, _plan(parent, maze.goal))
        children = _children(maze, cell)
        if rng is not None:
            rng.shuffle(children)
        for child in children:
            if child in g and g[child] <= g[cell] + 1:
                continue
            g[child], parent[child] = g[cell] + 1, cell  # Manhattan is consistent: never a closed child
            push(child)
            events.append(SearchEvent("create", child, g[child], maze.manhattan(child)))
    raise ValueError(f"the goal {maze.goal} cannot be reached from {maze.start}")


def _plan(parent: dict[Cell, Cell], goal: Cell) -> list[Cell]:
    plan = [goal]
    while plan[-1] in parent:
        plan.append(parent[plan[-1]])
    return plan[::-1]


def swapped_trace(
    other: Maze, start_mode: StartMode = "create", rng: random.Random | None = None
) -> list[SearchEvent]:
    """The exact trace of another maze, to pair with this maze's problem (the swapped-trace probe)."""
    return astar_trace(other, start_mode, rng).events


def maze_node_problem(maze: Maze) -> NodeProblem:
    """Tells the validator whether a node outside the maze graph is off the grid or a wall."""

    def problem(node: Any) -> tuple[str, str] | None:
        if not (isinstance(node, tuple) and len(node) == 2 and all(isinstance(v, int) for v in node)):
            return None
        if not maze.in_bounds(node):
            return AStarRule.OUT_OF_BOUNDS, f"{node} is outside the {maze.width}x{maze.height} maze"
        if node in maze.walls:
            return AStarRule.WALL, f"{node} is a wall"
        return None

    return problem


def check_trace(
    maze: Maze, events: Sequence[SearchEvent | None], start_mode: StartMode = "create", strict: bool = False
) -> AStarVerdicts:
    """Validate a maze trace; `strict` also requires Searchformer's deterministic tie-break."""
    return validate_astar(
        maze.adjacency,
        maze.start,
        maze.goal,
        maze.manhattan,
        events,
        start_mode=start_mode,
        tie_key=searchformer_order(maze) if strict else None,
        node_problem=maze_node_problem(maze),
    )


def searchformer_order(maze: Maze) -> TieKey:
    """`searchformer_tie_key` as one int, y * width + x: the same order on the maze's cells (the
    validator applies it to graph nodes only), and cheaper to compare in the validator's heap."""
    width = maze.width

    def key(cell: Any) -> int:
        return cell[1] * width + cell[0]

    return key


# --- corruption operators -------------------------------------------------------------------


class NotApplicable(ValueError):
    """The corruption cannot be applied to this trace; draw another trace or another operator."""


@dataclass(frozen=True)
class Corruption:
    """A corrupted trace and the verdict the validator must give it."""

    events: list[SearchEvent]
    index: int
    """Where the validator must flag the corruption (`len(events)` for a whole-trace error)."""
    rule: AStarRule


CorruptionFn = Callable[[Sequence[SearchEvent], Maze, random.Random], Corruption]


def _pick(candidates: Sequence[Any], rng: random.Random, what: str) -> Any:
    if not candidates:
        raise NotApplicable(f"the trace has no {what}")
    return candidates[rng.randrange(len(candidates))]


def _parents(events: Sequence[SearchEvent]) -> list[SearchEvent | None]:
    """For each index, the close event most recently before it (None before the first close)."""
    parents: list[SearchEvent | None] = []
    last: SearchEvent | None = None
    for event in events:
        parents.append(last)
        if event.kind == "close":
            last = event
    return parents


def _with(events: Sequence[SearchEvent], index: int, event: SearchEvent) -> list[SearchEvent]:
    return [*events[:index], event, *events[index + 1 :]]


def _shift(events: Sequence[SearchEvent], rng: random.Random, field: str, rule: AStarRule) -> Corruption:
    index = _pick(range(1, len(events)), rng, "step after the start")
    event = events[index]
    delta = rng.choice((-2, -1, 1, 2))
    changed = event._replace(g=event.g + delta) if field == "g" else event._replace(h=event.h + delta)
    return Corruption(_with(events, index, changed), index, rule)


def wrong_g(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Shift the g of one create or close (not the start) by ±1 or ±2."""
    return _shift(events, rng, "g", AStarRule.WRONG_G)


def wrong_h(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Shift the h of one create or close (not the start) by ±1 or ±2."""
    return _shift(events, rng, "h", AStarRule.WRONG_H)


def skipped_lowest_f(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Replace one close by the close of an open cell with a strictly higher f than the minimum."""
    candidates: list[tuple[int, SearchEvent]] = []
    open_: dict[Hashable, SearchEvent] = {}
    for index, event in enumerate(events):
        if event.kind == "create":
            open_[event.node] = event
            continue
        if open_:
            low = min(e.g + e.h for e in open_.values())
            candidates.extend((index, e) for e in open_.values() if e.g + e.h > low)
        open_.pop(event.node, None)
    index, worse = _pick(candidates, rng, "close with an open cell of higher f")
    return Corruption(_with(events, index, worse._replace(kind="close")), index, AStarRule.MIN_F)


def _creates_after_close(events: Sequence[SearchEvent]) -> list[tuple[int, SearchEvent]]:
    """(index, parent close) of every create that has a parent."""
    return [
        (index, parent)
        for index, (event, parent) in enumerate(zip(events, _parents(events), strict=True))
        if event.kind == "create" and parent is not None
    ]


def _replace_create(
    events: Sequence[SearchEvent],
    maze: Maze,
    rng: random.Random,
    cells: Callable[[Any], list[Cell]],
    rule: AStarRule,
) -> Corruption:
    """Replace a random create's cell by one of `cells(parent)`, with g = parent's g + 1 and Manhattan h."""
    creates = _creates_after_close(events)
    rng.shuffle(creates)
    for index, parent in creates:
        options = cells(parent.node)
        if options:
            cell = rng.choice(options)
            event = SearchEvent("create", cell, parent.g + 1, maze.manhattan(cell))
            return Corruption(_with(events, index, event), index, rule)
    raise NotApplicable(f"no create of the trace can be replaced to break {rule}")


def non_neighbour_create(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Replace one create's cell by a free cell that is not a neighbour of its parent."""
    free = sorted(maze.graph.nodes)

    def far(parent: Cell) -> list[Cell]:
        near = {parent, *maze.graph.neighbors(parent)}
        return [c for c in free if c not in near]

    return _replace_create(events, maze, rng, far, AStarRule.NOT_NEIGHBOUR)


def wall_create(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Replace one create's cell by a wall cell next to its parent."""

    def walls(parent: Cell) -> list[Cell]:
        return [
            (parent[0] + dx, parent[1] + dy)
            for dx, dy in MOVES
            if (parent[0] + dx, parent[1] + dy) in maze.walls
        ]

    return _replace_create(events, maze, rng, walls, AStarRule.WALL)


def out_of_bounds_create(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Replace one create's cell by a cell just off the grid."""

    def outside(parent: Cell) -> list[Cell]:
        x, y = parent
        return [(-1, y), (maze.width, y), (x, -1), (x, maze.height)]

    return _replace_create(events, maze, rng, outside, AStarRule.OUT_OF_BOUNDS)


def dropped_create(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Drop one create of a child; the next close must report the missing child."""
    options = [i for i, _ in _creates_after_close(events) if any(e.kind == "close" for e in events[i + 1 :])]
    index = _pick(options, rng, "create followed by a close")
    next_close = next(j for j in range(index + 1, len(events)) if events[j].kind == "close")
    return Corruption([*events[:index], *events[index + 1 :]], next_close - 1, AStarRule.MISSING_CREATE)


def close_not_open(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Replace one close by a second close of a cell closed earlier."""
    closes = [i for i, e in enumerate(events) if e.kind == "close"]
    if len(closes) < 2:
        raise NotApplicable("the trace has fewer than two closes")
    n = rng.randrange(1, len(closes))
    index, again = closes[n], events[rng.choice(closes[:n])]
    return Corruption(_with(events, index, again), index, AStarRule.CLOSE_NOT_OPEN)


def missing_goal_close(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Drop the final close of the goal."""
    if not events or events[-1].kind != "close" or events[-1].node != maze.goal:
        raise NotApplicable("the trace does not end by closing the goal")
    return Corruption(list(events[:-1]), len(events) - 1, AStarRule.GOAL_NOT_CLOSED)


def truncated(events: Sequence[SearchEvent], maze: Maze, rng: random.Random) -> Corruption:
    """Cut the trace short (at least one step kept, the goal close lost)."""
    if len(events) < 2:
        raise NotApplicable("the trace is too short to truncate")
    cut = rng.randrange(1, len(events))
    return Corruption(list(events[:cut]), cut, AStarRule.GOAL_NOT_CLOSED)


CORRUPTIONS: dict[str, CorruptionFn] = {
    "wrong_g": wrong_g,
    "wrong_h": wrong_h,
    "skipped_lowest_f": skipped_lowest_f,
    "non_neighbour_create": non_neighbour_create,
    "wall_create": wall_create,
    "out_of_bounds_create": out_of_bounds_create,
    "dropped_create": dropped_create,
    "close_not_open": close_not_open,
    "missing_goal_close": missing_goal_close,
    "truncated": truncated,
}
"""Every corruption operator by name; each names the rule it must break in its `Corruption`."""
