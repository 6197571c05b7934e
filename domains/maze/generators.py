"""Seeded maze generators: perfect mazes (DFS, Wilson, Kruskal, Prim), random obstacles, caves.

Every generator draws only from the `random.Random` it is given, so one seed gives one maze.

Perfect mazes use the usual cell/wall lattice embedding: lattice cells sit on every other grid
coordinate and the grid cells between two lattice cells are the walls a carving algorithm opens.
On an odd side (5, 7, ..., 31) the lattice cells sit on the even coordinates 0, 2, ..., n-1, so
the maze fills the grid. On an even side one row (or column) of the grid cannot hold lattice
cells; a coin flip (per axis) puts that all-wall strip on the low or the high border, as the
Beyond Semantics generators do. With `loops=0` the free cells form a tree (one path between any
two cells); `loops=p` then opens a fraction `p` of the remaining walls between two lattice cells,
which braids the maze so that A* has several routes to weigh.

`searchformer` follows Searchformer's maze generator (facebookresearch/searchformer,
`searchformer/maze.py`): 30-50% of the cells (or `wall_fraction`) are walls, drawn uniformly;
walls are redrawn until start and goal can be placed in one connected region.
`drunkards_walk` carves a cave out of solid rock by a random walk until a fraction `coverage`
(default 0.5, as in Beyond Semantics) of the cells is open.

Start and goal are distinct free cells joined by a path, at Manhattan distance at least
`min_distance` (default `max(width, height) // 2`). The Manhattan distance is a lower bound on
the optimal plan length, so this also bounds the difficulty from below.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx

from modulo.domains.maze.grid import Cell, Maze

MIN_SIZE = 5
MAX_SIZE = 100
MAX_ATTEMPTS = 100
"""Mazes drawn before giving up on placing start and goal."""
START_CANDIDATES = 64
"""Start cells tried per maze when looking for a goal far enough away."""

Params = Mapping[str, float | int | None]
Carver = Callable[[int, int, random.Random, Params], set[Cell]]
"""Draws the open cells of one maze from (width, height, rng, kind-specific params)."""


# --- the cell/wall lattice ------------------------------------------------------------------


@dataclass(frozen=True)
class _Lattice:
    """Lattice cells at `offset + 2 * i` along each axis; walls between them at odd steps."""

    width: int
    height: int
    ox: int
    oy: int

    @property
    def cells(self) -> list[Cell]:
        return [(x, y) for y in range(self.oy, self.height, 2) for x in range(self.ox, self.width, 2)]

    def neighbours(self, cell: Cell) -> list[Cell]:
        x, y = cell
        around = ((x, y - 2), (x + 2, y), (x, y + 2), (x - 2, y))
        return [(nx_, ny) for nx_, ny in around if 0 <= nx_ < self.width and 0 <= ny < self.height]

    def edges(self) -> list[tuple[Cell, Cell]]:
        """Every pair of adjacent lattice cells, each once, in a fixed order."""
        return [(a, b) for a in self.cells for b in self.neighbours(a) if a < b]


def _wall_between(a: Cell, b: Cell) -> Cell:
    return ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)


def _lattice(width: int, height: int, rng: random.Random) -> _Lattice:
    ox = rng.randrange(2) if width % 2 == 0 else 0
    oy = rng.randrange(2) if height % 2 == 0 else 0
    return _Lattice(width, height, ox, oy)


def _tree_dfs(lat: _Lattice, rng: random.Random) -> list[tuple[Cell, Cell]]:
    """Recursive backtracker: walk to a random unvisited neighbour, back up at dead ends."""
    first = rng.choice(lat.cells)
    visited, stack, edges = {first}, [first], []
    while stack:
        fresh = [n for n in lat.neighbours(stack[-1]) if n not in visited]
        if not fresh:
            stack.pop()
            continue
        nxt = rng.choice(fresh)
        edges.append((stack[-1], nxt))
        visited.add(nxt)
        stack.append(nxt)
    return edges


def _tree_wilson(lat: _Lattice, rng: random.Random) -> list[tuple[Cell, Cell]]:
    """Wilson: loop-erased random walks from each cell to the tree grown so far (uniform tree)."""
    cells = lat.cells
    in_tree = {rng.choice(cells)}
    edges: list[tuple[Cell, Cell]] = []
    for origin in rng.sample(cells, len(cells)):
        step: dict[Cell, Cell] = {}
        cell = origin
        while cell not in in_tree:
            step[cell] = rng.choice(lat.neighbours(cell))  # overwriting erases loops
            cell = step[cell]
        cell = origin
        while cell not in in_tree:
            in_tree.add(cell)
            edges.append((cell, step[cell]))
            cell = step[cell]
    return edges


def _tree_kruskal(lat: _Lattice, rng: random.Random) -> list[tuple[Cell, Cell]]:
    """Randomised Kruskal: open walls in random order when they join two separate regions."""
    parent = {c: c for c in lat.cells}

    def root(c: Cell) -> Cell:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    candidates = lat.edges()
    rng.shuffle(candidates)
    edges = []
    for a, b in candidates:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
            edges.append((a, b))
    return edges


def _tree_prim(lat: _Lattice, rng: random.Random) -> list[tuple[Cell, Cell]]:
    """Randomised Prim: grow one region by a random wall on its frontier."""
    first = rng.choice(lat.cells)
    in_tree = {first}
    frontier = [(first, n) for n in lat.neighbours(first)]
    edges = []
    while frontier:
        a, b = frontier.pop(rng.randrange(len(frontier)))
        if b in in_tree:
            continue
        in_tree.add(b)
        edges.append((a, b))
        frontier.extend((b, n) for n in lat.neighbours(b) if n not in in_tree)
    return edges


TreeBuilder = Callable[[_Lattice, random.Random], list[tuple[Cell, Cell]]]


def _perfect(build: TreeBuilder) -> Carver:
    """A carver that opens a spanning tree of the lattice, then braids a fraction `loops`."""

    def carve(width: int, height: int, rng: random.Random, params: Params) -> set[Cell]:
        loops = float(params.get("loops") or 0.0)
        if not 0.0 <= loops <= 1.0:
            raise ValueError(f"loops must be between 0 and 1, got {loops}")
        lat = _lattice(width, height, rng)
        tree = build(lat, rng)
        opened = set(lat.cells) | {_wall_between(a, b) for a, b in tree}
        if loops > 0:
            closed = [e for e in lat.edges() if _wall_between(*e) not in opened]
            extra = rng.sample(closed, round(loops * len(closed)))
            opened |= {_wall_between(a, b) for a, b in extra}
        return opened

    return carve


# --- open-plan generators -------------------------------------------------------------------


def _all_cells(width: int, height: int) -> list[Cell]:
    return [(x, y) for y in range(height) for x in range(width)]


def _carve_searchformer(width: int, height: int, rng: random.Random, params: Params) -> set[Cell]:
    """Random obstacles: a fraction of the cells, drawn uniformly, become walls."""
    fraction = params.get("wall_fraction")
    if fraction is None:
        fraction = rng.uniform(0.3, 0.5)
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"wall_fraction must be in [0, 1), got {fraction}")
    cells = _all_cells(width, height)
    walls = set(rng.sample(cells, round(fraction * len(cells))))
    return {c for c in cells if c not in walls}


def _carve_drunkards_walk(width: int, height: int, rng: random.Random, params: Params) -> set[Cell]:
    """Cave: a random walk from a random cell opens cells until `coverage` of them are open."""
    coverage = params.get("coverage")
    coverage = 0.5 if coverage is None else float(coverage)
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    target = max(2, round(coverage * width * height))
    x, y = rng.randrange(width), rng.randrange(height)
    opened = {(x, y)}
    while len(opened) < target:
        moves = [(x + dx, y + dy) for dx, dy in ((0, -1), (1, 0), (0, 1), (-1, 0))]
        x, y = rng.choice([(a, b) for a, b in moves if 0 <= a < width and 0 <= b < height])
        opened.add((x, y))
    return opened


# --- the registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    carve: Carver
    params: tuple[str, ...]


_COMMON_PARAMS = ("min_distance",)
_KINDS: dict[str, _Kind] = {
    "dfs": _Kind(_perfect(_tree_dfs), ("loops",)),
    "wilson": _Kind(_perfect(_tree_wilson), ("loops",)),
    "kruskal": _Kind(_perfect(_tree_kruskal), ("loops",)),
    "prim": _Kind(_perfect(_tree_prim), ("loops",)),
    "searchformer": _Kind(_carve_searchformer, ("wall_fraction",)),
    "drunkards_walk": _Kind(_carve_drunkards_walk, ("coverage",)),
}
MAZE_KINDS: tuple[str, ...] = tuple(_KINDS)
PERFECT_KINDS: tuple[str, ...] = ("dfs", "wilson", "kruskal", "prim")
"""Kinds whose free cells form a tree when `loops=0`."""


def _components(opened: set[Cell]) -> dict[Cell, int]:
    """Connected-region label of every open cell (4-neighbour moves)."""
    label: dict[Cell, int] = {}
    for seed in sorted(opened):
        if seed in label:
            continue
        label[seed] = len(label)
        mark, queue = label[seed], deque([seed])
        while queue:
            x, y = queue.popleft()
            for n in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if n in opened and n not in label:
                    label[n] = mark
                    queue.append(n)
    return label


def _manhattan(a: Cell, b: Cell) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def _place(opened: set[Cell], min_distance: int, rng: random.Random) -> tuple[Cell, Cell] | None:
    """A random (start, goal) pair in one region at least `min_distance` apart, if one is found."""
    label = _components(opened)
    cells = sorted(opened)
    for start in rng.sample(cells, min(START_CANDIDATES, len(cells))):
        goals = [c for c in cells if label[c] == label[start] and c != start]
        goals = [c for c in goals if _manhattan(c, start) >= min_distance]
        if goals:
            return start, rng.choice(goals)
    return None


def _check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"{name} must be an integer from {MIN_SIZE} to {MAX_SIZE}, got {value!r}")


def _check_params(kind: str, params: Params) -> _Kind:
    if kind not in _KINDS:
        raise ValueError(f"unknown maze kind {kind!r}; valid kinds: {', '.join(MAZE_KINDS)}")
    spec = _KINDS[kind]
    allowed = spec.params + _COMMON_PARAMS
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        names = ", ".join(unknown)
        raise ValueError(f"unknown parameter(s) {names} for {kind!r}; valid: {', '.join(allowed)}")
    return spec


def make_maze(
    kind: str, width: int, height: int, rng: random.Random | int, **params: float | int | None
) -> Maze:
    """Draw one `kind` maze of `width` × `height` from `rng` (a Random or an int seed).

    Params: `min_distance` (all kinds), `loops` (perfect kinds), `wall_fraction` (searchformer),
    `coverage` (drunkards_walk). Raises ValueError for an unknown kind, size or parameter, or when
    no start/goal pair `min_distance` apart fits after `MAX_ATTEMPTS` mazes.
    """
    spec = _check_params(kind, params)
    _check_size(width, height)
    rand = rng if isinstance(rng, random.Random) else random.Random(rng)
    min_distance = params.get("min_distance")
    need = max(width, height) // 2 if min_distance is None else int(min_distance)
    for _ in range(MAX_ATTEMPTS):
        opened = spec.carve(width, height, rand, params)
        placed = _place(opened, max(need, 1), rand)
        if placed is not None:
            walls = frozenset(c for c in _all_cells(width, height) if c not in opened)
            return Maze(width=width, height=height, walls=walls, start=placed[0], goal=placed[1])
    raise ValueError(
        f"could not place start and goal at Manhattan distance >= {need} in a {width}x{height} "
        f"{kind} maze after {MAX_ATTEMPTS} tries; lower min_distance"
    )


# --- difficulty -----------------------------------------------------------------------------


def shortest_plan(maze: Maze) -> list[Cell]:
    """One optimal plan (cells from start to goal); raises networkx.NetworkXNoPath if none."""
    path: list[Cell] = nx.shortest_path(maze.graph, maze.start, maze.goal)
    return path


def optimal_plan_length(maze: Maze) -> int:
    """Moves in an optimal plan; raises networkx.NetworkXNoPath if the goal is unreachable."""
    if maze.shortest_length is None:
        raise nx.NetworkXNoPath(f"no path from {maze.start} to {maze.goal}")
    return maze.shortest_length


def difficulty(maze: Maze) -> dict[str, int | float]:
    """Difficulty measures for report breakdowns."""
    return {
        "width": maze.width,
        "height": maze.height,
        "wall_fraction": round(len(maze.walls) / (maze.width * maze.height), 3),
        "manhattan": maze.manhattan(maze.start),
        "optimal_length": optimal_plan_length(maze),
    }
