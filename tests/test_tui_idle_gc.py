"""Full garbage collections wait for an idle moment while the TUI runs; Python's policy comes back after."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from tui_store import build

from modulo.tui import idle_gc
from modulo.tui.app import ModuloApp
from modulo.tui.idle_gc import IdleCollector


def full_collections() -> int:
    return int(gc.get_stats()[2]["collections"])


class Cycle:
    def __init__(self) -> None:
        self.me = self


def make_young_collections(count: int) -> list[Cycle]:
    """Allocate (and keep) tracked objects until generation 1 has been collected `count` more times."""
    kept: list[Cycle] = []
    start = gc.get_stats()[1]["collections"]
    while gc.get_stats()[1]["collections"] - start < count:
        kept += [Cycle() for _ in range(1000)]
    return kept


def test_python_alone_would_collect_fully() -> None:
    """The control: the same allocations under Python's own policy run full collections."""
    full = full_collections()
    make_young_collections(3 * idle_gc.YOUNG_COLLECTIONS)
    assert full_collections() > full


def test_no_full_collection_until_idle_and_due(monkeypatch: pytest.MonkeyPatch) -> None:
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.start()
    try:
        assert gc.get_threshold()[2] == idle_gc.NEVER and gc.get_freeze_count() > 0
        full = full_collections()
        make_young_collections(3 * idle_gc.YOUNG_COLLECTIONS)
        assert full_collections() == full  # Python's policy would have run some by now
        collector.touched()
        assert not collector.tick()  # the user just pressed a key
        monkeypatch.setattr(idle_gc, "IDLE_SECONDS", 0.0)
        assert collector.tick() and full_collections() == full + 1
        assert not collector.tick()  # nothing allocated since: not due
    finally:
        collector.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_app_restores_the_collector(tmp_path: Path) -> None:
    path = build(tmp_path / "s.sqlite")
    before = gc.get_threshold()

    async def main() -> None:
        app = ModuloApp(path)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.get_threshold()[2] == idle_gc.NEVER

    asyncio.run(main())
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_user_who_never_pauses_still_gets_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawing leaves cyclic garbage behind every key: a due collection waits for an idle moment only
    MAX_WAIT_SECONDS."""
    collector = IdleCollector()
    collector.start()
    try:
        make_young_collections(idle_gc.YOUNG_COLLECTIONS)
        collector.touched()
        assert not collector.tick()  # due, but the user is typing
        monkeypatch.setattr(idle_gc, "MAX_WAIT_SECONDS", 0.0)
        collector.touched()
        full = full_collections()
        assert collector.tick() and full_collections() == full + 1
    finally:
        collector.stop()


def test_overlapping_apps_restore_pythons_policy_once_both_stopped() -> None:
    before = gc.get_threshold()
    first, second = IdleCollector(), IdleCollector()
    first.start()
    second.start()
    first.stop()
    assert gc.get_threshold()[2] == idle_gc.NEVER and gc.get_freeze_count() > 0  # the second still runs
    first.stop()  # twice: no effect
    assert gc.get_threshold()[2] == idle_gc.NEVER
    second.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
