"""Judging a reasoning model's thinking claim by claim: one test per phenomenon, on texts written here
for one small problem (orange on blue on red; goal red on blue, orange on red), plus the entry points
(`modulo verify --verify-reasoning`, suites with `trace_source = "reasoning"`, reverify)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import SHARED_DATA
from typer.testing import CliRunner

from modulo.cli import app
from modulo.importing import store_records
from modulo.model import Instance, StepVerdict
from modulo.registry import get_domain, get_importer
from modulo.store import Store
from modulo.thinking_report import thinking_summaries

PROBLEM = """(define (problem three)
  (:domain blocksworld-4ops)
  (:objects a b c)
  (:init (handempty) (ontable a) (on b a) (on c b) (clear c))
  (:goal (and (on a b) (on c a))))
"""
"""a = red, b = blue, c = orange (the Blocksworld templates' names)."""


@pytest.fixture(scope="module")
def instance() -> Instance:
    made = get_domain("blocksworld").generate(1, 0, blocks=3)[0]
    payload = {k: made.payload[k] for k in ("domain_pddl", "templates")}
    return Instance(domain="blocksworld", id="three", payload={**payload, "problem_pddl": PROBLEM})


def judge(instance: Instance, text: str) -> list[tuple[str, StepVerdict]]:
    steps, verdicts, _ = get_domain("blocksworld").judge_thinking(instance, text)  # type: ignore[attr-defined]
    return [(s.text, v) for s, v in zip(steps, verdicts, strict=True)]


def errors(judged: list[tuple[str, StepVerdict]]) -> list[tuple[str, str | None]]:
    return [(text, v.rule) for text, v in judged if v.status in ("invalid", "unsupported")]


def status_of(judged: list[tuple[str, StepVerdict]], text: str) -> str:
    found = [v.status for said, v in judged if said == text]
    assert found, f"no claim {text!r} among {[t for t, _ in judged]}"
    return found[0]


CORRECT = """Okay, the orange block is clear and the hand is empty.
Blue is on red, orange is on blue, red is on the table.

1. Unstack orange from blue. Now I'm holding orange. Blue is clear.
2. Put down orange. Orange is on the table.
3. Unstack blue from red. Now holding blue. Red is clear.
4. Put down blue. Hand is empty.
5. Pick up red. I'm holding red.
6. Stack red on blue. Red is on blue.
7. Pick up orange.
8. Stack orange on red. Now orange is on red.
"""


def test_a_correct_simulation_is_valid_claim_by_claim(instance: Instance) -> None:
    judged = judge(instance, CORRECT)
    assert not errors(judged)
    assert len(judged) >= 20
    assert all(v.status == "valid" for _, v in judged), [
        (t, v.message) for t, v in judged if v.status != "valid"
    ]


@pytest.mark.parametrize(
    ("planted", "claim", "rule"),
    [
        ("2. Put down orange. Orange is on the table.", "Orange is on the table", None),
        ("2. Put down orange. Red is clear.", "Red is clear", "thinking.state"),
        ("4. Put down blue. Hand is empty.", "Hand is empty", None),
        ("4. Put down blue. I'm holding blue.", "I'm holding blue", None),  # held before: which state?
        ("7. Pick up orange.", "Pick up orange", None),
        ("7. Pick up blue.", "Pick up blue", "thinking.inapplicable"),
    ],
)
def test_a_planted_error_is_flagged_at_its_claim_and_only_there(
    instance: Instance, planted: str, claim: str, rule: str | None
) -> None:
    original = next(line for line in CORRECT.splitlines() if line.startswith(planted[:2]))
    judged = judge(instance, CORRECT.replace(original, planted))
    found = errors(judged)
    assert found == ([(claim, rule)] if rule else []), found


def test_a_claim_true_before_the_last_action_and_false_after_it_is_unknown(instance: Instance) -> None:
    judged = judge(
        instance, CORRECT.replace("4. Put down blue. Hand is empty.", "4. Put down blue. I'm holding blue.")
    )
    assert status_of(judged, "I'm holding blue") == "unknown"


def test_a_misread_initial_condition_and_a_wrong_goal(instance: Instance) -> None:
    text = "Initially, blue is on the table. The goal is to have blue on red. So red must go on blue."
    assert errors(judge(instance, text)) == [
        ("blue is on the table", "thinking.initial_state"),
        ("The goal is to have blue on red", "thinking.goal"),
    ]


def test_hypotheticals_and_questions_are_never_judged(instance: Instance) -> None:
    text = (
        "If I stack red on orange first, then red is on orange. Maybe blue is on the table? "
        "Could I pick up red? I would need red to be clear. Suppose orange is on red."
    )
    judged = judge(instance, text)
    assert judged == []


def test_a_retracted_simulation_keeps_its_error_marked_as_retracted(instance: Instance) -> None:
    text = (
        "First, unstack orange from blue. Then stack orange on red. "
        "Wait, that doesn't work: red is not clear."
    )
    judged = judge(instance, text)
    assert errors(judged) == [("Then stack orange on red", "thinking.inapplicable")]
    message = next(v.message for t, v in judged if t == "Then stack orange on red")
    assert "retracts it" in message


def test_after_a_retraction_a_continuing_simulation_has_an_unknown_start(instance: Instance) -> None:
    text = "First, unstack orange from blue. Wait, no. Then put down orange. Now orange is on the table."
    judged = judge(instance, text)
    assert not errors(judged)
    assert status_of(judged, "Then put down orange") == "unknown"
    assert status_of(judged, "Now orange is on the table") == "unknown"


def test_an_item_numbered_one_starts_over_from_the_initial_state(instance: Instance) -> None:
    text = (
        "First, unstack orange from blue. Put down orange. Wait, that's wrong.\n\n"
        "1. Unstack orange from blue.\n2. Put it down. Orange is on the table."
    )
    judged = judge(instance, text)
    assert not errors(judged)
    assert status_of(judged, "Put it down") == "valid"
    assert "'it' read as" in next(v.message for t, v in judged if t == "Put it down")


def test_applicability_claims_are_judged_against_preconditions(instance: Instance) -> None:
    text = (
        "The orange block is clear, so I can unstack orange from blue. "
        "I can't pick up red because blue is on it. I can pick up blue."
    )
    assert errors(judge(instance, text)) == []  # "I can …" before any simulation: context not told
    text = "First, unstack orange from blue. I can pick up red now."
    assert errors(judge(instance, text)) == [("I can pick up red now", "thinking.applicability")]


def test_an_action_we_cannot_read_makes_the_state_unknown(instance: Instance) -> None:
    text = "First, unstack orange from blue. Then move it somewhere else. Now blue is clear and red is clear."
    judged = judge(instance, text)
    assert not errors(judged)
    assert status_of(judged, "red is clear") == "unknown"


def test_a_step_number_out_of_sequence_makes_the_state_unknown(instance: Instance) -> None:
    text = "1. Unstack orange from blue.\n2. Put down orange.\n\nAfter step 1, orange is on the table."
    judged = judge(instance, text)
    assert status_of(judged, "orange is on the table") == "unknown"


def test_the_noun_stack_is_not_an_action(instance: Instance) -> None:
    text = "First, unstack orange from blue. The stack is shorter now. Blue is clear."
    judged = judge(instance, text)
    assert status_of(judged, "Blue is clear") == "valid"


# entry points ------------------------------------------------------------------------------------


def _record(instance: Instance, reasoning: str | None) -> str:
    record = {
        "id": "r1",
        "domain": "blocksworld",
        "instance": instance.model_dump(mode="json", exclude={"domain"}),
        "text": "[PLAN]\nunstack the orange block from on top of the blue block\n[PLAN END]",
    }
    if reasoning is not None:
        record["reasoning"] = reasoning
    return json.dumps(record)


def test_modulo_verify_judges_the_reasoning_field(instance: Instance, tmp_path: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    traces.write_text(_record(instance, CORRECT) + "\n" + _record(instance, None) + "\n")
    result = CliRunner().invoke(app, ["verify", str(traces), "--verify-reasoning"])
    assert result.exit_code == 0, result.output
    with_thinking, without = (json.loads(line) for line in result.stdout.splitlines())
    assert with_thinking["trace_status"] == "valid" and len(with_thinking["steps"]) >= 20
    assert with_thinking["answer_status"] == "incorrect"  # the answer is the response's one-step plan
    assert without["trace_status"] == "none" and without["steps"] == []


def test_a_reasoning_suite_judges_the_thinking_and_reverify_keeps_the_source(tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'name = "think"\n[generator]\nname = "oracle"\nparams = {variant = "exact"}\n'
        '[[tasks]]\ndomain = "blocksworld"\ncount = 2\ntrace_source = "reasoning"\nparams = {blocks = 3}\n'
    )
    store = tmp_path / "runs.sqlite"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(suite), "--store", str(store)])
    assert result.exit_code == 0, result.output
    report = json.loads(runner.invoke(app, ["report", "--store", str(store), "--json"]).stdout)
    # the oracle writes no thinking: no trace to judge, the answers still judged from the response
    assert report["overall"]["no_trace"]["answer_correct"] == 2
    check = runner.invoke(app, ["reverify", "--store", str(store), "--check"])
    assert check.exit_code == 0, check.output


