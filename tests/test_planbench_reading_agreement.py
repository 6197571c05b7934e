"""Reading real models' PlanBench answers: agreement with the recorded (VAL) verdicts, per results file.

The default run reads a few records per file, each showing a phenomenon the reader must handle; the
whole files run under `slow`. Where PlanBench's own extraction is wrong the disagreement must say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.agreement import file_agreement

DATA = SHARED_DATA / "planbench"
LIB = DATA / "llm_planning_analysis" / "instances"
BW = ("blocksworld/generated_domain.pddl", "blocksworld/generated_basic", "blocksworld.yaml")
BW3 = ("blocksworld/generated_domain.pddl", "blocksworld/generated_basic_3", "blocksworld_3.yaml")
MYSTERY = (
    "blocksworld/mystery/generated_domain.pddl",
    "blocksworld/mystery/generated_basic",
    "mystery_blocksworld.yaml",
)
LOGISTICS = ("logistics/generated_domain.pddl", "logistics/generated_basic", "logistics.yaml")
FILES: dict[str, tuple[str, str, str]] = {
    "blocksworld__o1-mini_chat__zero_shot.json": BW,
    "blocksworld_3__deepseek-r1-api__zero_shot.json": BW3,
    "blocksworld__claude-3-opus__one_shot.json": BW,
    "blocksworld_3__gpt-4o_chat__one_shot.json": BW3,
    "mystery_blocksworld__o1-mini_chat__zero_shot.json": MYSTERY,
    "mystery_blocksworld__gpt-4_chat__one_shot.json": MYSTERY,
    "logistics__gpt-4_chat__one_shot.json": LOGISTICS,
    "blocksworld__gpt-4_chat__zero_shot.json": BW,
    "blocksworld_3__gpt-4_chat__state_tracking.json": BW3,
    "blocksworld__gpt-4_chat__backprompting.json": BW,
}
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"PlanBench reference data not found at {DATA}")


def _summary(name: str, tmp_path: Path, ids: set[int] | None = None, source: str = "both") -> dict[str, Any]:
    domain_file, folder, config = FILES[name]
    data = json.loads((DATA / "results" / name).read_text())
    if ids is not None:
        data["instances"] = [r for r in data["instances"] if r["instance_id"] in ids]
    path = tmp_path / name
    path.write_text(json.dumps(data))
    options = {
        "domain-file": str(LIB / domain_file),
        "instances": str(LIB / folder),
        "config": str(DATA / "llm_planning_analysis" / "configs" / config),
        "plan-source": source,
    }
    return file_agreement(path, options)


# (file, instance ids): bold short names and "Put red on the table" (o1-mini 44), function calls in
# bold (o1-mini 235, R1 13), an explanation list after the plan (R1 36), "Feast object c from object d"
# with a restated explanation list (Mystery o1-mini 2), a plan ending at [PLAN END] (Logistics 2), an
# introduction ending in a colon inside a [PLAN END] block (Claude 176, 209), a "### Plan:" section
# beside lists of states (GPT-4o 16), steps that are the action alone, "Attack", "Succumb object"
# (Mystery o1-mini 1, 65).
AGREE = [
    ("blocksworld__o1-mini_chat__zero_shot.json", {44, 235}),
    ("blocksworld_3__deepseek-r1-api__zero_shot.json", {13, 36}),
    ("mystery_blocksworld__o1-mini_chat__zero_shot.json", {2, 1, 65}),
    ("logistics__gpt-4_chat__one_shot.json", {2}),
    ("blocksworld__claude-3-opus__one_shot.json", {176, 209}),
    ("blocksworld_3__gpt-4o_chat__one_shot.json", {16}),
]


@pytest.mark.parametrize(("name", "ids"), AGREE, ids=[a[0].split("__")[1] for a in AGREE])
def test_verbose_answers_agree_with_the_recorded_verdicts(name: str, ids: set[int], tmp_path: Path) -> None:
    summary = _summary(name, tmp_path, ids)
    assert summary["disagree"] == 0, summary["disagreements"]
    assert summary["agree"] + summary["unparsed"] == len(ids), summary["problems"]


def test_planbench_extraction_faults_are_named(tmp_path: Path) -> None:
    """GPT-4o 20: a plan restated after "So, the plan is:" that PlanBench joined to itself (VAL: wrong);
    o1-mini 408: PlanBench's translation garbled the first action and dropped it; Logistics 6: PlanBench
    adds the city the response leaves out of "drive truck_0 from location_0_0 to location_0_1"."""
    restated = _summary("blocksworld_3__gpt-4o_chat__one_shot.json", tmp_path, {20})
    assert [(d["ours"], d["planbench_fault"]) for d in restated["disagreements"]] == [
        ("correct", "past-plan-end")
    ]
    assert "runs past the plan" in restated["disagreements"][0]["reason"]
    [difference] = restated["differences"]
    assert (difference["wrong"], difference["extraction"]["verdict"]) == ("planbench", "incorrect")
    dropped = _summary("blocksworld__o1-mini_chat__zero_shot.json", tmp_path, {408})
    assert [(d["ours"], d["planbench_fault"]) for d in dropped["disagreements"]] == [
        ("correct", "dropped-steps")
    ]
    assert "dropped step(s) 1" in dropped["disagreements"][0]["reason"]
    city = _summary("logistics__gpt-4_chat__one_shot.json", tmp_path, {6})
    assert city["disagree"] == 0 and [d["fault"] for d in city["differences"]] == ["adds-arguments"]


# (agree, disagree, unparsed, not judged) per whole file (`plan-source both`); every disagreement is a
# PlanBench extraction fault, and crediting those, agreement is at least 99% of the records. Records whose
# reading is unknown (ambiguous, an unread step) are not judged: never agreement.
EXPECTED = {
    "blocksworld__o1-mini_chat__zero_shot.json": (493, 6, 0, 1),
    "blocksworld_3__deepseek-r1-api__zero_shot.json": (99, 1, 0, 0),
    "blocksworld__claude-3-opus__one_shot.json": (487, 7, 4, 2),
    "blocksworld_3__gpt-4o_chat__one_shot.json": (88, 12, 0, 0),
    "mystery_blocksworld__o1-mini_chat__zero_shot.json": (464, 5, 30, 1),
    "mystery_blocksworld__gpt-4_chat__one_shot.json": (500, 0, 0, 0),
    "logistics__gpt-4_chat__one_shot.json": (200, 0, 0, 0),
    "blocksworld__gpt-4_chat__zero_shot.json": (488, 1, 10, 1),
    "blocksworld_3__gpt-4_chat__state_tracking.json": (100, 0, 0, 0),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_whole_files_agree_but_for_planbench_extraction_faults(name: str, tmp_path: Path) -> None:
    summary = _summary(name, tmp_path)
    counts = (summary["agree"], summary["disagree"], summary["unparsed"], summary["not_judged"])
    assert counts == EXPECTED[name]
    unexplained = [d for d in summary["disagreements"] if d["planbench_fault"] is None]
    assert unexplained == []
    credited = summary["agree"] + summary["unparsed"] + summary["disagree_planbench_fault"]
    assert credited >= 0.99 * summary["total"]
    assert summary["comparison"]["compared"] == summary["total"] - summary["not_judged"]


@pytest.mark.slow
def test_the_backprompting_file_is_judged_from_planbench_extraction(tmp_path: Path) -> None:
    """It keeps no responses: `recorded` verifies PlanBench's extracted plans, which VAL judged alike."""
    summary = _summary("blocksworld__gpt-4_chat__backprompting.json", tmp_path, source="recorded")
    assert (summary["agree"], summary["disagree"], summary["unparsed"], summary["not_judged"]) == (
        49,
        0,
        1,
        0,
    )
