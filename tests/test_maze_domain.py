"""The maze domain end to end through text: oracle output → parse → check, in every dialect."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modulo.domains.maze.domain import MazeDomain, maze_of
from modulo.domains.maze.formats import DIALECTS, FIRST_EVENT, Dialect, format_output
from modulo.domains.maze.generators import MAZE_KINDS
from modulo.domains.maze.oracle import CORRUPTIONS, astar_trace
from modulo.model import Instance
from modulo.verify import verify_text

DOMAIN = MazeDomain()


def instances(kind: str, dialect: str, count: int = 3, width: int = 9) -> list[Instance]:
    return DOMAIN.generate(count, seed=5, kind=kind, width=width, dialect=dialect, min_distance=4)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_exact_output_accepted(kind: str, dialect: str) -> None:
    for instance in instances(kind, dialect):
        for variant in ("exact", "exact-random"):
            trace, verdicts = verify_text(DOMAIN, instance, DOMAIN.oracle(instance, variant, seed=3))
            assert verdicts.trace_valid, (variant, verdicts.first_error, verdicts.rule_counts())
            assert verdicts.answer.status == "correct" and verdicts.answer.detail == "valid-optimal"
            assert verdicts.answer.extras["trace_plan_consistent"] is True


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_corruptions_caught_through_text(name: str, dialect: Dialect) -> None:
    """Each corruption, formatted as text and parsed back, is flagged at its step with its rule."""
    caught = 0
    for instance in instances("searchformer", dialect, count=4, width=10):
        maze = maze_of(instance)
        exact = astar_trace(maze, FIRST_EVENT[dialect])
        corruption = CORRUPTIONS[name](exact.events, maze, random.Random(1))
        text = format_output(corruption.events, exact.plan, dialect)
        _, verdicts = verify_text(DOMAIN, instance, text)
        assert verdicts.first_error == corruption.index, (name, verdicts.rule_counts())
        failing = [*verdicts.steps, *verdicts.trace_checks][corruption.index]
        assert failing.rule == corruption.rule
        assert verdicts.answer.status == "correct", "a corrupted trace must not change the plan's verdict"
        caught += 1
    assert caught == 4


def test_swapped_traces_rejected_but_plans_correct() -> None:
    batch = instances("searchformer", "searchformer", count=30, width=10)
    results = [verify_text(DOMAIN, i, DOMAIN.oracle(i, "swapped", seed=k))[1] for k, i in enumerate(batch)]
    assert sum(v.trace_valid for v in results) == 0
    assert all(v.answer.status == "correct" for v in results)


def test_plan_skip_is_valid_trace_wrong_answer() -> None:
    for instance in instances("dfs", "lines"):
        _, verdicts = verify_text(DOMAIN, instance, DOMAIN.oracle(instance, "plan-skip", seed=0))
        assert verdicts.trace_valid
        assert verdicts.answer.status == "incorrect" and verdicts.answer.detail == "invalid:not-adjacent"
        assert verdicts.answer.extras["trace_plan_consistent"] is False


def test_generate_is_deterministic_and_limit_is_a_prefix() -> None:
    five = DOMAIN.generate(5, seed=9, kind="wilson", width=11)
    assert DOMAIN.generate(2, seed=9, kind="wilson", width=11) == five[:2]
    assert len({i.id for i in five}) == 5
    with pytest.raises(ValueError, match="unknown maze kind"):
        DOMAIN.generate(1, seed=0, kind="spiral")
    with pytest.raises(ValueError, match="unknown dialect"):
        DOMAIN.generate(1, seed=0, dialect="emoji")


def test_prompts_and_render() -> None:
    [instance] = instances("dfs", "lines", count=1)
    zero = DOMAIN.prompt(instance, "zero-shot")
    few = DOMAIN.prompt(instance, "few-shot")
    assert zero[-1].content == few[-1].content and len(few) == len(zero) + 2
    assert "create (x, y)" in zero[-1].content
    trace = DOMAIN.parse(DOMAIN.oracle(instance, "exact", seed=0), instance)
    picture = DOMAIN.render(instance, trace)
    assert picture.count("S") == 1 and picture.count("G") == 1 and "*" in picture and "#" in picture
    with pytest.raises(ValueError, match="styles"):
        DOMAIN.prompt(instance, "socratic")


def test_unreadable_steps_keep_their_reason_and_critique_names_rules() -> None:
    [instance] = instances("dfs", "lines", count=1)
    text = DOMAIN.oracle(instance, "exact", seed=0).replace("g=0 h=", "g=zero h=", 1)
    _, verdicts = verify_text(DOMAIN, instance, text)
    unparsed = [v for v in verdicts.steps if v.status == "unparsed"]
    assert unparsed and unparsed[0].rule == "astar.parse" and unparsed[0].message
    critique = DOMAIN.critique(verdicts)
    assert "astar.parse" in critique


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_parse_and_check_total_on_any_text(text: str) -> None:
    [instance] = instances("prim", "searchformer", count=1)
    trace = DOMAIN.parse(text, instance)
    verdicts = DOMAIN.check(instance, trace)
    assert len(verdicts.steps) == len(trace.steps)
    assert verdicts.answer.status in {"correct", "incorrect", "unparsed"}
