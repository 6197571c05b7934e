"""The report of a stored run computed in SQLite: GROUP BY over the summary columns of the samples table.

It gives exactly what `modulo.report.build_report` gives for the run's loaded samples, without loading
them: every aggregate is read from the covering index `samples_report` (schema 5, filled by
`modulo.sample_summary`). Only the samples that model-assisted readings refer to are loaded.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from modulo.assisted import summarise as summarise_assisted
from modulo.model import Run
from modulo.probes.report import probe_summaries
from modulo.provenance import is_current
from modulo.report import Cell, Report, RoundProgress, Throughput, cell_from_counts
from modulo.sample_summary import TraceState
from modulo.stats import wilson
from modulo.store import Store
from modulo.thinking_report import ThinkingSummary
from modulo.thinking_report import summarise as summarise_thinking

VERIFIED = "run_id = ? AND trace_state IS NOT NULL"
FIRST = VERIFIED + " AND round = 0"
CORRECT = "answer_status = 'correct'"


def report_from_store(store: Store, run: Run) -> Report:
    """The report of `run`, aggregated in SQL (equal to `build_report` over its samples)."""
    q = _Queries(store, run.id)
    total, failed_unverified, failed = q.counts()
    verified, throughput = q.throughput()
    first = q.first_attempts()
    versions, stale = q.versions()
    readings = store.assisted(run.id)
    with_readings = (
        store.samples_with_ids(run.id, sorted({r.sample_id for r in readings})) if readings else []
    )
    return Report(
        run_id=run.id,
        run_name=run.config.name,
        created_at=run.created_at,
        samples=total,
        unverified=total - verified - failed_unverified,
        overall=cell_from_counts(first.overall),
        by_domain=_cells(first.domains),
        by_generator=_cells(first.generators),
        by_difficulty=q.difficulty_cells(),
        first_error_histogram=dict(sorted(first.first_errors.items())),
        rule_counts=q.rule_counts(),
        answer_details=dict(sorted(first.details.items())),
        loop=q.loop(),
        critics_fired=q.critics(),
        throughput=throughput,
        failed_generations=failed,
        verdict_versions=versions,
        stale_verdicts=stale,
        reading_status=dict(sorted(first.reading.items())),
        assisted=summarise_assisted(run, with_readings, readings),
        thinking=q.thinking(),
        probes=probe_summaries(store, run),
    )


StateCounter = Counter[tuple[TraceState, bool]]


@dataclass
class _FirstAttempts:
    """Counts over the verified first attempts, from one GROUP BY."""

    overall: StateCounter = field(default_factory=Counter)
    domains: dict[str, StateCounter] = field(default_factory=lambda: defaultdict(Counter))
    generators: dict[str, StateCounter] = field(default_factory=lambda: defaultdict(Counter))
    details: Counter[str] = field(default_factory=Counter)
    first_errors: Counter[int] = field(default_factory=Counter)
    reading: Counter[str] = field(default_factory=Counter)


class _Queries:
    """The report's queries on one run."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def rows(self, sql: str, *more: Any) -> list[tuple[Any, ...]]:
        return self.store.query(sql, (self.run_id, *more))

    def counts(self) -> tuple[int, int, int]:
        """Stored samples, failed generations without verdicts, failed generations."""
        [(total,)] = self.rows("SELECT count(*) FROM samples INDEXED BY samples_by_run WHERE run_id = ?")
        [(failed, failed_verified)] = self.rows(
            """SELECT count(*), count(trace_state) FROM samples
               WHERE run_id = ? AND generation_error IS NOT NULL"""
        )
        return total, failed - failed_verified, failed

    def first_attempts(self) -> _FirstAttempts:
        """Cells by domain and generator, answer details, first errors and reading statuses."""
        found = _FirstAttempts()
        sql = f"""SELECT domain, generator, trace_state, {CORRECT},
                         coalesce(nullif(answer_detail, ''), answer_status),
                         CASE WHEN trace_state = 'invalid' THEN first_error END, reading_status, count(*)
                  FROM samples WHERE {FIRST} GROUP BY 1, 2, 3, 4, 5, 6, 7"""
        for domain, generator, state, correct, detail, first_error, reading, n in self.rows(sql):
            for counts in (found.overall, found.domains[domain], found.generators[generator]):
                counts[(state, bool(correct))] += n
            found.details[str(detail)] += n
            if first_error is not None:
                found.first_errors[int(first_error)] += n
            found.reading[str(reading)] += n
        return found

    def difficulty_cells(self) -> dict[str, Cell]:
        """First attempts grouped by `domain:measure=value` of their instance's difficulty."""
        sql = f"""SELECT s.domain, i.difficulty_json, s.state, s.correct, sum(s.n)
                  FROM (SELECT domain, instance_id, trace_state AS state, {CORRECT} AS correct, count(*) AS n
                        FROM samples WHERE {FIRST} GROUP BY 1, 2, 3, 4) s
                  JOIN instances i ON i.run_id = ? AND i.id = s.instance_id
                  GROUP BY 1, 2, 3, 4"""
        groups: dict[str, Counter[tuple[TraceState, bool]]] = defaultdict(Counter)
        for domain, difficulty, state, correct, n in self.rows(sql, self.run_id):
            for measure, value in sorted(json.loads(difficulty).items()):
                groups[f"{domain}:{measure}={value}"][(state, bool(correct))] += n
        return _cells(groups)

    def rule_counts(self) -> dict[str, int]:
        sql = """SELECT r.key, sum(r.value) FROM samples s, json_each(s.rules_json) r
                  WHERE s.run_id = ? AND s.trace_state IS NOT NULL AND s.round = 0
                    AND s.rules_json IS NOT NULL
                  GROUP BY 1"""
        return dict(sorted((str(k), int(n)) for k, n in self.rows(sql)))

    def loop(self) -> list[RoundProgress]:
        """Per round, samples attempted and the share of first-attempt chains solved so far."""
        attempted = self.rows(f"SELECT round, count(*) FROM samples WHERE {VERIFIED} GROUP BY 1 ORDER BY 1")
        # a chain is (domain, instance id as the domain gives it, sample index); its first solving round.
        # Instance keys are that id plus a digest: unless two keys share an id, group by the key alone
        shared = self.rows(
            """SELECT 1 FROM instances WHERE run_id = ?
               GROUP BY domain, coalesce(nullif(name, ''), id) HAVING count(*) > 1 LIMIT 1"""
        )
        chain = "coalesce(nullif(i.name, ''), s.instance_id)" if shared else "s.instance_id"
        join = "JOIN instances i ON i.run_id = ? AND i.id = s.instance_id" if shared else ""
        sql = f"""SELECT solved, count(*) FROM (
                      SELECT max(s.round = 0) AS started, min(CASE WHEN s.correct THEN s.round END) AS solved
                      FROM (SELECT domain, instance_id, sample_index, round, {CORRECT} AS correct
                            FROM samples WHERE {VERIFIED}) s
                      {join}
                      GROUP BY s.domain, {chain}, s.sample_index)
                  WHERE started GROUP BY 1"""
        solved_in = dict(self.rows(sql, *([self.run_id] if shared else [])))
        chains = sum(solved_in.values())
        return [
            RoundProgress(
                round=round_,
                attempted=n,
                solved_so_far=wilson(
                    sum(c for r, c in solved_in.items() if r is not None and r <= round_), chains
                ),
            )
            for round_, n in attempted
        ]

    def critics(self) -> dict[str, int]:
        """The first failing rule of each verified sample that a verified sample repairs, in storage order."""
        sql = f"""SELECT critic, count(*) FROM samples WHERE {VERIFIED} AND id IN (
                      SELECT parent_id FROM samples WHERE {VERIFIED} AND parent_id IS NOT NULL)
                  GROUP BY 1 ORDER BY min(rowid)"""
        return {str(k): int(n) for k, n in self.rows(sql, self.run_id)}

    def throughput(self) -> tuple[int, Throughput]:
        """Verified samples, and their throughput (summed in storage order, as the report over loaded
        samples does: a float sum depends on the order)."""
        rows = self.rows(
            f"""SELECT completion_tokens, generate_seconds, verify_seconds
                FROM samples INDEXED BY samples_report WHERE {VERIFIED} ORDER BY rowid"""
        )
        tokens = sum(r[0] for r in rows)
        generate = sum(r[1] for r in rows)
        verify = sum(r[2] for r in rows)
        return len(rows), Throughput(
            completion_tokens=tokens,
            generate_seconds=generate,
            tokens_per_second=tokens / generate if generate > 0 else None,
            verify_seconds=verify,
            verify_fraction=verify / generate if generate > 0 else None,
        )

    def versions(self) -> tuple[dict[str, int], int]:
        """Verified samples per set of code versions (most first), and how many the installed code did not
        make."""
        made_by: dict[str, list[int]] = {}
        stale = 0
        sql = f"SELECT verified_by, count(*), min(rowid) FROM samples WHERE {VERIFIED} GROUP BY 1"
        for text, n, first in self.rows(sql):
            versions = json.loads(text) if text else {}
            key = json.dumps(versions, sort_keys=True)
            entry = made_by.setdefault(key, [0, first])
            entry[0] += n
            entry[1] = min(entry[1], first)
            stale += n * (not is_current(versions))
        ordered = sorted(made_by.items(), key=lambda item: (-item[1][0], item[1][1]))
        return {key: count for key, (count, _) in ordered}, stale

    def thinking(self) -> dict[str, ThinkingSummary]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        sql = f"""SELECT generator, thinking_json FROM samples
                  WHERE {FIRST} AND thinking_json IS NOT NULL ORDER BY rowid"""
        for generator, facts in self.rows(sql):
            groups[generator].append(json.loads(facts))
        return {name: summarise_thinking(group) for name, group in sorted(groups.items())}


def _cells(groups: dict[str, Counter[tuple[TraceState, bool]]]) -> dict[str, Cell]:
    return {name: cell_from_counts(groups[name]) for name in sorted(groups)}
