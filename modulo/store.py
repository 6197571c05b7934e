"""The run store: SQLite in WAL mode with a versioned schema (runs, instances, samples, step verdicts).

Texts are committed as soon as they are generated, before verification, so a killed run loses at
most the batch in flight; sample ids are deterministic, so re-running a config resumes it. Several
processes may work on one store at once: each claims the samples it is about to produce (`claim`), and a
verdict is only ever written for the exact text it was computed from (`set_verdicts`).
Readers (report, TUI, export) open the store read-only (`Store(path, readonly=True)`).
Long texts and JSON are stored zlib-compressed (`modulo.packing`); beside its verdicts each sample keeps
the columns the report aggregates in SQL (`modulo.sample_summary`, `modulo.report_sql`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from modulo.assisted import AssistedReading
from modulo.claims import claim_alive, utc_now
from modulo.model import (
    ChatMessage,
    Instance,
    Run,
    RunConfig,
    Sample,
    TokenCounts,
    Trace,
    Verdicts,
)
from modulo.packing import pack, unpack
from modulo.sample_summary import SUMMARY_COLUMNS, summary_values

SCHEMA_VERSION = 7

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    config_json TEXT NOT NULL,
    versions_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    run_id TEXT NOT NULL REFERENCES runs(id),
    id TEXT NOT NULL,
    domain TEXT NOT NULL,
    seed INTEGER,
    difficulty_json TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    instance_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    generator TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    round INTEGER NOT NULL,
    parent_id TEXT,
    prompt_json TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    logprobs_json TEXT,
    timings_json TEXT NOT NULL,
    generated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- filled in by verification; NULL means "generated, not yet verified"
    trace_json TEXT,
    verdicts_json TEXT,
    trace_valid INTEGER,
    first_error INTEGER,
    valid_prefix INTEGER,
    answer_status TEXT,
    answer_detail TEXT,
    FOREIGN KEY (run_id, instance_id) REFERENCES instances(run_id, id)
);
CREATE INDEX IF NOT EXISTS samples_by_run ON samples(run_id, round);
"""


