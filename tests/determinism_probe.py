"""Serialises what each built-in domain makes of a few instances: generate -> prompts -> every oracle
variant -> parse -> check. Run as a script (in a fresh process) by `test_determinism.py`, which compares
the output between processes with different `PYTHONHASHSEED` values byte for byte.

    python tests/determinism_probe.py CASE [CASE ...]

A case is `domain:count` (e.g. `zebra:2`), `domain:count:large` (the larger parameters) or
`warm+domain:count`: the same after other work in the same process (other seeds of every domain probed
first), so that state carried across calls shows up.
Prints one JSON line per case.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from modulo.registry import get_domain

PARAMS: dict[str, dict[str, Any]] = {
    "blocksworld": {"blocks": 5},
    "pddl": {},
    "maze": {"width": 5},
    "deduction": {},
    "ordering": {"objects": 5},
    "zebra": {"houses": 3, "characteristics": 3},
}
"""Small instances of every built-in domain (generation and checking stay well under a second each)."""
LARGE: dict[str, dict[str, Any]] = {
    "blocksworld": {"blocks": 7},
    "pddl": {},
    "maze": {"kind": "searchformer", "width": 8, "dialect": "searchformer"},
    "deduction": {"hops": 4, "world": "open"},
    "ordering": {"objects": 7},
    "zebra": {"houses": 4, "characteristics": 4},
}
"""Larger ones, for the slow sweep: Blocksworld past the breadth-first budget (greedy plans), other maze
kinds and dialects, open-world deduction, bigger puzzles."""
WARM_UP = ("ordering", "deduction", "blocksworld", "maze", "zebra")
"""Work done first for a `warm+` case: other instances of these domains generated, prompted and checked."""


def pddl_params(folder: Path, count: int) -> dict[str, Any]:
    """The `pddl` domain reads files: Blocksworld problems written out from the seeded generator."""
    blocksworld = get_domain("blocksworld")
    files = []
    for instance in blocksworld.generate(count, seed=3, blocks=4):
        path = folder / f"{instance.id}.pddl"
        path.write_text(instance.payload["problem_pddl"], encoding="utf-8")
        files.append(str(path))
    domain = folder / "domain.pddl"
    domain.write_text(instance.payload["domain_pddl"], encoding="utf-8")
    return {"domain_file": str(domain), "problem_files": files}


def probe(name: str, count: int, seed: int = 0, large: bool = False) -> dict[str, Any]:
    """Everything the domain produces for `count` instances of `seed`, as JSON-able data."""
    domain: Any = get_domain(name)
    with tempfile.TemporaryDirectory() as tmp:
        params = pddl_params(Path(tmp), count) if name == "pddl" else (LARGE if large else PARAMS)[name]
        instances = domain.generate(count, seed, **params)
        out: dict[str, Any] = {"domain": name, "instances": []}
        for instance in instances:
            record: dict[str, Any] = {"instance": instance.model_dump(mode="json"), "prompts": {}}
            for style in ("zero-shot", "few-shot", "json"):
                try:
                    messages = domain.prompt(instance, style)
                except ValueError as error:  # a style the instance cannot be shown in
                    record["prompts"][style] = {"error": str(error)}
                    continue
                record["prompts"][style] = [m.model_dump(mode="json") for m in messages]
            record["oracle"] = {}
            for variant in domain.oracle_variants:
                try:
                    text = domain.oracle(instance, variant, 7)
                except ValueError as error:  # a variant that does not apply to this instance
                    record["oracle"][variant] = {"error": str(error)}
                    continue
                trace = domain.parse(text, instance)
                verdicts = domain.check(instance, trace)
                record["oracle"][variant] = {
                    "text": text,
                    "trace": trace.model_dump(mode="json"),
                    "verdicts": verdicts.model_dump(mode="json"),
                }
            out["instances"].append(record)
    return out


def main(cases: list[str]) -> None:
    for case in cases:
        warm, _, spec = case.rpartition("+")
        name, count, *size = spec.split(":")
        if warm:
            for other in WARM_UP:
                probe(other, 1, seed=5)
        report = probe(name, int(count), large=size == ["large"])
        print(json.dumps(report, sort_keys=True), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
