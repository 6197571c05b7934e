"""Agreement of one PlanBench results file with its recorded verdicts, read and checked in memory.

The same reading, check and summary as `modulo import planbench` (which also stores every sample), but
without a store and without the optimal-length search (agreement is about correctness alone), so whole
files run in seconds. Used by `benchmarks/planbench_agreement.py` and the agreement tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modulo.model import Trace, Verdicts
from modulo.protocols import ImportedItem, ImportProblem

from .domain import BlocksworldDomain, PddlDomain
from .importer import PlanBenchImporter


def file_agreement(path: Path, options: dict[str, str]) -> dict[str, Any]:
    """The importer's summary of `path` (options as for the importer: domain-file, instances, config,
    plan-source)."""
    importer = PlanBenchImporter()
    results: list[tuple[ImportedItem, Trace, Verdicts]] = []
    problems: list[ImportProblem] = []
    domains = {"blocksworld": BlocksworldDomain(), "pddl": PddlDomain()}
    for read in importer.read(path, options):
        if isinstance(read, ImportProblem):
            problems.append(read)
            continue
        payload = {**read.instance.payload, "optimal_length": None}
        item = read.model_copy(update={"instance": read.instance.model_copy(update={"payload": payload})})
        domain = domains[item.instance.domain]
        trace = domain.parse(item.text, item.instance)
        results.append((item, trace, domain.check(item.instance, trace)))
    return importer.summarise(results, problems)
