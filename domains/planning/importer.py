"""PlanBench result files: import every response, re-verify it, report agreement with VAL's verdicts.

PlanBench judged `extracted_llm_plan` (its own reading of the response) with VAL. We read
`llm_raw_response` with the config's templates; where our reading or our verdict differs, the
disagreement's reason says how (we are stricter than VAL: no dropped extra arguments, no skipped
lines naming an action with the wrong number of objects).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from modulo.model import Instance, Trace, Verdicts
from modulo.protocols import ImportedItem, ImportProblem

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
    }
    required = ("domain-file", "instances", "config")

    def read(self, path: Path, options: dict[str, str]) -> list[ImportedItem | ImportProblem]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            records = data["instances"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path} is not a PlanBench results file (JSON with 'instances'): {exc}"
            ) from exc
        domain_text = Path(options["domain-file"]).read_text(encoding="utf-8")
        config_text = Path(options["config"]).read_text(encoding="utf-8")
        raw_config: dict[str, Any] = _safe_yaml(config_text)
        templates = load_config(config_text)
        folder = Path(options["instances"])
        pattern = str(raw_config.get("instances_template", "instance-{}.pddl"))
        match = DOMAIN_NAME.search(domain_text)
        domain = "blocksworld" if match and match.group(1).lower().startswith("blocksworld") else "pddl"
        generator = f"planbench:{data.get('engine', 'unknown')}:{data.get('prompt_type', 'unknown')}"
        tag = str(raw_config.get("domain_name", path.stem))
        out: list[ImportedItem | ImportProblem] = []
        for position, record in enumerate(records):
            out.append(
                self._item(record, position, folder, pattern, domain, domain_text, templates, generator, tag)
            )
        return out

    def _item(
        self,
        record: Any,
        position: int,
        folder: Path,
        pattern: str,
        domain: str,
        domain_text: str,
        templates: dict[str, Any],
        generator: str,
        tag: str,
    ) -> ImportedItem | ImportProblem:
        label = str(record.get("instance_id", f"#{position}")) if isinstance(record, dict) else f"#{position}"
        if not isinstance(record, dict) or "instance_id" not in record:
            return ImportProblem(record=label, reason="record has no instance_id")
        recorded = _recorded(record)
        if recorded is None:
            return ImportProblem(record=label, reason="record has no verdict ('correct' or 'llm_correct')")
        problem_file = folder / pattern.format(record["instance_id"])
        if not problem_file.is_file():
            return ImportProblem(record=label, reason=f"instance file {problem_file} not found")
        payload = {
            "domain_pddl": domain_text,
            "problem_pddl": problem_file.read_text(encoding="utf-8"),
            "templates": templates,
        }
        instance = Instance(
            domain=domain,
            id=f"planbench-{tag}-{record['instance_id']}",
            payload=payload,
            difficulty={"source": "planbench"},
        )
        return ImportedItem(
            instance=instance,
            text=str(record.get("llm_raw_response") or ""),
            generator=generator,
            recorded={
                "correct": recorded,
                "extracted_llm_plan": _plan_lines(record.get("extracted_llm_plan")),
            },
        )

    def summarise(
        self, results: list[tuple[ImportedItem, Trace, Verdicts]], problems: list[ImportProblem]
    ) -> dict[str, Any]:
        """`unparsed`: records not imported, and responses with no readable plan that the file also
        judged wrong; a response we cannot read but the file judged correct is a disagreement."""
        agree = unparsed = 0
        disagreements = []
        for item, trace, verdicts in results:
            recorded = bool(item.recorded["correct"])
            ours = verdicts.answer.status
            if ours == "unparsed" and not recorded:
                unparsed += 1
            elif (ours == "correct") == recorded:
                agree += 1
            else:
                disagreements.append(
                    {
                        "instance_id": item.instance.id,
                        "recorded": recorded,
                        "ours": ours,
                        "reason": explain(item, trace, verdicts),
                    }
                )
        return {
            "total": len(results) + len(problems),
            "agree": agree,
            "disagree": len(disagreements),
            "unparsed": unparsed + len(problems),
            "disagreements": disagreements,
        }


def explain(item: ImportedItem, trace: Trace, verdicts: Verdicts) -> str:
    """Our verdict's reason, and how our reading of the response differs from PlanBench's."""
    ours = [" ".join(a) for a in trace.answer or []]
    theirs = [" ".join(line.strip("() ").split()) for line in item.recorded.get("extracted_llm_plan", [])]
    reason = verdicts.answer.message or verdicts.answer.detail or verdicts.answer.status
    if ours == theirs:
        return f"{reason} (same plan as PlanBench's extraction; VAL judged it differently)"
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
    return f"{reason}. Our reading differs from PlanBench's extracted plan: {shown}.{stricter}"


def _recorded(record: dict[str, Any]) -> bool | None:
    value = record.get("correct", record.get("llm_correct"))
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


def _plan_lines(value: Any) -> list[str]:
    lines = value if isinstance(value, list) else str(value or "").splitlines()
    return [m.group(0) for line in lines if (m := PDDL_ACTION.search(str(line)))]


def _safe_yaml(text: str) -> dict[str, Any]:
    import yaml

    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}
