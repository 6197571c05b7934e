"""Draw docs/tui-dashboard.svg and docs/tui-sample.svg: `modulo tui` at 120×40 on the test fixture store.

Run `python docs/tui_screenshots.py` from the repository root (it builds the store of tests/tui_store.py
in a temporary folder, with the runner and oracle generators).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from tui_store import build, freeze  # noqa: E402

from modulo.tui.app import ModuloApp  # noqa: E402
from modulo.tui.grid import Grid  # noqa: E402


async def shoot(store: Path) -> None:
    app = ModuloApp(store)
    async with app.run_test(size=(120, 40)) as pilot:

        async def press(*keys: str) -> None:
            for key in keys:
                await pilot.press(key)
                for _ in range(3):
                    await app.workers.wait_for_complete()
                    await pilot.pause()

        while not app.screen.query("#runs") or not app.screen.query_one("#runs", Grid).row_count:
            await pilot.pause(0.05)  # the runs are read in a worker
        await press("enter")
        app.save_screenshot("tui-dashboard.svg", str(ROOT / "docs"))
        await press("s", "j", "j", "j", "enter")
        app.save_screenshot("tui-sample.svg", str(ROOT / "docs"))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(shoot(freeze(build(Path(folder) / "s.sqlite"))))
