"""The dashboard of a run: the 2×2 table with its rates, breakdowns, first errors, failing rules, rounds.

Every number is the run's `modulo report --json` (computed by `modulo.report_sql` in a worker). Selecting a
cell of the table, or a row of a breakdown, opens the samples behind it (first attempts, as counted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table as RichTable
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from modulo.report import Cell, Report
from modulo.tui.data import Filters
from modulo.tui.grid import Grid
from modulo.tui.probes import run_probes
from modulo.tui.view import bars, cell_summary, percent, phi_text, rate
from modulo.tui.widgets import KeyBar, TitleBar

if TYPE_CHECKING:
    from modulo.tui.app import ModuloApp

NARROW = 125
"""Below this many columns the table and its rates stack."""

CELLS = {
    ("valid", "correct"): "valid-correct",
    ("valid", "wrong"): "valid-wrong",
    ("invalid", "correct"): "invalid-correct",
    ("invalid", "wrong"): "invalid-wrong",
    ("none", "correct"): "no-trace",
    ("none", "wrong"): "no-trace",
    ("unknown", "correct"): "not-judged",
    ("unknown", "wrong"): "not-judged",
}
"""(table row, answer column) → quadrant filter."""


class DashboardScreen(Screen[None]):
    """One run's report, on one scrolling page."""

    BINDINGS = [
        Binding("enter", "open_cell", "open samples"),
        Binding("s", "all_samples", "all samples"),
        Binding("c", "compare", "compare with…"),
        Binding("r", "refresh", "refresh (runs being written)"),
        Binding("escape", "app.pop_screen", "back"),
    ]
    AUTO_FOCUS = ""
    """Nothing: `_show` focuses the 2×2 (focusing it before the page was laid out scrolled the title off)."""
    DEFAULT_CSS = """
    #dash-title { height: auto; padding: 0 1; }
    #top { height: auto; }
    #table2x2 { width: 60; height: 7; margin: 0 1; }
    #rates { width: 1fr; height: auto; padding: 0 1; }
    #dash.narrow #top { layout: vertical; }
    #dash.narrow #table2x2 { width: 100%; }
    #breakdown { height: auto; max-height: 20; margin: 1 1 0 1; }
    .plots { height: auto; }
    .plot { width: 1fr; height: auto; padding: 0 1; border-top: solid $accent; }
    .plot { text-wrap: nowrap; text-overflow: clip; }  /* bars fit; wrapping them was half the open */
    #dash.narrow .plots { layout: vertical; }
    """

    app: ModuloApp

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.report: Report | None = None
        self.breakdown_keys: list[Filters] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="dash"):
            yield Static("computing the report…", id="dash-title")
            with Horizontal(id="top"):
                yield Grid(id="table2x2", cursor_type="cell")
                yield Static(id="rates")
            yield Grid(id="breakdown", cursor_type="row", zebra_stripes=True)
            with Horizontal(classes="plots"):
                yield Static(id="first-errors", classes="plot")
                yield Static(id="rules", classes="plot")
            with Horizontal(classes="plots"):
                yield Static(id="reading", classes="plot")
                yield Static(id="rounds", classes="plot")
            yield Static(id="probes", classes="plot")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "dashboard"
        table = self.query_one("#table2x2", Grid)
        table.add_column("first attempts", key="row", width=16)
        table.add_column("answer correct", key="correct", width=18)
        table.add_column("answer not correct", key="wrong", width=18)
        breakdown = self.query_one("#breakdown", Grid)
        for name in ("group", "n", "trace valid [95% CI]", "answer correct [95% CI]", "phi"):
            breakdown.add_column(name, key=name)
        self.on_resize()
        self.app.load_report(self.run_id, self._show)

    def on_resize(self) -> None:
        self.query_one("#dash").set_class(self.app.size.width < NARROW, "narrow")

    def _show(self, report: Report) -> None:
        if not self.is_attached:  # left before the report arrived
            return
        self.report = report
        cell = report.overall
        t = cell.table
        self.query_one("#dash-title", Static).update(
            Text.assemble(
                (report.run_name, "bold"),
                f" · run {report.run_id[:8]} · started {report.created_at[:16].replace('T', ' ')} · "
                f"{report.samples} samples, {report.unverified} unverified, "
                f"{report.failed_generations} failed; the table counts first attempts ({cell.samples})",
                *(
                    [(f"\n{report.stale_verdicts} verdict(s) made by other code (modulo reverify)", "yellow")]
                    if report.stale_verdicts
                    else []
                ),
            )
        )
        table = self.query_one("#table2x2", Grid)
        table.clear()
        n = t.total
        rows: list[tuple[list[str | Text], str]] = []
        for label, key, correct, wrong in (
            ("trace valid", "valid", t.valid_correct, t.valid_incorrect),
            ("trace invalid", "invalid", t.invalid_correct, t.invalid_incorrect),
            ("no trace", "none", cell.no_trace.answer_correct, cell.no_trace.answer_not_correct),
            (
                "not judged",
                "unknown",
                cell.trace_unknown.answer_correct,
                cell.trace_unknown.answer_not_correct,
            ),
        ):
            inside = key in ("valid", "invalid")
            cells: list[str | Text] = [
                Text(label, style="bold" if inside else "dim"),
                f"{correct} ({percent(correct, n)})" if inside else str(correct),
                f"{wrong} ({percent(wrong, n)})" if inside else str(wrong),
            ]
            rows.append((cells, key))
        table.add_rows(rows)
        table.move_cursor(row=0, column=1)
        table.focus()
        self.query_one("#rates", Static).update(cell_summary(cell))
        self._breakdown(report)
        rounds = self.app.round_tables.get(self.run_id, {})
        if len(rounds) > 1:
            self._add_rounds(rounds)
        first = {str(k + 1): v for k, v in report.first_error_histogram.items()}
        self.query_one("#first-errors", Static).update(
            Text.assemble(("first invalid step (1-based), first attempts\n", "bold"), bars(first))
        )
        self.query_one("#rules", Static).update(
            Text.assemble(("failing rules (non-valid verdicts)\n", "bold"), bars(report.rule_counts))
        )
        self.query_one("#reading", Static).update(
            Text.assemble(("reading status, first attempts\n", "bold"), bars(report.reading_status))
        )
        self.query_one("#rounds", Static).update(self._rounds(report))
        self.query_one("#probes", Static).update(run_probes(report.probes))
        self.app.prefetch(self.run_id, choices=True)  # the palette's filters, the samples' filter menu

    def _breakdown(self, report: Report) -> None:
        breakdown = self.query_one("#breakdown", Grid)
        breakdown.clear()
        self.breakdown_keys = []
        rows: list[tuple[list[str | Text], None]] = []
        groups = [
            ("domain", report.by_domain),
            ("generator", report.by_generator),
            ("difficulty", report.by_difficulty),
        ]
        for kind, cells in groups:
            for key, cell in cells.items():
                if kind == "difficulty":
                    domain, _, measure = key.partition(":")
                    filters = Filters(domain=domain, difficulty=measure, round=0)
                elif kind == "domain":
                    filters = Filters(domain=key, round=0)
                else:
                    filters = Filters(generator=key, round=0)
                self.breakdown_keys.append(filters)
                rows.append((_group_row(f"{kind} {key}", cell), None))
        breakdown.add_rows(rows)

    def _add_rounds(self, cells: dict[int, Cell]) -> None:
        """Each LLM-Modulo round as a breakdown row (all its verified samples, not first attempts only)."""
        self.breakdown_keys += [Filters(round=round_) for round_ in cells]
        rows = [(_group_row(f"round {n + 1} (all its samples)", cell), None) for n, cell in cells.items()]
        self.query_one("#breakdown", Grid).add_rows(rows)

    def _rounds(self, report: Report) -> RichTable | Text:
        if len(report.loop) <= 1:
            return Text("LLM-Modulo rounds: one round only", style="dim")
        table = RichTable(title="LLM-Modulo rounds", title_justify="left", expand=False)
        for name in ("round", "attempted", "solved so far [95% CI]"):
            table.add_column(name, justify="right")
        for r in report.loop:
            table.add_row(str(r.round + 1), str(r.attempted), rate(r.solved_so_far))
        return table

    def action_open_cell(self) -> None:
        focused = self.focused
        if focused is not None and focused.id == "breakdown":
            row = self.query_one("#breakdown", Grid).cursor_row
            if 0 <= row < len(self.breakdown_keys):
                self.app.open_samples(self.run_id, self.breakdown_keys[row])
            return
        table = self.query_one("#table2x2", Grid)
        if not table.row_count:
            return
        row_key = table.cursor_key or ""
        column = table.cursor_column
        answer = "correct" if column <= 1 else "wrong"
        quadrant = CELLS[(row_key, answer)]
        filters = Filters(quadrant=quadrant, round=0)
        if quadrant in ("no-trace", "not-judged") and column >= 1:
            condition = "correct" if answer == "correct" else "wrong"
            filters = Filters(quadrant=quadrant, round=0, answer=condition)
        self.app.open_samples(self.run_id, filters)

    def on_grid_cell_selected(self, event: Grid.CellSelected) -> None:
        self.action_open_cell()

    def on_grid_row_selected(self, event: Grid.RowSelected) -> None:
        self.action_open_cell()

    def action_refresh(self) -> None:
        self.query_one("#dash-title", Static).update("computing the report…")
        self.app.load_report(self.run_id, self._show)

    def action_all_samples(self) -> None:
        self.app.open_samples(self.run_id, Filters())

    def action_compare(self) -> None:
        self.app.pick_comparison(self.run_id)


def _group_row(name: str, cell: Cell) -> list[str | Text]:
    """A breakdown row: the group, its size, its two rates and phi."""
    return [name, str(cell.samples), rate(cell.trace_valid), rate(cell.answer_correct), phi_text(cell.phi)]
