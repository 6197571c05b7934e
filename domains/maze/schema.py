"""The maze trace as JSON (prompt style `json`): A* steps and the plan, read into the text parser's output."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, cast

from pydantic import TypeAdapter, ValidationError

from modulo.domains.maze.formats import Dialect, ParsedOutput, ParsedStep
from modulo.domains.maze.grid import Cell
from modulo.domains.structured import item_text
from modulo.model import Model
from modulo.verifiers.search_events import SearchEvent

MAX_NUMBER = 10**15
"""Numbers beyond this are unreadable, as in the text formats (at most 15 digits)."""


class MazeStepJson(Model):
    """One A* event."""

    op: Literal["create", "close"]
    """`create`: the cell is put on the open list; `close`: it is expanded (taken off the open list)."""
    x: int
    y: int
    g: int
    """Cost from the start."""
    h: int
    """Manhattan distance to the goal."""


class MazeJson(Model):
    """A* search steps in order, then the path."""

    steps: list[MazeStepJson]
    plan: list[tuple[int, int]]
    """Every cell `[x, y]` from start to goal."""


_PLAN = TypeAdapter(list[tuple[int, int]])


def to_json(events: Sequence[SearchEvent], plan: Sequence[Cell]) -> MazeJson:
    """The JSON form of a search and a plan."""
    steps = [
        MazeStepJson(op=e.kind, x=cast(Cell, e.node)[0], y=cast(Cell, e.node)[1], g=int(e.g), h=int(e.h))
        for e in events
    ]
    return MazeJson(steps=steps, plan=list(plan))


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(map(str, first["loc"]))
    return f"not a step {{op, x, y, g, h}}: {where + ': ' if where else ''}{first['msg']}"


def _step(item: Any) -> ParsedStep:
    try:
        step = MazeStepJson.model_validate(item)
    except ValidationError as error:
        return ParsedStep(item_text(item), None, _problem(error))
    if any(abs(n) > MAX_NUMBER for n in (step.x, step.y, step.g, step.h)):
        return ParsedStep(item_text(item), None, "a number is too long")
    return ParsedStep(item_text(item), SearchEvent(step.op, (step.x, step.y), step.g, step.h))


def read_json(data: dict[str, Any], dialect: Dialect) -> ParsedOutput:
    """What the text parser would give for the same content: each item of `steps` one step (unreadable
    ones with why), `plan` the plan. Total on any JSON object."""
    output = ParsedOutput(dialect)
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        output.problems.append("'steps' is not a list")
        steps = []
    output.steps = [_step(item) for item in steps]
    try:
        plan = _PLAN.validate_python(data.get("plan"))
    except ValidationError:
        plan = []
        if "plan" in data:
            output.problems.append("'plan' is not a list of [x, y] cells")
    if any(abs(n) > MAX_NUMBER for cell in plan for n in cell):
        output.problems.append("a plan coordinate is too long")
        plan = []
    if plan:
        output.plan, output.plan_text = plan, item_text(data["plan"])
    else:
        output.problems.append("no plan found")
    return output
