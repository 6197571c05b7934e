"""The terminal UI on real stores (written by the runner with oracle generators), driven by Textual's Pilot:
what each screen shows, every binding, and that the store is never written."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Static
from tui_store import build

from modulo.model import Sample
from modulo.store import Store
from modulo.tui.app import ModuloApp, ModuloCommands
from modulo.tui.dashboard import DashboardScreen
from modulo.tui.data import PAGE_SIZE, Filters, StoreView
from modulo.tui.grid import Grid
from modulo.tui.sample import TABS, SampleScreen
from modulo.tui.samples import SamplesScreen
from modulo.tui.textview import TextView
from modulo.tui.widgets import HelpScreen, KeyBar, TabBar


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tui") / "s.sqlite")


@pytest.fixture(scope="module")
def samples(store: Path) -> list[Sample]:
    """Every sample of the main run, loaded whole (the independent reference for the UI's queries)."""
    with Store(store, readonly=True) as db:
        return db.samples(db.find_run("tui-fixture").id)


def run_app(
    path: Path, script: Callable[[ModuloApp, Pilot[None]], Awaitable[None]], size: tuple[int, int] = (200, 50)
) -> None:
    async def main() -> None:
        app = ModuloApp(path)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await script(app, pilot)

    asyncio.run(main())


async def settle(app: ModuloApp, pilot: Pilot[None]) -> None:
    """Wait until every worker is done and its results are on screen."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def shown(app: ModuloApp, selector: str) -> str:
    """The text a Static or TextView shows (rich tables rendered as text)."""
    widget = app.screen.query_one(selector)
    if isinstance(widget, TextView):
        return widget.text.plain
    assert isinstance(widget, Static)
    content = widget.content
    if isinstance(content, str | Text):
        return str(content)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def cells(table: Grid) -> list[list[str]]:
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def open_main_run(app: ModuloApp, pilot: Pilot[None]) -> DashboardScreen:
    """From the runs screen, the dashboard of the main run (the newest, first row)."""
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, DashboardScreen)
    return app.screen


def report_json(store: Path, run: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "modulo", "report", run, "--json", "--store", str(store)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def test_runs_screen_lists_every_run(store: Path) -> None:
    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        rows = cells(app.screen.query_one("#runs", Grid))
        assert [r[1] for r in rows] == ["tui-fixture", "tui-other"]
        main = rows[0]
        assert main[6] == "maze, blocksworld, deduction" and main[7] == "oracle:exact"
        assert main[3] == "16 / 16" and main[2] == "finished"
        assert main[8].startswith("0.1.0")

    run_app(store, script)


def test_dashboard_numbers_are_the_report(store: Path) -> None:
    """The 2×2 table, rates and plots on screen equal `modulo report --json` for the run."""
    expected = report_json(store, "tui-fixture")
    overall = expected["overall"]
    table = overall["table"]

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        rows = cells(app.screen.query_one("#table2x2", Grid))
        counts = [[int(value.split()[0]) for value in row[1:]] for row in rows]
        assert counts == [
            [table["valid_correct"], table["valid_incorrect"]],
            [table["invalid_correct"], table["invalid_incorrect"]],
            [overall["no_trace"]["answer_correct"], overall["no_trace"]["answer_not_correct"]],
            [overall["trace_unknown"]["answer_correct"], overall["trace_unknown"]["answer_not_correct"]],
        ]
        rates = shown(app, "#rates")
        for name in (
            "trace_valid",
            "answer_correct",
            "correct_given_valid_trace",
            "correct_given_invalid_trace",
        ):
            r = overall[name]
            assert f"{r['rate']:.1%} [{r['low'] * 100:.1f}–{r['high'] * 100:.1f}] {r['k']}/{r['n']}" in rates
        assert f"{overall['phi']:+.2f}" in rates
        first = shown(app, "#first-errors")
        for step, n in expected["first_error_histogram"].items():
            assert f"{int(step) + 1} █" in first and f" {n}\n" in first
        rules = shown(app, "#rules")
        assert all(rule in rules for rule in expected["rule_counts"])
        breakdown = cells(app.screen.query_one("#breakdown", Grid))
        by_domain = {r[0].removeprefix("domain "): int(r[1]) for r in breakdown if r[0].startswith("domain ")}
        assert by_domain == {d: c["samples"] for d, c in expected["by_domain"].items()}

    run_app(store, script)


def test_a_cell_opens_its_samples(store: Path, samples: list[Sample]) -> None:
    """Enter on `trace invalid × answer correct` lists exactly the first attempts in that cell."""
    expected = report_json(store, "tui-fixture")["overall"]["table"]["invalid_correct"]

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await pilot.press("down")  # trace valid → trace invalid, column answer correct
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SamplesScreen)
        rows = cells(app.screen.query_one("#samples", Grid))
        assert len(rows) == expected > 0
        assert all(r[2] == "invalid" and r[5] == "1" for r in rows)
        assert "invalid trace, correct answer, first attempts" in shown(app, "#samples-title")

    run_app(store, script)


def test_first_error_jump_lands_on_the_first_non_valid_step(store: Path, samples: list[Sample]) -> None:
    target = next(s for s in samples if s.verdicts and any(v.status != "valid" for v in s.verdicts.steps[1:]))
    assert target.verdicts is not None
    statuses = [v.status for v in [*target.verdicts.steps, *target.verdicts.trace_checks]]
    bad = [i for i, status in enumerate(statuses) if status != "valid"]

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_sample(target.id)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SampleScreen)
        steps = screen.query_one("#steps", Grid)
        assert steps.cursor_row == bad[0]  # opens on the first error
        assert cells(steps)[bad[0]][0] == str(target.verdicts.steps[bad[0]].index + 1)  # 1-based
        assert shown(app, "#step-detail").startswith(f"step {bad[0] + 1} {statuses[bad[0]]}")
        await pilot.press("g", "e")
        assert steps.cursor_row == bad[0]
        for expected in bad[1:]:
            await pilot.press("n")
            assert steps.cursor_row == expected
        for expected in reversed(bad[:-1]):
            await pilot.press("N")
            assert steps.cursor_row == expected
        title = shown(app, "#sample-title")
        assert f"first error at step {bad[0] + 1}" in title and "None" not in title

    run_app(store, script)


def test_sample_screen_shows_text_picture_answer_and_chain(store: Path, samples: list[Sample]) -> None:
    repaired = next(s for s in samples if s.parent_id and s.instance.domain == "maze")
    parent = next(s for s in samples if s.id == repaired.parent_id)

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_sample(parent.id)
        await settle(app, pilot)
        assert shown(app, "#scroll-text") == parent.text
        assert shown(app, "#pane-picture") == ""  # a hidden tab is drawn when shown
        await pilot.press("t")
        assert isinstance(app.screen, SampleScreen) and app.screen.tab == "reasoning"
        assert app.screen.query_one("#panes", ContentSwitcher).current == "scroll-reasoning"
        await pilot.press("t")
        assert "S" in shown(app, "#pane-picture") and "G" in shown(app, "#pane-picture")
        await pilot.press("t")
        answer = shown(app, "#pane-answer")
        assert parent.verdicts is not None and parent.verdicts.answer.status in answer
        assert "trace_plan_consistent" in answer
        await pilot.press("t", "t")
        assert app.screen.tab == "chain" and repaired.id in shown(app, "#pane-chain")
        await pilot.press("r")  # to the round that answers this one's critique
        await settle(app, pilot)
        assert isinstance(app.screen, SampleScreen) and app.screen.sample_id == repaired.id
        app.screen.show_tab("chain")
        assert "critique this round answered" in shown(app, "#pane-chain")
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, SampleScreen) and app.screen.sample_id == parent.id

    run_app(store, script)


def test_raw_text_spans_are_coloured_by_verdict(samples: list[Sample]) -> None:
    """Each step's span covers its text in the raw output (blocksworld and deduction record spans; maze
    steps are found by their text), and the colour follows the verdict."""
    from modulo.spans import step_spans
    from modulo.tui.view import SPAN_STYLE, highlighted

    for domain in ("maze", "blocksworld", "deduction"):
        sample = next(s for s in samples if s.instance.domain == domain and s.trace and s.trace.steps)
        assert sample.trace is not None and sample.verdicts is not None
        spans = step_spans(sample)
        assert set(spans) == {step.index for step in sample.trace.steps}
        for step in sample.trace.steps:
            covered = sample.text[spans[step.index].start : spans[step.index].end]
            assert covered.rstrip(".") == step.text.rstrip(".")
        text = highlighted(sample.text, "response", sample, spans)
        bad = next((v for v in sample.verdicts.steps if v.status != "valid"), sample.verdicts.steps[0])
        span = spans[bad.index]
        styles = {str(s.style) for s in text.spans if s.start == span.start and s.end == span.end}
        assert SPAN_STYLE[bad.status] in styles


def test_search_finds_samples_by_a_word_of_their_text(store: Path, samples: list[Sample]) -> None:
    word = "Rompus"
    expected = sum(word.casefold() in (s.text + (s.reasoning or "")).casefold() for s in samples)
    assert 0 < expected < len(samples)

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.press("slash")
        await pilot.press(*word, "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SamplesScreen)
        rows = cells(screen.query_one("#samples", Grid))
        assert len(rows) == expected and {r[6] for r in rows} == {"deduction"}
        assert f"text contains {word!r}" in shown(app, "#samples-title")
        await pilot.press("escape")  # drops the search, keeps the screen
        await settle(app, pilot)
        assert screen.query_one("#samples", Grid).row_count == len(samples)

    run_app(store, script)


def test_samples_bindings_filter_sort_and_export(store: Path, samples: list[Sample], tmp_path: Path) -> None:
    out = tmp_path / "picked.jsonl"

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SamplesScreen)
        table = screen.query_one("#samples", Grid)
        await pilot.press("f")  # first quadrant: valid trace, correct answer
        await settle(app, pilot)
        want = [
            s
            for s in samples
            if s.verdicts and s.verdicts.trace_valid and s.verdicts.answer.status == "correct"
        ]
        assert table.row_count == len(want)
        await pilot.press("x")
        await settle(app, pilot)
        assert table.row_count == len(samples)
        await pilot.press("o")  # sort menu
        await pilot.pause()
        await pilot.press("down", "enter")  # the second sort: first error
        await settle(app, pilot)
        firsts = [r[3] for r in cells(table)]
        numbers = [int(v) for v in firsts if v != "–"]
        assert numbers == sorted(numbers) and screen.sort == "first error"
        await pilot.press("O")
        await settle(app, pilot)
        assert [int(v) for v in (r[3] for r in cells(table)) if v != "–"] == sorted(numbers, reverse=True)
        await pilot.press("F")  # filter menu: pick "domain: blocksworld"
        await pilot.pause()
        menu = app.screen.query_one("#choice-list", Grid)
        menu.move_cursor(row=[menu.row_key(i) for i in range(menu.row_count)].index("domain=blocksworld"))
        await pilot.press("enter")
        await settle(app, pilot)
        assert table.row_count == sum(s.instance.domain == "blocksworld" for s in samples)
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one("#ask-input").value = str(out)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)
        exported = [Sample.model_validate_json(line) for line in out.read_text().splitlines()]
        assert sorted(s.id for s in exported) == sorted(
            s.id for s in samples if s.instance.domain == "blocksworld"
        )
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SampleScreen)
        await pilot.press("escape")
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)

    run_app(store, script)


def test_help_lists_every_binding_of_each_screen(store: Path) -> None:
    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        for keys in ([], ["enter"], ["s"], ["enter"]):
            await pilot.press(*keys)
            await settle(app, pilot)
            screen = app.screen
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            listing = shown(app, "#help-text")
            for binding in [*type(screen).BINDINGS, *ModuloApp.BINDINGS]:
                assert binding.description in listing  # type: ignore[union-attr]
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen

    run_app(store, script)


def test_compare_two_runs(store: Path) -> None:
    from modulo.stats import two_proportions, wilson

    a, b = report_json(store, "tui-fixture")["overall"], report_json(store, "tui-other")["overall"]

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await pilot.press("space", "down", "space", "c")
        await settle(app, pilot)
        text = shown(app, "#differences")
        x, y = a["trace_valid"], b["trace_valid"]
        d = two_proportions(wilson(x["k"], x["n"]), wilson(y["k"], y["n"]))
        assert d.difference is not None and d.p_value is not None
        assert f"{d.difference * 100:+.1f} pp" in text and f"p={d.p_value:.3g}" in text
        assert "tui-fixture" in shown(app, "#side-a") and "tui-other" in shown(app, "#side-b")
        await pilot.press("s")  # swap: b − a changes sign
        assert "tui-other" in shown(app, "#side-a") and f"{-d.difference * 100:+.1f} pp" in shown(
            app, "#differences"
        )
        await pilot.press("escape", "enter", "c")  # the dashboard of the run under the cursor (tui-other)
        await pilot.pause()
        await pilot.press("enter")  # compare with… the only other run
        await settle(app, pilot)
        assert "tui-other" in shown(app, "#side-a") and "tui-fixture" in shown(app, "#side-b")

    run_app(store, script)


def test_palette_filters_by_rule(store: Path, samples: list[Sample]) -> None:
    want = sum(1 for s in samples if s.verdicts and "strips.precondition" in s.verdicts.rule_counts())

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"filter by rule strips.precondition")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SamplesScreen)
        assert app.screen.filters.rule == "strips.precondition"
        assert app.screen.query_one("#samples", Grid).row_count == want > 0

    run_app(store, script)


def test_filter_values_are_read_off_the_ui_thread(store: Path) -> None:
    """The palette never waits for the run's filter values: unread, it says so and has them read; the
    filter menu opens once they are read."""

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await app.workers.wait_for_complete()
        app.view._choices.clear()  # as after the store changed
        run_id = app.screen.run_id  # type: ignore[attr-defined]
        entries = [name for name, _, _ in ModuloCommands(app.screen)._entries()]
        assert "filter by value: reading the run's values…" in entries
        assert not any(name.startswith("filter by rule") for name in entries)
        await app.workers.wait_for_complete()
        assert app.view.cached_choices(run_id) is not None
        entries = [name for name, _, _ in ModuloCommands(app.screen)._entries()]
        assert "filter by rule strips.precondition" in entries
        app.view._choices.clear()
        await pilot.press("s")
        await settle(app, pilot)
        app.view._choices.clear()
        await pilot.press("F")
        await settle(app, pilot)
        assert app.screen.query_one("#choice-list", Grid).row_count > 6

    run_app(store, script)


def test_every_tab_is_shown_and_clickable_when_the_pane_is_narrow(store: Path, samples: list[Sample]) -> None:
    """At 120 columns the tab names do not fit: each is cut to the same length, still telling the tabs
    apart, and a click on each opens it."""

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_sample(samples[0].id)
        await settle(app, pilot)
        bar = app.screen.query_one("#tabs", TabBar)
        drawn = bar.render().plain
        labels = drawn.split()
        assert len(labels) == len(TABS) and len(set(labels)) == len(TABS)
        assert all(name.startswith(label) for name, label in zip(TABS, labels, strict=True))
        assert len(drawn.rstrip()) <= bar.size.width < sum(len(name) + 3 for name in TABS)
        at = 0
        for name, label in zip(TABS, labels, strict=True):
            at = drawn.index(f" {label} ", at)
            await pilot.click("#tabs", offset=(at + 1, 0))
            await pilot.pause()
            assert app.screen.tab == name  # type: ignore[attr-defined]
            at += len(label)

    run_app(store, script, size=(120, 40))


@pytest.mark.parametrize("size", [(80, 24), (120, 35), (200, 50)])
def test_the_dashboard_opens_at_its_top(store: Path, size: tuple[int, int]) -> None:
    """The run's title line is on screen when the dashboard opens (focusing the table before the page
    was laid out once scrolled it two lines down)."""

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await pilot.pause(1.0)  # the newest run's report prefetched: the dashboard is drawn at once
        await settle(app, pilot)
        assert app.reports
        await open_main_run(app, pilot)
        assert app.screen.query_one("#dash").scroll_y == 0
        assert app.screen.focused is app.screen.query_one("#table2x2")

    run_app(store, script, size=size)


def test_theme_toggles(store: Path) -> None:
    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"

    run_app(store, script)


def test_usable_at_80x24(store: Path) -> None:
    """At 80×24 the essential columns and the first error are on screen."""

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        table = app.screen.query_one("#samples", Grid)
        widths = [c.render_width for c in table.columns]
        assert sum(widths[:4]) <= 80  # position, instance, trace, first error
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        steps = app.screen.query_one("#steps", Grid)
        assert steps.region.height > 2 and steps.cursor_row in range(
            steps.scroll_offset.y, steps.scroll_offset.y + steps.region.height
        )
        small = steps.region.height
        await pilot.press("z")  # the steps fill the screen
        await pilot.pause()
        assert app.screen.maximized is steps and steps.region.height > small
        await pilot.press("z")
        await pilot.pause()
        assert app.screen.maximized is None

    run_app(store, script, size=(80, 24))


def test_paging_and_filters_match_the_loaded_samples(store: Path, samples: list[Sample]) -> None:
    """The data layer's pages and filters against the samples loaded whole."""
    view = StoreView(store)
    run_id = samples[0].run_id
    page = view.page(run_id, Filters(), limit=5)
    assert page.total == len(samples)
    ids: list[str] = []
    for offset in range(0, len(samples), 5):
        ids += [r.id for r in view.page(run_id, Filters(), offset=offset, limit=5).rows]
    assert ids == [s.id for s in samples]
    checks = {
        Filters(domain="maze"): lambda s: s.instance.domain == "maze",
        Filters(round=1): lambda s: s.round == 1,
        Filters(rule="astar.wrong_g"): lambda s: s.verdicts and "astar.wrong_g" in s.verdicts.rule_counts(),
        Filters(difficulty="size=8x8"): lambda s: s.instance.difficulty.get("size") == "8x8",
        Filters(reading="read"): lambda s: s.trace and (s.trace.reading or {}).get("status") == "read",
        Filters(quadrant="invalid-wrong", round=0): lambda s: (
            s.round == 0
            and s.verdicts is not None
            and not s.verdicts.trace_valid
            and s.verdicts.answer.status != "correct"
        ),
    }
    for filters, keep in checks.items():
        assert view.count(run_id, filters) == sum(1 for s in samples if keep(s)), filters
    assert PAGE_SIZE >= 50
    with pytest.raises(ValueError, match="is the store"):
        view.export(run_id, Filters(), store)


