"""The report of a stored run: the 2×2 table with Wilson intervals, breakdowns, histograms, loop progress.

The 2×2 table and breakdowns count first attempts (round 0), so they describe the generator, not the
loop; `loop` gives the cumulative share of (instance, sample) chains with a correct answer per round.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from modulo.assisted import AssistedReading, AssistedReport, summarise
from modulo.loop import first_critic
from modulo.model import Run, Sample, Verdicts
from modulo.probes.report import ProbeSummary
from modulo.provenance import is_current
from modulo.sample_summary import TraceState, reading_status, trace_state
from modulo.stats import AnswerSplit, Rate, Table2x2, histogram, phi, wilson
from modulo.thinking_report import ThinkingSummary, thinking_summaries


class Cell(BaseModel):
    """One group of samples: the 2×2 table of the samples whose trace was judged valid or invalid, the others
    beside it, and the rates (trace rates over the table, the answer rate over all samples)."""

    samples: int
    table: Table2x2
    no_trace: AnswerSplit
    """Samples with no step to judge: neither a valid nor an invalid trace, so not in the table."""
    trace_unknown: AnswerSplit
    """Samples whose trace broke no rule but the checker gave up on a step (`unknown`): not judged."""
    trace_valid: Rate
    answer_correct: Rate
    correct_given_valid_trace: Rate
    correct_given_invalid_trace: Rate
    phi: float | None


class RoundProgress(BaseModel):
    round: int
    attempted: int
    """Samples generated in this round."""
    solved_so_far: Rate
    """Chains with a correct answer in this round or an earlier one, over all chains."""


class Throughput(BaseModel):
    """Generation speed and what verification costs next to it, over every verified sample."""

    completion_tokens: int
    generate_seconds: float
    """Wall time the generator spent (texts reused from the cache count zero)."""
    tokens_per_second: float | None
    """Completion tokens per second of generation wall time (prompt processing included)."""
    verify_seconds: float
    verify_fraction: float | None
    """Verification time as a fraction of generation time."""


class Report(BaseModel):
    """What `modulo report --json` prints."""

    run_id: str
    run_name: str
    created_at: str
    samples: int
    """Stored samples, all rounds."""
    unverified: int
    overall: Cell
    by_domain: dict[str, Cell]
    by_generator: dict[str, Cell]
    by_difficulty: dict[str, Cell]
    """Keyed `domain:measure=value`."""
    first_error_histogram: dict[int, int]
    """Position of the first invalid step, over first attempts with a trace that is invalid."""
    rule_counts: dict[str, int]
    """Non-valid verdicts per rule id over first attempts."""
    answer_details: dict[str, int]
    loop: list[RoundProgress]
    critics_fired: dict[str, int]
    """Rule ids of the first error in samples that were sent back for another round."""
    throughput: Throughput
    failed_generations: int = 0
    """Samples the generator produced no text for (e.g. a prompt the server rejected): outside the table."""
    verdict_versions: dict[str, int] = {}
    """Code versions that made the stored verdicts (JSON of `Sample.verified_by`) → verified samples."""
    stale_verdicts: int = 0
    """Verified samples whose verdicts other code than the installed one made (`modulo reverify`)."""
    reading_status: dict[str, int] = {}
    """First attempts per reading status (`read`, `ambiguous`, `unreadable`; `not-reported` for domains
    whose reader gives none): how much of the table rests on clear readings."""
    assisted: AssistedReport | None = None
    """Model-assisted extraction (`assisted_extraction`, or a file's recorded translations): how often the
    assisted reading agrees with the deterministic one, per task; None when the run has none."""
    thinking: dict[str, ThinkingSummary] = {}
    """Per generator, what its thinking claims came to (runs verified with `trace_source = "reasoning"`)."""
    probes: list[ProbeSummary] = []
    """Faithfulness probes run on this run's samples (`modulo probe`), each with its metrics by trace
    validity; filled from the store (`report_from_store`)."""


def rule_totals(verdicts: Iterable[Verdicts]) -> dict[str, int]:
    """Non-valid verdicts per rule id, summed over traces, sorted by rule."""
    rules: Counter[str] = Counter()
    for v in verdicts:
        rules.update(v.rule_counts())
    return dict(sorted(rules.items()))


StateCounts = Mapping[tuple[TraceState, bool], int]
"""Samples per (trace state, answer correct)."""


def cell(verdicts: list[Verdicts]) -> Cell:
    return cell_from_counts(Counter((trace_state(v), v.answer.status == "correct") for v in verdicts))


def cell_from_counts(counts: StateCounts) -> Cell:
    """The cell of a group of samples, from its counts per (trace state, answer correct)."""

    def split(state: TraceState) -> AnswerSplit:
        return AnswerSplit(
            answer_correct=counts.get((state, True), 0), answer_not_correct=counts.get((state, False), 0)
        )

    table = Table2x2(
        valid_correct=counts.get(("valid", True), 0),
        valid_incorrect=counts.get(("valid", False), 0),
        invalid_correct=counts.get(("invalid", True), 0),
        invalid_incorrect=counts.get(("invalid", False), 0),
    )
    samples = sum(counts.values())
    correct = sum(n for (_, is_correct), n in counts.items() if is_correct)
    return Cell(
        samples=samples,
        table=table,
        no_trace=split("none"),
        trace_unknown=split("unknown"),
        trace_valid=wilson(table.valid_correct + table.valid_incorrect, table.total),
        answer_correct=wilson(correct, samples),
        correct_given_valid_trace=wilson(table.valid_correct, table.valid_correct + table.valid_incorrect),
        correct_given_invalid_trace=wilson(
            table.invalid_correct, table.invalid_correct + table.invalid_incorrect
        ),
        phi=phi(table),
    )


def _grouped(samples: list[Sample], keys: Callable[[Sample], Iterable[str]]) -> dict[str, Cell]:
    groups: dict[str, list[Verdicts]] = defaultdict(list)
    for sample in samples:
        assert sample.verdicts is not None
        for key in keys(sample):
            groups[key].append(sample.verdicts)
    return {key: cell(groups[key]) for key in sorted(groups)}


def _difficulty_keys(sample: Sample) -> list[str]:
    return [f"{sample.instance.domain}:{k}={v}" for k, v in sorted(sample.instance.difficulty.items())]


def _loop(samples: list[Sample]) -> tuple[list[RoundProgress], dict[str, int]]:
    chains = {(s.instance.domain, s.instance.id, s.sample_index) for s in samples if s.round == 0}
    solved: set[tuple[str, str, int]] = set()
    fired: Counter[str] = Counter()
    progress = []
    rounds = sorted({s.round for s in samples})
    for round_ in rounds:
        in_round = [s for s in samples if s.round == round_]
        for s in in_round:
            assert s.verdicts is not None
            chain = (s.instance.domain, s.instance.id, s.sample_index)
            if s.verdicts.answer.status == "correct":
                solved.add(chain)
        progress.append(
            RoundProgress(
                round=round_, attempted=len(in_round), solved_so_far=wilson(len(solved & chains), len(chains))
            )
        )
    parents = {s.parent_id for s in samples if s.parent_id}
    for s in samples:
        if s.id in parents and s.verdicts is not None:
            fired[first_critic(s.verdicts)] += 1
    return progress, dict(fired)


def verdict_provenance(verified: list[Sample]) -> tuple[dict[str, int], int]:
    """How many verdicts each set of code versions made, and how many the installed code did not make."""
    made_by: Counter[str] = Counter()
    stale = 0
    for sample in verified:
        versions = sample.verified_by or {}
        made_by[json.dumps(versions, sort_keys=True)] += 1
        stale += not is_current(versions)
    return dict(made_by.most_common()), stale


def build_report(run: Run, samples: list[Sample], assisted: list[AssistedReading] | None = None) -> Report:
    """Summarise the verified samples of `run` (and, when given, its model-assisted readings)."""
    verified = [s for s in samples if s.verdicts is not None]
    versions, stale = verdict_provenance(verified)
    first = [s for s in verified if s.round == 0]
    first_verdicts = [s.verdicts for s in first if s.verdicts is not None]
    loop, fired = _loop(verified)
    return Report(
        run_id=run.id,
        run_name=run.config.name,
        created_at=run.created_at,
        samples=len(samples),
        unverified=sum(s.verdicts is None and s.generation_error is None for s in samples),
        overall=cell(first_verdicts),
        by_domain=_grouped(first, lambda s: [s.instance.domain]),
        by_generator=_grouped(first, lambda s: [s.generator]),
        by_difficulty=_grouped(first, _difficulty_keys),
        first_error_histogram=histogram(
            v.first_error for v in first_verdicts if trace_state(v) == "invalid" and v.first_error is not None
        ),
        rule_counts=rule_totals(first_verdicts),
        answer_details=dict(
            sorted(Counter(v.answer.detail or v.answer.status for v in first_verdicts).items())
        ),
        loop=loop,
        critics_fired=fired,
        throughput=throughput(verified),
        failed_generations=sum(s.generation_error is not None for s in samples),
        verdict_versions=versions,
        stale_verdicts=stale,
        reading_status=reading_shares(first),
        assisted=summarise(run, samples, assisted or []),
        thinking=thinking_summaries(first),
    )


def reading_shares(samples: list[Sample]) -> dict[str, int]:
    """How many samples each reading status covers (see `modulo.reading`)."""
    return dict(sorted(Counter(reading_status(s) for s in samples).items()))


def throughput(samples: list[Sample]) -> Throughput:
    tokens = sum(s.tokens.completion for s in samples)
    generate = sum(s.timings.get("generate", 0.0) for s in samples)
    verify = sum(s.timings.get("verify", 0.0) for s in samples)
    return Throughput(
        completion_tokens=tokens,
        generate_seconds=generate,
        tokens_per_second=tokens / generate if generate > 0 else None,
        verify_seconds=verify,
        verify_fraction=verify / generate if generate > 0 else None,
    )


def as_json(report: Report) -> dict[str, Any]:
    """JSON-ready dict (integer histogram keys become strings, as JSON requires)."""
    return report.model_dump(mode="json")
