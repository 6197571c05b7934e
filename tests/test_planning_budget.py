"""Optimal lengths within a state budget: the same as an unbounded search under it, unknown past it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.domain import PddlDomain, _default_templates
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.domains.planning.search import SEARCH_BUDGET, greedy_plan, optimal_length, optimal_plan
from modulo.model import Instance
from modulo.protocols import ImportedItem
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


def _logistics_records(tmp_path: Path, count: int) -> tuple[Path, dict[str, str], list[dict]]:
    results = SHARED_DATA / "planbench" / "results" / "logistics__gpt-4_chat__one_shot.json"
    data = json.loads(results.read_text())
    data["instances"] = data["instances"][:count]
    path = tmp_path / "logistics.json"
    path.write_text(json.dumps(data))
    options = {
        "domain-file": str(INSTANCES / "logistics" / "generated_domain.pddl"),
        "instances": str(INSTANCES / "logistics" / "generated_basic"),
        "config": str(INSTANCES.parent / "configs" / "logistics.yaml"),
    }
    return path, options, data["instances"]


def test_optimal_budget_option_records_the_length_at_import(tmp_path: Path) -> None:
    path, options, records = _logistics_records(tmp_path, 6)
    items = PlanBenchImporter().read(path, {**options, "optimal-budget": "3000"})
    lengths = {}
    for item, record in zip(items, records, strict=True):
        assert isinstance(item, ImportedItem)
        known = item.instance.payload["optimal_length"]
        lengths[record["instance_id"]] = known
        if known is not None:  # PlanBench's ground-truth plan (Fast Downward) is never shorter
            assert known <= len(record["ground_truth_plan"])
    assert any(v is not None for v in lengths.values())
    plain = PlanBenchImporter().read(path, options)
    assert all(isinstance(i, ImportedItem) and "optimal_length" not in i.instance.payload for i in plain)


@pytest.mark.parametrize("value", ["0", "-3", "many", "99999999999"])
def test_optimal_budget_option_rejects_bad_values(tmp_path: Path, value: str) -> None:
    path, options, _ = _logistics_records(tmp_path, 1)
    with pytest.raises(ValueError, match="--optimal-budget must be a number of states"):
        PlanBenchImporter().read(path, {**options, "optimal-budget": value})