def test_the_store_is_never_written(store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A session through every screen leaves the store's bytes as they were; a store this process may not
    write is opened immutable, and nothing (not even a -wal or -shm file) appears beside it."""
    before = hashlib.sha256(store.read_bytes()).hexdigest()

    async def tour(app: ModuloApp, pilot: Pilot[None]) -> None:
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await pilot.press("slash", *"create", "enter")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("e", "n", "t")
        await settle(app, pilot)
        assert isinstance(app.screen, SampleScreen) and app.screen.sample is not None

    run_app(store, tour)
    assert hashlib.sha256(store.read_bytes()).hexdigest() == before
    copy = tmp_path / "ro" / "s.sqlite"
    copy.parent.mkdir()
    shutil.copy(store, copy)
    copy.chmod(stat.S_IRUSR)
    monkeypatch.setattr("modulo.store._writable", lambda path: False)  # as for a user without write access
    run_app(copy, tour)
    assert sorted(p.name for p in copy.parent.iterdir()) == ["s.sqlite"]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before


def test_nothing_shows_none_and_statuses_have_their_own_column() -> None:
    """A verdict with empty fields, extras holding None, no trace: dashes and words, never `None`."""
    from modulo.model import AnswerVerdict, Instance, Step, StepVerdict, Trace, Verdicts
    from modulo.stats import wilson
    from modulo.tui.view import answer_text, bars, rate, verdict_rows

    sample = Sample(
        id="x",
        run_id="r",
        instance=Instance(domain="d", id="i"),
        generator="g",
        text="Polly is a jompus.",
        trace=Trace(steps=[Step(index=0, text="Polly is a jompus.")], answer=None, answer_text=None),
        verdicts=Verdicts(
            steps=[StepVerdict(index=0, status="unsupported", rule=None)],
            answer=AnswerVerdict(status="unparsed", extras={"plan_length": None}),
        ),
    )
    assert "None" not in answer_text(sample).plain
    assert "(none read)" in answer_text(sample).plain and "plan_length" in answer_text(sample).plain
    [(verdict, text)] = verdict_rows(sample)
    assert verdict.status == "unsupported" and text == "Polly is a jompus."  # two cells, not one string
    assert rate(wilson(0, 0)) == "– 0/0"
    assert bars({}).plain == "none"
    assert "None" not in bars({"a": 3, "b": 0}).plain


def test_runs_list_follows_a_store_being_written(tmp_path: Path) -> None:
    """A run written while the UI is open appears on the runs screen (read again when the file changed)."""
    from tui_store import MAIN, OTHER

    from modulo.runner import Runner

    path = tmp_path / "live.sqlite"
    with Store(path) as db:
        Runner(OTHER, db).run()

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        table = app.screen.query_one("#runs", Grid)
        assert [r[1] for r in cells(table)] == ["tui-other"]
        chosen = table.cursor_key
        with Store(path) as db:
            Runner(MAIN, db).run()
        await pilot.pause(3.5)  # the refresh timer, no key pressed
        await settle(app, pilot)
        assert [r[1] for r in cells(table)] == ["tui-fixture", "tui-other"]
        assert table.cursor_key == chosen  # the new run came in above: the cursor stays on its run

    run_app(path, script)


def test_a_slower_earlier_page_never_replaces_a_later_one(store: Path) -> None:
    """`f` twice: the first filter's page arrives after the second's and is dropped; the rows shown are
    those of the filter in the title."""
    run_id = Store(store, readonly=True).find_run("tui-fixture").id

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_samples(run_id, Filters())
        await settle(app, pilot)
        real = app.view.page

        def page(run: str, filters: Filters, *args: Any, **kwargs: Any) -> Any:
            if filters.quadrant == "valid-correct":
                time.sleep(0.6)  # the first filter's query is the slower one
            return real(run, filters, *args, **kwargs)

        app.view.page = page  # type: ignore[method-assign]
        await pilot.press("f")
        await pilot.pause(0.05)
        await pilot.press("f")
        await pilot.pause(1.0)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SamplesScreen) and screen.filters.quadrant == "valid-wrong"
        want = real(run_id, screen.filters)
        shown_ids = [screen.query_one("#samples", Grid).row_key(i) for i in range(len(want.rows))]
        assert screen.page_data.total == want.total
        assert shown_ids == [row.id for row in want.rows]
        assert screen.query_one("#samples", Grid).row_count == len(want.rows)

    run_app(store, script)


def test_samples_page_by_page(store: Path, samples: list[Sample], monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 5: moving down from a page's last row, `]`, `[` and moving up from its first row turn
    pages; positions go on across pages."""
    monkeypatch.setattr("modulo.tui.samples.PAGE_SIZE", 5)

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_samples(samples[0].run_id, Filters())
        await settle(app, pilot)
        table = app.screen.query_one("#samples", Grid)

        def first_position() -> str:
            return cells(table)[0][0]

        assert table.row_count == 5 and "page 1/4" in shown(app, "#samples-title")
        await pilot.press("G", "down")
        await settle(app, pilot)
        assert first_position() == "6" and table.cursor_row == 0
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert first_position() == "11" and "page 3/4" in shown(app, "#samples-title")
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert [r[0] for r in cells(table)] == ["16"]  # the last page holds the 16th sample alone
        await pilot.press("right_square_bracket")  # no page after the last
        await settle(app, pilot)
        assert first_position() == "16"
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert first_position() == "11"
        await pilot.press("g", "up")
        await settle(app, pilot)
        assert first_position() == "6" and table.cursor_row == 4
        ids = [table.row_key(i) for i in range(5)]
        assert ids == [s.id for s in samples[5:10]]

    run_app(store, script)


def test_dashboard_breaks_down_by_round(store: Path, samples: list[Sample]) -> None:
    """Each round's row equals the cell `modulo.report.cell` makes of that round's loaded samples, and
    Enter on it lists them."""
    from modulo.report import cell
    from modulo.tui.view import rate

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        breakdown = app.screen.query_one("#breakdown", Grid)
        rows = {r[0]: r for r in cells(breakdown)}
        for round_ in (0, 1):
            mine = [s.verdicts for s in samples if s.round == round_ and s.verdicts is not None]
            expected = cell(mine)
            row = rows[f"round {round_ + 1} (all its samples)"]
            assert row[1:4] == [
                str(expected.samples),
                rate(expected.trace_valid),
                rate(expected.answer_correct),
            ]
        breakdown.focus()
        breakdown.move_cursor(row=breakdown.row_count - 1)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, SamplesScreen) and app.screen.filters == Filters(round=1)
        assert app.screen.query_one("#samples", Grid).row_count == sum(s.round == 1 for s in samples)

    run_app(store, script)


