"""The maze trace dialects: write prompts, traces and plans; read model output back leniently.

Three dialects, one `SearchEvent` model underneath:

`searchformer` — Lehnert et al. 2024, "Beyond A*" (facebookresearch/searchformer,
`SimpleMazeTokenizer` in `searchformer/maze.py`, A* in `searchformer/astar.py`), matched token
for token:
    prompt  `start X Y goal X Y wall X Y wall X Y ...`
    trace   `create X Y cG cH close X Y cG cH ...`   (g = cost from start, then h = heuristic,
            each one token `c<int>`; coordinates are bare integers `0`..`max(w,h)-1`)
    plan    `plan X Y plan X Y ...`                   (every cell from start to goal)
    Their A* logs `create start` first, then `close start`. Walls are listed in the order of
    `MazeSpec.walls`, which their generator sorts by index `x + y * width` (row-major); we do the
    same. Their `bos`/`eos` tokens exist only at the tensor level; the parser skips them.

`beyond_semantics` — Stechly, Valmeekam et al. 2025, "Beyond Semantics: The Unreasonable
Effectiveness of Reasonless Intermediate Tokens" (kstechly/beyond-semantics-maze-visualizer,
`headless_gen/serializer.js`; kstechly/beyond-semantics-faster-maze-generator,
`src/serializer.rs`, `src/solvers/astar.rs`), matched token for token:
    prompt  `query start X Y goal X Y wall X Y ...`   (walls row-major: y outer, x inner)
    trace   `reasoning close X Y cG cH create X Y cG cH ...`
    plan    `solution plan X Y plan X Y ... end`
    Their A* never logs a create for the start: the trace opens by closing it. The whole
    example is one space-separated string; where the prompt ends and the output starts is
    our choice (the output starts at `reasoning`). Not confirmed: the paper's exact model-side
    prompt/target split and whether a `bos` token precedes `query`.

`lines` — our readable format for chat models, one claim per line:
    create (3, 4) g=2 h=5
    close (3, 4) g=2 h=5
    plan: (0, 0) (0, 1) (1, 1)
    Like Searchformer, the trace opens with `create` of the start.

`parse_output` reads all three, autodetecting the dialect when not given. It is total (never
raises) and lenient: any case and whitespace, chat preamble and stray words skipped, costs as
`c3` or `3`, labels `g=`/`h=`/`x=`/`y=` in any order (`f=` ignored), truncated output read as
far as it goes. A step ends at the next keyword or at the end of its line; prose after a complete
`x y g h` is cut off; a create/close word followed by no number at all is taken for prose and
skipped. Prompt words (`start`, `goal`, `wall`, ...) echoed in the output are skipped with their
numbers. For `lines` the plan is read as `(x, y)` pairs, for the token dialects as numbers two
by two; the first plan with cells counts.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Literal

from modulo.domains.maze.grid import Cell, Maze
from modulo.verifiers.search_events import EventKind, SearchEvent

Dialect = Literal["searchformer", "beyond_semantics", "lines"]
DIALECTS: tuple[Dialect, ...] = ("searchformer", "beyond_semantics", "lines")
FIRST_EVENT: dict[Dialect, EventKind] = {
    "searchformer": "create",
    "beyond_semantics": "close",
    "lines": "create",
}
"""How each dialect's exact A* trace opens: by creating the start node or by closing it."""

OUTPUT_INSTRUCTIONS: dict[Dialect, str] = {
    "searchformer": (
        "Write the A* search as tokens: `create X Y cG cH` when a cell is put on the open list and "
        "`close X Y cG cH` when it is expanded (G = cost from the start, H = Manhattan distance to "
        "the goal), starting with `create` of the start cell. Then write the path as "
        "`plan X Y` for every cell from start to goal."
    ),
    "beyond_semantics": (
        "Write `reasoning`, then the A* search as tokens: `close X Y cG cH` when a cell is expanded "
        "and `create X Y cG cH` when a neighbour is put on the open list (G = cost from the start, "
        "H = Manhattan distance to the goal), starting by closing the start cell. Then write "
        "`solution`, `plan X Y` for every cell from start to goal, and `end`."
    ),
    "lines": (
        "Run A* search with the Manhattan-distance heuristic and write one step per line:\n"
        "create (x, y) g=G h=H   -- put cell (x, y) on the open list with cost G from the start and "
        "heuristic H\n"
        "close (x, y) g=G h=H    -- expand cell (x, y): take it off the open list\n"
        "Start with `create` of the start cell and stop after closing the goal. "
        "Then write the path on one last line:\n"
        "plan: (x, y) (x, y) ...   -- every cell from start to goal"
    ),
}
"""What a model must write in each dialect, for prompts."""


