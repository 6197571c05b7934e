"""PlanBench result files: import every response, re-verify it, report agreement with VAL's verdicts.

PlanBench judged `extracted_llm_plan` (its own reading of the response) with VAL. We read
`llm_raw_response` with the config's templates; where our reading or our verdict differs, the
disagreement's reason says how (we are stricter than VAL: no dropped extra arguments, no skipped
lines naming an action with the wrong number of objects). With `--plan-source both` the summary also
compares the two readings record by record (see `compare`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from modulo.inputs import parse_yaml, read_json, read_text
from modulo.model import Instance, Trace, Verdicts
from modulo.protocols import ImportedItem, ImportProblem, RecordedTranslation
from modulo.verifiers.pddl_load import load_problem

from .compare import (
    FAULTS,
    UNEXPLAINED,
    Fault,
    compare,
    extracted,
    extraction_fault,
    plan_of,
    problem_objects,
    read_exactly,
    verify_extraction,
)
from .search import SEARCH_BUDGET, optimal_length
from .templates import PDDL_ACTION, load_config

DOMAIN_NAME = re.compile(r"\(\s*domain\s+([^\s()]+)", re.I)


class PlanBenchImporter:
    name = "planbench"
    description = (
        "PlanBench result files (plans and state-tracking traces), re-verified against VAL's verdicts"
    )
    options = {
        "domain-file": "the domain's PDDL file",
        "instances": "folder of the instance PDDL files (instance-N.pddl)",
        "config": "the PlanBench YAML config with the English templates",
        "plan-source": "response (default: read `llm_raw_response` with modulo's reader), recorded "
        "(verify PlanBench's own extraction, `extracted_llm_plan`: checks the checker against VAL) or both "
        "(store the response's verdicts; the summary lists every record whose two readings differ, with "
        "which side is wrong and why)",
        "optimal-budget": "states breadth-first search may generate for each instance's optimal plan length "
        f"(default {SEARCH_BUDGET}, searched only for valid plans; past the budget the length is unknown and "
        "a valid plan is just `valid`); with this option every instance is searched, at import",
        "assisted": "recorded: also store PlanBench's own model-assisted reading (`raw_translation`, in the "
        "o1 files) beside each response, grounded in it and compared with modulo's reading",
    }
    required = ("domain-file", "instances", "config")

    def read(self, path: Path, options: dict[str, str]) -> list[ImportedItem | ImportProblem]:
        source = options.get("plan-source", "response")
        if source not in PLAN_SOURCES:
            raise ValueError(f"--plan-source must be {' or '.join(PLAN_SOURCES)}, not {source!r}")
        if options.get("assisted", "recorded") != "recorded":
            raise ValueError(
                f"--assisted must be recorded (PlanBench's raw_translation), not {options['assisted']!r}"
            )
        data = read_json(path, "results file")
        records = data.get("instances") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise ValueError(f"{path} is not a PlanBench results file: it needs a list under 'instances'")
        domain_text = read_text(Path(options["domain-file"]), "--domain-file")
        config_text = read_text(Path(options["config"]), "--config")
        raw_config = parse_yaml(config_text, f"--config {options['config']}")
        if not isinstance(raw_config, dict):
            raise ValueError(f"--config {options['config']} is not a PlanBench config (a YAML mapping)")
        try:
            templates = load_config(config_text)
        except ValueError as exc:
            raise ValueError(f"--config {options['config']}: {exc}") from None
        folder = Path(options["instances"])
        if not folder.is_dir():
            raise ValueError(
                f"--instances {folder} is not a folder; give the folder of instance-N.pddl files"
            )
        pattern = str(raw_config.get("instances_template", "instance-{}.pddl"))
        if "{}" not in pattern:
            raise ValueError(
                f"--config {options['config']}: instances_template {pattern!r} needs a '{{}}' for the "
                "instance id, e.g. 'instance-{}.pddl'"
            )
        match = DOMAIN_NAME.search(domain_text)
        domain = "blocksworld" if match and match.group(1).lower().startswith("blocksworld") else "pddl"
        generator = f"planbench:{data.get('engine', 'unknown')}:{data.get('prompt_type', 'unknown')}"
        if source == "recorded":
            generator += ":recorded-extraction"
        tag = str(raw_config.get("domain_name", path.stem))
        files = InstanceFiles(folder, pattern)
        budget = _budget(options.get("optimal-budget"))
        items = [
            self._item(record, position, files, domain, domain_text, templates, generator, tag, source)
            for position, record in enumerate(records)
        ]
        if budget is not None:
            items = [_with_optimum(item, budget) for item in items]
        if "assisted" in options:
            actions = {a.lower() for a in ACTION_NAME.findall(domain_text)}
            items = [
                _with_translation(item, record, actions) for item, record in zip(items, records, strict=True)
            ]
        return items

    def _item(
        self,
        record: Any,
        position: int,
        files: InstanceFiles,
        domain: str,
        domain_text: str,
        templates: dict[str, Any],
        generator: str,
        tag: str,
        source: str,
    ) -> ImportedItem | ImportProblem:
        if not isinstance(record, dict) or "instance_id" not in record:
            return ImportProblem(record=f"#{position}", reason="record has no instance_id")
        raw_id = record["instance_id"]
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not 0 < len(str(raw_id)) <= 100:
            return ImportProblem(
                record=f"#{position}",
                reason="instance_id must be a number or a name of 1 to 100 characters",
            )
        label = str(raw_id)
        recorded = _recorded(record)
        if recorded is None:
            return ImportProblem(record=label, reason="record has no verdict ('correct' or 'llm_correct')")
        response = _text_to_verify(record, source)
        if isinstance(response, ImportProblem):
            return response.model_copy(update={"record": label})
        problem = files.read(label)
        if isinstance(problem, ImportProblem):
            return problem
        try:  # unreadable PDDL: listed with the reader's one-line message, not stored (reads are cached)
            load_problem(domain_text, problem)
        except ValueError as exc:
            return ImportProblem(record=label, reason=str(exc))
        payload = {"domain_pddl": domain_text, "problem_pddl": problem, "templates": templates}
        instance = Instance(
            domain=domain,
            id=f"planbench-{tag}-{label}",
            payload=payload,
            difficulty={"source": "planbench"},
        )
        return ImportedItem(
            instance=instance,
            text=response,
            generator=generator,
            recorded={
                "correct": recorded,
                "extracted_llm_plan": _plan_lines(record.get("extracted_llm_plan")),
                "compare": source == "both",
                "has_extraction": "extracted_llm_plan" in record,
            },
            reasoning=reasoning_of(record),
        )

    def summarise(
        self, results: list[tuple[ImportedItem, Trace, Verdicts]], problems: list[ImportProblem]
    ) -> dict[str, Any]:
        """`agree`/`disagree`: records where our verdict is correct or incorrect and matches the file's or
        not (`disagree_planbench_fault`: those a known PlanBench extraction fault explains, named by
        each disagreement's `planbench_fault`); `unparsed`: responses with no readable plan that the
        file also judged wrong (one it judged correct is a disagreement); `not_judged`: records we could
        not judge (not imported, no response, or our verdict is `unknown`), listed under `problems`.
        Unknown never agrees with anything.
        With `--plan-source both`: `comparison` (counts) and `differences` (see `compare_readings`)."""
        agree = unparsed = 0
        disagreements = []
        listed = [{"record": p.record, "reason": p.reason} for p in problems]
        for item, trace, verdicts in results:
            recorded = bool(item.recorded["correct"])
            ours = verdicts.answer.status
            if ours == "unknown":
                listed.append({"record": item.instance.id, "reason": f"not judged: {verdicts.answer.detail}"})
            elif ours == "unparsed" and not recorded:
                unparsed += 1
            elif (ours == "correct") == recorded:
                agree += 1
            else:
                reason, fault = explain(item, trace, verdicts)
                disagreements.append(
                    {
                        "instance_id": item.instance.id,
                        "recorded": recorded,
                        "ours": ours,
                        "reason": reason,
                        "planbench_fault": fault.kind if fault else None,
                    }
                )
        summary: dict[str, Any] = {
            "total": len(results) + len(problems),
            "agree": agree,
            "disagree": len(disagreements),
            "disagree_planbench_fault": sum(d["planbench_fault"] is not None for d in disagreements),
            "unparsed": unparsed,
            "not_judged": len(listed),
            "disagreements": disagreements,
            "problems": listed,
        }
        if any(item.recorded.get("compare") for item, _, _ in results):
            summary.update(compare_readings(results))
        return summary


def explain(item: ImportedItem, trace: Trace, verdicts: Verdicts) -> tuple[str, Fault | None]:
    """Our verdict's reason and how our reading of the response differs from PlanBench's; the known
    PlanBench extraction fault that explains the difference, if one does."""
    ours = plan_of(trace)
    theirs = extracted(item.instance, item.recorded.get("extracted_llm_plan", []))
    reason = verdicts.answer.message or verdicts.answer.detail or verdicts.answer.status
    if ours == theirs:
        return f"{reason} (same plan as PlanBench's extraction; VAL judged it differently)", None
    differences = []
    for k in range(max(len(ours), len(theirs))):
        mine = ours[k] if k < len(ours) else "-"
        other = theirs[k] if k < len(theirs) else "-"
        if mine != other:
            differences.append(f"step {k + 1}: ours ({mine}) vs PlanBench ({other})")
    arity = [s.text for s in trace.steps if s.parsed and not s.parsed.get("exact", True)]
    stricter = (
        " We read every line that names an action; PlanBench drops lines whose object count does not "
        "fit the action and VAL drops extra arguments, so we are stricter here"
        f" (e.g. {arity[0]!r})."
        if arity
        else ""
    )
    shown = "; ".join(differences[:3])
    fault = extraction_fault(ours, theirs, read_exactly(trace), problem_objects(item.instance))
    known = f" {fault.reason}." if fault else ""
    return f"{reason}. Our reading differs from PlanBench's extracted plan: {shown}.{known}{stricter}", fault


def compare_readings(results: list[tuple[ImportedItem, Trace, Verdicts]]) -> dict[str, Any]:
    """Both readings of every judged record (not `unknown`) that has PlanBench's extraction
    (`no_extraction` counts those without): `comparison` counts the records whose plans
    differ, those whose verdicts differ too, and the differences per reason (a PlanBench extraction
    fault, or `unexplained`); `differences` lists each (see `compare.compare`)."""
    differences = []
    judged = [(i, t, v) for i, t, v in results if v.answer.status != "unknown"]  # those are `problems`
    missing = [i.instance.id for i, _, _ in judged if not i.recorded.get("has_extraction", True)]
    for item, trace, verdicts in judged:
        if not item.recorded.get("has_extraction", True):
            continue  # no extraction to compare with: never read as "PlanBench extracted nothing"
        lines = item.recorded.get("extracted_llm_plan", [])
        theirs = verify_extraction(item.instance, lines)
        entry = compare(item.instance, bool(item.recorded["correct"]), (trace, verdicts), lines, theirs)
        if entry is not None:
            differences.append(entry)
    reasons = Counter(d["fault"] for d in differences)
    return {
        "comparison": {
            "compared": len(judged) - len(missing),
            "no_extraction": len(missing),
            "plans_differ": len(differences),
            "verdicts_differ": sum(d["verdicts_differ"] for d in differences),
            "planbench_wrong": sum(d["wrong"] == "planbench" for d in differences),
            UNEXPLAINED: reasons[UNEXPLAINED],
            "by_reason": {k: reasons[k] for k in [*FAULTS, UNEXPLAINED] if reasons[k]},
        },
        "differences": differences,
    }


PLAN_SOURCES = ("response", "recorded", "both")
"""What `--plan-source` may name: the model's response, or PlanBench's own extraction of it."""


def _text_to_verify(record: dict[str, Any], source: str) -> str | ImportProblem:
    """The response (`llm_raw_response`), or with `recorded` the plan PlanBench extracted and gave VAL,
    written one PDDL action a line."""
    if source == "recorded":
        if "extracted_llm_plan" not in record:
            return ImportProblem(record="", reason="record has no extracted_llm_plan to verify")
        return "\n".join(_plan_lines(record["extracted_llm_plan"]))
    response = record.get("llm_raw_response")
    if not isinstance(response, str):
        return ImportProblem(
            record="",
            reason="record has no llm_raw_response, so there is no text to verify (PlanBench's "
            "backprompting files keep only its extracted plan: `--plan-source recorded` verifies that)",
        )
    return response


MAX_BUDGET = 10_000_000


def _budget(value: str | None) -> int | None:
    """The `--optimal-budget` option as a number of states (None: not given)."""
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_BUDGET:
        raise ValueError(f"--optimal-budget must be a number of states from 1 to {MAX_BUDGET}, not {value!r}")
    return int(value)


def _with_optimum(item: ImportedItem | ImportProblem, budget: int) -> ImportedItem | ImportProblem:
    """The item with its instance's optimal plan length (None: unknown within `budget` states) in the
    payload; an instance whose PDDL cannot be read is left as it is (verifying it reports why)."""
    if isinstance(item, ImportProblem):
        return item
    payload = item.instance.payload
    try:
        problem = load_problem(payload["domain_pddl"], payload["problem_pddl"])
    except ValueError:
        return item
    known = {**payload, "optimal_length": optimal_length(problem, budget)}
    return item.model_copy(update={"instance": item.instance.model_copy(update={"payload": known})})


def _with_translation(
    item: ImportedItem | ImportProblem, record: Any, actions: set[str]
) -> ImportedItem | ImportProblem:
    """The item with PlanBench's `raw_translation` beside it, its steps (`translation_plan`) as the `json`
    style's plan."""
    if isinstance(item, ImportProblem):
        return item
    raw = record.get("raw_translation")
    if not isinstance(raw, str):
        translation = RecordedTranslation(text=None, error="the record has no raw_translation")
    else:
        translation = RecordedTranslation(text=raw, structured={"plan": translation_plan(raw, actions)})
    return item.model_copy(update={"translation": translation})


ACTION_NAME = re.compile(r"\(\s*:action\s+([^\s()]+)", re.I)
PLAN_BLOCK = re.compile(r"PDDL PLAN\W*?\n(.*?)(?:^\W*PDDL PLAN END|\Z)", re.S | re.M)
"""PlanBench's translation markers, in capitals as its prompt writes them ("a PDDL plan:" is prose)."""
LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)]|\(\d{1,3}\))\s+")


