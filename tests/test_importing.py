"""Imports and `verify` on real and malformed files: what cannot be judged is listed as a problem (never
agreement), a record without a trace is its own state, paths stay in their folder, bad records never stop
the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from shared_data import SHARED_DATA
from typer.testing import CliRunner

from modulo.cli import app
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.importing import import_file
from modulo.model import AnswerVerdict, Instance, StepVerdict, Trace, Verdicts
from modulo.protocols import ImportedItem, ImportProblem
from modulo.report import build_report, cell
from modulo.store import Store

PLANBENCH = SHARED_DATA / "planbench"
LIB = PLANBENCH / "llm_planning_analysis"
DOMAIN = LIB / "instances/blocksworld/generated_domain.pddl"
CONFIG = LIB / "configs/blocksworld.yaml"
INSTANCES = LIB / "instances/blocksworld/generated_basic"
LOGIC = SHARED_DATA / "logic"
needs_planbench = pytest.mark.skipif(not LIB.is_dir(), reason=f"PlanBench data not found at {LIB}")
needs_logic = pytest.mark.skipif(not LOGIC.is_dir(), reason=f"logic data not found at {LOGIC}")


def results_file(tmp_path: Path, name: str, count: int) -> Path:
    data = json.loads((PLANBENCH / "results" / name).read_text(encoding="utf-8"))
    data["instances"] = data["instances"][:count]
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def planbench_options(
    domain: Path = DOMAIN, config: Path = CONFIG, folder: Path = INSTANCES
) -> dict[str, str]:
    return {"domain-file": str(domain), "config": str(config), "instances": str(folder)}


def logic_file(tmp_path: Path, source: str, count: int) -> Path:
    records = json.loads((LOGIC / source).read_text(encoding="utf-8"))[:count]
    path = tmp_path / Path(source).name
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


# --- item 5: unknown never agrees -------------------------------------------------------------------


@needs_planbench
def test_a_truncated_domain_file_gives_problems_not_agreement(tmp_path: Path) -> None:
    """PlanBench recorded records 1, 2 correct and 3 wrong; with a domain we cannot parse none is judged."""
    truncated = tmp_path / "domain.pddl"
    truncated.write_text(DOMAIN.read_text(encoding="utf-8")[:300], encoding="utf-8")
    path = results_file(tmp_path, "blocksworld__gpt-4_chat__zero_shot.json", 3)
    with Store(tmp_path / "s.sqlite") as store:
        _, summary = import_file(PlanBenchImporter(), path, planbench_options(domain=truncated), store)
    assert (summary["agree"], summary["disagree"], summary["not_judged"]) == (0, 0, 3)
    assert all("PDDL domain" in p["reason"] for p in summary["problems"])
    done = CliRunner().invoke(
        app,
        [
            "import",
            "planbench",
            str(path),
            "--store",
            str(tmp_path / "c.sqlite"),
            "--domain-file",
            str(truncated),
        ]
        + ["--config", str(CONFIG), "--instances", str(INSTANCES)],
    )
    assert done.exit_code == 2 and "3 of 3 record(s)" in done.stderr and "could not be judged" in done.stderr


class NaiveImporter:
    """A third-party importer whose summary counts every result it is given as agreement."""

    name = "naive"
    description = "test"
    options: dict[str, str] = {}
    required: tuple[str, ...] = ()

    def read(self, path: Path, options: dict[str, str]) -> list[ImportedItem | ImportProblem]:
        broken = Instance(domain="maze", id="broken", payload={"nothing": "here"})
        chess = Instance(domain="chess", id="e4")
        return [
            ImportedItem(instance=chess, text="e4", generator="x"),
            ImportedItem(instance=broken, text="anything", generator="x", recorded={"correct": False}),
        ]

    def summarise(
        self, results: list[tuple[ImportedItem, Trace, Verdicts]], problems: list[ImportProblem]
    ) -> dict[str, Any]:
        return {"agree": len(results), "problems": [p.reason for p in problems]}


def test_an_unknown_verdict_reaches_no_importer_as_a_result(tmp_path: Path) -> None:
    """The checker crashes on the malformed instance: `unknown`, so a problem whatever the importer does."""
    with Store(tmp_path / "s.sqlite") as store:
        run, summary = import_file(NaiveImporter(), tmp_path / "x.json", {}, store)
        stored = store.samples(run.id) if run else []
    assert summary["agree"] == 0
    chess, broken = summary["problems"]
    assert "unknown domain 'chess'" in chess  # a record of a domain not installed here: listed, not fatal
    assert broken.startswith("not judged (internal-error)") and "\n" not in broken
    assert len(stored) == 1 and stored[0].verdicts and stored[0].verdicts.answer.status == "unknown"


# --- item 6: no text, no trace ------------------------------------------------------------------------


@needs_planbench
def test_backprompting_records_have_no_text_to_verify(tmp_path: Path) -> None:
    """PlanBench's backprompting file keeps no raw response: nothing to judge, nothing stored."""
    path = results_file(tmp_path, "blocksworld__gpt-4_chat__backprompting.json", 5)
    with Store(tmp_path / "s.sqlite") as store:
        run, summary = import_file(PlanBenchImporter(), path, planbench_options(), store)
        assert store.runs() == []
    assert run is None
    assert (summary["total"], summary["agree"], summary["disagree"], summary["not_judged"]) == (5, 0, 0, 5)
    assert all("llm_raw_response" in p["reason"] for p in summary["problems"])


