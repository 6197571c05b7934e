"""Two runs side by side: their 2×2 tables, each rate in both, the difference and a test of it.

The difference is b − a with Newcombe's hybrid Wilson 95% interval; the test is the pooled two-sided z-test
of equal proportions (`modulo.stats.two_proportions`). Both over first attempts, as the report counts.
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

from modulo.report import Report
from modulo.stats import two_proportions
from modulo.tui.view import difference_line, percent
from modulo.tui.widgets import KeyBar, TitleBar

if TYPE_CHECKING:
    from modulo.tui.app import ModuloApp


class CompareScreen(Screen[None]):
    """Run a against run b."""

    BINDINGS = [Binding("escape", "app.pop_screen", "back"), Binding("s", "swap", "swap a and b")]
    DEFAULT_CSS = """
    #tables { height: auto; }
    .side { width: 1fr; height: auto; padding: 0 1; }
    #cmp.narrow #tables { layout: vertical; }
    #differences { height: auto; padding: 1 1; }
    """

    app: ModuloApp

    def __init__(self, a: str, b: str) -> None:
        super().__init__()
        self.ids = (a, b)
        self.reports: dict[str, Report] = {}

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="cmp"):
            with Horizontal(id="tables"):
                yield Static("computing…", id="side-a", classes="side")
                yield Static("computing…", id="side-b", classes="side")
            yield Static(id="differences")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "compare"
        self.on_resize()
        for run_id in self.ids:
            self.app.load_report(run_id, self._arrived)

    def on_resize(self) -> None:
        self.query_one("#cmp").set_class(self.app.size.width < 120, "narrow")

    def _arrived(self, report: Report) -> None:
        if not self.is_attached:
            return
        self.reports[report.run_id] = report
        if all(i in self.reports for i in self.ids):
            self._show()

    def _show(self) -> None:
        a, b = (self.reports[i] for i in self.ids)
        for pane, name, report in (("#side-a", "a", a), ("#side-b", "b", b)):
            self.query_one(pane, Static).update(_table(name, report))
        x, y = a.overall, b.overall
        text = Text("b − a, first attempts: difference [95% CI], pooled z-test\n\n", style="bold")
        text.append(f"{'':<28}{'a':<31}{'b':<31}b − a\n", style="dim")
        for label, left, right in (
            ("trace valid", x.trace_valid, y.trace_valid),
            ("answer correct", x.answer_correct, y.answer_correct),
            ("P(correct | valid trace)", x.correct_given_valid_trace, y.correct_given_valid_trace),
            ("P(correct | invalid trace)", x.correct_given_invalid_trace, y.correct_given_invalid_trace),
        ):
            text.append_text(difference_line(label, two_proportions(left, right)))
            text.append("\n")
        text.append("\n* p < 0.05 (no correction for the four tests)", style="dim")
        self.query_one("#differences", Static).update(text)

    def action_swap(self) -> None:
        self.ids = (self.ids[1], self.ids[0])
        if len(self.reports) == 2:
            self._show()


def _table(name: str, report: Report) -> RichTable:
    t = report.overall.table
    table = RichTable(
        title=f"{name}: {report.run_name} ({report.run_id[:8]}), {report.overall.samples} first attempts",
        title_justify="left",
    )
    table.add_column("")
    table.add_column("answer correct", justify="right")
    table.add_column("not correct", justify="right")
    n = t.total
    table.add_row(
        "trace valid",
        f"{t.valid_correct} ({percent(t.valid_correct, n)})",
        f"{t.valid_incorrect} ({percent(t.valid_incorrect, n)})",
    )
    table.add_row(
        "trace invalid",
        f"{t.invalid_correct} ({percent(t.invalid_correct, n)})",
        f"{t.invalid_incorrect} ({percent(t.invalid_incorrect, n)})",
    )
    cell = report.overall
    table.add_row(
        "no trace", str(cell.no_trace.answer_correct), str(cell.no_trace.answer_not_correct), style="dim"
    )
    table.add_row(
        "not judged",
        str(cell.trace_unknown.answer_correct),
        str(cell.trace_unknown.answer_not_correct),
        style="dim",
    )
    return table