@dataclass(frozen=True)
class ParsedStep:
    """One create/close claim as written, and its reading (None if unreadable, with why)."""

    text: str
    event: SearchEvent | None
    problem: str | None = None


@dataclass
class ParsedOutput:
    """Everything read out of one model output."""

    dialect: Dialect
    steps: list[ParsedStep] = field(default_factory=list)
    plan: list[Cell] | None = None
    plan_text: str | None = None
    problems: list[str] = field(default_factory=list)
    """Problems not tied to one step: skipped text, a missing or broken plan."""

    @property
    def events(self) -> list[SearchEvent | None]:
        return [step.event for step in self.steps]


# --- writing --------------------------------------------------------------------------------


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _xy(node: Hashable) -> Cell:
    if not (isinstance(node, tuple) and len(node) == 2):
        raise ValueError(f"maze search nodes are (x, y) cells, got {node!r}")
    return int(node[0]), int(node[1])


def _paren(node: Hashable) -> str:
    x, y = _xy(node)
    return f"({x}, {y})"


def _row_major(cells: frozenset[Cell]) -> list[Cell]:
    return sorted(cells, key=lambda c: (c[1], c[0]))


def _ascii_map(maze: Maze) -> list[str]:
    def char(cell: Cell) -> str:
        if cell == maze.start:
            return "S"
        if cell == maze.goal:
            return "G"
        return "#" if cell in maze.walls else "."

    pad = len(str(maze.height - 1))
    return [f"{y:>{pad}} " + "".join(char((x, y)) for x in range(maze.width)) for y in range(maze.height)]


def _lines_prompt(maze: Maze) -> str:
    walls = " ".join(f"({x}, {y})" for x, y in _row_major(maze.walls)) or "none"
    return "\n".join(
        [
            f"Grid: {maze.width} columns (x = 0..{maze.width - 1}) and {maze.height} rows "
            f"(y = 0..{maze.height - 1}); a cell is written (x, y). Moves go one cell up, down, left "
            "or right and cost 1; walls cannot be entered.",
            f"Start: ({maze.start[0]}, {maze.start[1]})",
            f"Goal: ({maze.goal[0]}, {maze.goal[1]})",
            f"Walls: {walls}",
            "Map (row y on each line, x grows to the right; # wall, . free, S start, G goal):",
            *_ascii_map(maze),
        ]
    )


def format_prompt(maze: Maze, dialect: Dialect) -> str:
    """The problem in the dialect's prompt format."""
    if dialect == "lines":
        return _lines_prompt(maze)
    head = f"start {maze.start[0]} {maze.start[1]} goal {maze.goal[0]} {maze.goal[1]}"
    walls = "".join(f" wall {x} {y}" for x, y in _row_major(maze.walls))
    return ("query " if dialect == "beyond_semantics" else "") + head + walls


def format_trace(events: Sequence[SearchEvent], dialect: Dialect) -> str:
    """Search events in the dialect's trace format."""
    if dialect == "lines":
        return "\n".join(f"{e.kind} {_paren(e.node)} g={_num(e.g)} h={_num(e.h)}" for e in events)
    steps = [f"{e.kind} {_xy(e.node)[0]} {_xy(e.node)[1]} c{_num(e.g)} c{_num(e.h)}" for e in events]
    return " ".join(["reasoning", *steps] if dialect == "beyond_semantics" else steps)


def format_plan(cells: Sequence[Cell], dialect: Dialect) -> str:
    """A plan (cells from start to goal) in the dialect's plan format."""
    if dialect == "lines":
        return " ".join(["plan:", *(_paren(c) for c in cells)])
    cells_text = [f"plan {x} {y}" for x, y in cells]
    return " ".join(["solution", *cells_text, "end"] if dialect == "beyond_semantics" else cells_text)