def translation_plan(raw: str, actions: set[str]) -> list[str]:
    """The steps of a PlanBench translation: within its "[PDDL PLAN]" block if it has one that holds an
    action (else the whole text), the lines naming an action of the domain in PDDL form `(name args)`, or
    when there are none the lines starting with an action's name (`feast c b`), without list markers and
    markdown emphasis. Headings such as "(PDDL PLAN)", prose and a restatement of the answer in English
    beside the PDDL are not steps; an action whose objects the problem lacks stays a step (unreadable)."""
    blocks = [m.group(1) for m in PLAN_BLOCK.finditer(raw)]
    for body in [*blocks, raw]:
        pddl_steps, word_steps = [], []
        for line in body.splitlines():
            text = LIST_MARK.sub("", line.replace("**", "").replace("`", "")).strip()
            pddl = PDDL_ACTION.match(text)
            if pddl and pddl.group(1).lower() in actions:
                pddl_steps.append(pddl.group(0))
            elif text and not pddl and text.split()[0].lower() in actions:
                word_steps.append(text)
        if pddl_steps or word_steps:
            return pddl_steps or word_steps
    return []


def reasoning_of(record: dict[str, Any]) -> str | None:
    """The thinking an API returned apart from the answer, as PlanBench kept it: the first choice's
    `message.reasoning_content` (DeepSeek-R1) or `message.reasoning` in `response_object`."""
    response = record.get("response_object")
    choices = response.get("choices") if isinstance(response, dict) else None
    message = (
        choices[0].get("message")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict)
        else None
    )
    if not isinstance(message, dict):
        return None
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _recorded(record: dict[str, Any]) -> bool | None:
    value = record.get("correct", record.get("llm_correct"))
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


def _plan_lines(value: Any) -> list[str]:
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    return [m.group(0) for line in lines if (m := PDDL_ACTION.search(str(line)))]


class InstanceFiles:
    """The instance PDDL files of one folder, named by a template; ids never reach a file outside it."""

    def __init__(self, folder: Path, pattern: str) -> None:
        self.folder = folder.resolve()
        self.pattern = pattern

    def read(self, instance_id: str) -> str | ImportProblem:
        """The text of the instance's file, or a problem if it is missing, unreadable or outside the folder
        (`..`, an absolute id, or a symlink pointing out of it)."""
        name = self.pattern.replace("{}", instance_id)
        try:
            path = (self.folder / name).resolve()
            if not path.is_relative_to(self.folder):
                return ImportProblem(
                    record=instance_id, reason=f"instance file {name!r} is outside the --instances folder"
                )
            if not path.is_file():
                return ImportProblem(record=instance_id, reason=f"instance file {path} not found")
            return read_text(path, "instance file")
        except ValueError as exc:
            return ImportProblem(record=instance_id, reason=str(exc))
        except OSError as exc:
            return ImportProblem(record=instance_id, reason=f"instance file {name!r}: {exc.strerror or exc}")
