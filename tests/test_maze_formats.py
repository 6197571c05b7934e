"""Trace dialects: exact published token formats, round-trips, autodetection, lenient total parsing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modulo.domains.maze.formats import (
    DIALECTS,
    Dialect,
    ParsedOutput,
    _parse_lenient,
    detect_dialect,
    format_output,
    format_plan,
    format_prompt,
    format_trace,
    parse_output,
    parse_strict,
)
from modulo.domains.maze.grid import Cell, Maze
from modulo.verifiers.search_events import SearchEvent

MAZE = Maze(width=4, height=3, walls=frozenset({(1, 1), (1, 0), (3, 2)}), start=(0, 0), goal=(2, 0))
EVENTS = [
    SearchEvent("create", (0, 0), 0, 2),
    SearchEvent("close", (0, 0), 0, 2),
    SearchEvent("create", (0, 1), 1, 3),
    SearchEvent("close", (0, 1), 1, 3),
    SearchEvent("create", (0, 2), 2, 4),
]
PLAN: list[Cell] = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0)]

cells = st.tuples(st.integers(0, 40), st.integers(0, 40))
costs = st.integers(0, 300) | st.integers(0, 600).map(lambda n: n / 2)
events = st.lists(
    st.builds(SearchEvent, st.sampled_from(["create", "close"]), cells, costs, costs), max_size=30
)


def test_searchformer_tokens() -> None:
    assert format_prompt(MAZE, "searchformer") == "start 0 0 goal 2 0 wall 1 0 wall 1 1 wall 3 2"
    assert format_trace(EVENTS[:2], "searchformer") == "create 0 0 c0 c2 close 0 0 c0 c2"
    assert format_plan(PLAN[:2], "searchformer") == "plan 0 0 plan 0 1"


def test_beyond_semantics_tokens() -> None:
    assert format_prompt(MAZE, "beyond_semantics") == "query start 0 0 goal 2 0 wall 1 0 wall 1 1 wall 3 2"
    assert format_trace(EVENTS[1:2], "beyond_semantics") == "reasoning close 0 0 c0 c2"
    assert format_plan(PLAN[:2], "beyond_semantics") == "solution plan 0 0 plan 0 1 end"


def test_lines_format() -> None:
    assert format_trace(EVENTS[:2], "lines") == "create (0, 0) g=0 h=2\nclose (0, 0) g=0 h=2"
    assert format_plan(PLAN[:2], "lines") == "plan: (0, 0) (0, 1)"
    prompt = format_prompt(MAZE, "lines")
    assert "Start: (0, 0)" in prompt and "Goal: (2, 0)" in prompt
    assert "Walls: (1, 0) (1, 1) (3, 2)" in prompt
    assert prompt.splitlines()[-3:] == ["0 S#G.", "1 .#..", "2 ...#"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_round_trip_and_autodetect(dialect: Dialect) -> None:
    text = format_output(EVENTS, PLAN, dialect)
    for chosen in (dialect, None):
        parsed = parse_output(text, chosen)
        assert parsed.dialect == dialect
        assert parsed.events == EVENTS
        assert parsed.plan == PLAN
        assert parsed.problems == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(trace=events, plan=st.lists(cells, max_size=20), dialect=st.sampled_from(DIALECTS))
def test_round_trip_any_events(trace: list[SearchEvent], plan: list[Cell], dialect: Dialect) -> None:
    parsed = parse_output(format_output(trace, plan, dialect), dialect)
    assert parsed.events == trace
    assert parsed.plan == (plan or None)


def test_chat_output_is_read_leniently() -> None:
    text = (
        "Sure! Here is the trace:\r\n"
        "1. CREATE (0,0)  g = 0, h = 2\r\n"
        "2. close [0, 0] h=2 g=0 -- now (0,0) is close to done\n"
        "3. create (0, 1) f=4 g=1 h=3\n\n"
        "Final Plan: (0,0), (0,1), (0,2)\n"
        "This plan takes 2 moves."
    )
    parsed = parse_output(text)
    assert parsed.dialect == "lines"
    assert parsed.events == [EVENTS[0], EVENTS[1], EVENTS[2]]
    assert [s.text for s in parsed.steps] == [
        "CREATE (0,0)  g = 0, h = 2",
        "close [0, 0] h=2 g=0",
        "create (0, 1) f=4 g=1 h=3",
    ]
    assert parsed.plan == [(0, 0), (0, 1), (0, 2)]
    assert parsed.plan_text == "Plan: (0,0), (0,1), (0,2)"


def test_token_output_tolerates_bare_costs_case_and_noise() -> None:
    text = "bos Create 0 0 0 2\nCLOSE 0 0 c0 c2 create 0 1 c1 3 plan 0 0 plan 0 1 eos junk"
    parsed = parse_output(text)
    assert parsed.dialect == "searchformer"
    assert parsed.events == EVENTS[:3]
    assert parsed.plan == [(0, 0), (0, 1)]
    assert parsed.problems == ["text after 'eos' ignored"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("create 0 0 c0", "missing h"),
        ("create c0 0 0 c2", "cost token c0 where coordinate x was expected"),
        ("create 0 0 c0 c2 7", "more than four numbers"),
        ("create 0.5 0 c0 c2", "not whole numbers"),
        ("create (0, 0) g=1 g=2 h=3", "g given twice"),
        ("create 99999999999999999999 0 c0 c2", "too long"),
    ],
)
def test_unreadable_steps_keep_their_text_and_reason(text: str, problem: str) -> None:
    (step,) = parse_output(text).steps
    assert step.event is None
    assert step.problem is not None and problem in step.problem
    assert step.text in text


def test_plan_problems_are_reported() -> None:
    assert parse_output("create 0 0 c0 c2").problems == ["no plan found"]
    parsed = parse_output("plan 0 0 plan 0 1 create 0 1 c1 c3 plan 5")
    assert parsed.plan == [(0, 0), (0, 1)]
    assert "trace steps were written after the plan" in parsed.problems
    assert "a second plan was found and ignored" not in parsed.problems
    assert parse_output("plan 0 0 plan 0").problems == ["the plan ends with a lone coordinate 0; dropped it"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_truncated_output_gives_what_was_readable(dialect: Dialect) -> None:
    text = format_output(EVENTS, PLAN, dialect)
    for cut in range(len(text) + 1):
        parsed = parse_output(text[:cut], dialect)
        complete = parsed.events[:-1]
        assert complete == EVENTS[: len(complete)]
        if parsed.plan is not None and cut < len(text):
            assert parsed.plan[:-1] == PLAN[: len(parsed.plan) - 1]


def test_detect_dialect() -> None:
    assert detect_dialect("create 0 0 c0 c2") == "searchformer"
    assert detect_dialect("reasoning close 0 0 c0 c2") == "beyond_semantics"
    assert detect_dialect("close (0, 0) g=0 h=2") == "lines"
    assert detect_dialect("") == "searchformer"


def test_unknown_dialect_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="valid: searchformer, beyond_semantics, lines"):
        parse_output("create 0 0 c0 c2", "json")  # type: ignore[arg-type]


def _assert_sane(parsed: ParsedOutput, text: str) -> None:
    assert all(step.text in text for step in parsed.steps)
    assert all((step.event is None) == (step.problem is not None) for step in parsed.steps)
    assert parsed.plan is None or all(isinstance(x, int) and isinstance(y, int) for x, y in parsed.plan)
    assert parsed.plan_text is None or parsed.plan_text in text


@settings(max_examples=300)
@given(text=st.text(), dialect=st.sampled_from([*DIALECTS, None]))
def test_parse_is_total_on_any_text(text: str, dialect: Dialect | None) -> None:
    _assert_sane(parse_output(text, dialect), text)


VOCAB = [
    "create",
    "close",
    "plan",
    "solution",
    "end",
    "reasoning",
    "wall",
    "c",
    "c1",
    "c-3",
    "7",
    "-2",
    "(",
    ")",
    ",",
    "=",
    "g",
    "h",
    "f",
    "x",
    "2.5",
    "١٢",
    "İ",
    "ﬁ",
]
VOCAB += ["\n", "\x00", "9" * 30]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    dialect=st.sampled_from(DIALECTS),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 5), st.sampled_from(VOCAB)), max_size=12),
    parse_as=st.sampled_from([*DIALECTS, None]),
)
def test_parse_is_total_on_mutated_outputs(
    dialect: Dialect, edits: list[tuple[int, int, str]], parse_as: Dialect | None
) -> None:
    text = format_output(EVENTS, PLAN, dialect)
    for position, deleted, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + deleted :]
    _assert_sane(parse_output(text, parse_as), text)


TOKEN_DIALECTS: list[Dialect] = ["searchformer", "beyond_semantics"]


@pytest.mark.parametrize("dialect", TOKEN_DIALECTS)
def test_published_form_takes_the_fast_reading(dialect: Dialect) -> None:
    text = format_output(EVENTS, PLAN, dialect)
    assert parse_strict(text, dialect) is not None
    assert parse_strict(text + " ", dialect) is None and parse_strict(text.upper(), dialect) is None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    trace=events,
    plan=st.lists(cells, max_size=20),
    dialect=st.sampled_from(TOKEN_DIALECTS),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 5), st.sampled_from(VOCAB)), max_size=3),
)
def test_fast_reading_agrees_with_the_lenient_reader(
    trace: list[SearchEvent], plan: list[Cell], dialect: Dialect, edits: list[tuple[int, int, str]]
) -> None:
    text = format_output(trace, plan, dialect)
    for position, deleted, inserted in edits:
        at = position % (len(text) + 1)
        text = text[:at] + inserted + text[at + deleted :]
    assert parse_output(text, dialect) == _parse_lenient(text, dialect)
