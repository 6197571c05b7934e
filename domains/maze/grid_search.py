"""Moves on a grid without building a graph: the lazy adjacency the A* validator reads, and the length
of a shortest path by A* on the grid. networkx stays the reference for both in the tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from heapq import heappop, heappush
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modulo.domains.maze.grid import Cell, Maze

UNIT_EDGE: Mapping[str, Any] = MappingProxyType({"weight": 1})
"""The edge data of every move (the validator reads `weight`), shared read-only."""


class GridAdjacency(dict["Cell", dict["Cell", Mapping[str, Any]]]):
    """Free cell -> free neighbour -> edge data, each cell's entry built when first asked for.

    Reads like `Maze.graph._adj`: `cell in adjacency` is "free cell of the grid", and a cell's
    neighbours come in the order networkx's adjacency of `Maze.graph` holds them (left, down, right,
    up), so messages that list neighbours read the same. A 30×30 maze's search asks for a few dozen
    cells; building the graph touched all 900.
    """

    __slots__ = ("_width", "_height", "_walls")

    def __init__(self, width: int, height: int, walls: frozenset[Cell]) -> None:
        super().__init__()
        self._width, self._height, self._walls = width, height, walls

    def __contains__(self, cell: object) -> bool:
        if not (isinstance(cell, tuple) and len(cell) == 2):
            return False
        x, y = cell
        if not (x.__class__ is int and y.__class__ is int or _whole(x) and _whole(y)):
            return False  # a graph node is equal to a cell of whole numbers: (1.0, 2) is, (1.5, 2) is not
        return 0 <= x < self._width and 0 <= y < self._height and cell not in self._walls

    def __missing__(self, cell: Cell) -> dict[Cell, Mapping[str, Any]]:
        width, height, walls = self._width, self._height, self._walls
        if not (isinstance(cell, tuple) and len(cell) == 2):
            raise KeyError(cell)
        x, y = cell
        if x.__class__ is not int or y.__class__ is not int:
            if cell not in self:
                raise KeyError(cell)
            x, y = int(x), int(y)
        elif not (0 <= x < width and 0 <= y < height) or cell in walls:
            raise KeyError(cell)
        near: dict[Cell, Mapping[str, Any]] = {}
        for nxt, inside in (
            ((x - 1, y), x > 0),
            ((x, y - 1), y > 0),
            ((x + 1, y), x + 1 < width),
            ((x, y + 1), y + 1 < height),
        ):
            if inside and nxt not in walls:
                near[nxt] = UNIT_EDGE
        self[x, y] = near
        return near


def _whole(value: object) -> bool:
    """A real number equal to a whole one (which a dict takes for that int)."""
    return isinstance(value, Real) and math.isfinite(value) and math.floor(value) == value


def shortest_length(maze: Maze) -> int | None:
    """Moves on a shortest path from start to goal (A* with the Manhattan distance, which is consistent,
    so the goal's first g is optimal); None when the goal cannot be reached or start or goal is no
    free cell. It reads `maze.adjacency`, so the cells it expands are ready for the trace's check."""
    start, goal = maze.start, maze.goal
    adjacency = maze.adjacency
    if start not in adjacency or goal not in adjacency:
        return None
    gx, gy = goal
    best: dict[Cell, int] = {start: 0}
    heap: list[tuple[int, int, Cell]] = [(maze.manhattan(start), 0, start)]
    """(f, -g, cell): among equal f the deepest first, which reaches the goal sooner."""
    while heap:
        _, minus_g, cell = heappop(heap)
        g = -minus_g
        if cell == goal:
            return g
        if g > best[cell]:
            continue  # a stale entry: the cell was reached again with a lower g
        g += 1
        for nxt in adjacency[cell]:
            if g < best.get(nxt, g + 1):
                best[nxt] = g
                heappush(heap, (g + abs(nxt[0] - gx) + abs(nxt[1] - gy), -g, nxt))
    return None
