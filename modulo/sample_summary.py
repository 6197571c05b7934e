"""What the report needs of one verified sample, stored beside its verdicts in columns of their own.

`modulo report` computes its aggregates in SQL from these columns (see `modulo.report_sql`), so it never
loads a sample; they are derived from the trace and verdicts only, and written with them.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from modulo.loop import first_critic
from modulo.model import Sample, Verdicts
from modulo.thinking_report import thinking_facts

TraceState = Literal["valid", "invalid", "unknown", "none"]

SUMMARY_COLUMNS = (
    "trace_state",
    "reading_status",
    "critic",
    "rules_json",
    "thinking_json",
    "generate_seconds",
    "verify_seconds",
)
"""The summary columns of the samples table, in the order `summary_values` gives them."""


def trace_state(verdicts: Verdicts) -> TraceState:
    """`none` when no step was read (a gold label alone, an empty or unreadable response); `unknown` when
    nothing broke a rule but the checker gave up on a step or check. Only `valid` and `invalid` traces are
    in the 2×2 table; the others are their own states beside it, never counted as invalid."""
    if not verdicts.steps:
        return "none"
    if verdicts.trace_valid:
        return "valid"
    statuses = {v.status for v in [*verdicts.steps, *verdicts.trace_checks]}
    return "unknown" if statuses <= {"valid", "unknown"} else "invalid"


def reading_status(sample: Sample) -> str:
    """The reading status of the sample's trace (`not-reported` for domains whose reader gives none)."""
    return str((sample.trace.reading or {}).get("status", "not-reported")) if sample.trace else "not-reported"


def summary_values(sample: Sample) -> tuple[Any, ...]:
    """The values of SUMMARY_COLUMNS for a verified sample."""
    if sample.verdicts is None:
        raise ValueError(f"sample {sample.id} has no verdicts to summarise")
    rules = sample.verdicts.rule_counts()
    thinking = thinking_facts(sample)
    return (
        trace_state(sample.verdicts),
        reading_status(sample),
        first_critic(sample.verdicts),
        json.dumps(rules, sort_keys=True) if rules else None,
        None if thinking is None else json.dumps(thinking),
        float(sample.timings.get("generate", 0.0)),
        float(sample.timings.get("verify", 0.0)),
    )
