"""The terminal UI opens a real store, shows the 2×2 table, filters quadrants and shows step verdicts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable, Static

from modulo.model import GeneratorConfig, RunConfig, TaskConfig
from modulo.runner import Runner
from modulo.store import Store
from modulo.tui.app import ModuloApp


def test_tui_browses_a_run(with_plugin: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    config = RunConfig(
        name="tui-test",
        generator=GeneratorConfig(params={"variant": "arithmetic-slip"}),
        tasks=[TaskConfig(domain="sums", count=3)],
    )
    with Store(path) as store:
        Runner(config, store).run()

    async def drive() -> None:
        app = ModuloApp(path)
        async with app.run_test() as pilot:
            await pilot.pause()
            quadrants = str(app.query_one("#quadrants", Static).render())
            assert "tui-test" in quadrants and "trace invalid" in quadrants
            samples = app.query_one("#samples", DataTable)
            assert samples.row_count == 3
            samples.focus()
            await pilot.press("down")
            await pilot.pause()
            steps = str(app.query_one("#steps", Static).render())
            assert "sums.arithmetic" in steps and "incorrect" in steps
            await pilot.press("f")  # valid trace, correct answer: none of the slipped traces
            await pilot.pause()
            assert samples.row_count == 0

    asyncio.run(drive())
