"""What the terminal UI reads from a store: runs, report aggregates, pages of samples, search, export.

Every query reads the summary columns (`modulo.sample_summary`) and a page at a time; no call loads a
whole run. Aggregates are `modulo.report_sql`'s, so the numbers on screen are `modulo report --json`'s.
The store is opened read-only (immutable when the file is not writable) on one connection per thread,
so workers may query while the UI thread does.

Search in raw text: texts of 256 characters and more are stored zlib-compressed, so SQL cannot match
words in them. `search` scans the texts (response and reasoning) of the samples the filters select,
decompressing each, in the caller's thread (the UI runs it in a worker with a progress line); it can be
cancelled between chunks. It never builds an index: the store is never written.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modulo.claims import claim_alive
from modulo.model import Run, Sample
from modulo.packing import unpack
from modulo.probes.base import ProbeItem
from modulo.report import Cell, Report, cell_from_counts
from modulo.report_sql import report_from_store
from modulo.sample_summary import TraceState
from modulo.store import Store

RECENT_SECONDS = 60.0
"""A run whose newest sample is younger than this is shown as running (with live claims, the other sign)."""

PAGE_SIZE = 100
"""Rows per page of the samples table."""

QUADRANTS: dict[str, tuple[str, str]] = {
    "valid-correct": (
        "valid trace, correct answer",
        "s.trace_state = 'valid' AND s.answer_status = 'correct'",
    ),
    "valid-wrong": (
        "valid trace, answer not correct",
        "s.trace_state = 'valid' AND s.answer_status IS NOT 'correct'",
    ),
    "invalid-correct": (
        "invalid trace, correct answer",
        "s.trace_state = 'invalid' AND s.answer_status = 'correct'",
    ),
    "invalid-wrong": (
        "invalid trace, answer not correct",
        "s.trace_state = 'invalid' AND s.answer_status IS NOT 'correct'",
    ),
    "no-trace": ("no trace", "s.trace_state = 'none'"),
    "not-judged": ("trace not judged (unknown)", "s.trace_state = 'unknown'"),
    "unverified": ("not verified yet", "s.trace_state IS NULL AND s.generation_error IS NULL"),
    "failed": ("failed generation", "s.generation_error IS NOT NULL"),
}
"""Quadrant key → (label, SQL condition on `samples s`). The first four are the 2×2 table's cells."""

SORTS: dict[str, str] = {
    "generation order": "s.rowid",
    "first error": "coalesce(s.first_error, 1e9)",
    "instance": "s.instance_id",
    "domain": "s.domain",
    "generator": "s.generator",
    "round": "s.round",
    "answer": "coalesce(nullif(s.answer_detail, ''), s.answer_status, '')",
    "trace": "coalesce(s.trace_state, '')",
}
"""Sort name → SQL expression (ties broken by generation order)."""


