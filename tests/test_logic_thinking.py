"""Judging thinking about logic problems: claims checked like response steps, suppositions never
asserted (and never support later claims), retractions marked, the answer left to the response."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modulo.cli import app
from modulo.domains.logic.thinking import supposition_scopes
from modulo.model import Instance, StepVerdict
from modulo.registry import get_domain


def judge(instance: Instance, text: str) -> list[tuple[str, StepVerdict]]:
    steps, verdicts, _ = get_domain(instance.domain).judge_thinking(instance, text)  # type: ignore[attr-defined]
    assert [v.index for v in verdicts] == list(range(len(steps)))
    return [(s.text, v) for s, v in zip(steps, verdicts, strict=True)]


def gold(instance: Instance) -> list[str]:
    lines = get_domain("deduction").oracle(instance, "gold", 0).splitlines()
    return [line for line in lines if line and not line.lower().startswith("answer")]


def negated(claim: str) -> str:
    """'Stella is a wumpus.' -> 'Stella is not a wumpus.' (and back)."""
    return claim.replace(" is not ", " is ") if " is not " in claim else claim.replace(" is ", " is not ", 1)


@pytest.mark.parametrize("seed", range(12))
def test_gold_thinking_with_a_false_supposition_and_commentary_has_no_error(seed: int) -> None:
    instance = get_domain("deduction").generate(1, seed)[0]
    chain = gold(instance)
    facts = [c for c in chain if " is " in c and not c.lower().startswith(("every", "each", "if"))]
    rng = random.Random(seed)
    wrong = negated(rng.choice(facts))
    text = (
        "Okay, let me think about this. We need to determine whether the statement holds. "
        f"Suppose {wrong[0].lower() + wrong[1:]} Then {negated(facts[-1])}\n\n"
        "Hmm, let me go step by step instead.\n" + "\n".join(chain) + "\nSo that settles it."
    )
    judged = judge(instance, text)
    errors = [(t, v.rule) for t, v in judged if v.status in ("invalid", "unsupported")]
    assert errors == []
    supposed = [t for t, v in judged if v.rule == "thinking.context"]
    assert supposed == [f"Then {negated(facts[-1])}"]  # the false claim said under the supposition
    assert sum(v.status == "valid" for _, v in judged) == len(chain)


def test_a_planted_false_claim_is_flagged_and_the_rest_stays_valid() -> None:
    instance = get_domain("deduction").generate(1, 3)[0]
    chain = gold(instance)
    rules = ("every", "each", "if")
    facts = [k for k, c in enumerate(chain) if " is " in c and not c.lower().startswith(rules)]
    at = facts[len(facts) // 2]
    planted = negated(chain[at])
    text = "Let me work it out.\n" + "\n".join([*chain[: at + 1], planted, *chain[at + 1 :]])
    judged = judge(instance, text)
    bad = [(t, v.status) for t, v in judged if v.status != "valid"]
    assert bad == [(planted, "invalid")]


def test_claims_under_a_supposition_support_nothing() -> None:
    instance = get_domain("deduction").generate(1, 5)[0]
    chain = gold(instance)
    last = chain[-1]
    # the conclusion said under a supposition, then restated bare: it must be judged on its own support,
    # not on the supposed copy
    said = last[0].lower() + last[1:]
    text = f"Suppose {said} Then {said}\n\nTherefore {said}"
    judged = judge(instance, text)
    assert [v.status for _, v in judged] == ["unknown", "unsupported"]


def test_a_supposition_closes_at_the_contradiction_it_finds() -> None:
    text = (
        "Suppose Stella is kind. Then Stella is a wumpus. That is a contradiction. "
        "So Stella is not kind. Stella is a lempus."
    )
    scopes = supposition_scopes(text)
    assert len(scopes) == 1
    start, end = scopes[0]
    assert text[start:end].endswith("That is a contradiction.")


def test_a_retraction_marks_the_error_before_it() -> None:
    instance = get_domain("deduction").generate(1, 0)[0]
    chain = gold(instance)
    wrong = negated(chain[0])
    judged = judge(instance, f"{wrong} Wait, no, that's wrong.\n" + "\n".join(chain))
    assert judged[0][1].status == "invalid" and "retracts it" in judged[0][1].message


def test_modulo_verify_judges_logic_thinking(tmp_path: Path) -> None:
    instance = get_domain("deduction").generate(1, 1)[0]
    record = {
        "id": "t1",
        "domain": "deduction",
        "instance": instance.model_dump(mode="json", exclude={"domain"}),
        "text": f"Answer: {instance.payload['answer']}",
        "reasoning": "Let me think.\n" + "\n".join(gold(instance)),
    }
    traces = tmp_path / "traces.jsonl"
    traces.write_text(json.dumps(record) + "\n")
    result = CliRunner().invoke(app, ["verify", str(traces), "--verify-reasoning"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["trace_status"] == "valid" and out["answer_status"] == "correct"