def format_output(events: Sequence[SearchEvent], cells: Sequence[Cell], dialect: Dialect) -> str:
    """A whole model output: trace, then plan."""
    sep = "\n" if dialect == "lines" else " "
    return sep.join(part for part in (format_trace(events, dialect), format_plan(cells, dialect)) if part)


# --- reading --------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?P<num>[cC]?-?[0-9]+(?:\.[0-9]+)?)|(?P<word>[A-Za-z_]+)|(?P<nl>\n)")
_LINES_HINT = re.compile(r"\b(?:create|close)\s*[(\[]|\b[gh]\s*=\s*-?[0-9]|\bplan\s*:", re.IGNORECASE)
_FRAMING = re.compile(r"(?<![A-Za-z_])(?:reasoning|solution|query)(?![A-Za-z_])", re.IGNORECASE)
_CLOSING = re.compile(r"\s*[)\]]")
_PAIR = re.compile(r"(-?[0-9]{1,15})\s*[,;]\s*(-?[0-9]{1,15})")
_STEP_WORDS = frozenset({"create", "close"})
_PLAN_WORDS = frozenset({"plan", "solution"})
_OTHER_WORDS = frozenset({"query", "start", "goal", "wall", "reasoning", "bos"})
_KEYWORDS = _STEP_WORDS | _PLAN_WORDS | _OTHER_WORDS
_TERMINAL: dict[Dialect, frozenset[str]] = {
    "searchformer": frozenset({"eos"}),
    "beyond_semantics": frozenset({"end", "eos"}),
    "lines": frozenset(),
}
_SLOTS = ("x", "y", "g", "h")
_MAX_DIGITS = 15


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: Literal["num", "word", "nl"]
    text: str
    start: int
    end: int


@dataclass
class _Segment:
    """A keyword and the tokens after it, up to the next keyword (or, for a step, the line end)."""

    head: _Tok
    body: list[_Tok] = field(default_factory=list)

    @property
    def end(self) -> int:
        """End of the last number (trailing prose is not part of a step)."""
        return next((t.end for t in reversed(self.body) if t.kind == "num"), self.head.end)

    @property
    def is_step(self) -> bool:
        """A create/close word followed by at least one number (without one it is prose)."""
        return self.head.text in _STEP_WORDS and any(t.kind == "num" for t in self.body)

    def span(self, text: str) -> str:
        return _through_bracket(text, self.head.start, self.end)


def _through_bracket(text: str, start: int, end: int) -> str:
    """text[start:end], extended over a closing bracket right after it."""
    close = _CLOSING.match(text, end)
    return text[start : close.end() if close else end]


