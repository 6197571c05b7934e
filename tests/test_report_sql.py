"""The report aggregated in SQL (`report_from_store`) equals the report over loaded samples (`build_report`)
field by field and in order, on varied runs; and a store of schema 4 migrates to the same report."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from shared_data import SHARED_DATA
from typer.testing import CliRunner

from modulo.cli import app
from modulo.importing import store_records
from modulo.model import Run, Sample, StepVerdict
from modulo.packing import pack, unpack
from modulo.registry import get_importer
from modulo.report import as_json, build_report
from modulo.report_sql import report_from_store
from modulo.sample_summary import SUMMARY_COLUMNS
from modulo.store import Store, StoreError

SUITE = """
name = "varied"
rounds = 2
retry_on = "either"
[generator]
name = "oracle"
params = { variant = "exact" }
[[tasks]]
domain = "maze"
count = 3
seed = 0
samples = 2
params = { kind = "dfs", width = 7 }
[[tasks]]
domain = "maze"
count = 2
seed = 1
params = { kind = "wilson", width = 8, dialect = "beyond_semantics" }
generator = { name = "oracle", params = { variant = "swapped" } }
[[tasks]]
domain = "maze"
count = 2
seed = 2
params = { kind = "prim", width = 7 }
generator = { name = "oracle", params = { variant = "plan-skip" } }
[[tasks]]
domain = "blocksworld"
count = 2
seed = 1
style = "state-tracking"
params = { blocks = 4 }
generator = { name = "oracle", params = { variant = "state-error" } }
[[tasks]]
domain = "blocksworld"
count = 2
seed = 3
trace_source = "reasoning"
params = { blocks = 3 }
[[tasks]]
domain = "deduction"
count = 2
seed = 0
params = { hops = 3 }
generator = { name = "oracle", params = { variant = "gold" } }
[[tasks]]
domain = "deduction"
count = 2
seed = 1
params = { hops = 4, world = "open" }
generator = { name = "oracle", params = { variant = "skip-hop" } }
[[tasks]]
domain = "zebra"
count = 1
seed = 0
params = { houses = 3, characteristics = 3 }
generator = { name = "oracle", params = { variant = "wrong-deduction" } }
"""


R1_TRACES = 30
"""DeepSeek-R1 thinking texts imported (of PlanBench's 100), enough for several with an error."""


def both(store: Store, run: Run) -> tuple[str, str]:
    """The old and the new report as JSON text (so that key order counts too)."""
    old = as_json(build_report(run, store.samples(run.id), store.assisted(run.id)))
    return json.dumps(old), json.dumps(as_json(report_from_store(store, run)))


def add_odd_samples(store: Store, run: Run) -> None:
    """Beside the suite's samples: a failed generation, an unverified sample, an `unknown` trace, a repair
    whose parent is a first attempt, verdicts of other code versions, and one with no versions."""
    model = next(s for s in store.samples(run.id, verified=True) if s.trace and s.trace.steps)

    def copy(i: int, **update: object) -> Sample:
        return model.model_copy(update={"id": f"odd{i}", "sample_index": 10 + i, **update})

    failed = copy(0, text="", trace=None, verdicts=None, generation_error="the server said no")
    unverified = copy(1, trace=None, verdicts=None)
    assert model.verdicts is not None
    unknown_steps = [
        StepVerdict(index=v.index, status="unknown", rule="x.gave_up") for v in model.verdicts.steps
    ]
    unknown = copy(2, verdicts=model.verdicts.model_copy(update={"steps": unknown_steps, "trace_checks": []}))
    repair = copy(3, round=1, parent_id=unknown.id, timings={"generate": 0.1, "verify": 0.3})
    other_code = copy(
        4, verified_by={"modulo": "0.0.1+old"}, tokens=model.tokens.model_copy(update={"completion": 7})
    )
    no_versions = copy(5, verified_by=None)
    store.add_generated([failed, unverified, unknown, repair, other_code, no_versions])
    for sample in (unknown, repair, other_code, no_versions):
        assert store.set_verdicts(sample)


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the varied suite's run (with odd samples added) and, when the shared data is
    there, DeepSeek-R1's thinking on PlanBench imported with `trace_source = "reasoning"`."""
    tmp = tmp_path_factory.mktemp("varied")
    suite, path = tmp / "suite.toml", tmp / "runs.sqlite"
    suite.write_text(SUITE)
    result = CliRunner().invoke(app, ["run", str(suite), "--store", str(path), "--no-report"])
    assert result.exit_code == 0, result.output
    with Store(path) as store:
        add_odd_samples(store, store.find_run("varied"))
        results = SHARED_DATA / "planbench/results/blocksworld_3__deepseek-r1-api__zero_shot.json"
        if results.exists():
            base = SHARED_DATA / "planbench" / "llm_planning_analysis"
            options = {
                "domain-file": str(base / "instances/blocksworld/generated_domain.pddl"),
                "instances": str(base / "instances/blocksworld/generated_basic_3"),
                "config": str(base / "configs/blocksworld_3.yaml"),
            }
            importer = get_importer("planbench")
            records = importer.read(results, options)[:R1_TRACES]
            store_records(importer, results, options, records, store, trace_source="reasoning")
    return path


def test_the_sql_report_equals_the_report_over_loaded_samples(varied: Path) -> None:
    with Store(varied, readonly=True) as store:
        runs = store.runs()
        for run in runs:
            old, new = both(store, run)
            assert new == old, run.config.name
        report = report_from_store(store, store.find_run("varied"))
    # the run really is varied: every state, several domains and generators, two rounds, failures
    assert report.overall.no_trace.total and report.overall.trace_unknown.total and report.overall.table.total
    assert report.overall.table.valid_correct and report.overall.table.invalid_correct
    assert len(report.by_domain) == 4 and len(report.by_generator) >= 5 and len(report.loop) == 2
    assert report.failed_generations == 1 and report.unverified == 1 and report.critics_fired
    assert report.stale_verdicts >= 2 and len(report.verdict_versions) >= 3
    assert report.thinking and report.reading_status


def test_the_r1_thinking_summary_is_the_same_from_sql(varied: Path) -> None:
    with Store(varied, readonly=True) as store:
        imported = [r for r in store.runs() if r.config.name != "varied"]
        if not imported:
            pytest.skip("PlanBench results not in the shared data")
        report = report_from_store(store, imported[0])
    [summary] = report.thinking.values()
    assert summary.traces == R1_TRACES and summary.with_error.k > 0


PACKED = ("prompt_json", "text", "logprobs_json", "reasoning", "trace_json", "verdicts_json")


def _downgrade_to_schema_4(path: Path) -> None:
    """Make a store what schema 4 wrote: every text as TEXT, no summary columns, no report indexes, the
    per-step table (empty: nothing reads it)."""
    db = sqlite3.connect(path)
    for index in ("samples_report", "samples_failed", "samples_thinking"):
        db.execute(f"DROP INDEX {index}")
    for column in SUMMARY_COLUMNS:
        db.execute(f"ALTER TABLE samples DROP COLUMN {column}")
    for row in db.execute(f"SELECT id, {', '.join(PACKED)} FROM samples").fetchall():
        assignments = ", ".join(f"{column} = ?" for column in PACKED)
        db.execute(f"UPDATE samples SET {assignments} WHERE id = ?", (*map(unpack, row[1:]), row[0]))
    for key, payload in db.execute("SELECT id, payload_json FROM instances").fetchall():
        db.execute("UPDATE instances SET payload_json = ? WHERE id = ?", (unpack(payload), key))
    db.execute("CREATE TABLE step_verdicts (sample_id, idx, text, status, rule, message)")
    db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    db.commit()
    db.close()


def _stored_types(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {
            t for column in PACKED for (t,) in db.execute(f"SELECT DISTINCT typeof({column}) FROM samples")
        }


def test_a_schema_4_store_is_migrated_and_reads_and_reports_the_same(varied: Path, tmp_path: Path) -> None:
    with Store(varied, readonly=True) as store:
        before = {run.id: (store.samples(run.id), both(store, run)[1]) for run in store.runs()}
    path = tmp_path / "old.sqlite"
    source = sqlite3.connect(varied)
    source.execute(f"VACUUM INTO '{path}'")
    source.close()
    _downgrade_to_schema_4(path)
    assert "blob" not in _stored_types(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT DISTINCT typeof(payload_json) FROM instances").fetchall() == [("text",)]
    with pytest.raises(StoreError, match="older schema version 4"):
        Store(path, readonly=True)
    with Store(path) as store:  # migrates and backfills the summary columns; old rows stay TEXT
        run = store.find_run("varied")
        store.add_generated([before[run.id][0][0].model_copy(update={"id": "new-row"})])
    assert {"text", "blob"} <= _stored_types(path)  # old rows as they were, the new one compressed
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'step_verdicts'").fetchone() == (
            0,
        )
    with Store(path, readonly=True) as store:
        new_row = store.sample("new-row")
        assert new_row is not None and new_row.text == before[run.id][0][0].text
        for run in store.runs():
            samples, report = before[run.id]
            assert [s for s in store.samples(run.id) if s.id != "new-row"] == samples
            old, new = both(store, run)
            assert new == old
            if run.config.name == "varied":  # one unverified sample more
                expected = json.loads(report)
                expected["samples"] += 1
                expected["unverified"] += 1
                assert json.loads(new) == expected
            else:
                assert new == report


def test_long_texts_are_stored_compressed_and_read_back_exactly(varied: Path) -> None:
    with sqlite3.connect(varied) as db:
        rows = db.execute(
            "SELECT typeof(trace_json), length(trace_json), length(text) FROM samples"
        ).fetchall()
    assert any(kind == "blob" for kind, _, _ in rows)
    for value in ("", "short", "x" * 5000, "é€ unicode " * 100, json.dumps({"a": list(range(300))})):
        assert unpack(pack(value)) == value
    assert isinstance(pack("x" * 5000), bytes) and pack("short") == "short" and pack(None) is None
