"""Agreement of modulo's verdicts with PlanBench's recorded (VAL) verdicts, on every results file.

Run `python benchmarks/planbench_agreement.py [--data ../shared/data/planbench] [--json OUT]`. For each
`results/*.json` (named `domain__model__prompt.json`) it reads every response with modulo's reader
(`--plan-source both`) and prints agree / disagree / unparsed / not judged, then:

- `agreement`: (agree + unparsed) / records with a recorded verdict. `unparsed` (we read no plan and
  PlanBench judged the response wrong) counts as agreeing; not-judged records (our verdict `unknown`,
  or nothing to read) count against.
- `credited`: the same, counting also the disagreements a known PlanBench extraction fault explains
  (PlanBench's recorded verdict is about a plan the response does not state), with counts per fault.
- `readings differ`: records whose two readings (ours of the response, PlanBench's extraction) state
  different plans, per reason (`unexplained` when no known fault explains the difference).
- `recorded`: agreement when our checker verifies PlanBench's own extraction (`--plan-source recorded`),
  a cross-check of the checker against VAL.

Files with no responses (backprompting) are judged only with `recorded`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from modulo.domains.planning.agreement import file_agreement

BW = ("blocksworld/generated_domain.pddl", "blocksworld/generated_basic", "blocksworld.yaml")
LAYOUT = {
    "blocksworld": BW,
    "blocksworld_3": (
        "blocksworld/generated_domain.pddl",
        "blocksworld/generated_basic_3",
        "blocksworld_3.yaml",
    ),
    "mystery_blocksworld": (
        "blocksworld/mystery/generated_domain.pddl",
        "blocksworld/mystery/generated_basic",
        "mystery_blocksworld.yaml",
    ),
    "logistics": ("logistics/generated_domain.pddl", "logistics/generated_basic", "logistics.yaml"),
}
"""PlanBench's domain name (the file name's first part) -> domain file, instance folder, config."""


def options_for(data: Path, results_file: Path, source: str) -> dict[str, str]:
    """The importer options for one results file of PlanBench's layout under `data`."""
    domain_file, folder, config = LAYOUT[results_file.name.split("__")[0]]
    lib = data / "llm_planning_analysis"
    return {
        "domain-file": str(lib / "instances" / domain_file),
        "instances": str(lib / "instances" / folder),
        "config": str(lib / "configs" / config),
        "plan-source": source,
    }


def measure(data: Path, results_file: Path) -> dict[str, Any]:
    """The figures for one file (see the module docstring)."""
    both = file_agreement(results_file, options_for(data, results_file, "both"))
    recorded = file_agreement(results_file, options_for(data, results_file, "recorded"))
    with_verdict = both["total"] - sum(
        p["reason"].startswith("record has no verdict") for p in both["problems"]
    )
    faults: dict[str, int] = {}
    for d in both["disagreements"]:
        if d["planbench_fault"]:
            faults[d["planbench_fault"]] = faults.get(d["planbench_fault"], 0) + 1
    agreeing = both["agree"] + both["unparsed"]
    responses = both["not_judged"] < both["total"] or not both["problems"]
    return {
        "file": results_file.name,
        "with_verdict": with_verdict,
        "has_responses": responses,
        **{k: both[k] for k in ("agree", "disagree", "unparsed", "not_judged")},
        "agreement": agreeing / with_verdict if with_verdict else None,
        "credited": (agreeing + sum(faults.values())) / with_verdict if with_verdict else None,
        "faults": faults,
        "unexplained_disagreements": [
            d["instance_id"] for d in both["disagreements"] if not d["planbench_fault"]
        ],
        "readings_differ": both.get("comparison", {}),
        "recorded": {k: recorded[k] for k in ("agree", "disagree", "unparsed", "not_judged")},
        "recorded_agreement": (recorded["agree"] + recorded["unparsed"]) / with_verdict
        if with_verdict
        else None,
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def show(row: dict[str, Any]) -> str:
    """One file's figures as text."""
    lines = [row["file"]]
    if row["has_responses"]:
        lines.append(
            f"  response: agree {row['agree']} / disagree {row['disagree']} / unparsed {row['unparsed']} / "
            f"not judged {row['not_judged']} of {row['with_verdict']} with a recorded verdict: agreement "
            f"{_pct(row['agreement'])}, credited {_pct(row['credited'])}"
            + (f" ({', '.join(f'{k} {v}' for k, v in row['faults'].items())})" if row["faults"] else "")
        )
        if row["unexplained_disagreements"]:
            lines.append(f"  disagreements no known fault explains: {row['unexplained_disagreements']}")
        differ = row["readings_differ"]
        if differ:
            reasons = ", ".join(f"{k} {v}" for k, v in differ["by_reason"].items()) or "-"
            lines.append(
                f"  readings differ: {differ['plans_differ']} of {differ['compared']} judged "
                f"({differ['verdicts_differ']} with another verdict): {reasons}"
            )
    else:
        lines.append("  response: no responses in this file (PlanBench kept only its extracted plans)")
    rec = row["recorded"]
    lines.append(
        f"  recorded: agree {rec['agree']} / disagree {rec['disagree']} / unparsed {rec['unparsed']} / "
        f"not judged {rec['not_judged']}: agreement {_pct(row['recorded_agreement'])}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "planbench"
    parser.add_argument(
        "--data", type=Path, default=default, help="PlanBench's folder (results/, llm_planning_analysis/)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures, per file, as JSON here")
    args = parser.parse_args()
    files = sorted((args.data / "results").glob("*.json"))
    if not files:
        parser.error(f"no results files under {args.data / 'results'}")
    rows = []
    for path in files:
        if path.name.split("__")[0] not in LAYOUT:
            print(f"{path.name}\n  skipped: no known layout for domain {path.name.split('__')[0]!r}")
            continue
        rows.append(measure(args.data, path))
        print(show(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
