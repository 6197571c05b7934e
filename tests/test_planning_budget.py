"""Optimal lengths within a state budget: the same as an unbounded search under it, unknown past it."""

from __future__ import annotations

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.domain import PddlDomain, _default_templates
from modulo.domains.planning.search import SEARCH_BUDGET, greedy_plan, optimal_length, optimal_plan
from modulo.model import Instance
from modulo.verifiers.pddl_load import load_problem

INSTANCES = SHARED_DATA / "planbench" / "llm_planning_analysis" / "instances"
pytestmark = pytest.mark.skipif(not INSTANCES.is_dir(), reason=f"PlanBench data not found at {INSTANCES}")


def _problem(domain: str, number: int) -> tuple[str, str]:
    return (
        (INSTANCES / domain / "generated_domain.pddl").read_text(),
        (INSTANCES / domain / "generated_basic" / f"instance-{number}.pddl").read_text(),
    )


def _instance(texts: tuple[str, str]) -> Instance:
    """An imported-style instance (no recorded optimum) whose templates write PDDL."""
    templates = _default_templates(load_problem(*texts))
    payload = {"domain_pddl": texts[0], "problem_pddl": texts[1], "templates": templates}
    return Instance(domain="pddl", id="logistics", payload=payload)


@pytest.mark.parametrize("number", [1, 10, 102, 104, 250, 500])
def test_under_budget_the_length_is_the_unbounded_searchs(number: int) -> None:
    problem = load_problem(*_problem("blocksworld", number))
    assert optimal_length(problem) == len(optimal_plan(problem, 200_000) or []) > 0


def test_over_budget_the_length_is_unknown_and_a_valid_plan_is_just_valid() -> None:
    texts = _problem("logistics", 100)
    problem = load_problem(*texts)
    assert optimal_length(problem) is None
    assert optimal_plan(problem, SEARCH_BUDGET) is None
    instance = _instance(texts)
    pddl = PddlDomain()
    plan = ["(load-truck p0 t0 l0-0)"]  # not a plan for this problem: incorrect, optimum never searched
    wrong = pddl.check(instance, pddl.parse("\n".join(plan), instance)).answer
    assert wrong.status == "incorrect" and wrong.extras["optimal_length"] is None


def test_a_valid_plan_past_the_budget_is_valid_without_optimality() -> None:
    texts = _problem("logistics", 100)
    problem = load_problem(*texts)
    plan = greedy_plan(problem)
    assert plan is not None
    instance = _instance(texts)
    pddl = PddlDomain()
    text = "\n".join("(" + " ".join(a) + ")" for a in plan)
    answer = pddl.check(instance, pddl.parse(text, instance)).answer
    assert (answer.status, answer.detail, answer.extras["optimal_length"]) == ("correct", "valid", None)
    assert answer.message == ""


def test_a_valid_plan_under_the_budget_is_compared_with_the_optimum() -> None:
    texts = _problem("logistics", 1)
    problem = load_problem(*texts)
    plan = optimal_plan(problem)
    assert plan is not None
    instance = _instance(texts)
    pddl = PddlDomain()
    text = "\n".join("(" + " ".join(a) + ")" for a in plan)
    answer = pddl.check(instance, pddl.parse(text, instance)).answer
    assert (answer.detail, answer.extras["optimal_length"]) == ("valid-optimal", len(plan))
