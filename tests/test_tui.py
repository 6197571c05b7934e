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


def test_samples_without_a_trace_have_their_own_filter() -> None:
    """A gold label with no reasoning is in `no trace`, never in `invalid trace, correct answer`."""
    from modulo.model import AnswerVerdict, Instance, Sample, StepVerdict, Verdicts
    from modulo.tui.app import QUADRANTS

    def sample(steps: int, status: str = "valid") -> Sample:
        verdicts = Verdicts(
            steps=[StepVerdict(index=i, status=status, rule="r") for i in range(steps)],  # type: ignore[arg-type]
            answer=AnswerVerdict(status="correct"),
        )
        instance = Instance(domain="d", id="i")
        return Sample(id=str(steps), run_id="r", instance=instance, generator="g", text="", verdicts=verdicts)

    untraced, traced = sample(0), sample(2)
    assert [name for name, keep in QUADRANTS.items() if keep(untraced)] == ["all", "no trace"]
    assert [name for name, keep in QUADRANTS.items() if keep(traced)] == [
        "all",
        "valid trace, correct answer",
    ]
