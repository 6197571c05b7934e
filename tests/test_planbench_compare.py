"""Both readings of a PlanBench record: which known extraction fault explains a difference, and
`--plan-source both` end to end on a small results file written here (no shared data needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from modulo.domains.planning.compare import compare, extraction_fault, verify_extraction
from modulo.domains.planning.domain import BlocksworldDomain
from modulo.domains.planning.templates import load_config
from modulo.model import Instance

ROOT = resources.files("modulo.domains.planning")
# red `a` on orange `c`, blue `b` on the table; goal: red on blue, orange on red
PROBLEM = """(define (problem compare-1)
(:domain blocksworld-4ops)
(:objects a b c)
(:init (handempty) (on a c) (ontable c) (ontable b) (clear a) (clear b))
(:goal (and (on a b) (on c a))))"""
PLAN = ["unstack a c", "put-down a", "pick-up a", "stack a b", "pick-up c", "stack c a"]
ENGLISH = [
    "Unstack the red block from on top of the orange block",
    "Put down the red block",
    "Pick up the red block",
    "Stack the red block on top of the blue block",
    "Pick up the orange block",
    "Stack the orange block on top of the red block",
]


@pytest.mark.parametrize(
    ("theirs", "kind"),
    [
        ([*PLAN, "pick-up b", "stack b c"], "past-plan-end"),
        ([PLAN[0], "put-down", *PLAN[1:]], "adds-steps"),
        ([], "nothing-extracted"),
        (PLAN[:-1], "dropped-steps"),
        ([p.replace("unstack a c", "unstack a from c") for p in PLAN], "joining-word-kept"),
        ([p.replace("stack a b", "stack a b c") for p in PLAN], "adds-arguments"),
        ([p.replace("stack c a", "stack c b") for p in PLAN], "misread-step"),
    ],
)
def test_each_known_extraction_fault_is_named(theirs: list[str], kind: str) -> None:
    fault = extraction_fault(PLAN, theirs, ENGLISH)
    assert fault is not None and fault.kind == kind, fault


def test_a_dropped_last_step_says_so_and_quotes_it() -> None:
    fault = extraction_fault(PLAN, PLAN[:-1], ENGLISH)
    assert fault is not None and "the last step" in fault.reason and repr(ENGLISH[-1]) in fault.reason


def test_a_difference_no_known_fault_explains_is_not_given_a_reason() -> None:
    """A different step, when our reading was not exact, is no proof PlanBench misread: no reason."""
    other = [p.replace("stack c a", "stack c b") for p in PLAN]
    assert extraction_fault(PLAN, other, None) is None
    assert extraction_fault(PLAN, list(reversed(PLAN)), None) is None
    assert extraction_fault([], PLAN, None) is None


def _instance() -> Instance:
    payload = {
        "domain_pddl": (ROOT / "blocksworld.pddl").read_text(),
        "problem_pddl": PROBLEM,
        "templates": load_config((ROOT / "blocksworld.yaml").read_text()),
        "optimal_length": None,
    }
    return Instance(domain="blocksworld", id="compare-1", payload=payload)


def _ours(text: str) -> tuple:
    domain, instance = BlocksworldDomain(), _instance()
    trace = domain.parse(text, instance)
    return trace, domain.check(instance, trace)


def test_compare_gives_both_plans_verdicts_and_lines_read() -> None:
    response = (
        "\n".join(f"{k + 1}. {s}" for k, s in enumerate(ENGLISH)) + "\n\n[PLAN END]\nThen pick up blue."
    )
    extracted = [f"({p})" for p in PLAN] + ["(pick-up b)"]
    entry = compare(_instance(), False, _ours(response), extracted, verify_extraction(_instance(), extracted))
    assert entry is not None
    assert entry["response"]["verdict"] == "correct" and entry["extraction"]["verdict"] == "incorrect"
    assert entry["response"]["plan"] == PLAN and entry["extraction"]["plan"] == [*PLAN, "pick-up b"]
    assert entry["response"]["lines"] == ENGLISH and entry["extraction"]["lines"] == extracted
    assert (entry["wrong"], entry["fault"], entry["verdicts_differ"]) == ("planbench", "past-plan-end", True)
    assert entry["summary"].startswith("compare-1 (ours correct, PlanBench's extraction incorrect")


def test_other_object_names_in_the_extraction_are_the_same_plan() -> None:
    """PlanBench's state-tracking files extract `(pick-up red)`: the same action as `(pick-up a)`."""
    colours = {"a": "red", "b": "blue", "c": "orange"}
    extracted = ["(" + " ".join(colours.get(w, w) for w in p.split()) + ")" for p in PLAN]
    ours = _ours("\n".join(ENGLISH))
    assert compare(_instance(), True, ours, extracted, verify_extraction(_instance(), extracted)) is None


