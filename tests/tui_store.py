"""Fixture stores for the terminal UI tests, written by the real runner with oracle generators.

`build` runs two suites into one store: a two-round LLM-Modulo run over maze (exact and wrong-g traces),
Blocksworld (precondition violations) and deduction (skipped hops), and a small maze run to compare with.
`freeze` then pins what changes from one build to the next (start times, code versions), so snapshots of
the screens are stable; it edits only the test's own store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.runner import Runner
from modulo.store import Store

MAIN = RunConfig(
    name="tui-fixture",
    rounds=2,
    retry_on="either",
    generator=GeneratorConfig(params={"variant": "exact"}),
    tasks=[
        TaskConfig(domain="maze", count=2, seed=0, params={"kind": "dfs", "width": 7}),
        TaskConfig(
            domain="maze",
            count=3,
            seed=3,
            params={"kind": "drunkards_walk", "width": 8},
            generator=GeneratorConfig(params={"variant": "wrong_g"}),
        ),
        TaskConfig(
            domain="blocksworld",
            count=2,
            seed=2,
            params={"blocks": 4},
            generator=GeneratorConfig(params={"variant": "precondition-violation"}),
        ),
        TaskConfig(
            domain="deduction",
            count=2,
            seed=1,
            params={"hops": 3},
            generator=GeneratorConfig(params={"variant": "skip-hop"}),
        ),
    ],
)
OTHER = RunConfig(
    name="tui-other",
    generator=GeneratorConfig(params={"variant": "wrong_g"}),
    tasks=[TaskConfig(domain="maze", count=4, seed=5, params={"kind": "dfs", "width": 7})],
)


def build(path: Path) -> Path:
    """Both runs in the store at `path` (the main run newest)."""
    with Store(path) as store:
        Runner(OTHER, store).run()
        Runner(MAIN, store).run()
    return path


def freeze(path: Path) -> Path:
    """Fixed start times, generation times and code versions (for screenshots that do not change)."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE runs SET created_at = '2026-01-02T03:04:05+00:00' WHERE name = 'tui-other'")
        db.execute("UPDATE runs SET created_at = '2026-01-02T04:05:06+00:00' WHERE name = 'tui-fixture'")
        db.execute("UPDATE samples SET generated_at = '2026-01-02T04:05:06Z'")
        db.execute("""UPDATE samples SET verified_by = '{"modulo": "0.1.0+snapshot"}'""")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path
