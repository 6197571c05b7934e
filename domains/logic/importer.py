"""`modulo import logiclm FILE --dataset prontoqa|proofwriter|logicaldeduction`: Logic-LM's preprocessed
JSON (and the original PrOntoQA JSON), stored as deduction instances whose gold explanation chain is
re-verified, or as ordering instances whose gold option is re-derived (LogicalDeduction has no chain)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modulo.domains.logic.theory import question_statement
from modulo.inputs import read_json
from modulo.model import Instance, Trace, Verdicts
from modulo.protocols import ImportedItem, ImportProblem

LETTERS = {"A": "True", "B": "False", "C": "Unknown"}
UNREADABLE = ("statement-unparsed", "options-unparsed", "puzzle-unparsed")
DATASETS = ("prontoqa", "proofwriter", "logicaldeduction")
MAX_ID = 200
"""Longest record id accepted (Logic-LM ids are under 40 characters)."""


class LogicLMImporter:
    """Logic-LM's `{id, context, question, options, answer[, explanation]}` lists, or PrOntoQA's own JSON."""

    name = "logiclm"
    description = (
        "Logic-LM preprocessed ProntoQA / ProofWriter / LogicalDeduction JSON (or original PrOntoQA JSON); "
        "re-verifies gold"
    )
    options = {"dataset": f"which dataset the file holds: {' | '.join(DATASETS)}"}
    required = ("dataset",)

    def read(self, path: Path, options: dict[str, str]) -> list[ImportedItem | ImportProblem]:
        dataset = options["dataset"].lower()
        if dataset not in DATASETS:
            raise ValueError(f"--dataset must be one of {', '.join(DATASETS)}, not {dataset!r}")
        records = _records(read_json(path, "dataset file"))
        if records is None:
            raise ValueError(f"{path}: expected a JSON list of Logic-LM records or a PrOntoQA JSON object")
        return [_item(position, record, dataset) for position, record in enumerate(records)]

    def summarise(
        self, results: list[tuple[ImportedItem, Trace, Verdicts]], problems: list[ImportProblem]
    ) -> dict[str, Any]:
        """`answer_agree`: gold answers our checker confirms; `disagreements`: those it judges otherwise;
        `problems`: records not imported or not judged (an `unknown` verdict never agrees)."""
        disagreements: list[dict[str, Any]] = []
        listed = [{"record": p.record, "reason": p.reason} for p in problems]
        parsed = agree = gold_steps = gold_valid = 0
        for item, _trace, verdicts in results:
            extras = verdicts.answer.extras
            readable = not extras.get("unparsed_premises") and verdicts.answer.detail not in UNREADABLE
            parsed += readable and all(s.status != "unparsed" for s in verdicts.steps)
            if verdicts.answer.status == "unknown":
                listed.append({"record": item.instance.id, "reason": f"not judged: {verdicts.answer.detail}"})
            elif verdicts.answer.status == "correct":
                agree += 1
            else:
                disagreements.append(
                    {
                        "id": item.instance.id,
                        "gold": item.recorded.get("answer"),
                        "z3": extras.get("expected"),
                        "status": verdicts.answer.status,
                        "detail": verdicts.answer.detail,
                        "message": verdicts.answer.message,
                    }
                )
            if item.instance.payload.get("explanation"):
                gold_steps += len(verdicts.steps)
                gold_valid += sum(1 for s in verdicts.steps if s.status == "valid")
        return {
            "total": len(results) + len(problems),
            "parsed": parsed,
            "answer_agree": agree,
            "not_judged": len(listed),
            "gold_steps": gold_steps,
            "gold_steps_valid": gold_valid,
            "disagreements": disagreements,
            "problems": listed,
        }


def _records(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):  # PrOntoQA: {"example1": {"test_example": {...}, ...}, ...}
        return [
            {"id": key, **(value.get("test_example", value) if isinstance(value, dict) else {})}
            for key, value in data.items()
        ]
    return None


def _item(position: int, record: Any, dataset: str) -> ImportedItem | ImportProblem:
    """One record as a deduction instance; anything malformed is an ImportProblem, not an exception."""
    if not isinstance(record, dict):
        return ImportProblem(record=str(position), reason="record is not a JSON object")
    raw_id = record.get("id", position)
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not 0 < len(str(raw_id)) <= MAX_ID:
        return ImportProblem(
            record=f"#{position}", reason=f"id must be a number or a name of 1 to {MAX_ID} characters"
        )
    rid = str(raw_id)
    if dataset == "logicaldeduction":
        return _ordering_item(rid, record)
    context = record.get("context", record.get("question") if "query" in record else None)
    question = record.get("query") if "query" in record else record.get("question")
    answer = _answer(record.get("answer"))
    if not isinstance(context, str) or not isinstance(question, str) or answer is None:
        return ImportProblem(
            record=rid, reason="needs string context and question and an answer A/B/C or True/False"
        )
    explanation = record.get("explanation", record.get("chain_of_thought")) or []
    if not isinstance(explanation, list) or not all(isinstance(s, str) for s in explanation):
        return ImportProblem(record=rid, reason="explanation must be a list of sentences")
    world = "closed" if "-CWA-" in rid else "open"
    statement = question_statement(question).removeprefix("True or false:").strip()
    instance = Instance(
        domain="deduction",
        id=rid,
        difficulty={"dataset": dataset, "world": world, **_depth(rid)},
        payload={
            "dataset": dataset,
            "context": context,
            "statement": statement,
            "world": world,
            "answer": answer,
            "explanation": explanation,
            "options": record.get("options", []),
            **({"semantics": "rules"} if dataset == "proofwriter" else {}),  # the labels' own semantics
        },
    )
    text = "\n".join([*explanation, f"Answer: {answer}"])
    return ImportedItem(instance=instance, text=text, generator="gold", recorded={"answer": answer})


def _ordering_item(rid: str, record: dict[str, Any]) -> ImportedItem | ImportProblem:
    """A LogicalDeduction record as an ordering instance; the gold text is only its answer line."""
    context, question, options = record.get("context"), record.get("question"), record.get("options")
    answer = str(record.get("answer", "")).strip().strip("()").upper()
    if not isinstance(context, str) or not isinstance(question, str) or not isinstance(options, list):
        return ImportProblem(record=rid, reason="needs string context and question and a list of options")
    if len(answer) != 1 or not answer.isalpha():
        return ImportProblem(record=rid, reason="answer must be an option letter")
    instance = Instance(
        domain="ordering",
        id=rid,
        difficulty={"dataset": "logicaldeduction", "objects": len(options)},
        payload={
            "dataset": "logicaldeduction",
            "context": context,
            "question": question,
            "options": [str(o) for o in options],
            "answer": answer,
        },
    )
    return ImportedItem(
        instance=instance, text=f"Answer: ({answer})", generator="gold", recorded={"answer": answer}
    )


def _answer(value: Any) -> str | None:
    text = str(value).strip()
    if text.upper() in LETTERS:
        return LETTERS[text.upper()]
    return text.capitalize() if text.lower() in ("true", "false", "unknown") else None


def _depth(rid: str) -> dict[str, int]:
    """ProofWriter ids carry the depth of the theory, e.g. `...-OWA-D5-1041_Q1`."""
    for part in rid.split("-"):
        if part[:1] == "D" and part[1:].isdigit() and len(part) <= 4:
            return {"depth": int(part[1:])}
    return {}
