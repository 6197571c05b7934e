"""Screenshots of the main screens at 80×24 and 200×50 (pytest-textual-snapshot), on a frozen fixture store.

After a deliberate change of a screen, look at the new pictures and accept them with
`pytest tests/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_store import build, freeze

from modulo.tui.app import ModuloApp

SIZES = [(80, 24), (200, 50)]
SCREENS = {
    "runs": [],
    "dashboard": ["enter"],
    "samples": ["enter", "s"],
    "sample": ["enter", "s", "j", "j", "enter"],
}


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return freeze(build(tmp_path_factory.mktemp("snap") / "s.sqlite"))


async def _settle(pilot: Pilot[None]) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def _keys(keys: list[str]) -> Callable[[Pilot[None]], Any]:
    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        for key in keys:
            await pilot.press(key)
            await _settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_screen_snapshot(snap_compare: Any, frozen: Path, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(ModuloApp(frozen), terminal_size=size, run_before=_keys(SCREENS[screen]))
