"""Planning readers on adversarial answers: each plan judged as a careful human would, or flagged ambiguous.

The problem is the repro's instance-1 (red `a` on orange `c`, blue `b` on the table; goal: red on blue,
orange on red); its careful readings are written down here by hand, not computed by the reader.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.domain import BlocksworldDomain
from modulo.domains.planning.templates import load_config
from modulo.model import Instance

ROOT = Path(__file__).resolve().parents[1] / "domains" / "planning"
REPRO = SHARED_DATA.parent / "repro" / "reading"
PROBLEM = """(define (problem repro-1)
(:domain blocksworld-4ops)
(:objects a b c)
(:init (handempty) (on a c) (ontable c) (ontable b) (clear a) (clear b))
(:goal (and (on a b) (on c a))))"""
GOOD = [
    "Unstack the red block from on top of the orange block",
    "Put down the red block",
    "Pick up the red block",
    "Stack the red block on top of the blue block",
    "Pick up the orange block",
    "Stack the orange block on top of the red block",
]
DOMAIN = BlocksworldDomain()


def _instance() -> Instance:
    payload = {
        "domain_pddl": (ROOT / "blocksworld.pddl").read_text(),
        "problem_pddl": PROBLEM,
        "templates": load_config((ROOT / "blocksworld.yaml").read_text()),
        "optimal_length": 4,
    }
    return Instance(domain="blocksworld", id="repro-1", payload=payload)


def _judge(text: str) -> tuple[str, str, str]:
    instance = _instance()
    trace = DOMAIN.parse(text, instance)
    verdict = DOMAIN.check(instance, trace).answer
    return verdict.status, verdict.detail, (trace.reading or {}).get("status", "")


def _numbered(steps: list[str]) -> str:
    return "\n".join(f"{k + 1}. {s}" for k, s in enumerate(steps))


CORPUS: list[tuple[str, str, str]] = [
    # (what, text, the careful verdict: correct / incorrect / unknown / unparsed)
    ("plain numbered list", _numbered(GOOD), "correct"),
    (
        "bold steps with nested action sub-bullets",
        "\n".join(f"{k + 1}. **{s}**\n   - *Action:* `{s.upper()}`" for k, s in enumerate(GOOD)),
        "correct",
    ),
    (
        "colour alone",
        "1. Unstack red from orange\n2. Put down red\n3. Pick up red\n4. Stack red on blue\n"
        "5. Pick up orange\n6. Stack orange on red",
        "correct",
    ),
    (
        "PDDL names in PDDL",
        "(unstack a c)\n(put-down a)\n(pick-up a)\n(stack a b)\n(pick-up c)\n(stack c a)",
        "correct",
    ),
    (
        "capital PDDL names",
        "1. Unstack A from C\n2. Put down A\n3. Pick up A\n4. Stack A on B\n5. Pick up C\n6. Stack C on A",
        "correct",
    ),
    (
        "function-call form",
        "1. Unstack(red, orange)\n2. PutDown(red)\n3. PickUp(red)\n4. Stack(red, blue)\n"
        "5. PickUp(orange)\n6. Stack(orange, red)",
        "correct",
    ),
    (
        "a trailing prose sentence",
        _numbered(GOOD) + "\n\nThis plan rebuilds the stack in the goal order.",
        "correct",
    ),
    (
        "plan then the same plan in [PLAN]",
        "Here is my plan:\n" + _numbered(GOOD) + "\n\n[PLAN]\n" + "\n".join(GOOD) + "\n[PLAN END]",
        "correct",
    ),
    (
        "harmless extra words",
        _numbered([*GOOD[:1], "Put down the red block on the table", *GOOD[2:]]),
        "correct",
    ),
    (
        "explanation after the plan",
        _numbered(GOOD) + "\n\n**Explanation:**\n- First, unstack red so that "
        "orange is clear.\n- Then stack orange on red.",
        "correct",
    ),
    (
        "prose",
        "First, unstack the red block from on top of the orange block, then put down the red block. "
        "Next pick up the red block and stack the red block on top of the blue block. Finally pick up the "
        "orange block; stack the orange block on top of the red block.",
        "correct",
    ),
    (
        "retracted plan, then a correct one",
        _numbered(["Pick up the orange block", "Stack the orange block on top of the red block"])
        + "\n\nThis plan will not achieve the goal. Here's a correct plan:\n"
        + _numbered(GOOD),
        "correct",
    ),
    (
        "a plan after thinking; the thinking's draft must not be read",
        "<think>Maybe:\n1. Pick up the orange block\n"
        "2. Stack the orange block on top of the red block\n</think>\n" + _numbered(GOOD),
        "correct",
    ),
    (
        "thinking only, never closed",
        "<think>1. Unstack the red block from on top of the orange block",
        "unparsed",
    ),
    (
        "put down with a destination: meaning-changing words",
        _numbered(
            [
                *GOOD[:2],
                "Pick up the orange block",
                "Put down the orange block on top of the blue block",
                *GOOD[2:],
            ]
        ),
        # every reading that keeps the destination (stack, unstack) fails; put-down would drop it
        "incorrect",
    ),
    (
        "pick up from another block: meaning-changing words",
        _numbered(["Pick up the red block from the orange block", *GOOD[1:]]),
        # both named blocks kept: unstack red from orange, the plan's own first step
        "correct",
    ),
    ("a hallucinated object", _numbered([*GOOD[:4], "Pick up the purple block", *GOOD[4:]]), "incorrect"),
    (
        "the table in an object's place",
        _numbered([GOOD[0], "Stack the red block on the table", *GOOD[2:]]),
        "incorrect",
    ),
    ("an object we cannot name", _numbered([GOOD[0], "Put down R", *GOOD[2:]]), "unknown"),
    (
        "bare PDDL names and a narrow no-break space",
        "1. unstack a c\n2. put-down a\n3. pick-up a\n4. stack\u202fa\u202fb\n5. pick-up c\n6. stack c a",
        "correct",
    ),
    (
        "a hallucinated PDDL object",
        "(unstack a c)\n(put-down a)\n(pick-up z)\n(pick-up a)\n(stack a b)\n(pick-up c)\n(stack c a)",
        "unknown",
    ),
    ("an invalid plan", _numbered(["Pick up the orange block", *GOOD[1:]]), "incorrect"),
    (
        "an object named two ways, one in parentheses",
        _numbered(["Unstack the red block from on top of the orange block (the blue block)", *GOOD[1:]]),
        # unstack from orange (valid) or from blue (not applicable): the reading decides, so unknown
        "unknown",
    ),
    (
        "an object's own name again in parentheses",
        _numbered(["Unstack the red block from on top of the orange block (orange)", *GOOD[1:]]),
        "correct",
    ),
    # a step that is the action alone names no object: judged as written, like "(put-down)"
    ("the action alone", _numbered([GOOD[0], "**Put down**", *GOOD[2:]]), "incorrect"),
    (
        "actions named in the headings of a 'no plan' answer",
        "No plan reaches this goal:\n1. **Put down and stack actions:** both need a held block.\n"
        "2. **Unstack conditions:** the upper block must be clear.",
        "unparsed",
    ),
    (
        "the action alone, its object only in a remark",
        _numbered([GOOD[0], "Put down (the red one, which we hold)", *GOOD[2:]]),
        "unknown",
    ),
    (
        "an introduction ending in a colon inside a [PLAN END] block",
        "Here is a plan that reaches the goal where the orange block sits on top of the red block, from "
        "the stated initial conditions:\n\n" + "\n".join(s.lower() for s in GOOD) + "\n\n[PLAN END]",
        "correct",
    ),
    (
        "a list saying why the plan works",
        "My plan:\n" + "\n".join(GOOD) + "\n\nThis plan works because:\n1. We unstack the red block from "
        "the orange block, so the orange block is clear.\n2. We stack the orange block on top of the red "
        "block at the end.",
        "correct",
    ),
    (
        "a plan section beside lists of states, all in a [PLAN END] block",
        "Here is how to solve it.\n\n### Starting state:\n- The red block is on top of the orange block."
        "\n- The blue block is clear.\n\n### Target:\n- The orange block is on top of the red block.\n\n"
        "### Plan:\n" + _numbered(GOOD) + "\n\n### [PLAN END]",
        "correct",
    ),
    ("nothing readable", "I am not sure how to solve this problem.", "unparsed"),
    (
        "two different plans, neither retracted",
        _numbered(GOOD) + "\n\nAlternatively:\n\n" + _numbered(["Pick up the blue block", *GOOD[1:]]),
        "unknown",
    ),
]


@pytest.mark.parametrize(("what", "text", "careful"), CORPUS, ids=[c[0] for c in CORPUS])
def test_adversarial_answers_are_judged_as_a_careful_reader_would(what: str, text: str, careful: str) -> None:
    status, detail, reading = _judge(text)
    assert status == careful, (what, status, detail)
    if careful == "unknown":
        assert detail in ("ambiguous-reading", "unread-step") and reading in ("ambiguous", "read")


def test_every_step_states_its_reading_and_span() -> None:
    text = "Plan:\n1. **Unstack red from orange**\n2. Put down red\n"
    instance = _instance()
    trace = DOMAIN.parse(text, instance)
    first = trace.steps[0].parsed
    start, end = first["span"]
    assert text[start:end] == "Unstack red from orange**"[:-2]
    verdicts = DOMAIN.check(instance, trace)
    assert verdicts.steps[0].message.startswith("read 'Unstack red from orange' as (unstack a c)")
    assert trace.reading is not None and trace.reading["status"] == "read"


def test_spans_point_into_the_raw_text_when_thinking_splits_the_response() -> None:
    text = "Plan:\n1. Unstack red from orange\n<think>is red clear? yes</think>\n2. Put down red\n"
    trace = DOMAIN.parse(text, _instance())
    said = [text[s.parsed["span"][0] : s.parsed["span"][1]] for s in trace.steps]
    assert said == ["Unstack red from orange", "Put down red"]


def test_ambiguous_step_lists_both_readings() -> None:
    odd = "Put the red block on top of the blue block"  # stack or unstack; put-down would drop a block
    text = _numbered([*GOOD[:3], odd, *GOOD[4:]])
    instance = _instance()
    verdict = DOMAIN.check(instance, DOMAIN.parse(text, instance)).answer
    assert (verdict.status, verdict.detail) == ("unknown", "ambiguous-reading")
    assert "(stack a b)" in verdict.message and "(unstack a b)" in verdict.message
    destination = "Put down the orange block on top of the blue block"
    short = _numbered([*GOOD[:2], "Pick up the orange block", destination])
    both_wrong = DOMAIN.check(instance, DOMAIN.parse(short, instance)).answer
    assert both_wrong.status == "incorrect" and "every reading is incorrect" in both_wrong.message


def test_a_numbered_step_with_an_unknown_verb_is_unread_not_skipped() -> None:
    """'Place the red block on the blue block' names blocks but no action: the answer cannot be judged
    (skipping the step would call a plan wrong that may be right)."""
    text = _numbered([*GOOD[:3], "Place the red block on top of the blue block", *GOOD[4:]])
    instance = _instance()
    verdict = DOMAIN.check(instance, DOMAIN.parse(text, instance)).answer
    assert (verdict.status, verdict.detail) == ("unknown", "unread-step")
    assert "Place the red block" in verdict.message


@pytest.mark.skipif(not REPRO.is_dir(), reason=f"repro inputs not found at {REPRO}")
def test_repro_file_gives_the_careful_verdicts(tmp_path: Path) -> None:
    command = [
        *(sys.executable, "-m", "modulo", "import", "planbench", str(REPRO / "planbench_reading.json")),
        *("--domain-file", str(ROOT / "blocksworld.pddl"), "--instances", str(REPRO / "instances")),
        *("--config", str(ROOT / "blocksworld.yaml"), "--store", str(tmp_path / "s.sqlite"), "--json"),
    ]
    done = subprocess.run([*command, "--plan-source", "both"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["agree"] == 5
    # the repro keeps no extracted plan: nothing to compare, and no fault made up for its absence
    assert summary["comparison"]["no_extraction"] == 5 and summary["differences"] == []
    responses = json.loads((REPRO / "planbench_reading.json").read_text())["instances"]
    judged = [_judge(r["llm_raw_response"])[:2] for r in responses]
    assert [s for s, _ in judged[:4]] == ["correct"] * 4
    assert judged[4] == ("incorrect", "not-executable")


@pytest.mark.skipif(not REPRO.is_dir(), reason=f"repro inputs not found at {REPRO}")
def test_the_report_gives_the_share_of_each_reading_status(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    command = [
        *(sys.executable, "-m", "modulo", "import", "planbench", str(REPRO / "planbench_reading.json")),
        *("--domain-file", str(ROOT / "blocksworld.pddl"), "--instances", str(REPRO / "instances")),
        *("--config", str(ROOT / "blocksworld.yaml"), "--store", str(store)),
    ]
    subprocess.run(command, capture_output=True, check=True, timeout=120)
    report = subprocess.run(
        [sys.executable, "-m", "modulo", "report", "--json", "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    )
    # four plans read plainly; the fifth has a step with two readings (stack / unstack)
    assert json.loads(report.stdout)["reading_status"] == {"ambiguous": 1, "read": 4}