def test_logic_picture_numbers_premises_and_colours_steps_by_verdict(samples: list[Sample]) -> None:
    """The deduction picture lists the premises P1… one per line, and each step's line carries the colour
    of its own verdict."""
    from modulo.domains.logic.pictures import premise_lines
    from modulo.tui.sample import _picture
    from modulo.tui.view import STATUS_STYLE

    assert premise_lines(
        "Ann is red. Red things are big.\n## Clues:\n1. Bob is left of Ann. He is tall."
    ) == [
        "Ann is red.",
        "Red things are big.",
        "## Clues:",
        "1. Bob is left of Ann. He is tall.",
    ]
    sample = next(s for s in samples if s.instance.domain == "deduction" and s.verdicts and s.verdicts.steps)
    assert sample.trace is not None and sample.verdicts is not None
    picture = _picture(sample)
    lines = picture.plain.split("\n")
    assert lines[0] == "premises:" and lines[1].lstrip().startswith("P1 ")
    for verdict in sample.verdicts.steps:
        line = next(line for line in lines if line.startswith(f"{verdict.index + 1:>3}. "))
        start = picture.plain.index(line)
        styles = {str(s.style) for s in picture.spans if s.start == start and s.end == start + len(line)}
        assert STATUS_STYLE[verdict.status] in styles


