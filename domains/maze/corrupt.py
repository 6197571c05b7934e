"""Step corruptions for maze A* traces: one step replaced by a search event the A* validator rejects.

The operators are the step-local ones of the validator's reference check (`oracle.py`), applied at a
given step of any trace (exact or a model's), against the trace's own earlier claims:
`wrong_g` / `wrong_h` (a cost shifted by ±1 or ±2), `wall_create` / `out_of_bounds_create` /
`non_neighbour_create` (a create of a wall, an off-grid cell or a cell not next to the cell last closed),
`skipped_lowest_f` (closing an open cell whose f is above the lowest open f) and `close_not_open`
(closing a cell closed before). Each is kept only if the validator flags it with its rule
(`modulo.domains.corrupt_proof`); at the trace's first step a wrong cost is flagged `astar.start`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any, cast

from modulo.domains.corrupt_proof import proved_rule
from modulo.domains.maze.formats import format_trace
from modulo.domains.maze.grid import Cell, Maze
from modulo.domains.maze.oracle import MOVES
from modulo.model import Instance, Trace
from modulo.protocols import CorruptedStep, Domain
from modulo.verifiers.astar import AStarRule
from modulo.verifiers.search_events import SearchEvent

ATTEMPTS = 12
"""Candidate steps proved at most per call, over all operators."""
Candidate = tuple[str, SearchEvent, AStarRule]


def corrupt_step(
    domain: Domain, instance: Instance, trace: Trace, index: int, seed: int
) -> CorruptedStep | None:
    """A proved corruption of step `index` of a maze trace, or None (unreadable step, nothing proved)."""
    if not 0 <= index < len(trace.steps):
        return None
    events = [_event(step.parsed) for step in trace.steps]
    event = events[index]
    if event is None:
        return None
    maze = Maze.model_validate(instance.payload["maze"])
    dialect = str(instance.payload.get("dialect", "lines"))
    sep = "\n" if dialect == "lines" else " "
    rng = random.Random(f"maze-corrupt:{seed}:{index}")
    first = all(e is None for e in events[:index])
    candidates = itertools.islice(_candidates(events[:index], event, maze, rng), ATTEMPTS)
    for operator, bad, rule in candidates:
        text = format_trace([bad], "lines" if dialect == "lines" else "searchformer")
        accepted = {rule, AStarRule.START} if first else {rule}
        found = proved_rule(domain, instance, trace, index, text, accepted.__contains__, sep)
        if found is not None:
            return CorruptedStep(index=index, text=text, rule=found, operator=operator)
    return None


def _candidates(
    before: list[SearchEvent | None], event: SearchEvent, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    """Candidates from each applicable operator, operators in a seeded order, two candidates each."""
    earlier = [e for e in before if e is not None]
    parent = next((e for e in reversed(earlier) if e.kind == "close"), None)
    makers: list[Any] = [_wrong_g, _wrong_h]
    if event.kind == "create" and parent is not None:
        makers += [_wall_create, _out_of_bounds_create, _non_neighbour_create]
    if event.kind == "close":
        makers += [_skipped_lowest_f, _close_not_open]
    rng.shuffle(makers)
    for make in makers:
        yield from list(make(earlier, event, parent, maze, rng))[:2]


def _shifts(rng: random.Random) -> list[int]:
    deltas = [-2, -1, 1, 2]
    rng.shuffle(deltas)
    return deltas


def _wrong_g(
    earlier: list[SearchEvent], event: SearchEvent, parent: Any, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    for d in _shifts(rng):
        if event.g + d >= 0:
            yield "wrong_g", event._replace(g=event.g + d), AStarRule.WRONG_G


def _wrong_h(
    earlier: list[SearchEvent], event: SearchEvent, parent: Any, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    for d in _shifts(rng):
        if event.h + d >= 0:
            yield "wrong_h", event._replace(h=event.h + d), AStarRule.WRONG_H


def _create(cell: Cell, parent: SearchEvent, maze: Maze) -> SearchEvent:
    return SearchEvent("create", cell, parent.g + 1, maze.manhattan(cell))


def _wall_create(
    earlier: list[SearchEvent], event: SearchEvent, parent: SearchEvent, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    x, y = cast(Cell, parent.node)
    walls = [(x + dx, y + dy) for dx, dy in MOVES if (x + dx, y + dy) in maze.walls]
    rng.shuffle(walls)
    for cell in walls:
        yield "wall_create", _create(cell, parent, maze), AStarRule.WALL


def _out_of_bounds_create(
    earlier: list[SearchEvent], event: SearchEvent, parent: SearchEvent, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    x, y = cast(Cell, parent.node)
    outside = [c for c in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)) if not maze.in_bounds(c)]
    outside = outside or [(-1, y), (maze.width, y), (x, -1), (x, maze.height)]
    rng.shuffle(outside)
    for cell in outside:
        yield "out_of_bounds_create", _create(cell, parent, maze), AStarRule.OUT_OF_BOUNDS


def _non_neighbour_create(
    earlier: list[SearchEvent], event: SearchEvent, parent: SearchEvent, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    near = {parent.node, *maze.graph.neighbors(parent.node)} if parent.node in maze.graph else {parent.node}
    far = [c for c in sorted(maze.graph.nodes) if c not in near]
    rng.shuffle(far)
    for cell in far[:2]:
        yield "non_neighbour_create", _create(cell, parent, maze), AStarRule.NOT_NEIGHBOUR


def _open_and_closed(earlier: list[SearchEvent]) -> tuple[dict[Any, SearchEvent], list[SearchEvent]]:
    """The cells the trace claims open (by their latest create) and the closes it claims, in order."""
    open_: dict[Any, SearchEvent] = {}
    closed: list[SearchEvent] = []
    for e in earlier:
        if e.kind == "create":
            open_[e.node] = e
        else:
            open_.pop(e.node, None)
            closed.append(e)
    return open_, closed


def _skipped_lowest_f(
    earlier: list[SearchEvent], event: SearchEvent, parent: Any, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    open_, _ = _open_and_closed(earlier)
    if not open_:
        return
    low = min(e.g + e.h for e in open_.values())
    worse = [e for e in open_.values() if e.g + e.h > low]
    rng.shuffle(worse)
    for e in worse:
        yield "skipped_lowest_f", e._replace(kind="close"), AStarRule.MIN_F


def _close_not_open(
    earlier: list[SearchEvent], event: SearchEvent, parent: Any, maze: Maze, rng: random.Random
) -> Iterator[Candidate]:
    open_, closed = _open_and_closed(earlier)
    again = [e for e in closed if e.node not in open_]
    rng.shuffle(again)
    for e in again:
        yield "close_not_open", e, AStarRule.CLOSE_NOT_OPEN


def _event(parsed: Any) -> SearchEvent | None:
    """The event a parsed maze step holds (as `MazeDomain.parse` writes it); None for an unreadable one."""
    if not isinstance(parsed, dict) or "kind" not in parsed:
        return None
    return SearchEvent(
        parsed["kind"], (int(parsed["node"][0]), int(parsed["node"][1])), parsed["g"], parsed["h"]
    )
