"""What a run says about its models' thinking (samples verified with `trace_source = "reasoning"`).

Per generator (model): how many claims were judged per trace, coverage (sentences with a judged claim
over all sentences), the share of traces whose thinking holds an error (an `invalid` or `unsupported`
claim) with its Wilson interval, how many of those errors the thinking itself retracted, the first-error
position, the rules broken, and the table "thinking has an error × answer correct". A trace with no error
among its judged claims is not called valid when some claims could not be judged (`unknown`): the table's
other row says "no error found", and the count of unjudged claims stands beside it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import median
from typing import Any

from pydantic import BaseModel

from modulo.model import Sample
from modulo.stats import Rate, histogram, wilson

ERRORS = ("invalid", "unsupported")


class ThinkingTable(BaseModel):
    """Traces by whether their thinking holds an error (rows) and whether the answer is correct."""

    error_correct: int = 0
    error_incorrect: int = 0
    no_error_correct: int = 0
    no_error_incorrect: int = 0


class ThinkingSummary(BaseModel):
    """The thinking of one generator's first attempts."""

    traces: int
    """First attempts whose thinking was judged."""
    no_thinking: int
    """First attempts verified for their thinking that had none (counted apart)."""
    claims: int
    """Claims read, all kinds."""
    claims_judged: int
    """Claims with a verdict other than `unknown`."""
    claims_judged_per_trace: float | None
    """Median over traces."""
    coverage: float | None
    """Sentences with a judged claim over all sentences, over every trace."""
    coverage_per_trace: float | None
    """Median over traces."""
    with_error: Rate
    """Traces whose thinking holds at least one error."""
    with_standing_error: Rate
    """Traces with an error the thinking did not itself retract."""
    fully_judged_without_error: int
    """Traces every claim of which was judged valid: the only ones called valid."""
    table: ThinkingTable
    correct_given_error: Rate
    correct_given_no_error: Rate
    first_error_histogram: dict[int, int]
    """Claim index of the first error, over traces with one."""
    rules: dict[str, int]
    """Errors per rule (unjudged `thinking.context` claims left out)."""


def thinking_summaries(samples: list[Sample]) -> dict[str, ThinkingSummary]:
    """Per generator, over first attempts verified for their thinking (none when no sample was)."""
    groups: dict[str, list[ThinkingFacts]] = defaultdict(list)
    for sample in samples:
        facts = thinking_facts(sample) if sample.round == 0 else None
        if facts is not None:
            groups[sample.generator].append(facts)
    return {name: summarise(group) for name, group in sorted(groups.items())}


ThinkingFacts = dict[str, Any]
"""What one sample's judged thinking contributes to the summary (JSON-ready, stored with its verdicts):
`{"judged": false}` when the sample was verified for its thinking and had none; else `correct`, `claims`,
`claims_judged`, `sentences`, `judged_sentences`, `coverage`, `errors` (rule of each error, in order),
`first_error` (claim index or null) and `standing` (an error the thinking did not retract)."""


def thinking_facts(sample: Sample) -> ThinkingFacts | None:
    """The sample's contribution to its generator's thinking summary; None when it was not verified for
    its thinking."""
    if sample.trace is None or sample.verdicts is None:
        return None
    reading = sample.trace.reading or {}
    if "thinking" not in reading:
        no_thinking = any("no thinking to judge" in e for e in sample.trace.parse_errors)
        return {"judged": False} if no_thinking else None
    info = reading["thinking"]
    verdicts = sample.verdicts.steps
    errors = [v for v in verdicts if v.status in ERRORS]
    retracted = {
        s.index for s in sample.trace.steps if isinstance(s.parsed, dict) and s.parsed.get("retracted")
    }
    return {
        "judged": True,
        "correct": sample.verdicts.answer.status == "correct",
        "claims": len(verdicts),
        "claims_judged": sum(v.status != "unknown" for v in verdicts),
        "sentences": int(info.get("sentences", 0)),
        "judged_sentences": int(info.get("judged_sentences", 0)),
        "coverage": float(info.get("coverage", 0.0)),
        "errors": [v.rule or v.status for v in errors],
        "first_error": errors[0].index if errors else None,
        "standing": any(v.index not in retracted for v in errors),
    }


def summarise(facts: list[ThinkingFacts]) -> ThinkingSummary:
    """The summary of one generator's first attempts verified for their thinking."""
    judged = [f for f in facts if f["judged"]]
    table = ThinkingTable()
    rules: Counter[str] = Counter()
    firsts: list[int] = []
    per_trace_claims: list[int] = []
    per_trace_coverage: list[float] = []
    sentences = judged_sentences = claims = claims_judged = with_error = standing = clean = 0
    for f in judged:
        correct = bool(f["correct"])
        claims += f["claims"]
        claims_judged += f["claims_judged"]
        per_trace_claims.append(f["claims_judged"])
        sentences += f["sentences"]
        judged_sentences += f["judged_sentences"]
        per_trace_coverage.append(f["coverage"])
        rules.update(f["errors"])
        if f["errors"]:
            with_error += 1
            standing += bool(f["standing"])
            firsts.append(f["first_error"])
            table.error_correct += correct
            table.error_incorrect += not correct
        else:
            clean += f["claims"] > 0 and f["claims_judged"] == f["claims"]
            table.no_error_correct += correct
            table.no_error_incorrect += not correct
    n = len(judged)
    return ThinkingSummary(
        traces=n,
        no_thinking=len(facts) - n,
        claims=claims,
        claims_judged=claims_judged,
        claims_judged_per_trace=median(per_trace_claims) if per_trace_claims else None,
        coverage=judged_sentences / sentences if sentences else None,
        coverage_per_trace=median(per_trace_coverage) if per_trace_coverage else None,
        with_error=wilson(with_error, n),
        with_standing_error=wilson(standing, n),
        fully_judged_without_error=clean,
        table=table,
        correct_given_error=wilson(table.error_correct, with_error),
        correct_given_no_error=wilson(table.no_error_correct, n - with_error),
        first_error_histogram=histogram(firsts),
        rules=dict(sorted(rules.items())),
    )
