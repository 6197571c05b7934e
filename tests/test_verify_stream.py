"""`modulo verify --format` on published maze files, the fast way: each shortcut against the path it
replaces. The grid adjacency and grid A* against networkx; the fast judgement of published output
against `verify_text`; verdict lines against `VerdictRecord`; the incremental summary against
`report.cell` over every verdict."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import networkx as nx
import pytest

from modulo.domains.maze.domain import MazeDomain
from modulo.domains.maze.formats import Dialect, _parse_lenient, format_output, format_prompt, read_published
from modulo.domains.maze.generators import MAZE_KINDS, make_maze
from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import (
    CORRUPTIONS,
    NotApplicable,
    astar_trace,
    maze_node_problem,
    searchformer_order,
)
from modulo.model import AnswerVerdict, Step, StepVerdict, Trace, Verdicts
from modulo.report import cell, rule_totals
from modulo.verifiers.astar import validate_astar
from modulo.verify import VerdictRecord, VerifyItem, VerifySummary, sequence_items, verdict_line, verify_text

DOMAIN = MazeDomain()
FORMATS: dict[Dialect, str] = {"searchformer": "searchformer", "beyond_semantics": "beyond-semantics"}
OPENING = {"searchformer": "create", "beyond_semantics": "close"}


def random_maze(rng: random.Random, width: int, height: int, walls: float) -> Maze:
    """Uniform random walls; start and goal anywhere (a wall, the same cell, or cut off, at times)."""
    cells = [(x, y) for x in range(width) for y in range(height)]
    blocked = frozenset(c for c in cells if rng.random() < walls)
    return Maze(width=width, height=height, walls=blocked, start=rng.choice(cells), goal=rng.choice(cells))


def test_grid_adjacency_reads_like_the_networkx_graph() -> None:
    rng = random.Random(1)
    for _ in range(60):
        maze = random_maze(rng, rng.randint(1, 9), rng.randint(1, 9), rng.choice((0.0, 0.3, 0.6)))
        graph, grid = maze.graph._adj, maze.adjacency
        probes: list[object] = [(x, y) for x in range(-2, maze.width + 2) for y in range(-2, maze.height + 2)]
        probes += [
            (0.0, 0),
            (0.5, 0),
            (True, 0),
            (Fraction(1), 0),
            ("0", 0),
            (0, 0, 0),
            None,
            (float("nan"), 0),
        ]
        for probe in probes:
            assert (probe in graph) == (probe in grid), probe
            if probe in graph:
                assert list(grid[probe].items()) == list(graph[probe].items()), probe  # order too
                assert list(grid[probe]) == [(int(a), int(b)) for a, b in graph[probe]]
            else:
                with pytest.raises(KeyError):
                    grid[probe]  # type: ignore[index]


def test_grid_shortest_length_is_networkx_s() -> None:
    rng = random.Random(2)
    for _ in range(300):
        maze = random_maze(rng, rng.randint(1, 14), rng.randint(1, 14), rng.choice((0.0, 0.25, 0.45)))
        try:
            expected: int | None = nx.shortest_path_length(maze.graph, maze.start, maze.goal)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            expected = None
        assert maze.shortest_length == expected, maze


def published_cases(count: int) -> list[tuple[Maze, Dialect, str, bool]]:
    """(maze, dialect, output, strict ties): exact, randomly tie-broken and corrupted A* outputs, some
    with a wrong plan, over every maze kind and both dialects."""
    rng = random.Random(3)
    cases = []
    names = sorted(CORRUPTIONS)
    for k in range(count):
        dialect: Dialect = ("searchformer", "beyond_semantics")[k % 2]
        side = 30 if k % 10 == 0 else rng.randint(6, 14)
        maze = make_maze(MAZE_KINDS[k % len(MAZE_KINDS)], side, side, random.Random(f"stream:{k}"))
        exact = astar_trace(maze, OPENING[dialect])  # type: ignore[arg-type]
        events, plan = exact.events, exact.plan
        if k % 3 == 1:
            events = astar_trace(maze, OPENING[dialect], rng).events  # type: ignore[arg-type]
        elif k % 3 == 2:
            try:
                events = CORRUPTIONS[names[k % len(names)]](events, maze, rng).events
            except NotApplicable:
                events = events[: len(events) // 2]
        if k % 7 == 0:
            plan = plan[:-1]
        cases.append((maze, dialect, format_output(events, plan, dialect), k % 4 == 0))
    return cases


def test_the_fast_judgement_of_published_output_is_verify_text_s() -> None:
    """The fast path is taken (not a fallback) and gives the very verdicts, texts and verdict line."""
    for number, (maze, dialect, output, strict) in enumerate(published_cases(240)):
        line = f"{format_prompt(maze, dialect)} {output}"
        options = {"size": f"{maze.width}x{maze.height}", "strict_ties": strict}
        instance, read = DOMAIN.read_sequence(line, FORMATS[dialect], options)
        fast = DOMAIN.judge_published(instance, read)
        trace, expected = verify_text(DOMAIN, instance, read)
        if "-" in output:  # a cell off the grid at -1: not the published form, verify_text's alone
            assert fast is None
            continue
        assert fast is not None, output
        texts, verdicts = fast
        assert verdicts == expected
        assert texts == [step.text for step in trace.steps]
        # the steps as the lenient reader, which shares no code with the fast one, reads them
        lenient = _parse_lenient(read, dialect)
        published = read_published(read, dialect)
        assert published is not None
        assert published.events == lenient.events and published.plan == lenient.plan
        assert texts == [step.text for step in lenient.steps]
        record = VerdictRecord.build(str(number), "maze", trace, expected).model_dump_json()
        assert verdict_line(str(number), "maze", texts, verdicts) == record


def test_the_grid_adjacency_judges_as_the_networkx_graph_did() -> None:
    """The validator on `Maze.adjacency` against the same validator on the networkx graph it replaced."""
    for maze, dialect, output, strict in published_cases(150):
        published = read_published(output, dialect) or _parse_lenient(output, dialect)
        kwargs = {
            "start_mode": OPENING[dialect],
            "tie_key": searchformer_order(maze) if strict else None,
            "node_problem": maze_node_problem(maze),
        }
        on_grid = validate_astar(
            maze.adjacency, maze.start, maze.goal, maze.manhattan, published.events, **kwargs
        )  # type: ignore[arg-type]
        on_graph = validate_astar(
            maze.graph, maze.start, maze.goal, maze.manhattan, published.events, **kwargs
        )  # type: ignore[arg-type]
        assert on_grid.steps == on_graph.steps and on_grid.trace_checks == on_graph.trace_checks
        assert on_grid.goal_g == on_graph.goal_g


def test_output_not_in_the_published_form_is_left_to_verify_text() -> None:
    maze = make_maze("dfs", 7, 7, random.Random("stream:lenient"))
    exact = astar_trace(maze, "create")
    text = format_output(exact.events, exact.plan, "searchformer")
    instance, _ = DOMAIN.read_sequence(f"{format_prompt(maze, 'searchformer')} {text}", "searchformer", {})
    for other in (text.upper(), text.replace(" ", "  ", 1), text + " and that is all", "create 0 0"):
        assert DOMAIN.judge_published(instance, other) is None


def test_verdict_lines_escape_text_as_pydantic_does() -> None:
    odd = 'quote " backslash \\ tab \t newline \n controls \x00\x01\x1f\x7f unicode é 😀 \u2028 /'
    trace = Trace(steps=[Step(index=0, text=odd), Step(index=1, text="")])
    verdicts = Verdicts(
        steps=[
            StepVerdict(index=0, status="invalid", rule="astar.wall", message=odd),
            StepVerdict(index=1, status="unknown", message="gave up"),
        ],
        trace_checks=[StepVerdict(index=2, status="invalid", rule="astar.goal_not_closed", message="x")],
        answer=AnswerVerdict(status="incorrect", detail="invalid:wall", message=odd),
    )
    expected = VerdictRecord.build(odd, odd, trace, verdicts).model_dump_json()
    assert verdict_line(odd, odd, [odd, ""], verdicts) == expected
    empty = Verdicts(answer=AnswerVerdict(status="unparsed"))
    assert (
        verdict_line("1", "maze", [], empty)
        == VerdictRecord.build("1", "maze", Trace(), empty).model_dump_json()
    )


def test_the_incremental_summary_counts_what_report_cell_does(tmp_path: Path) -> None:
    every: list[Verdicts] = []
    summary = VerifySummary()
    for number, (maze, dialect, output, strict) in enumerate(published_cases(90)):
        line = f"{format_prompt(maze, dialect)} {output}"
        instance, read = DOMAIN.read_sequence(line, FORMATS[dialect], {"strict_ties": strict})
        _, verdicts = verify_text(DOMAIN, instance, read)
        every.append(verdicts)
        summary.add(VerifyItem(str(number), instance, read), verdicts)
    extra = [
        Verdicts(answer=AnswerVerdict(status="correct")),  # no trace
        Verdicts(steps=[StepVerdict(index=0, status="unknown")], answer=AnswerVerdict(status="incorrect")),
    ]
    for verdicts in extra:
        every.append(verdicts)
        summary.add(VerifyItem("x", instance, ""), verdicts)
    for k in range(60):
        summary.skip(f"line {k}: bad")
    overall = cell(every)
    got = summary.as_json()
    assert got["table"] == overall.table.model_dump(mode="json")
    assert got["no_trace"] == overall.no_trace.model_dump(mode="json")
    assert got["trace_unknown"] == overall.trace_unknown.model_dump(mode="json")
    assert got["answer_correct"] == overall.answer_correct.k
    assert got["trace_valid"] == overall.table.valid_correct + overall.table.valid_incorrect
    assert got["rule_counts"] == rule_totals(every)
    assert (got["lines"], got["verified"], got["unreadable"]) == (len(every) + 60, len(every), 60)
    assert got["problems"] == [f"line {k}: bad" for k in range(50)]
    assert overall.trace_unknown.total == 1 and overall.no_trace.total == 1


def test_sequence_items_stream_the_file(tmp_path: Path) -> None:
    """Items come one by one as the file is read: a line appended after the first item was taken is seen."""
    maze = make_maze("dfs", 6, 6, random.Random("stream:lazy"))
    exact = astar_trace(maze, "create")
    line = (
        f"{format_prompt(maze, 'searchformer')} {format_output(exact.events, exact.plan, 'searchformer')}\n"
    )
    path = tmp_path / "grow.txt"
    path.write_text(line, encoding="utf-8")
    items = sequence_items(path, DOMAIN, "searchformer", {"size": "6"})
    first = next(items)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "late", "text": line.strip()}) + "\n")
    later = list(items)
    assert isinstance(first, VerifyItem) and [getattr(i, "id", None) for i in later] == ["late"]


def test_a_reader_that_crashes_on_one_line_never_stops_the_others(tmp_path: Path) -> None:
    class Flaky(MazeDomain):
        def read_sequence(self, text: str, fmt: str, options: dict) -> tuple:  # type: ignore[override]
            if "boom" in text:
                raise KeyError("a bug in the reader")
            return super().read_sequence(text, fmt, options)

    path = tmp_path / "lines.txt"
    path.write_text("boom\nboom again\n")
    items = list(sequence_items(path, Flaky(), "searchformer", {"size": "5"}))
    assert [str(item).split(":")[1] for item in items] == ["1", "2"]  # the second line still read
    assert all("KeyError" in str(item) and "a bug in the reader" in str(item) for item in items)