def verdicts(steps: list[str], answer: str) -> Verdicts:
    return Verdicts(
        steps=[
            StepVerdict(index=i, status=s, rule=None if s == "valid" else "r") for i, s in enumerate(steps)
        ],
        answer=AnswerVerdict(status=answer),  # type: ignore[arg-type]
    )


def test_samples_without_a_judged_trace_sit_beside_the_table() -> None:
    group = cell(
        [
            verdicts(["valid", "valid"], "correct"),
            verdicts(["valid", "invalid"], "incorrect"),
            verdicts([], "correct"),
            verdicts([], "correct"),
            verdicts([], "unparsed"),
            verdicts(["valid", "unknown"], "correct"),  # the checker gave up on a step: not judged
            verdicts(["unknown", "invalid"], "incorrect"),  # a broken rule: invalid
        ]
    )
    t = group.table
    assert (t.valid_correct, t.valid_incorrect, t.invalid_correct, t.invalid_incorrect) == (1, 0, 0, 2)
    assert (group.no_trace.answer_correct, group.no_trace.answer_not_correct) == (2, 1)
    assert (group.trace_unknown.answer_correct, group.trace_unknown.answer_not_correct) == (1, 0)
    assert (group.trace_valid.k, group.trace_valid.n) == (1, 3)
    assert (group.answer_correct.k, group.answer_correct.n) == (4, 7)
    assert (group.correct_given_invalid_trace.k, group.correct_given_invalid_trace.n) == (0, 2)
    assert group.samples == 7


@needs_logic
def test_gold_labels_without_explanations_are_no_trace(tmp_path: Path) -> None:
    """ProofWriter and LogicalDeduction records carry no explanation: no trace, not `trace invalid`;
    PrOntoQA's gold chains are traces."""
    store_path = tmp_path / "s.sqlite"
    runs = {}
    with Store(store_path) as store:
        for source, dataset, count in (
            ("ProofWriter/dev.json", "proofwriter", 6),
            ("LogicalDeduction/train.json", "logicaldeduction", 3),
            ("ProntoQA/dev_part1.json", "prontoqa", 4),
        ):
            path = logic_file(tmp_path, source, count)
            run, summary = import_file(LogicLMImporter(), path, {"dataset": dataset}, store)
            assert run is not None and summary["answer_agree"] == count
            report = build_report(run, store.samples(run.id))
            runs[dataset] = run.id
            overall = report.overall
            if dataset == "prontoqa":
                assert overall.table.valid_correct == count and overall.no_trace.total == 0
            else:
                assert overall.table.total == 0 and report.first_error_histogram == {}
                assert (overall.no_trace.answer_correct, overall.answer_correct.k) == (count, count)
    done = CliRunner().invoke(app, ["report", runs["proofwriter"], "--json", "--store", str(store_path)])
    data = json.loads(done.stdout)
    assert data["overall"]["no_trace"] == {"answer_correct": 6, "answer_not_correct": 0, "total": 6}
    assert data["overall"]["table"]["invalid_correct"] == 0
    text = CliRunner().invoke(app, ["report", runs["proofwriter"], "--store", str(store_path)]).stdout
    assert "no trace" in text
    exported = CliRunner().invoke(app, ["export", runs["proofwriter"], "--store", str(store_path)]).stdout
    assert [json.loads(line)["trace_status"] for line in exported.splitlines()] == ["none"] * 6


# --- item 11: instance paths stay in the folder ----------------------------------------------------------


@needs_planbench
def test_instance_ids_cannot_reach_files_outside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "instances"
    folder.mkdir()
    shutil.copy(INSTANCES / "instance-1.pddl", folder / "1")
    secret = tmp_path / "secret.pddl"
    shutil.copy(INSTANCES / "instance-2.pddl", secret)
    (folder / "link").symlink_to(secret)
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.read_text(encoding="utf-8").replace(
            "instances_template: instance-{}.pddl", "instances_template: '{}'"
        ),
        encoding="utf-8",
    )
    ids = ["1", "/etc/hostname", str(secret), "../secret.pddl", "link", "x" * 5000]
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"instances": [{"instance_id": i, "correct": True, "llm_raw_response": ""} for i in ids]}),
        encoding="utf-8",
    )
    records = PlanBenchImporter().read(path, planbench_options(config=config, folder=folder))
    assert isinstance(records[0], ImportedItem)
    assert records[0].instance.payload["problem_pddl"] == (INSTANCES / "instance-1.pddl").read_text()
    for record in records[1:5]:
        assert isinstance(record, ImportProblem) and "outside the --instances folder" in record.reason
    assert isinstance(records[5], ImportProblem) and "1 to 100 characters" in records[5].reason


