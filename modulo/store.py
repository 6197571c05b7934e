"""The run store: SQLite in WAL mode with a versioned schema (runs, instances, samples, step verdicts).

Texts are committed as soon as they are generated, before verification, so a killed run loses at
most the batch in flight; sample ids are deterministic, so re-running a config resumes it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

SCHEMA_VERSION = 2

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
CREATE TABLE IF NOT EXISTS step_verdicts (
    sample_id TEXT NOT NULL REFERENCES samples(id),
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL,
    rule TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (sample_id, idx)
);
"""


MIGRATIONS: dict[int, list[str]] = {
    2: [  # generation cache: a sample's text is reused by any later sample with the same cache key
        "ALTER TABLE samples ADD COLUMN cache_key TEXT",
        "CREATE INDEX samples_by_cache_key ON samples(cache_key)",
    ],
}
"""Statements that take a store from the previous schema version to the key's version."""


class StoreError(RuntimeError):
    """The store file cannot be used (newer schema, not a modulo store, ...)."""


class Store:
    """A modulo store in one SQLite file; safe to open from several processes (WAL)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a usable modulo store: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)  # the version-1 tables; idempotent (IF NOT EXISTS)
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = 1 if row is None else int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this modulo ({SCHEMA_VERSION}); "
                    "upgrade modulo to read it"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    # runs and instances

    def ensure_run(self, run: Run) -> Run:
        """Record `run` unless a run with its id exists; return the stored run (resume keeps the original)."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.config.name,
                    run.config.model_dump_json(),
                    json.dumps(run.versions),
                    run.created_at,
                ),
            )
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
            db.executemany(
                "INSERT OR IGNORE INTO instances VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, i.id, i.domain, i.seed, json.dumps(i.difficulty), json.dumps(i.payload))
                    for i in instances
                ],
            )

    # samples

    def sample_ids(self, run_id: str) -> set[str]:
        """Ids of every stored sample of the run, verified or not."""
        rows = self._db.execute("SELECT id FROM samples WHERE run_id = ?", (run_id,)).fetchall()
        return {row[0] for row in rows}

    def add_generated(self, samples: list[Sample]) -> None:
        """Commit freshly generated texts (before verification); an existing id is left untouched."""
        with self._transaction() as db:
            db.executemany(
                """INSERT OR IGNORE INTO samples
                   (id, run_id, instance_id, domain, generator, sample_index, round, parent_id,
                    prompt_json, text, finish_reason, prompt_tokens, completion_tokens,
                    logprobs_json, timings_json, cache_key)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        s.id,
                        s.run_id,
                        s.instance.id,
                        s.instance.domain,
                        s.generator,
                        s.sample_index,
                        s.round,
                        s.parent_id,
                        json.dumps([m.model_dump() for m in s.prompt]),
                        s.text,
                        s.finish_reason,
                        s.tokens.prompt,
                        s.tokens.completion,
                        None if s.logprobs is None else json.dumps(s.logprobs),
                        json.dumps(s.timings),
                        s.cache_key,
                    )
                    for s in samples
                ],
            )

    def cached(self, keys: list[str]) -> dict[str, Sample]:
        """Earlier samples (of any run) with these cache keys: their texts can be reused as they are."""
        found: dict[str, Sample] = {}
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            for sample in self._select(f"s.cache_key IN ({', '.join('?' * len(chunk))})", chunk):
                found.setdefault(sample.cache_key or "", sample)
        return found

    def set_verdicts(self, sample: Sample) -> None:
        """Store the trace and verdicts of an already generated sample."""
        if sample.trace is None or sample.verdicts is None:
            raise ValueError(f"sample {sample.id} has no verdicts to store")
        v = sample.verdicts
        with self._transaction() as db:
            db.execute(
                """UPDATE samples SET trace_json = ?, verdicts_json = ?, trace_valid = ?, first_error = ?,
                   valid_prefix = ?, answer_status = ?, answer_detail = ?, timings_json = ? WHERE id = ?""",
                (
                    sample.trace.model_dump_json(),
                    v.model_dump_json(),
                    int(v.trace_valid),
                    v.first_error,
                    v.valid_prefix,
                    v.answer.status,
                    v.answer.detail,
                    json.dumps(sample.timings),
                    sample.id,
                ),
            )
            db.execute("DELETE FROM step_verdicts WHERE sample_id = ?", (sample.id,))
            texts = {step.index: step.text for step in sample.trace.steps}
            db.executemany(
                "INSERT INTO step_verdicts VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (sample.id, sv.index, texts.get(sv.index, ""), sv.status, sv.rule, sv.message)
                    for sv in [*v.steps, *v.trace_checks]
                ],
            )

    def samples(self, run_id: str, *, verified: bool | None = None) -> list[Sample]:
        """Samples of a run in generation order; filter on whether they are verified yet."""
        return self._select(f"s.run_id = ? {_VERIFIED_FILTER[verified]}", [run_id])

    def _select(self, where: str, params: list[str]) -> list[Sample]:
        """Samples (with their instances) matching `where`, a condition built from constants only."""
        query = f"""SELECT s.*, i.seed, i.difficulty_json, i.payload_json FROM samples s
                    JOIN instances i ON i.run_id = s.run_id AND i.id = s.instance_id
                    WHERE {where} ORDER BY s.rowid"""
        cursor = self._db.execute(query, params)
        names = [d[0] for d in cursor.description]
        return [_sample_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


_VERIFIED_FILTER = {
    None: "",
    True: "AND s.verdicts_json IS NOT NULL",
    False: "AND s.verdicts_json IS NULL",
}


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
        id=row["instance_id"],
        seed=row["seed"],
        difficulty=json.loads(row["difficulty_json"]),
        payload=json.loads(row["payload_json"]),
    )
    return Sample(
        id=row["id"],
        run_id=row["run_id"],
        instance=instance,
        generator=row["generator"],
        sample_index=row["sample_index"],
        round=row["round"],
        parent_id=row["parent_id"],
        prompt=[ChatMessage.model_validate(m) for m in json.loads(row["prompt_json"])],
        text=row["text"],
        finish_reason=row["finish_reason"],
        tokens=TokenCounts(prompt=row["prompt_tokens"], completion=row["completion_tokens"]),
        timings=json.loads(row["timings_json"]),
        logprobs=None if row["logprobs_json"] is None else json.loads(row["logprobs_json"]),
        cache_key=row["cache_key"],
        trace=None if row["trace_json"] is None else Trace.model_validate_json(row["trace_json"]),
        verdicts=None if row["verdicts_json"] is None else Verdicts.model_validate_json(row["verdicts_json"]),
    )