def _tokens(text: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN.finditer(text):
        kind: Literal["num", "word", "nl"] = "num" if m["num"] else "word" if m["word"] else "nl"
        toks.append(_Tok(kind, m.group().lower(), m.start(), m.end()))
    return toks


def detect_dialect(text: str) -> Dialect:
    """Guess the dialect: `lines` by its brackets and `g=`, Beyond Semantics by its framing words."""
    if _LINES_HINT.search(text):
        return "lines"
    return "beyond_semantics" if _FRAMING.search(text) else "searchformer"


def _is_keyword(tok: _Tok) -> bool:
    return tok.kind == "word" and tok.text in _KEYWORDS


def _segments(toks: list[_Tok], dialect: Dialect) -> tuple[list[_Segment], _Tok | None]:
    """Split tokens at keywords; also return the terminal token (`end`/`eos`) if one stopped us."""
    segments: list[_Segment] = []
    current: _Segment | None = None
    for tok in toks:
        if tok.kind == "word" and tok.text in _TERMINAL[dialect]:
            return segments, tok
        if _is_keyword(tok):
            current = _Segment(tok)
            segments.append(current)
        elif tok.kind == "nl" and current and current.head.text in _STEP_WORDS:
            current = None
        elif current is not None:
            current.body.append(tok)
    return segments, None


def _number(tok: _Tok) -> int | float | None:
    digits = tok.text.lstrip("c")
    if len(digits) > _MAX_DIGITS:
        return None
    return float(digits) if "." in digits else int(digits)


def _step_tokens(seg: _Segment) -> list[_Tok]:
    """The step's own tokens: prose that follows a complete x y g h (`... h=5 which is 3 ...`) is cut."""
    numbers = 0
    for i, tok in enumerate(seg.body):
        if tok.kind == "word" and numbers >= len(_SLOTS) and tok.text not in (*_SLOTS, "f"):
            return seg.body[:i]
        numbers += tok.kind == "num" and (i == 0 or seg.body[i - 1].text != "f")
    return seg.body


def _read_step(seg: _Segment) -> tuple[SearchEvent | None, str | None]:
    """Fill x, y, g, h from labelled numbers (`g=2`) and then, in order, from bare ones."""
    slots: dict[str, int | float] = {}
    label: str | None = None
    for tok in seg.body:
        if tok.kind == "word":
            label = tok.text if tok.text in (*_SLOTS, "f") else label
            continue
        value = _number(tok)
        if value is None:
            return None, f"number {tok.text[:20]}... is too long"
        if label == "f":
            label = None
            continue
        if label is None:
            free = [s for s in _SLOTS if s not in slots]
            if not free:
                return None, "more than four numbers (expected x y g h)"
            label = free[0]
            if tok.text.startswith("c") and label in ("x", "y"):
                return None, f"cost token {tok.text} where coordinate {label} was expected"
        if label in slots:
            return None, f"{label} given twice"
        slots[label], label = value, None
    missing = [s for s in _SLOTS if s not in slots]
    if missing:
        return None, f"missing {' '.join(missing)} (expected x y g h)"
    x, y = slots["x"], slots["y"]
    if not (float(x).is_integer() and float(y).is_integer()):
        return None, f"coordinates ({x}, {y}) are not whole numbers"
    kind: EventKind = "create" if seg.head.text == "create" else "close"
    return SearchEvent(kind, (int(x), int(y)), slots["g"], slots["h"]), None


@dataclass
class _Plan:
    cells: list[Cell]
    end: int
    """Where the text of the plan ends."""
    problems: list[str]


def _plan_cells(run: list[_Segment], text: str, dialect: Dialect) -> _Plan:
    """Cells of one plan run; `(x, y)` pairs first for `lines`, else numbers taken two by two."""
    if dialect == "lines":
        pairs = list(_PAIR.finditer(text, run[0].head.start, run[-1].end))
        if pairs:
            return _Plan([(int(m[1]), int(m[2])) for m in pairs], pairs[-1].end(), [])
    plan = _Plan([], run[0].head.end, [])
    pending: int | None = None
    for tok in (t for seg in run for t in seg.body if t.kind == "num"):
        value = _number(tok)
        if tok.text.startswith("c") or value is None or not float(value).is_integer():
            plan.problems.append(f"skipped {tok.text[:20]!r} in the plan: not a coordinate")
        elif pending is None:
            pending = int(value)
        else:
            plan.cells.append((pending, int(value)))
            plan.end, pending = tok.end, None
    if pending is not None:
        plan.problems.append(f"the plan ends with a lone coordinate {pending}; dropped it")
    return plan


def _plan_runs(segments: list[_Segment]) -> list[tuple[int, list[_Segment]]]:
    """Maximal runs of consecutive plan segments, each with the number of steps before it."""
    runs: list[tuple[int, list[_Segment]]] = []
    steps_before, previous_was_plan = 0, False
    for seg in segments:
        is_plan = seg.head.text in _PLAN_WORDS
        if is_plan and previous_was_plan:
            runs[-1][1].append(seg)
        elif is_plan:
            runs.append((steps_before, [seg]))
        steps_before += seg.is_step
        previous_was_plan = is_plan
    return runs


def _read_plan(segments: list[_Segment], text: str, out: ParsedOutput) -> int | None:
    """Set the output's plan from the first plan run that holds cells; return steps before it."""
    found: int | None = None
    for steps_before, run in _plan_runs(segments):
        plan = _plan_cells(run, text, out.dialect)
        if not plan.cells:
            continue
        if found is not None:
            out.problems.append("a second plan was found and ignored")
            continue
        found = steps_before
        out.plan, out.plan_text = plan.cells, _through_bracket(text, run[0].head.start, plan.end)
        out.problems.extend(plan.problems)
    return found


_N = r"[0-9]{1,15}"
_STRICT_STEP = rf"(?:create|close) {_N} {_N} c{_N} c{_N}"
_STRICT_PLAN = rf"plan {_N} {_N}(?: plan {_N} {_N})*"
_STRICT: dict[Dialect, re.Pattern[str]] = {
    "searchformer": re.compile(rf"(?:{_STRICT_STEP} )*(?P<plan>{_STRICT_PLAN})"),
    "beyond_semantics": re.compile(rf"reasoning(?: {_STRICT_STEP})* (?P<plan>solution {_STRICT_PLAN}) end"),
}
"""Output exactly as the published generators write it (single spaces, whole numbers, nothing else)."""
_STRICT_STEP_TEXT = re.compile(rf"(?:create|close) {_N} {_N} c{_N} c{_N}")
_AFTER_C = itemgetter(slice(1, None))
"""`c12` -> `12`."""
_STRICT_CELL = re.compile(rf"plan ({_N}) ({_N})")


@dataclass(frozen=True)
class Published:
    """Output in a token dialect's exact published form, read: each step's text and event, the plan."""

    texts: list[str]
    events: list[SearchEvent]
    plan: list[Cell]
    plan_text: str


def read_published(text: str, dialect: Dialect) -> Published | None:
    """The fast reading of output exactly as the published generators write it (single spaces, whole
    numbers, nothing else); None for anything else. `parse_output` gives the same steps and plan."""
    pattern = _STRICT.get(dialect)
    whole = pattern.fullmatch(text) if pattern else None
    if whole is None:
        return None
    trace = text[: whole.start("plan")]
    texts = _STRICT_STEP_TEXT.findall(trace)
    tokens = trace.split()
    """kind x y cG cH, five tokens a step (after Beyond Semantics' `reasoning`, dropped below)."""
    if dialect == "beyond_semantics":
        del tokens[0]
    cells = zip(map(int, tokens[1::5]), map(int, tokens[2::5]), strict=True)
    costs = [map(int, map(_AFTER_C, tokens[k::5])) for k in (3, 4)]
    events = list(map(SearchEvent, tokens[0::5], cells, *costs))
    plan = [(int(x), int(y)) for x, y in _STRICT_CELL.findall(whole["plan"])]
    return Published(texts, events, plan, whole["plan"])


def parse_strict(text: str, dialect: Dialect) -> ParsedOutput | None:
    """`read_published` as a ParsedOutput; None for output not in the exact published form (the lenient
    reader, which gives the same result on such text, takes over)."""
    read = read_published(text, dialect)
    if read is None:
        return None
    steps = [ParsedStep(text, event) for text, event in zip(read.texts, read.events, strict=True)]
    return ParsedOutput(dialect, steps, read.plan, read.plan_text)


def parse_output(text: str, dialect: Dialect | None = None) -> ParsedOutput:
    """Read trace steps and plan out of model text. Total on `text`: never raises for any string."""
    if dialect is not None and dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; valid: {', '.join(DIALECTS)}")
    strict = parse_strict(text, dialect) if dialect is not None else None
    return strict or _parse_lenient(text, dialect)


def _parse_lenient(text: str, dialect: Dialect | None) -> ParsedOutput:
    """Tokenise, split at keywords and read each step and the plan as far as the text allows."""
    out = ParsedOutput(dialect or detect_dialect(text))
    segments, terminal = _segments(_tokens(text), out.dialect)
    for seg in segments:
        if seg.is_step:
            step = _Segment(seg.head, _step_tokens(seg))
            event, problem = _read_step(step)
            out.steps.append(ParsedStep(step.span(text), event, problem))
        elif seg.head.text in _STEP_WORDS:
            out.problems.append(f"skipped {seg.head.text!r} at character {seg.head.start}: no numbers")
    plan_after = _read_plan(segments, text, out)
    if out.plan is None:
        out.problems.append("no plan found")
    elif plan_after is not None and plan_after < len(out.steps):
        out.problems.append("trace steps were written after the plan")
    if terminal is not None and text[terminal.end :].strip():
        out.problems.append(f"text after {terminal.text!r} ignored")
    return out