# DeepSeek-R1's real thinking ------------------------------------------------------------------------

R1_FILE = "planbench/results/blocksworld_3__deepseek-r1-api__zero_shot.json"
REVIEWED = Path(__file__).parent / "data" / "r1_thinking_errors.json"
"""Every error the checker finds in R1's 100 thinking texts, each read in context by hand and found to be
a real error of the thinking (most are steps of a candidate plan R1 then rejects itself). A new finding,
or a lost one, fails this test until it is reviewed."""


def test_the_errors_found_in_r1s_real_thinking_are_the_reviewed_ones(tmp_path: Path) -> None:
    results = SHARED_DATA / R1_FILE
    if not results.exists():
        pytest.skip(f"PlanBench results not found at {results}")
    base = SHARED_DATA / "planbench" / "llm_planning_analysis"
    options = {
        "domain-file": str(base / "instances/blocksworld/generated_domain.pddl"),
        "instances": str(base / "instances/blocksworld/generated_basic_3"),
        "config": str(base / "configs/blocksworld_3.yaml"),
    }
    importer = get_importer("planbench")
    with Store(tmp_path / "r1.sqlite") as store:
        records = importer.read(results, options)
        run, _ = store_records(importer, results, options, records, store, trace_source="reasoning")
        assert run is not None
        samples = store.samples(run.id)
    found = [
        {
            "instance": s.instance.id,
            "claim": step.text,
            "span": step.parsed["span"],
            "status": verdict.status,
            "rule": verdict.rule,
            "retracted": bool(step.parsed.get("retracted")),
        }
        for s in sorted(samples, key=lambda s: int(s.instance.id.rsplit("-", 1)[1]))
        if s.trace and s.verdicts
        for step, verdict in zip(s.trace.steps, s.verdicts.steps, strict=True)
        if verdict.status in ("invalid", "unsupported")
    ]
    assert found == json.loads(REVIEWED.read_text())
    summary = thinking_summaries(samples)["planbench:deepseek-r1-api:zeroshot"]
    assert summary.traces == 100 and summary.no_thinking == 0
    assert summary.with_error.k == len({f["instance"] for f in found})
    for finding in found:  # every span points at the words of its claim in the stored thinking
        owner = next(s for s in samples if s.instance.id == finding["instance"])
        start, end = finding["span"]
        assert (owner.reasoning or "")[start:end] == finding["claim"]


