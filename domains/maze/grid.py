"""A grid maze: the problem description shared by the maze generators, formats and checks."""

from __future__ import annotations

import os
from functools import cached_property

import networkx as nx
from pydantic import BaseModel, ConfigDict, model_validator

from modulo.domains.maze.grid_search import GridAdjacency, shortest_length

Cell = tuple[int, int]
"""(x, y): column, then row, both from 0 — the order Searchformer's tokens use."""


MAX_CELLS_ENV = "MODULO_MAX_MAZE_CELLS"
MAX_CELLS = 250_000
"""Default cap on width × height (500×500): a check may visit every free cell."""


def max_cells() -> int:
    """The cap on a maze's cells: $MODULO_MAX_MAZE_CELLS if set (a positive whole number), else MAX_CELLS."""
    raw = os.environ.get(MAX_CELLS_ENV, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    if raw:
        raise ValueError(f"{MAX_CELLS_ENV} must be a positive whole number, got {raw!r}")
    return MAX_CELLS


class Maze(BaseModel):
    """Width × height cells; walls block; moves go one cell up, down, left or right at cost 1."""

    model_config = ConfigDict(frozen=True)

    width: int
    height: int
    walls: frozenset[Cell]
    start: Cell
    goal: Cell

    @model_validator(mode="after")
    def _within_cap(self) -> Maze:
        """Refuse a maze too large to check (a 100000×100000 grid in an input file would exhaust memory)."""
        if self.width < 1 or self.height < 1:
            raise ValueError(f"a maze needs at least one column and row, got {self.width}×{self.height}")
        cap = max_cells()
        if self.width * self.height > cap:
            raise ValueError(
                f"a {self.width}×{self.height} maze has {self.width * self.height} cells, over the cap of "
                f"{cap} (set {MAX_CELLS_ENV} to raise it)"
            )
        return self

    def in_bounds(self, cell: Cell) -> bool:
        x, y = cell
        return 0 <= x < self.width and 0 <= y < self.height

    def is_free(self, cell: Cell) -> bool:
        return self.in_bounds(cell) and cell not in self.walls

    @cached_property
    def graph(self) -> nx.Graph:
        """Free cells as nodes, 4-neighbour moves as edges of weight 1 (for networkx's algorithms; the
        checks read `adjacency` instead)."""
        graph: nx.Graph = nx.Graph()
        walls = self.walls
        free = [(x, y) for x in range(self.width) for y in range(self.height) if (x, y) not in walls]
        graph.add_nodes_from(free)
        cells = set(free)
        graph.add_edges_from(
            [
                (cell, nxt)
                for cell in free
                for nxt in ((cell[0] + 1, cell[1]), (cell[0], cell[1] + 1))
                if nxt in cells
            ],
            weight=1,
        )
        return graph

    @cached_property
    def adjacency(self) -> GridAdjacency:
        """Free cells and their moves as the A* validator reads them, built cell by cell as asked for
        (the same nodes, edges and neighbour order as `graph`, which builds every cell up front)."""
        return GridAdjacency(self.width, self.height, self.walls)

    @cached_property
    def shortest_length(self) -> int | None:
        """Moves on a shortest path from start to goal; None when the goal cannot be reached."""
        return shortest_length(self)

    def manhattan(self, cell: Cell, target: Cell | None = None) -> int:
        """The admissible, consistent heuristic both published dialects use."""
        tx, ty = target if target is not None else self.goal
        return abs(cell[0] - tx) + abs(cell[1] - ty)