@dataclass(frozen=True)
class Filters:
    """Which samples of a run the samples table shows; None means any."""

    quadrant: str | None = None
    domain: str | None = None
    generator: str | None = None
    rule: str | None = None
    reading: str | None = None
    difficulty: str | None = None
    """`measure=value` of the instance's difficulty (as the report's by-difficulty keys)."""
    round: int | None = None
    answer: str | None = None
    """`correct` or `wrong` (any other answer verdict)."""
    search: str | None = None
    """The word searched for (shown); the matching samples are `matches`."""
    matches: tuple[int, ...] | None = None
    """Row ids of the samples the search found."""

    def describe(self) -> str:
        """One line naming every active filter ("all samples" when none is)."""
        parts = []
        if self.quadrant:
            parts.append(QUADRANTS[self.quadrant][0])
        for name in ("domain", "generator", "rule", "reading", "difficulty"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name} {value}")
        if self.answer is not None:
            parts.append("answer correct" if self.answer == "correct" else "answer not correct")
        if self.round is not None:
            parts.append("first attempts" if self.round == 0 else f"round {self.round}")
        if self.search is not None:
            parts.append(f"text contains {self.search!r}")
        return ", ".join(parts) or "all samples"

    def where(self, run_id: str) -> tuple[str, list[Any]]:
        """SQL condition on `samples s` with its parameters."""
        terms: list[str] = []
        params: list[Any] = []
        if self.quadrant:
            terms.append(QUADRANTS[self.quadrant][1])
        for name in ("domain", "generator"):
            value = getattr(self, name)
            if value is not None:
                terms.append(f"s.{name} = ?")
                params.append(value)
        if self.reading is not None:
            terms.append("s.reading_status = ?")
            params.append(self.reading)
        if self.answer is not None:
            terms.append(
                "s.answer_status = 'correct'"
                if self.answer == "correct"
                else "s.answer_status IS NOT 'correct'"
            )
        if self.round is not None:
            terms.append("s.round = ?")
            params.append(self.round)
        if self.rule is not None:
            # rules_json is `json.dumps(counts, sort_keys=True)`: a rule id appears there as this key only
            terms.append("instr(s.rules_json, ?) > 0")
            params.append(json.dumps(self.rule) + ":")
        if self.difficulty is not None:
            measure, _, value = self.difficulty.partition("=")
            terms.append(
                "s.instance_id IN (SELECT id FROM instances WHERE run_id = ? "
                "AND CAST(json_extract(difficulty_json, ?) AS TEXT) = ?)"
            )
            params += [run_id, f'$."{measure}"', value]
        if self.matches is not None:
            terms.append("s.rowid IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(self.matches)))
        return " AND ".join(terms) or "1", params


@dataclass(frozen=True)
class Row:
    """One line of the samples table: what the summary columns say of a sample."""

    rowid: int
    id: str
    instance: str
    domain: str
    generator: str
    round: int
    trace_state: str | None
    first_error: int | None
    """0-based as stored; the UI shows it 1-based."""
    answer: str | None
    """The answer verdict's detail, else its status."""
    correct: bool
    reading: str | None
    failed: bool


@dataclass(frozen=True)
class Page:
    """Rows of one page and where it sits: `first` is the 0-based position of its first row."""

    rows: list[Row]
    first: int
    total: int


@dataclass
class RunRow:
    """A run as the runs list shows it."""

    run: Run
    total: int
    verified: int
    failed: int
    status: str
    """`finished` (every planned first attempt stored, every sample verified or failed), `running` (a live
    process holds claims on its samples, or it is not finished and wrote a sample in the last minute),
    else `interrupted`."""
    versions: list[str] = field(default_factory=list)
    """The modulo versions (with source digest) that verified its samples."""

    @property
    def domains(self) -> str:
        return ", ".join(dict.fromkeys(task.domain for task in self.run.config.tasks))

    @property
    def generator(self) -> str:
        gen = self.run.config.generator
        model = gen.params.get("model") or gen.params.get("variant") or gen.params.get("model_path")
        return f"{gen.name}:{model}" if model else gen.name


class StoreView:
    """Read-only queries on one store, each thread on its own connection."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._choices: dict[tuple[str, object], dict[str, list[str]]] = {}
        self.store  # noqa: B018 - open now: a bad store fails before the UI starts

    @property
    def store(self) -> Store:
        found: Store | None = getattr(self._local, "store", None)
        if found is None:
            found = Store(self.path, readonly=True)
            self._local.store = found
        return found

    def rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.store.query(sql, tuple(params))

    def signature(self) -> tuple[tuple[int, int], ...]:
        """Size and mtime of the store and its write-ahead log: unchanged means nothing was written."""
        found = []
        for path in (self.path, Path(f"{self.path}-wal")):
            try:
                stat = path.stat()
                found.append((stat.st_size, stat.st_mtime_ns))
            except OSError:
                found.append((0, 0))
        return tuple(found)

    # runs

    def runs(self) -> list[RunRow]:
        """Every run, newest first, with its counts, status and verifying versions."""
        # two queries, each on an index (the covering one, the partial one of failures): no table scan
        failures = dict(
            self.rows(
                "SELECT run_id, count(*) FROM samples WHERE generation_error IS NOT NULL GROUP BY run_id"
            )
        )
        counts = {
            run_id: (total, verified, int(failures.get(run_id, 0)))
            for run_id, total, verified in self.rows(
                "SELECT run_id, count(*), count(trace_state) FROM samples GROUP BY run_id"
            )
        }
        live = {run_id for run_id, owner, at in self.rows(_CLAIMS) if claim_alive(owner, at)}
        found = []
        for run in reversed(self.store.runs()):
            total, verified, failed = counts.get(run.id, (0, 0, 0))
            expected = sum(task.count * task.samples for task in run.config.tasks)
            first = self.rows("SELECT count(*) FROM samples WHERE run_id = ? AND round = 0", [run.id])[0][0]
            complete = verified + failed == total and first >= expected
            if run.id in live or (not complete and self._recent(run.id)):
                status = "running"
            elif not complete:
                status = "interrupted"
            else:
                status = "finished"
            found.append(RunRow(run, total, verified, failed, status, self.versions(run.id)))
        return found

    def _recent(self, run_id: str) -> bool:
        """Whether the run's newest sample was generated in the last RECENT_SECONDS."""
        sql = (
            "SELECT generated_at FROM samples WHERE rowid = (SELECT max(rowid) FROM samples WHERE run_id = ?)"
        )
        found = self.rows(sql, [run_id])
        if not found or found[0][0] is None:
            return False
        at = datetime.fromisoformat(str(found[0][0]).replace("Z", "+00:00"))
        return (datetime.now(UTC) - at).total_seconds() < RECENT_SECONDS

    def versions(self, run_id: str) -> list[str]:
        rows = self.rows(
            "SELECT DISTINCT json_extract(verified_by, '$.modulo') FROM samples "
            "WHERE run_id = ? AND trace_state IS NOT NULL",
            [run_id],
        )
        return sorted(str(v) if v is not None else "unrecorded" for (v,) in rows)

    def run(self, run_id: str) -> Run:
        return self.store.find_run(run_id)

    def report(self, run_id: str) -> Report:
        """The run's report, exactly as `modulo report --json` computes it."""
        return report_from_store(self.store, self.run(run_id))

    def round_cells(self, run_id: str) -> dict[int, Cell]:
        """The table of each LLM-Modulo round's verified samples (the report's cells count first attempts
        only), from the covering index."""
        counts: dict[int, Counter[tuple[TraceState, bool]]] = defaultdict(Counter)
        sql = """SELECT round, trace_state, answer_status = 'correct', count(*) FROM samples
                 WHERE run_id = ? AND trace_state IS NOT NULL GROUP BY 1, 2, 3"""
        for round_, state, correct, n in self.rows(sql, [run_id]):
            counts[int(round_)][(state, bool(correct))] += int(n)
        return {round_: cell_from_counts(counts[round_]) for round_ in sorted(counts)}

    def choices(self, run_id: str) -> dict[str, list[str]]:
        """Values each filter can take in this run (for the filter menu and the palette); read again only
        once the store changes."""
        key = (run_id, self.signature())
        if key not in self._choices:
            self._choices = {key: self._read_choices(run_id)}
        return self._choices[key]

    def cached_choices(self, run_id: str) -> dict[str, list[str]] | None:
        """`choices` if they were read since the store last changed, else None (never reads)."""
        return self._choices.get((run_id, self.signature()))

    def _read_choices(self, run_id: str) -> dict[str, list[str]]:

        def distinct(column: str) -> list[str]:
            sql = f"SELECT DISTINCT {column} FROM samples WHERE run_id = ? AND {column} IS NOT NULL"
            return sorted(str(v) for (v,) in self.rows(sql, [run_id]))

        rules = self.rows(
            "SELECT DISTINCT r.key FROM samples s, json_each(s.rules_json) r "
            "WHERE s.run_id = ? AND s.rules_json IS NOT NULL",
            [run_id],
        )
        difficulty: set[str] = set()
        for (text,) in self.rows("SELECT DISTINCT difficulty_json FROM instances WHERE run_id = ?", [run_id]):
            difficulty |= {f"{k}={v}" for k, v in json.loads(text).items()}
        return {
            "domain": distinct("domain"),
            "generator": distinct("generator"),
            "reading": distinct("reading_status"),
            "round": distinct("round"),
            "rule": sorted(str(r) for (r,) in rules),
            "difficulty": sorted(difficulty),
        }

    # samples

    def count(self, run_id: str, filters: Filters) -> int:
        where, params = filters.where(run_id)
        return int(
            self.rows(f"SELECT count(*) {_FROM} WHERE s.run_id = ? AND {where}", [run_id, *params])[0][0]
        )

    def page(
        self,
        run_id: str,
        filters: Filters,
        sort: str = "generation order",
        *,
        descending: bool = False,
        offset: int = 0,
        limit: int = PAGE_SIZE,
        total: int | None = None,
    ) -> Page:
        """`limit` rows from position `offset` in the sorted, filtered samples."""
        where, params = filters.where(run_id)
        direction = "DESC" if descending else "ASC"
        # the sorted page is found on the covering index alone; names and failures only for its rows
        sql = (
            f"SELECT s.rowid {_FROM} WHERE s.run_id = ? AND {where} "
            f"ORDER BY {SORTS[sort]} {direction}, s.rowid {direction} LIMIT ? OFFSET ?"
        )
        order = [r[0] for r in self.rows(sql, [run_id, *params, limit, offset])]
        details = {
            r[0]: _row(r)
            for r in self.rows(
                f"SELECT {_ROW_COLUMNS} FROM samples s JOIN instances i "
                "ON i.run_id = s.run_id AND i.id = s.instance_id "
                "WHERE s.rowid IN (SELECT value FROM json_each(?))",
                [json.dumps(order)],
            )
        }
        rows = [details[rowid] for rowid in order]
        return Page(rows, offset, self.count(run_id, filters) if total is None else total)

    def sample(self, sample_id: str) -> Sample | None:
        return self.store.sample(sample_id)

    def probe_items(self, sample_id: str) -> list[tuple[str, str, str, ProbeItem]]:
        """The sample's stored probe items as (probe, spec hash, key, item), in the order they were judged."""
        sql = "SELECT probe, spec_hash, key, item_json FROM probe_items WHERE sample_id = ? ORDER BY rowid"
        return [
            (str(probe), str(spec), str(key), ProbeItem.model_validate_json(unpack(item) or "{}"))
            for probe, spec, key, item in self.rows(sql, [sample_id])
        ]

    def children(self, sample: Sample) -> list[str]:
        """Ids of the samples that answer this one's critique (its next LLM-Modulo round); read from the
        covering index (run, round) rather than a scan of the table."""
        sql = "SELECT id FROM samples WHERE run_id = ? AND round = ? AND parent_id = ? ORDER BY rowid"
        return [r[0] for r in self.rows(sql, [sample.run_id, sample.round + 1, sample.id])]

    def search(
        self,
        run_id: str,
        filters: Filters,
        word: str,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        chunk: int = 2000,
    ) -> Filters | None:
        """The filters narrowed to samples whose text or reasoning contains `word` (case-insensitive);
        None when cancelled. Scans the texts in chunks of `chunk` samples, calling `progress(done, total)`."""
        needle = word.casefold()
        base = replace(filters, search=None, matches=None)
        total = self.count(run_id, base)
        found: list[int] = []
        for done, rows in _chunks(self._texts(run_id, base), chunk):
            if cancelled():
                return None
            found += [rowid for rowid, text, reasoning in rows if _contains(text, reasoning, needle)]
            if progress is not None:
                progress(done, total)
        return replace(base, search=word, matches=tuple(found))

    def _texts(self, run_id: str, filters: Filters) -> Iterator[tuple[int, Any, Any]]:
        where, params = filters.where(run_id)
        sql = f"SELECT s.rowid, s.text, s.reasoning {_FROM} WHERE s.run_id = ? AND {where} ORDER BY s.rowid"
        yield from self.store._db.execute(sql, (run_id, *params))

    def export(self, run_id: str, filters: Filters, out: Path) -> int:
        """Write the filtered samples (whole, as `Sample` JSON lines) to `out`; returns how many.
        Refuses the store's own files."""
        store = str(self.path.resolve())
        if str(out.resolve()) in {store, store + "-wal", store + "-shm", store + "-journal"}:
            raise ValueError(f"{out} is the store or one of its files; choose another file")
        where, params = filters.where(run_id)
        ids = [
            r[0]
            for r in self.rows(
                f"SELECT s.id {_FROM} WHERE s.run_id = ? AND {where} ORDER BY s.rowid", [run_id, *params]
            )
        ]
        with out.open("w", encoding="utf-8") as handle:
            for start in range(0, len(ids), 500):
                for sample in self.store.samples_with_ids(run_id, ids[start : start + 500]):
                    handle.write(sample.model_dump_json() + "\n")
        return len(ids)


_FROM = "FROM samples s"
_ROW_COLUMNS = (
    "s.rowid, s.id, coalesce(nullif(i.name, ''), s.instance_id), s.domain, s.generator, s.round, "
    "s.trace_state, CASE WHEN s.trace_state IN ('invalid', 'unknown') THEN s.first_error END, "
    "coalesce(nullif(s.answer_detail, ''), s.answer_status), s.answer_status = 'correct', s.reading_status, "
    "s.generation_error IS NOT NULL"
)
_CLAIMS = "SELECT s.run_id, c.owner, c.claimed_at FROM claims c JOIN samples s ON s.id = c.sample_id"


def _row(r: tuple[Any, ...]) -> Row:
    """A Row from the columns of `_ROW_COLUMNS`, with `correct` and `failed` as booleans."""
    row = Row(*r)
    return replace(row, correct=bool(row.correct), failed=bool(row.failed))


def _contains(text: Any, reasoning: Any, needle: str) -> bool:
    return any(needle in (unpack(v) or "").casefold() for v in (text, reasoning))


def _chunks(
    rows: Iterator[tuple[int, Any, Any]], size: int
) -> Iterator[tuple[int, list[tuple[int, Any, Any]]]]:
    done = 0
    batch: list[tuple[int, Any, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            done += len(batch)
            yield done, batch
            batch = []
    yield done + len(batch), batch