def test_no_plan_on_either_side_is_no_difference() -> None:
    extracted = ["(no plan possible)"]
    ours = _ours("There is no way to reach this goal.")
    assert compare(_instance(), False, ours, extracted, verify_extraction(_instance(), extracted)) is None


def _pddl(plan: list[str]) -> list[str]:
    return [f"({step})" for step in plan]


def _results_file(folder: Path) -> Path:
    instances = folder / "instances"
    instances.mkdir()
    (instances / "instance-1.pddl").write_text(PROBLEM)
    numbered = "\n".join(f"{k + 1}. {s}" for k, s in enumerate(ENGLISH))
    records = [
        # the same plan on both sides
        {"instance_id": 1, "correct": True, "llm_raw_response": numbered, "extracted_llm_plan": _pddl(PLAN)},
        # PlanBench's extraction ran past [PLAN END]: its verdict is wrong
        {
            "instance_id": 1,
            "correct": False,
            "llm_raw_response": numbered + "\n[PLAN END]\nAfterwards, pick up the blue block.",
            "extracted_llm_plan": _pddl([*PLAN, "pick-up b"]),
        },
        # a difference no known fault explains (our first step is not read exactly, so a different
        # step is no proof PlanBench misread it)
        {
            "instance_id": 1,
            "correct": False,
            "llm_raw_response": numbered.replace(ENGLISH[0], "Pick up the red block from the orange block"),
            "extracted_llm_plan": _pddl(list(reversed(PLAN))),
        },
    ]
    path = folder / "results.json"
    path.write_text(json.dumps({"engine": "test", "instances": records}))
    return path


def _import(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *(sys.executable, "-m", "modulo", "import", "planbench", str(_results_file(folder))),
        *("--domain-file", str(ROOT / "blocksworld.pddl"), "--instances", str(folder / "instances")),
        *("--config", str(ROOT / "blocksworld.yaml"), "--store", str(folder / "s.sqlite"), *extra),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_plan_source_both_lists_each_difference_with_its_reason(tmp_path: Path) -> None:
    done = _import(tmp_path, "--plan-source", "both", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    # the stored verdicts are the response's: all three plans read as the valid one
    assert (summary["agree"], summary["disagree"]) == (1, 2)
    assert summary["disagree_planbench_fault"] == 1
    assert summary["comparison"] == {
        "compared": 3,
        "no_extraction": 0,
        "plans_differ": 2,
        "verdicts_differ": 2,
        "planbench_wrong": 1,
        "unexplained": 1,
        "by_reason": {"past-plan-end": 1, "unexplained": 1},
    }
    faults = sorted(d["fault"] for d in summary["differences"])
    assert faults == ["past-plan-end", "unexplained"]
    unexplained = next(d for d in summary["differences"] if d["fault"] == "unexplained")
    assert unexplained["wrong"] == "unexplained" and unexplained["recorded"] is False


def test_the_text_summary_prints_the_counts_and_the_differences(tmp_path: Path) -> None:
    done = _import(tmp_path, "--plan-source", "both")
    assert done.returncode == 0, done.stderr
    assert "comparison: {'compared': 3, 'no_extraction': 0, 'plans_differ': 2" in done.stdout
    assert "differences:" in done.stdout and "past-plan-end: PlanBench's extraction runs past" in done.stdout
