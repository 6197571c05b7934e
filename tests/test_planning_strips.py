"""The STRIPS validator: per-step diagnostics, supported PDDL, and agreement with unified-planning."""

from __future__ import annotations

import random
from importlib import resources

import pytest

from modulo.domains.planning.generator import blocksworld_problem
from modulo.domains.planning.search import optimal_plan
from modulo.verifiers.pddl_load import UnsupportedPddl, load_problem
from modulo.verifiers.strips import PlanAction, ground_all, unmet, validate_plan

BLOCKS = (resources.files("modulo.domains.planning") / "blocksworld.pddl").read_text(encoding="utf-8")
PROBLEM = """(define (problem p) (:domain blocksworld-4ops) (:objects a b c)
  (:init (handempty) (ontable a) (on b c) (ontable c) (clear a) (clear b)) (:goal (and (on c b))))"""

TYPED = """(define (domain move) (:requirements :strips :typing :negative-preconditions :equality)
  (:types robot room - object)
  (:predicates (at ?r - robot ?x - room) (locked ?x - room))
  (:action go :parameters (?r - robot ?from ?to - room)
    :precondition (and (at ?r ?from) (not (locked ?to)) (not (= ?from ?to)))
    :effect (and (at ?r ?to) (not (at ?r ?from)))))"""
TYPED_PROBLEM = """(define (problem m) (:domain move) (:objects r1 - robot k h - room)
  (:init (at r1 k)) (:goal (at r1 h)))"""


def test_valid_plan_and_per_step_diagnostics() -> None:
    problem = load_problem(BLOCKS, PROBLEM)
    good = [("unstack", "b", "c"), ("put-down", "b"), ("pick-up", "c"), ("stack", "c", "b")]
    assert validate_plan(problem, good).valid
    report = validate_plan(
        problem,
        [("unstack", "b", "c"), ("pick-up", "c"), None, ("fly", "a"), ("stack", "a"), ("stack", "a", "z")],
    )
    rules = [s.rule for s in report.steps]
    assert rules == [
        None,
        "strips.precondition",
        "strips.parse",
        "strips.unknown_action",
        "strips.arity",
        "strips.unknown_object",
    ]
    assert report.steps[1].unmet == ("(handempty)",)
    assert report.unmet_goals == ("(on c b)",)


def test_true_and_claimed_state_are_judged_separately() -> None:
    problem = load_problem(BLOCKS, PROBLEM)
    # pick-up c is inapplicable (c is under b); in the claimed state it happened, so stack c a is fine there
    report = validate_plan(problem, [("pick-up", "c"), ("stack", "c", "a")])
    assert report.steps[1].rule == "strips.precondition"
    assert report.steps[1].unmet == ("(holding c)",)
    assert report.steps[1].claimed_unmet == ()


def test_typing_equality_and_negative_preconditions() -> None:
    problem = load_problem(TYPED, TYPED_PROBLEM)
    assert validate_plan(problem, [("go", "r1", "k", "h")]).valid
    assert validate_plan(problem, [("go", "k", "k", "h")]).steps[0].rule == "strips.unknown_object"
    assert validate_plan(problem, [("go", "r1", "k", "k")]).steps[0].unmet == ("(not (= k k))",)
    assert len(ground_all(problem)) == 2


def test_unsupported_requirement_is_named() -> None:
    domain = BLOCKS.replace("(:requirements :strips)", "(:requirements :strips :conditional-effects)")
    with pytest.raises(UnsupportedPddl, match=":conditional-effects"):
        load_problem(domain, PROBLEM)


def _mutations(problem_plan: list[PlanAction], rng: random.Random, problem: object) -> list[list[PlanAction]]:
    plan = list(problem_plan)
    out = [plan[:-1], plan[1:], plan + plan[-1:]]
    if len(plan) > 1:
        k = rng.randrange(len(plan) - 1)
        out.append([*plan[:k], plan[k + 1], plan[k], *plan[k + 2 :]])
    actions = ground_all(problem)  # type: ignore[arg-type]
    k = rng.randrange(len(plan))
    choice = rng.choice(actions)
    out.append([*plan[:k], (choice.name, *choice.args), *plan[k + 1 :]])
    return out


def _cross_check(count: int, seed: int) -> tuple[int, int]:
    pytest.importorskip(
        "unified_planning", reason="unified-planning (dev extra) is needed for the cross-check"
    )
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.engines.plan_validator import SequentialPlanValidator
    from unified_planning.io import PDDLReader
    from unified_planning.shortcuts import get_environment

    get_environment().credits_stream = None
    rng = random.Random(seed)
    agree = total = 0
    for k in range(count):
        text, _ = blocksworld_problem(rng.randint(3, 5), rng, f"x{k}")
        problem = load_problem(BLOCKS, text)
        plan = optimal_plan(problem)
        assert plan is not None
        reader = PDDLReader()
        up_problem = reader.parse_problem_string(BLOCKS, text)
        for candidate in [plan, *_mutations(plan, rng, problem)]:
            plan_text = "\n".join("(" + " ".join(a) + ")" for a in candidate)
            up_plan = reader.parse_plan_string(up_problem, plan_text)
            theirs = (
                SequentialPlanValidator().validate(up_problem, up_plan).status == ValidationResultStatus.VALID
            )
            total += 1
            agree += validate_plan(problem, candidate).valid == theirs
    return agree, total


def test_cross_check_with_unified_planning() -> None:
    agree, total = _cross_check(count=4, seed=1)
    assert agree == total


@pytest.mark.slow
def test_cross_check_with_unified_planning_sweep() -> None:
    agree, total = _cross_check(count=150, seed=2)
    assert agree == total


def test_precondition_mutations_are_caught() -> None:
    problem = load_problem(BLOCKS, PROBLEM)
    plan = optimal_plan(problem)
    assert plan is not None
    states = [problem.init]
    for action in ground_all(problem):
        if unmet(action.pre, states[0]):
            report = validate_plan(problem, [(action.name, *action.args), *plan])
            assert report.steps[0].rule == "strips.precondition"
