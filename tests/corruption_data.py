"""Published traces for the corruption tests: PlanBench model answers and Logic-LM gold chains, read by the
project's own importers from `../shared/data` (a few records of each file)."""

from __future__ import annotations

import json
from pathlib import Path

from shared_data import SHARED_DATA

from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.protocols import ImportedItem

LIB = SHARED_DATA / "planbench" / "llm_planning_analysis"
RESULTS = SHARED_DATA / "planbench" / "results"
LOGIC = SHARED_DATA / "logic"
BW = LIB / "instances/blocksworld"
PLANBENCH_FILES = {
    "blocksworld__gpt-4_chat__zero_shot.json": (
        BW / "generated_domain.pddl",
        BW / "generated_basic",
        "blocksworld",
    ),
    "blocksworld_3__gpt-4_chat__state_tracking.json": (
        BW / "generated_domain.pddl",
        BW / "generated_basic_3",
        "blocksworld_3",
    ),
    "mystery_blocksworld__gpt-4_chat__one_shot.json": (
        BW / "mystery/generated_domain.pddl",
        BW / "mystery/generated_basic",
        "mystery_blocksworld",
    ),
    "logistics__gpt-4_chat__one_shot.json": (
        LIB / "instances/logistics/generated_domain.pddl",
        LIB / "instances/logistics/generated_basic",
        "logistics",
    ),
}
LOGIC_FILES = {
    "prontoqa": "ProntoQA/dev_part1.json",
    "proofwriter": "ProofWriter/dev.json",
    "logicaldeduction": "LogicalDeduction/train.json",
}


def planbench_items(tmp_path: Path, name: str, count: int) -> list[ImportedItem]:
    """The first `count` records of a PlanBench results file, as imported items."""
    domain, folder, config = PLANBENCH_FILES[name]
    data = json.loads((RESULTS / name).read_text(encoding="utf-8"))
    data["instances"] = data["instances"][:count]
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    options = {
        "domain-file": str(domain),
        "instances": str(folder),
        "config": str(LIB / f"configs/{config}.yaml"),
    }
    return [r for r in PlanBenchImporter().read(path, options) if isinstance(r, ImportedItem)]


def logic_items(tmp_path: Path, dataset: str, count: int) -> list[ImportedItem]:
    """The first `count` records of a Logic-LM file (texts: the gold chains where the file has them)."""
    records = json.loads((LOGIC / LOGIC_FILES[dataset]).read_text(encoding="utf-8"))[:count]
    path = tmp_path / f"{dataset}.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return [r for r in LogicLMImporter().read(path, {"dataset": dataset}) if isinstance(r, ImportedItem)]