def test_thinking_from_an_openai_server_is_judged_on_a_recorded_r1_reply(tmp_path: Path) -> None:
    """R1's real reply (its `reasoning_content` and `content`) served by a loopback server, fetched by
    the `openai` generator, verified with `trace_source = "reasoning"` against its PlanBench problem."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    pytest.importorskip("httpx", reason="the openai generator needs httpx")
    from modulo.generators.openai_compat import OpenAIGenerator
    from modulo.protocols import GenerationRequest, SamplingParams
    from modulo.verify import verify_text

    results = SHARED_DATA / R1_FILE
    if not results.exists():
        pytest.skip(f"PlanBench results not found at {results}")
    record = json.loads(results.read_text())["instances"][0]
    reply = json.dumps(record["response_object"]).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        generator = OpenAIGenerator(
            {"model": "deepseek-reasoner", "base_url": url}, lambda name: get_domain(name)
        )
        [generation] = generator.generate(
            [
                GenerationRequest(
                    key="r1",
                    messages=[],
                    instance=Instance(domain="blocksworld", id="r1"),
                    sampling=SamplingParams(),
                )
            ]
        )
    finally:
        server.shutdown()
    message = record["response_object"]["choices"][0]["message"]
    assert generation.reasoning == message["reasoning_content"] and generation.text == message["content"]
    base = SHARED_DATA / "planbench" / "llm_planning_analysis"
    importer = get_importer("planbench")
    options = {
        "domain-file": str(base / "instances/blocksworld/generated_domain.pddl"),
        "instances": str(base / "instances/blocksworld/generated_basic_3"),
        "config": str(base / "configs/blocksworld_3.yaml"),
    }
    imported = next(i for i in importer.read(results, options) if getattr(i, "instance", None))
    domain = get_domain("blocksworld")
    trace, verdicts = verify_text(
        domain, imported.instance, generation.text, generation.reasoning, "reasoning"
    )
    assert verdicts.answer.status == "correct"
    assert trace.reading is not None and trace.reading["thinking"]["sentences"] > 50
    assert len(verdicts.steps) > 30 and not [v for v in verdicts.steps if v.status == "invalid"]
    for step in trace.steps:  # spans point into the thinking, not the response
        start, end = step.parsed["span"]
        assert message["reasoning_content"][start:end] == step.text


TYPED_DOMAIN = """(define (domain roads)
  (:requirements :strips :typing)
  (:types truck place)
  (:predicates (at ?t - truck ?p - place))
  (:action drive :parameters (?t - truck ?from - place ?to - place)
    :precondition (at ?t ?from) :effect (and (at ?t ?to) (not (at ?t ?from)))))
"""
TYPED_PROBLEM = """(define (problem two) (:domain roads)
  (:objects t1 - truck p1 p2 - place) (:init (at t1 p1)) (:goal (at t1 p2)))
"""


def test_an_action_of_the_wrong_types_is_malformed() -> None:
    templates = {"actions": {"drive": "drive {} from {} to {}"}, "predicates": {"at": "{} is at {}"}}
    instance = Instance(
        domain="pddl",
        id="roads",
        payload={"domain_pddl": TYPED_DOMAIN, "problem_pddl": TYPED_PROBLEM, "templates": templates},
    )
    good = judge(instance, "First, drive t1 from p1 to p2. Now t1 is at p2.")
    assert [v.status for _, v in good] == ["valid", "valid"]
    bad = judge(instance, "First, drive p1 from t1 to p2.")
    assert [(t, v.rule) for t, v in bad] == [("drive p1 from t1 to p2", "thinking.malformed")]
