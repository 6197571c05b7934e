"""Derived trace fields of the data model, and the store's schema guard."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from modulo.model import AnswerVerdict, StepVerdict, Verdicts
from modulo.store import SCHEMA_VERSION, Store, StoreError


def verdicts(statuses: list[str], end: str | None = None) -> Verdicts:
    steps = [
        StepVerdict(index=i, status=s, rule=None if s == "valid" else "x.rule")
        for i, s in enumerate(statuses)
    ]
    checks = [] if end is None else [StepVerdict(index=len(statuses), status=end, rule="x.end")]
    return Verdicts(steps=steps, trace_checks=checks, answer=AnswerVerdict(status="correct"))  # type: ignore[arg-type]


def test_derived_trace_fields() -> None:
    v = verdicts(["valid", "valid", "invalid", "valid", "unsupported"])
    assert (v.trace_valid, v.first_error, v.valid_prefix) == (False, 2, 2)
    assert v.rule_counts() == {"x.rule": 2}


def test_whole_trace_check_counts() -> None:
    v = verdicts(["valid", "valid"], end="invalid")
    assert (v.trace_valid, v.first_error, v.valid_prefix) == (False, 2, 2)
    assert verdicts(["valid"], end="valid").trace_valid


def test_unknown_is_never_valid_and_empty_trace_is_not_valid() -> None:
    assert not verdicts(["valid", "unknown"]).trace_valid
    assert not verdicts([]).trace_valid and verdicts([]).first_error is None


def test_store_refuses_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this modulo"):
        Store(path)


def test_store_uses_wal(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_version_1_store_is_migrated(tmp_path: Path) -> None:
    from modulo.store import _SCHEMA

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO runs VALUES ('r', 'old', '{}', '{}', 'then')")
    with Store(path) as store:
        version = store._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        columns = {row[1] for row in store._db.execute("PRAGMA table_info(samples)")}
        runs = store._db.execute("SELECT name FROM runs").fetchall()
        tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert version == str(SCHEMA_VERSION) and "cache_key" in columns and runs == [("old",)]
    assert "assisted" in tables  # model-assisted readings sit in a table of their own