# --- item 12: one bad record never stops the rest --------------------------------------------------------


@needs_logic
def test_bad_and_duplicate_logic_records_are_listed_and_the_rest_imported(tmp_path: Path) -> None:
    first, second = json.loads((LOGIC / "ProofWriter/dev.json").read_text(encoding="utf-8"))[:2]
    huge = {**first, "id": "ProofWriter_AttNoneg-OWA-D" + "9" * 5000 + "-1_Q1"}
    clash = {**second, "id": first["id"]}  # another problem under the first one's id
    path = tmp_path / "records.json"
    path.write_text(json.dumps([huge, first, clash, first, second]), encoding="utf-8")
    with Store(tmp_path / "s.sqlite") as store:
        run, summary = import_file(LogicLMImporter(), path, {"dataset": "proofwriter"}, store)
        assert run is not None
        samples = store.samples(run.id)
    assert summary["total"] == 5 and summary["answer_agree"] == 3 and summary["not_judged"] == 2
    reasons = {p["record"]: p["reason"] for p in summary["problems"]}
    assert "1 to 200 characters" in reasons["#0"] and "same id" in reasons[first["id"]]
    contexts = {(s.instance.id, s.sample_index): s.instance.payload["context"] for s in samples}
    assert contexts == {
        (first["id"], 0): first["context"],
        (first["id"], 1): first["context"],
        (second["id"], 0): second["context"],
    }


def test_verify_reports_bad_lines_and_verifies_the_rest(tmp_path: Path) -> None:
    lines = [
        {"id": "chess", "domain": "chess", "instance": {}, "text": "e4"},
        {"id": "seed", "domain": "maze", "instance": {"payload": {}, "seed": "seven"}, "text": "x"},
        {
            "id": "difficulty",
            "domain": "maze",
            "instance": {"payload": {}, "difficulty": {"d": [1]}},
            "text": "",
        },
        {"id": "ok", "domain": "maze", "instance": {"payload": {}}, "text": "x"},
    ]
    traces = tmp_path / "traces.jsonl"
    traces.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    out = tmp_path / "verdicts.jsonl"
    done = CliRunner().invoke(app, ["verify", str(traces), "--out", str(out)])
    assert done.exit_code == 2 and "3 line(s)" in done.stderr
    for number, words in ((1, "unknown domain 'chess'"), (2, "seed"), (3, "difficulty")):
        assert f"traces.jsonl:{number}: " in done.stderr and words in done.stderr
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    # the checker crashes on the empty maze payload: an explicit unknown, and no step was read
    assert record["id"] == "ok" and record["answer_status"] == "unknown" and record["trace_status"] == "none"


@needs_planbench
def test_an_edited_results_file_is_a_new_run_not_a_resume(tmp_path: Path) -> None:
    """Same path, other content: the stored verdicts of the old text must not be reused for the new one."""
    source = results_file(tmp_path, "blocksworld__gpt-4_chat__zero_shot.json", 3)
    with Store(tmp_path / "s.sqlite") as store:
        first, _ = import_file(PlanBenchImporter(), source, planbench_options(), store)
        data = json.loads(source.read_text(encoding="utf-8"))
        for record in data["instances"]:
            record["llm_raw_response"] = "[PLAN]\n[PLAN END]"
        source.write_text(json.dumps(data), encoding="utf-8")
        second, _ = import_file(PlanBenchImporter(), source, planbench_options(), store)
        assert first is not None and second is not None and first.id != second.id
        assert [s.text for s in store.samples(second.id)] == ["[PLAN]\n[PLAN END]"] * 3


@needs_planbench
def test_recorded_plan_source_verifies_planbenchs_own_extraction(tmp_path: Path) -> None:
    """`--plan-source recorded` checks our checker against VAL on the plans PlanBench extracted: the
    backprompting file (no responses; extracted plans in colour names) can be judged that way."""
    path = results_file(tmp_path, "blocksworld__gpt-4_chat__backprompting.json", 12)
    recorded = {**planbench_options(), "plan-source": "recorded"}
    with Store(tmp_path / "s.sqlite") as store:
        run, summary = import_file(PlanBenchImporter(), path, recorded, store)
        assert run is not None and run.config.generator.params["plan-source"] == "recorded"
    assert summary["disagree"] == 0 and summary["not_judged"] == 0
    assert summary["agree"] + summary["unparsed"] == 12
    with pytest.raises(ValueError, match="plan-source"):
        PlanBenchImporter().read(path, {**planbench_options(), "plan-source": "ours"})


def test_pddl_steps_with_a_wrong_arity_are_judged_as_written() -> None:
    """'(stack a)' in an extracted plan: VAL rejects it, and so do we (never unknown, never dropped)."""
    from modulo.domains.planning.domain import BlocksworldDomain

    domain = BlocksworldDomain()
    instance = domain.generate(1, 0, blocks=3)[0]
    trace = domain.parse("(pick-up a)\n(stack a)", instance)
    assert domain.check(instance, trace).answer.status == "incorrect"
