"""The `maze` domain: grid mazes, A* search traces in three dialects, plan checks, oracle traces."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, cast

from pydantic import ValidationError

from modulo.domains.maze.corrupt import corrupt_step
from modulo.domains.maze.formats import (
    DIALECTS,
    FIRST_EVENT,
    OUTPUT_INSTRUCTIONS,
    Dialect,
    format_output,
    format_prompt,
    parse_output,
    read_published,
)
from modulo.domains.maze.generators import MAZE_KINDS, make_maze, optimal_plan_length
from modulo.domains.maze.grid import Cell, Maze
from modulo.domains.maze.oracle import CORRUPTIONS, NotApplicable, astar_trace, check_trace, swapped_trace
from modulo.domains.maze.plan import check_plan, plan_matches_trace
from modulo.domains.maze.schema import MazeJson, read_json
from modulo.domains.maze.sequences import SEQUENCE_FORMATS, dialect_of_format, read_sequence_maze
from modulo.domains.structured import json_instructions, json_object
from modulo.model import ChatMessage, Instance, Step, Trace, Verdicts
from modulo.protocols import JSON_STYLE, CorruptedStep
from modulo.verifiers.search_events import SearchEvent

EXACT_VARIANTS = ("exact", "exact-random", "swapped", "plan-skip")
CORRUPTION_ATTEMPTS = 20
"""Seeds tried before a corruption that does not apply to an instance is reported as an error."""
SYSTEM = "You solve grid mazes by running A* search and report every search step exactly as asked."
CRITIQUE_LIMIT = 8
"""At most this many step problems are quoted back to the model."""
STYLES = ("zero-shot", "few-shot", JSON_STYLE)
JSON_TASK = (
    "Run A* search with the Manhattan-distance heuristic. List every search event in order in `steps`: "
    "`create` when a cell is put on the open list, `close` when it is expanded, with its cost g from the "
    "start and heuristic h. {opening} and stop after closing the goal. Then give the path in `plan`: "
    "every cell [x, y] from start to goal."
)
OPENING = {"create": "Start with `create` of the start cell", "close": "Start by closing the start cell"}


def maze_of(instance: Instance) -> Maze:
    """The instance's maze; an equal maze seen recently is returned instead, with its graph already built.

    Raises ValueError in one line naming what is wrong (a missing field, a grid over the size cap)."""
    try:
        return _known(Maze.model_validate(instance.payload["maze"]))
    except KeyError as exc:
        raise ValueError(f"maze instance {instance.id!r} has no `maze` in its payload") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'maze'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ValueError(f"maze instance {instance.id!r} cannot be read: {problems}") from exc


@lru_cache(maxsize=256)
def _known(maze: Maze) -> Maze:
    return maze


def dialect_of(instance: Instance) -> Dialect:
    return cast(Dialect, instance.payload.get("dialect", "lines"))


class MazeDomain:
    """Grid mazes (DFS, Wilson, Kruskal, Prim, Searchformer-style obstacles, drunkard's walk)."""

    name = "maze"
    description = "grid mazes: A* search traces (Searchformer / Beyond Semantics / lines) and plans"
    oracle_variants = (*EXACT_VARIANTS, *CORRUPTIONS)
    sequence_formats = tuple(SEQUENCE_FORMATS)

    def generate(
        self,
        count: int,
        seed: int,
        kind: str = "dfs",
        width: int = 9,
        height: int | None = None,
        dialect: str = "lines",
        strict_ties: bool = False,
        **maze_params: Any,
    ) -> list[Instance]:
        """`count` mazes; instance k depends only on (seed, k), so `--limit` gives a prefix of the same set.

        `strict_ties` additionally requires Searchformer's deterministic tie-break (rule `astar.tie_break`).
        """
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
        if kind not in MAZE_KINDS:
            raise ValueError(f"unknown maze kind {kind!r}; choose one of {', '.join(MAZE_KINDS)}")
        height = width if height is None else height
        instances = []
        for k in range(count):
            key = f"maze:{seed}:{k}"
            maze = make_maze(kind, width, height, random.Random(key), **maze_params)
            extras = {"params": maze_params, "seed_key": key}
            name = f"{kind}-{width}x{height}-s{seed}-{k}"
            instances.append(_instance(name, maze, kind, cast(Dialect, dialect), strict_ties, extras, seed))
        return instances

    def read_sequence(self, text: str, fmt: str, options: dict[str, Any]) -> tuple[Instance, str]:
        """A published Searchformer / Beyond Semantics example: the maze from its query, and the output
        (trace and plan) after it. Options: `id`, `size`, `cols`/`rows`, `strict_ties`,
        `generator` (kept as the maze kind)."""
        dialect = dialect_of_format(fmt)
        read = read_sequence_maze(text, dialect, options)
        kind = str(options.get("generator") or "published")
        record_id = str(options.get("id", ""))
        strict = str(options.get("strict_ties", "")).lower() in ("true", "1", "yes")
        instance = _instance(
            record_id, read.maze, kind, dialect, strict, {"size_inferred": read.size_inferred}
        )
        return instance, read.output

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        """`zero-shot`: problem and output format; `few-shot`: plus one solved 5×5 example first;
        `json`: the problem in the readable `lines` format and the JSON schema of `output_schema`."""
        dialect = dialect_of(instance)
        if style == JSON_STYLE:
            form = JSON_TASK.format(opening=OPENING[FIRST_EVENT[dialect]])
            json_task = f"{format_prompt(maze_of(instance), 'lines')}\n\n{form}\n\n"
            return [
                ChatMessage(role="system", content=SYSTEM),
                ChatMessage(role="user", content=json_task + json_instructions(self.output_schema(instance))),
            ]
        task = f"{format_prompt(maze_of(instance), dialect)}\n\n{OUTPUT_INSTRUCTIONS[dialect]}"
        if style == "zero-shot":
            return [ChatMessage(role="system", content=SYSTEM), ChatMessage(role="user", content=task)]
        if style == "few-shot":
            example = make_maze("searchformer", 5, 5, random.Random("maze:few-shot-example"))
            solved = astar_trace(example, FIRST_EVENT[dialect])
            return [
                ChatMessage(role="system", content=SYSTEM),
                ChatMessage(
                    role="user",
                    content=f"{format_prompt(example, dialect)}\n\n{OUTPUT_INSTRUCTIONS[dialect]}",
                ),
                ChatMessage(role="assistant", content=format_output(solved.events, solved.plan, dialect)),
                ChatMessage(role="user", content=task),
            ]
        raise ValueError(f"unknown prompt style {style!r} for maze; styles: {', '.join(STYLES)}")

    def output_schema(self, instance: Instance) -> dict[str, Any]:
        """JSON schema of the `json` style: `{"steps": [{"op", "x", "y", "g", "h"}], "plan": [[x, y]]}`."""
        return MazeJson.model_json_schema()

    def parse(self, text: str, instance: Instance) -> Trace:
        """Read trace steps and the plan: the `json` form if the text holds it, else the instance's
        dialect (total: never raises)."""
        data = json_object(text, MazeJson.model_fields)
        dialect = dialect_of(instance)
        parsed = parse_output(text, dialect) if data is None else read_json(data, dialect)
        steps = [
            Step(
                index=i,
                text=step.text,
                parsed={"unreadable": step.problem or "not a step"}
                if step.event is None
                else _event_json(step.event),
            )
            for i, step in enumerate(parsed.steps)
        ]
        return Trace(
            steps=steps,
            answer=None if parsed.plan is None else [list(cell) for cell in parsed.plan],
            answer_text=parsed.plan_text,
            parse_errors=parsed.problems,
        )

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        """Steps by the A* validator, the plan by the plan check: two independent judgements."""
        events = [_event(step.parsed) for step in trace.steps]
        plan = None if trace.answer is None else [(int(c[0]), int(c[1])) for c in trace.answer]
        return _judge(instance, events, plan, lambda i: _unreadable_reason(trace.steps[i].parsed))

    def judge_published(self, instance: Instance, output: str) -> tuple[list[str], Verdicts] | None:
        """The verdicts of an output written exactly as the published generators write it, with each
        step's text, read without a `Trace`; None for any other output (`verify_text` judges it). Both
        give the same verdicts (tests/test_verify_stream.py)."""
        read = read_published(output, dialect_of(instance))
        if read is None:
            return None
        return read.texts, _judge(instance, read.events, read.plan, lambda i: "not a step")

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        """The maze as text: `#` wall, `S` start, `G` goal, `o` closed by the trace, `*` on the plan."""
        maze = maze_of(instance)
        closed: set[Cell] = set()
        plan: set[Cell] = set()
        if trace is not None:
            closed = {e.node for s in trace.steps if (e := _event(s.parsed)) and e.kind == "close"}  # type: ignore[misc]
            plan = {(int(c[0]), int(c[1])) for c in trace.answer or []}
        rows = []
        for y in range(maze.height - 1, -1, -1):
            rows.append(f"{y:>3} " + "".join(_glyph(maze, (x, y), closed, plan) for x in range(maze.width)))
        return "\n".join(rows)

    def critique(self, verdicts: Verdicts) -> str:
        """The failing steps (rule and reason) and the plan's problem, for a back-prompt."""
        lines = [
            f"- step {v.index + 1}: {v.message} ({v.rule})"
            if v.index < len(verdicts.steps)
            else f"- {v.message} ({v.rule})"
            for v in [*verdicts.steps, *verdicts.trace_checks]
            if v.status != "valid"
        ]
        shown = lines[:CRITIQUE_LIMIT] + (
            [f"- ... and {len(lines) - CRITIQUE_LIMIT} more"] if len(lines) > CRITIQUE_LIMIT else []
        )
        answer = verdicts.answer
        if answer.status != "correct":
            shown.append(f"- the plan: {answer.message or answer.detail or answer.status}")
        return (
            "Your answer has these problems:\n"
            + "\n".join(shown)
            + "\nWrite the whole search and plan again, correctly."
        )

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        """Model-style output: `exact`, `exact-random` (random tie-breaks), `swapped` (another maze's
        search with this maze's plan), `plan-skip` (exact search, plan missing a cell) or a corruption."""
        maze = maze_of(instance)
        dialect = dialect_of(instance)
        start_mode = FIRST_EVENT[dialect]
        rng = random.Random(seed)
        exact = astar_trace(maze, start_mode)
        if variant == "exact":
            return format_output(exact.events, exact.plan, dialect)
        if variant == "exact-random":
            shuffled = astar_trace(maze, start_mode, rng)
            return format_output(shuffled.events, shuffled.plan, dialect)
        if (
            variant == "plan-skip"
        ):  # exact search, but the plan jumps over one cell: valid trace, wrong answer
            middle = len(exact.plan) // 2
            return format_output(exact.events, exact.plan[:middle] + exact.plan[middle + 1 :], dialect)
        if variant == "swapped":
            other = self._other_maze(instance, rng)
            return format_output(swapped_trace(other, start_mode), exact.plan, dialect)
        if variant in CORRUPTIONS:
            return format_output(_corrupt(variant, exact.events, maze, rng), exact.plan, dialect)
        raise ValueError(
            f"unknown maze oracle variant {variant!r}; variants: {', '.join(self.oracle_variants)}"
        )

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        """Step `index` replaced by a search event the A* validator rejects (see `corrupt.py`)."""
        return corrupt_step(self, instance, trace, index, seed)

    def _other_maze(self, instance: Instance, rng: random.Random) -> Maze:
        """A different maze of the same kind, size and params (Beyond Semantics' swapped traces)."""
        maze = maze_of(instance)
        params = instance.payload.get("params", {})
        while True:
            other = make_maze(instance.payload["kind"], maze.width, maze.height, rng, **params)
            if other != maze:
                return other


def _instance(
    instance_id: str,
    maze: Maze,
    kind: str,
    dialect: Dialect,
    strict_ties: bool,
    extras: dict[str, Any],
    seed: int | None = None,
) -> Instance:
    """A maze instance: difficulty by size, kind and optimal plan length; `extras` join the payload."""
    return Instance(
        domain=MazeDomain.name,
        id=instance_id,
        seed=seed,
        difficulty={
            "size": f"{maze.width}x{maze.height}",
            "kind": kind,
            "optimal_length": _bucket(optimal_plan_length(_known(maze))),
        },
        payload={
            "maze": maze.model_dump(mode="json"),
            "dialect": dialect,
            "strict_ties": strict_ties,
            "kind": kind,
            **extras,
        },
    )


def _bucket(length: int, width: int = 10) -> str:
    """Optimal plan lengths in bins (`0-9`, `10-19`, ...) so report breakdowns stay readable."""
    low = length // width * width
    return f"{low}-{low + width - 1}"


def _corrupt(name: str, events: list[SearchEvent], maze: Maze, rng: random.Random) -> list[SearchEvent]:
    for _ in range(CORRUPTION_ATTEMPTS):
        try:
            return CORRUPTIONS[name](events, maze, rng).events
        except NotApplicable as exc:
            last = exc
    raise ValueError(f"corruption {name!r} does not apply to this maze's exact trace: {last}")


def _judge(
    instance: Instance,
    events: Sequence[SearchEvent | None],
    plan: list[Cell] | None,
    unreadable_reason: Callable[[int], str],
) -> Verdicts:
    """The trace's steps by the A* validator, the plan by the plan check; an unreadable step's verdict
    says why it could not be read."""
    maze = maze_of(instance)
    result = check_trace(
        maze, events, FIRST_EVENT[dialect_of(instance)], strict=bool(instance.payload.get("strict_ties"))
    )
    steps = result.steps  # a list of its own: the unreadable steps get their reasons in place
    for v in result.errors:
        if events[v.index] is None:
            steps[v.index] = v.model_copy(update={"message": unreadable_reason(v.index)})
    answer = check_plan(maze, plan)
    readable = [e for e in events if e is not None]
    answer.extras["trace_plan_consistent"] = plan_matches_trace(readable, plan, maze.start, maze.goal)
    return Verdicts(steps=steps, trace_checks=result.trace_checks, answer=answer)


def _event_json(event: SearchEvent) -> dict[str, Any]:
    return {"kind": event.kind, "node": list(cast(Cell, event.node)), "g": event.g, "h": event.h}


def _unreadable_reason(parsed: Any) -> str:
    """Why the parser could not read a step (it records the reason in the step's parsed form)."""
    reason = parsed.get("unreadable") if isinstance(parsed, dict) else None
    return str(reason or "step could not be read")


def _event(parsed: Any) -> SearchEvent | None:
    """The event a parsed step holds; None for an unreadable step."""
    if not isinstance(parsed, dict) or "kind" not in parsed:
        return None
    return SearchEvent(
        parsed["kind"], (int(parsed["node"][0]), int(parsed["node"][1])), parsed["g"], parsed["h"]
    )


def _glyph(maze: Maze, cell: Cell, closed: set[Cell], plan: set[Cell]) -> str:
    if cell == maze.start:
        return "S"
    if cell == maze.goal:
        return "G"
    if cell in maze.walls:
        return "#"
    if cell in plan:
        return "*"
    return "o" if cell in closed else "."