def test_mouse_on_tab_names_and_keys(store: Path, samples: list[Sample]) -> None:
    """A click on a tab's name opens it; a click on a key in the key bar presses it (here `e`, after moving
    away from the first error), and at 80 columns help stays reachable at the bar's right end."""
    sample = next(s for s in samples if s.verdicts and s.verdicts.first_error not in (None, 0))
    assert sample.verdicts is not None and sample.verdicts.first_error is not None

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        app.open_sample(sample.id)
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, SampleScreen)
        bar = screen.query_one("#tabs")
        column = bar.render().plain.index(" picture ") + 2
        await pilot.click("#tabs", offset=(column, 0))
        assert screen.tab == "picture"
        steps = screen.query_one("#steps", Grid)
        await pilot.press("g")
        assert steps.cursor_row == 0
        keys = screen.query_one(KeyBar)
        line = keys.render().plain
        await pilot.click(KeyBar, offset=(line.index(" e ") + 1, 0))
        assert steps.cursor_row == sample.verdicts.first_error
        assert line.rstrip().endswith("?  help  ^p  palette") and "…" in line and len(line) <= 80
        await pilot.click(KeyBar, offset=(line.index(" ? ") + 1, 0))
        assert isinstance(app.screen, HelpScreen)

    run_app(store, script, size=(80, 24))