MIGRATIONS: dict[int, list[str]] = {
    2: [  # generation cache: a sample's text is reused by any later sample with the same cache key
        "ALTER TABLE samples ADD COLUMN cache_key TEXT",
        "CREATE INDEX samples_by_cache_key ON samples(cache_key)",
    ],
    3: [
        # instances.id became a storage key (the domain's id plus a digest of the instance's content), so
        # two tasks whose instances share an id never share a row; `name` holds the domain's own id
        "ALTER TABLE instances ADD COLUMN name TEXT",
        # the code versions that computed a sample's verdicts (JSON), and why a generation failed
        "ALTER TABLE samples ADD COLUMN verified_by TEXT",
        "ALTER TABLE samples ADD COLUMN generation_error TEXT",
        # a reasoning model's thinking, kept apart from the response it verifies (API field or <think>)
        "ALTER TABLE samples ADD COLUMN reasoning TEXT",
        """CREATE TABLE claims (
               sample_id TEXT PRIMARY KEY,
               owner TEXT NOT NULL,
               claimed_at TEXT NOT NULL
           )""",
    ],
    4: [
        # model-assisted readings (modulo.assisted), one per sample and translator: a table of their own,
        # so they sit beside the sample and never in its trace or verdicts (which reverify rewrites)
        """CREATE TABLE assisted (
               sample_id TEXT NOT NULL REFERENCES samples(id),
               translator TEXT NOT NULL,
               run_id TEXT NOT NULL,
               status TEXT NOT NULL,
               agreement TEXT NOT NULL,
               retryable INTEGER NOT NULL,
               reading_json TEXT NOT NULL,
               PRIMARY KEY (sample_id, translator)
           )""",
        "CREATE INDEX assisted_by_run ON assisted(run_id, translator)",
    ],
    5: [
        # what the report needs of a verified sample (modulo.sample_summary), so that `modulo report`
        # aggregates in SQL from one covering index instead of loading every sample
        "ALTER TABLE samples ADD COLUMN trace_state TEXT",
        "ALTER TABLE samples ADD COLUMN reading_status TEXT",
        "ALTER TABLE samples ADD COLUMN critic TEXT",
        "ALTER TABLE samples ADD COLUMN rules_json TEXT",
        "ALTER TABLE samples ADD COLUMN thinking_json TEXT",
        "ALTER TABLE samples ADD COLUMN generate_seconds REAL",
        "ALTER TABLE samples ADD COLUMN verify_seconds REAL",
        """CREATE INDEX samples_report ON samples(
               run_id, round, trace_state, answer_status, answer_detail, domain, generator, instance_id,
               sample_index, first_error, reading_status, critic, parent_id, id, rules_json, verified_by,
               completion_tokens, generate_seconds, verify_seconds)""",
        "CREATE INDEX samples_failed ON samples(run_id, trace_state) WHERE generation_error IS NOT NULL",
        "CREATE INDEX samples_thinking ON samples(run_id, round) WHERE thinking_json IS NOT NULL",
    ],
    6: [
        # the per-step copy of the verdicts and step texts (all of it in trace_json and verdicts_json);
        # from now on long texts and JSON (instance payloads too) are stored zlib-compressed
        # (modulo.packing); old rows stay as they are and read the same
        "DROP TABLE IF EXISTS step_verdicts",
    ],
    7: [
        # faithfulness probes (modulo.probes): one row per judged intervention, written as it is judged, so
        # a killed probe run resumes item by item; `spec_hash` keeps results of a changed probe apart
        """CREATE TABLE IF NOT EXISTS probe_items (
               sample_id TEXT NOT NULL REFERENCES samples(id),
               probe TEXT NOT NULL,
               spec_hash TEXT NOT NULL,
               key TEXT NOT NULL,
               item_json TEXT NOT NULL,
               created TEXT NOT NULL,
               UNIQUE (sample_id, probe, spec_hash, key)
           )""",
        "CREATE INDEX IF NOT EXISTS probe_items_by_spec ON probe_items(probe, spec_hash)",
        # what each spec hash stands for (name, pinned prompts, params), so reports summarise with them
        """CREATE TABLE IF NOT EXISTS probe_specs (
               spec_hash TEXT PRIMARY KEY,
               probe TEXT NOT NULL,
               spec_json TEXT NOT NULL
           )""",
    ],
}
"""Statements that take a store from the previous schema version to the key's version."""


class StoreError(RuntimeError):
    """The store file cannot be used (newer schema, not a modulo store, ...)."""


