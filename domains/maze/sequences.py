"""Published maze datasets: one token sequence per example — query, A* trace, plan — in the Searchformer
or Beyond Semantics dialect (see `formats.py` for both), read back into a maze and the model-side output.

The query is written by the dataset, not by a model, so it is read strictly: every token must be
`start`/`goal`/`wall` and two whole numbers (`query` and `bos` are skipped). Neither dialect states the
grid size. It comes from the user (`size`: `30` or `30x20`, width × height), else from the record
(Beyond Semantics' generator writes `cols` and `rows`), else it is inferred as the smallest square
holding every cell the query names — both published generators make square grids, but a last row or
column without walls, start or goal would be missed, so an inferred size is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modulo.domains.maze.formats import Dialect
from modulo.domains.maze.grid import Cell, Maze

SEQUENCE_FORMATS: dict[str, Dialect] = {
    "searchformer": "searchformer",
    "beyond-semantics": "beyond_semantics",
}
"""Format names `modulo verify --format` accepts, and the dialect each one is."""

_OUTPUT_START: dict[Dialect, re.Pattern[str]] = {
    "searchformer": re.compile(r"\b(?:create|close|plan)\b", re.IGNORECASE),
    "beyond_semantics": re.compile(r"\b(?:reasoning|create|close|solution|plan)\b", re.IGNORECASE),
}
_SKIPPED = frozenset({"query", "bos"})
MAX_SIDE = 300
"""Largest grid side read (published mazes are at most 30x30); a bigger one would exhaust memory."""
_CELL_WORDS = ("start", "goal", "wall")


@dataclass(frozen=True)
class SequenceMaze:
    """What one sequence states: the maze, the output text after the query, and how the size was found."""

    maze: Maze
    output: str
    size_inferred: bool


def dialect_of_format(fmt: str) -> Dialect:
    """The dialect of a `--format` name; a clear error lists the names."""
    try:
        return SEQUENCE_FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown maze format {fmt!r}; formats: {', '.join(SEQUENCE_FORMATS)}") from None


def read_sequence_maze(text: str, dialect: Dialect, options: Mapping[str, Any]) -> SequenceMaze:
    """Split `text` at the first output word and read the maze the query states."""
    published = _read_published(text, dialect)
    if published is not None:
        cells, output = published
    else:
        found = _OUTPUT_START[dialect].search(text)
        query, output = (text, "") if found is None else (text[: found.start()], text[found.start() :])
        cells = _read_query(query)
    start, goal = cells["start"][0], cells["goal"][0]
    named = [start, goal, *cells["wall"]]
    size = _given_size(options)
    width, height = size or _inferred_size(named)
    if max(width, height) > MAX_SIDE:
        raise ValueError(f"a {width}x{height} grid exceeds the {MAX_SIDE}x{MAX_SIDE} limit")
    maze = Maze(width=width, height=height, walls=frozenset(cells["wall"]), start=start, goal=goal)
    outside = [cell for cell in named if not maze.in_bounds(cell)] if _beyond(named, width, height) else []
    if outside:
        raise ValueError(f"the query names cell {outside[0]} outside the {width}x{height} grid")
    for role, cell in (("start", start), ("goal", goal)):
        if cell in maze.walls:
            raise ValueError(f"the {role} {cell} is a wall")
    if maze.shortest_length is None:
        raise ValueError(f"the goal {goal} cannot be reached from the start {start}")
    return SequenceMaze(maze, output.strip(), size_inferred=size is None)


_N = r"([0-9]+) ([0-9]+)"
_QUERY = rf"(?:(?:query|bos) )*start {_N} goal {_N}((?: wall [0-9]+ [0-9]+)*) "
_PUBLISHED: dict[Dialect, re.Pattern[str]] = {
    "searchformer": re.compile(rf"{_QUERY}(?=(?:create|close|plan)\b)"),
    "beyond_semantics": re.compile(rf"{_QUERY}(?=(?:reasoning|create|close|solution|plan)\b)"),
}
"""A query as the published generators write it (one space apart: start, goal, then the walls) and the
first output word after it: where `_OUTPUT_START` would split, as no output word can be in such a query."""


def _read_published(text: str, dialect: Dialect) -> tuple[dict[str, list[Cell]], str] | None:
    """The fast reading of a query in the published form: its cells and the output after it; None for
    any other text (`_read_query` reads it, with the same result on this form)."""
    found = _PUBLISHED[dialect].match(text)
    if found is None:
        return None
    sx, sy, gx, gy, walls = found.groups()
    numbers = walls.split()  # wall x y wall x y ...
    cells = {
        "start": [(int(sx), int(sy))],
        "goal": [(int(gx), int(gy))],
        "wall": list(zip(map(int, numbers[1::3]), map(int, numbers[2::3]), strict=True)),
    }
    return cells, text[found.end() :]


def _beyond(cells: list[Cell], width: int, height: int) -> bool:
    """Whether a cell (whole numbers >= 0) lies outside a width × height grid: a quick look first."""
    xs, ys = zip(*cells, strict=True)
    return max(xs) >= width or max(ys) >= height


def _read_query(query: str) -> dict[str, list[Cell]]:
    """Cells named by `start`, `goal` and `wall`; exactly one start and one goal."""
    tokens = query.lower().split()
    cells: dict[str, list[Cell]] = {word: [] for word in _CELL_WORDS}
    position = 0
    while position < len(tokens):
        word = tokens[position]
        if word in _SKIPPED:
            position += 1
            continue
        numbers = tokens[position + 1 : position + 3]
        if word not in cells or len(numbers) < 2 or not all(n.isascii() and n.isdigit() for n in numbers):
            shown = " ".join(tokens[position : position + 3])
            raise ValueError(f"query token {position + 1} {shown!r}: expected `start|goal|wall X Y`")
        cells[word].append((int(numbers[0]), int(numbers[1])))
        position += 3
    for role in ("start", "goal"):
        if len(cells[role]) != 1:
            raise ValueError(f"the query names {len(cells[role])} {role} cells, not one")
    return cells


def _given_size(options: Mapping[str, Any]) -> tuple[int, int] | None:
    """(width, height) from the user's `size`, else the record's `cols`/`rows` or `width`/`height`."""
    if options.get("size") is not None:
        parts = str(options["size"]).lower().split("x")
        if len(parts) > 2 or not all(_is_whole(part) for part in parts):
            raise ValueError(f"size {options['size']!r}: expected N or WxH, e.g. 30 or 30x20")
        width, height = int(parts[0]), int(parts[-1])
    elif options.get("cols") is not None and options.get("rows") is not None:
        width, height = _whole(options["cols"], "cols"), _whole(options["rows"], "rows")
    elif options.get("width") is not None and options.get("height") is not None:
        width, height = _whole(options["width"], "width"), _whole(options["height"], "height")
    else:
        return None
    if width < 1 or height < 1:
        raise ValueError(f"grid size {width}x{height} must be at least 1x1")
    return width, height


def _whole(value: Any, name: str) -> int:
    """A whole number given as an int or as ASCII digits; anything else is a ValueError naming `name`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not (isinstance(value, str) and _is_whole(value)):
        raise ValueError(f"{name} {value!r}: expected a whole number")
    return int(value)


def _is_whole(text: str) -> bool:
    """ASCII digits, at most nine (surrounding spaces allowed)."""
    digits = text.strip()
    return digits.isascii() and digits.isdigit() and len(digits) <= 9


def _inferred_size(cells: list[Cell]) -> tuple[int, int]:
    """The smallest square grid holding every cell."""
    side = max(max(x, y) for x, y in cells) + 1
    return side, side