def test_probe_results_on_the_dashboard_and_the_sample(tmp_path: Path) -> None:
    """A probed run: the dashboard lists each probe's metrics as `modulo report --json` has them, and a
    probed sample's `probes` tab lists its stored items, each with the answer it led to."""
    from probe_engine_helpers import OracleThenScripted, engine, write_config

    from modulo.probes.config import load_probe_config

    path = tmp_path / "probed.sqlite"
    with Store(path) as store:
        engine(load_probe_config(write_config(tmp_path / "p.toml", 2)), store, OracleThenScripted()).run()
        run_id = store.find_run(None).id
        stored = {
            sid: store.probe_items([sid], "early-answering", spec)[sid]
            for (name, spec, _) in store.probe_totals(run_id)
            if name == "early-answering"
            for sid in store.probe_sample_ids(run_id, name, spec)
        }
    probes = report_json(path, run_id)["probes"]
    aoc = next(
        m for p in probes if p["probe"] == "early-answering" for m in p["metrics"] if m["group"] == "all"
    )
    sample_id, items = next(iter(stored.items()))

    async def script(app: ModuloApp, pilot: Pilot[None]) -> None:
        await open_main_run(app, pilot)
        panel = shown(app, "#probes")
        assert "early-answering" in panel and "filler" in panel
        assert aoc["name"] in panel and f"{aoc['value']:.3f}" in panel
        app.open_sample(sample_id)
        await settle(app, pilot)
        probes_at = sum(len(name) + 3 for name in TABS[: TABS.index("probes")]) + 1  # " name " + " " each
        await pilot.click("#tabs", offset=(probes_at, 0))
        await pilot.pause()
        assert app.screen.tab == "probes"  # type: ignore[attr-defined]
        tab = shown(app, "#pane-probes")
        assert "early-answering" in tab and f"{len(items)} items" in tab
        for key in items:
            assert key in tab

    run_app(path, script)