def instance_key(instance: Instance) -> str:
    """Storage key of an instance: its id plus a digest of its whole content (domain, seed, payload)."""
    content = json.dumps(instance.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return f"{instance.id}@{hashlib.sha256(content.encode()).hexdigest()[:12]}"


class Store:
    """A modulo store in one SQLite file; safe to open from several processes (WAL).

    `readonly=True` opens an existing store without writing anything to it (not even a migration), so
    reports and the TUI work on read-only files and never change a store's bytes or mtime.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise StoreError(
                f"no store at {self.path}; run `modulo run CONFIG.toml --store {self.path}` first"
            )
        try:
            if readonly:
                self._db = _connect_readonly(self.path)
                self._check_schema()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                _while_locked(self._setup)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable modulo store: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc.strerror or exc}") from exc

    def _setup(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return 1 if row is None else int(row[0])

    def _check_schema(self) -> None:
        """A read-only store must already have this modulo's schema (readers never migrate)."""
        try:
            version = self._schema_version()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path} is not a modulo store ({exc})") from exc
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this modulo ({SCHEMA_VERSION}); "
                "upgrade modulo to read it"
            )
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has the older schema version {version}; readers never write, so upgrade it "
                f"once with `modulo reverify --store {self.path}` (it migrates, then re-checks verdicts)"
            )

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)  # the version-1 tables still in use; idempotent (IF NOT EXISTS)
        with self._transaction() as db:
            version = self._schema_version()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this modulo ({SCHEMA_VERSION}); "
                    "upgrade modulo to read it"
                )
            if version == SCHEMA_VERSION:
                return
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                if target == 5:
                    self._backfill_summaries(db)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _backfill_summaries(self, db: sqlite3.Connection) -> None:
        """Fill the summary columns (schema 5) of every verified sample from its stored verdicts."""
        last = db.execute("SELECT coalesce(max(rowid), 0) FROM samples").fetchone()[0]
        for start in range(0, last, 1000):
            verified = self._select(
                "s.rowid > ? AND s.rowid <= ? AND s.verdicts_json IS NOT NULL", [start, start + 1000]
            )
            db.executemany(
                f"UPDATE samples SET {_SUMMARY_ASSIGNMENTS} WHERE id = ?",
                [(*summary_values(sample), sample.id) for sample in verified],
            )

    # runs and instances

    def ensure_run(self, run: Run) -> Run:
        """Record `run` unless a run with its id exists; return the stored run (resume keeps the original)."""
        with self._transaction() as db:
            _insert_run(db, run)
        stored = self.get_run(run.id)
        assert stored is not None
        return stored

    def get_run(self, run_id: str) -> Run | None:
        row = self._db.execute(
            "SELECT id, config_json, versions_json, created_at FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return None if row is None else _run_from_row(row)

    def runs(self) -> list[Run]:
        """All runs, oldest first."""
        rows = self._db.execute(
            "SELECT id, config_json, versions_json, created_at FROM runs ORDER BY created_at, rowid"
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    def find_run(self, ref: str | None) -> Run:
        """A run by id, id prefix or name (newest of that name); the newest run when `ref` is None."""
        runs = self.runs()
        if not runs:
            raise StoreError(f"{self.path} holds no runs yet; start one with `modulo run CONFIG.toml`")
        if ref is None:
            return runs[-1]
        exact = [r for r in runs if r.id == ref] or [r for r in runs if r.config.name == ref]
        matches = exact or [r for r in runs if r.id.startswith(ref)]
        if len(matches) == 1 or (exact and matches):
            return matches[-1]
        listing = ", ".join(f"{r.id} ({r.config.name})" for r in runs)
        problem = "matches several runs" if matches else "matches no run"
        raise StoreError(f"{ref!r} {problem}; runs in {self.path}: {listing}")

    def add_instances(self, run_id: str, instances: list[Instance]) -> None:
        with self._transaction() as db:
            _insert_instances(db, run_id, instances)

    # samples

    def sample_ids(self, run_id: str) -> set[str]:
        """Ids of every stored sample of the run, verified or not."""
        rows = self._db.execute("SELECT id FROM samples WHERE run_id = ?", (run_id,)).fetchall()
        return {row[0] for row in rows}

    def sample_count(self, run_id: str) -> int:
        """Stored samples of the run, all rounds (one indexed count, no sample is loaded)."""
        row = self._db.execute("SELECT count(*) FROM samples WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0])

    def add_generated(
        self, samples: list[Sample], *, run: Run | None = None, owner: str | None = None
    ) -> None:
        """Commit freshly generated texts (before verification), with their instances and, when given,
        their run, in one transaction: a run is never recorded without a sample. An existing id is left
        untouched (whoever stored it first keeps it)."""
        with self._transaction() as db:
            if run is not None:
                _insert_run(db, run)
            by_run: dict[str, list[Instance]] = {}
            for s in samples:
                by_run.setdefault(s.run_id, []).append(s.instance)
            for run_id, instances in by_run.items():
                _insert_instances(db, run_id, instances)
            db.executemany(
                """INSERT OR IGNORE INTO samples
                   (id, run_id, instance_id, domain, generator, sample_index, round, parent_id,
                    prompt_json, text, finish_reason, prompt_tokens, completion_tokens,
                    logprobs_json, timings_json, cache_key, generation_error, reasoning)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        s.id,
                        s.run_id,
                        instance_key(s.instance),
                        s.instance.domain,
                        s.generator,
                        s.sample_index,
                        s.round,
                        s.parent_id,
                        pack(json.dumps([m.model_dump() for m in s.prompt])),
                        pack(s.text),
                        s.finish_reason,
                        s.tokens.prompt,
                        s.tokens.completion,
                        None if s.logprobs is None else pack(json.dumps(s.logprobs)),
                        json.dumps(s.timings),
                        s.cache_key,
                        s.generation_error,
                        pack(s.reasoning),
                    )
                    for s in samples
                ],
            )

    def cached(self, keys: list[str]) -> dict[str, Sample]:
        """Earlier samples (of any run) with these cache keys: their texts can be reused as they are.
        Failed generations are never reused."""
        found: dict[str, Sample] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            where = f"s.cache_key IN ({', '.join('?' * len(chunk))}) AND s.generation_error IS NULL"
            for sample in self._select(where, chunk):
                found.setdefault(sample.cache_key or "", sample)
        return found

    def set_verdicts(self, sample: Sample) -> bool:
        """Store the trace and verdicts of an already generated sample, with the code versions that made
        them (`sample.verified_by`). Written only if the stored text is exactly the text they were computed
        from: returns False (and writes nothing) when the stored text differs or the sample is not stored."""
        if sample.trace is None or sample.verdicts is None:
            raise ValueError(f"sample {sample.id} has no verdicts to store")
        v = sample.verdicts
        with self._transaction() as db:
            stored = db.execute("SELECT text FROM samples WHERE id = ?", (sample.id,)).fetchone()
            if stored is None or unpack(stored[0]) != sample.text:
                return False
            db.execute(
                f"""UPDATE samples SET trace_json = ?, verdicts_json = ?, trace_valid = ?, first_error = ?,
                   valid_prefix = ?, answer_status = ?, answer_detail = ?, timings_json = ?, verified_by = ?,
                   {_SUMMARY_ASSIGNMENTS}
                   WHERE id = ?""",
                (
                    pack(sample.trace.model_dump_json()),
                    pack(v.model_dump_json()),
                    int(v.trace_valid),
                    v.first_error,
                    v.valid_prefix,
                    v.answer.status,
                    v.answer.detail,
                    json.dumps(sample.timings),
                    None if sample.verified_by is None else json.dumps(sample.verified_by, sort_keys=True),
                    *summary_values(sample),
                    sample.id,
                ),
            )
        return True

    def sample(self, sample_id: str) -> Sample | None:
        """One stored sample by id."""
        found = self._select("s.id = ?", [sample_id])
        return found[0] if found else None

    def samples_with_ids(self, run_id: str, sample_ids: list[str]) -> list[Sample]:
        """The run's stored samples among these ids (in generation order within each 500)."""
        found: list[Sample] = []
        for start in range(0, len(sample_ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = sample_ids[start : start + 500]
            found += self._select(
                f"s.run_id = ? AND s.id IN ({', '.join('?' * len(chunk))})", [run_id, *chunk]
            )
        return found

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query (the report's aggregates, `modulo.report_sql`)."""
        return self._db.execute(sql, params).fetchall()

    def samples(self, run_id: str, *, verified: bool | None = None) -> list[Sample]:
        """Samples of a run in generation order; filter on whether they are verified yet (failed
        generations count as neither)."""
        return self._select(f"s.run_id = ? {_VERIFIED_FILTER[verified]}", [run_id])

    def delete_failed(self, run_id: str) -> int:
        """Forget the run's failed generations so that they are tried again; returns how many."""
        with self._transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM samples WHERE run_id = ? AND generation_error IS NOT NULL", (run_id,)
                )
            ]
            db.executemany("DELETE FROM samples WHERE id = ?", [(i,) for i in ids])
        return len(ids)

    def verdict_versions(self, run_id: str) -> dict[str, int]:
        """How many verified samples of the run each set of code versions produced (JSON text → count)."""
        rows = self._db.execute(
            """SELECT coalesce(verified_by, '{}'), count(*) FROM samples
               WHERE run_id = ? AND verdicts_json IS NOT NULL GROUP BY 1 ORDER BY 2 DESC""",
            (run_id,),
        ).fetchall()
        return {str(versions): int(count) for versions, count in rows}

    # model-assisted readings (modulo.assisted)

    def add_assisted(self, run_id: str, readings: list[AssistedReading]) -> None:
        """Store readings; one already stored for the same sample and translator is replaced (a retry)."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO assisted VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.sample_id,
                        r.translator,
                        run_id,
                        r.status,
                        r.agreement,
                        int(r.retryable),
                        r.model_dump_json(),
                    )
                    for r in readings
                ],
            )

    def assisted(self, run_id: str) -> list[AssistedReading]:
        """Every assisted reading of the run's samples, in storage order."""
        rows = self._db.execute(
            "SELECT reading_json FROM assisted WHERE run_id = ? ORDER BY rowid", (run_id,)
        ).fetchall()
        return [AssistedReading.model_validate_json(row[0]) for row in rows]

    def assisted_done(self, run_id: str, translator: str, *, retry_failed: bool = False) -> set[str]:
        """Ids of the samples this translator has read (with `retry_failed`, less those it failed on)."""
        query = "SELECT sample_id FROM assisted WHERE run_id = ? AND translator = ?"
        if retry_failed:
            query += " AND NOT retryable"
        return {row[0] for row in self._db.execute(query, (run_id, translator))}

    # faithfulness probes (modulo.probes)

    def add_probe_spec(self, probe: str, spec_hash: str, spec: dict[str, Any]) -> None:
        """Record what a spec hash stands for (kept as first stored: the hash decides the content)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO probe_specs VALUES (?, ?, ?)",
                (spec_hash, probe, json.dumps(spec, sort_keys=True, default=str)),
            )

    def probe_specs(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every recorded spec: hash → (probe name, spec)."""
        rows = self._db.execute("SELECT spec_hash, probe, spec_json FROM probe_specs").fetchall()
        return {h: (name, json.loads(spec)) for h, name, spec in rows}

    def add_probe_item(
        self, sample_id: str, probe: str, spec_hash: str, key: str, item_json: str, *, replace: bool = False
    ) -> bool:
        """Store one judged item at once; False (and nothing written) when that item is already stored,
        unless `replace` (a retried item taking the place of a failed one)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self._transaction() as db:
            cursor = db.execute(
                f"{verb} INTO probe_items VALUES (?, ?, ?, ?, ?, ?)",
                (sample_id, probe, spec_hash, key, pack(item_json), utc_now()),
            )
        return cursor.rowcount == 1

    def probe_items(self, sample_ids: list[str], probe: str, spec_hash: str) -> dict[str, dict[str, str]]:
        """The stored items (JSON) of these samples for one probe spec: sample id → key → item JSON."""
        found: dict[str, dict[str, str]] = {}
        for start in range(0, len(sample_ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = sample_ids[start : start + 500]
            rows = self._db.execute(
                f"""SELECT sample_id, key, item_json FROM probe_items
                    WHERE probe = ? AND spec_hash = ? AND sample_id IN ({", ".join("?" * len(chunk))})
                    ORDER BY rowid""",
                (probe, spec_hash, *chunk),
            ).fetchall()
            for sample_id, key, item in rows:
                found.setdefault(sample_id, {})[key] = _text(item)
        return found

    def probe_totals(self, run_id: str) -> list[tuple[str, str, int]]:
        """(probe, spec hash, stored items) for every probe spec with items on the run's samples."""
        rows = self._db.execute(
            """SELECT p.probe, p.spec_hash, count(*) FROM probe_items p JOIN samples s ON s.id = p.sample_id
               WHERE s.run_id = ? GROUP BY p.probe, p.spec_hash ORDER BY min(p.rowid)""",
            (run_id,),
        ).fetchall()
        return [(str(name), str(h), int(n)) for name, h, n in rows]

    def probe_sample_ids(self, run_id: str, probe: str, spec_hash: str) -> list[str]:
        """Ids of the run's samples with stored items for one probe spec, in the order first probed."""
        rows = self._db.execute(
            """SELECT p.sample_id FROM probe_items p JOIN samples s ON s.id = p.sample_id
               WHERE s.run_id = ? AND p.probe = ? AND p.spec_hash = ?
               GROUP BY p.sample_id ORDER BY min(p.rowid)""",
            (run_id, probe, spec_hash),
        ).fetchall()
        return [str(row[0]) for row in rows]

    # claims: several processes on one store split the work

    def claim(self, sample_ids: list[str], owner: str, *, stored: bool) -> list[str]:
        """Atomically claim the samples this process will produce next, and return the ids it got.

        `stored=False` claims samples to generate (no stored sample yet), `stored=True` stored samples
        to verify (no verdicts yet). An id another live process holds is skipped; a claim whose owner
        is dead (same host) or has lapsed (another host, older than CLAIM_LEASE_SECONDS) is taken over.
        """
        got: list[str] = []
        with self._transaction() as db:
            for sid in sample_ids:
                row = db.execute("SELECT verdicts_json IS NULL FROM samples WHERE id = ?", (sid,)).fetchone()
                if (row is not None) != stored or (stored and row is not None and not row[0]):
                    continue
                held = db.execute(
                    "SELECT owner, claimed_at FROM claims WHERE sample_id = ?", (sid,)
                ).fetchone()
                if held is not None and held[0] != owner and claim_alive(held[0], held[1]):
                    continue
                db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", (sid, owner, utc_now()))
                got.append(sid)
        return got

    def release(self, owner: str, sample_ids: list[str] | None = None) -> None:
        """Drop the owner's claims (all of them when `sample_ids` is None)."""
        with self._transaction() as db:
            if sample_ids is None:
                db.execute("DELETE FROM claims WHERE owner = ?", (owner,))
            else:
                db.executemany(
                    "DELETE FROM claims WHERE owner = ? AND sample_id = ?", [(owner, i) for i in sample_ids]
                )

    def drop_dead_claims(self) -> int:
        """Delete the claims of owners that are dead or lapsed (what a killed process left behind, even
        on samples it finished); returns how many."""
        with self._transaction() as db:
            rows = db.execute("SELECT sample_id, owner, claimed_at FROM claims").fetchall()
            dead = [(sid, owner) for sid, owner, at in rows if not claim_alive(owner, at)]
            db.executemany("DELETE FROM claims WHERE sample_id = ? AND owner = ?", dead)
        return len(dead)

    def unfinished(self, sample_ids: list[str]) -> int:
        """How many of these samples are not stored, or stored without verdicts (failures count as done)."""
        left = 0
        for sid in sample_ids:
            row = self._db.execute(
                "SELECT verdicts_json IS NOT NULL OR generation_error IS NOT NULL FROM samples WHERE id = ?",
                (sid,),
            ).fetchone()
            left += row is None or not row[0]
        return left

    def _select(self, where: str, params: list[Any]) -> list[Sample]:
        """Samples (with their instances) matching `where`, a condition built from constants only."""
        query = f"""SELECT s.*, i.name AS instance_name, i.seed, i.difficulty_json, i.payload_json
                    FROM samples s JOIN instances i ON i.run_id = s.run_id AND i.id = s.instance_id
                    WHERE {where} ORDER BY s.rowid"""
        cursor = self._db.execute(query, params)
        names = [d[0] for d in cursor.description]
        return [_sample_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


_SUMMARY_ASSIGNMENTS = ", ".join(f"{column} = ?" for column in SUMMARY_COLUMNS)

_VERIFIED_FILTER = {
    None: "",
    True: "AND s.verdicts_json IS NOT NULL",
    False: "AND s.verdicts_json IS NULL AND s.generation_error IS NULL",
}


SETUP_PATIENCE_SECONDS = 30.0
"""How long opening a store waits for another process that is creating or migrating it."""


def _while_locked(step: Callable[[], None]) -> None:
    """Run `step`, again while another process holds the lock: switching a new file to WAL and creating
    its tables answer "database is locked" at once, without SQLite's busy wait."""
    deadline = time.monotonic() + SETUP_PATIENCE_SECONDS
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that cannot write; a file we may not write to is opened as immutable."""
    mode = "ro" if _writable(path) else "ro&immutable=1"
    db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode={mode}", uri=True, timeout=30)
    db.execute("PRAGMA query_only=ON")
    return db


def _writable(path: Path) -> bool:
    """Whether this process could write the store and create its WAL files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _insert_run(db: sqlite3.Connection, run: Run) -> None:
    db.execute(
        "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?)",
        (run.id, run.config.name, run.config.model_dump_json(), json.dumps(run.versions), run.created_at),
    )


def _insert_instances(db: sqlite3.Connection, run_id: str, instances: list[Instance]) -> None:
    db.executemany(
        "INSERT OR IGNORE INTO instances (run_id, id, domain, seed, difficulty_json, payload_json, name) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                run_id,
                instance_key(i),
                i.domain,
                i.seed,
                json.dumps(i.difficulty),
                pack(json.dumps(i.payload)),
                i.id,
            )
            for i in instances
        ],
    )


def _run_from_row(row: tuple[Any, ...]) -> Run:
    run_id, config_json, versions_json, created_at = row
    return Run(
        id=run_id,
        config=RunConfig.model_validate_json(config_json),
        versions=json.loads(versions_json),
        created_at=created_at,
    )


def _sample_from_row(row: dict[str, Any]) -> Sample:
    instance = Instance(
        domain=row["domain"],
        id=row["instance_name"] or row["instance_id"],
        seed=row["seed"],
        difficulty=json.loads(row["difficulty_json"]),
        payload=json.loads(_text(row["payload_json"])),
    )
    return Sample(
        id=row["id"],
        run_id=row["run_id"],
        instance=instance,
        generator=row["generator"],
        sample_index=row["sample_index"],
        round=row["round"],
        parent_id=row["parent_id"],
        prompt=[ChatMessage.model_validate(m) for m in json.loads(_text(row["prompt_json"]))],
        text=_text(row["text"]),
        finish_reason=row["finish_reason"],
        tokens=TokenCounts(prompt=row["prompt_tokens"], completion=row["completion_tokens"]),
        timings=json.loads(row["timings_json"]),
        logprobs=None if row["logprobs_json"] is None else json.loads(_text(row["logprobs_json"])),
        cache_key=row["cache_key"],
        generation_error=row["generation_error"],
        reasoning=unpack(row["reasoning"]),
        verified_by=None if row["verified_by"] is None else json.loads(row["verified_by"]),
        trace=None if row["trace_json"] is None else Trace.model_validate_json(_text(row["trace_json"])),
        verdicts=None
        if row["verdicts_json"] is None
        else Verdicts.model_validate_json(_text(row["verdicts_json"])),
    )


def _text(value: str | bytes) -> str:
    """A NOT NULL text column as stored (TEXT, or compressed by `modulo.packing`)."""
    text = unpack(value)
    assert text is not None
    return text
