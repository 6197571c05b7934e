"""The runs screen: every run in the store, refreshed while runs are written; open one, or compare two."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from modulo.tui.data import RunRow
from modulo.tui.grid import Grid
from modulo.tui.widgets import KeyBar, TitleBar

if TYPE_CHECKING:
    from modulo.tui.app import ModuloApp

REFRESH_SECONDS = 3.0
"""How often the runs list is read again (in a worker), so running runs count up."""

COLUMNS = ("", "run", "status", "verified / total", "started", "id", "domains", "generator", "verified by")
"""In this order so that at 80 columns the essentials come first."""

STATUS_STYLE = {"running": "bold yellow", "finished": "green", "interrupted": "red"}


class RunsScreen(Screen[None]):
    """Runs, newest first."""

    BINDINGS = [
        Binding("enter", "open", "open run"),
        Binding("space", "mark", "mark for compare"),
        Binding("c", "compare", "compare marked"),
        Binding("r", "refresh", "refresh"),
    ]
    AUTO_FOCUS = "#runs"
    DEFAULT_CSS = """
    #runs-title { height: 1; padding: 0 1; }
    #runs { height: 1fr; }
    """

    app: ModuloApp

    def __init__(self) -> None:
        super().__init__()
        self.marked: list[str] = []
        self.listed: list[RunRow] = []
        self.seen: tuple[tuple[int, int], ...] = ()
        self.prefetched = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("reading the store…", id="runs-title")
        yield Grid(id="runs", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "runs"
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self._poll)

    def action_refresh(self) -> None:
        self.seen = ()
        self._poll()

    def _poll(self) -> None:
        self.run_worker(self._load, thread=True, exclusive=True, group="runs")

    def _load(self) -> None:
        signature = self.app.view.signature()
        if signature == self.seen and self.listed:
            return
        self.seen = signature
        runs = self.app.view.runs()
        self.app.call_from_thread(self._show, runs)

    def _show(self, runs: list[RunRow]) -> None:
        table = self.query_one("#runs", Grid)
        self.listed = runs
        cursor_key = table.cursor_key  # the cursor stays on its run when runs are added above it
        table.clear(columns=True)
        rows = [self._cells(row) for row in runs]
        for at, name in enumerate(COLUMNS):  # widths of our own: nothing is cut that fits
            widest = max([len(name), *(_cell_len(r[at]) for r in rows)])
            table.add_column(name, width=min(widest, 40), key=name or "mark")
        table.add_rows((cells, run.run.id) for run, cells in zip(runs, rows, strict=True))
        if runs:
            keys = [run.run.id for run in runs]
            table.move_cursor(row=keys.index(cursor_key) if cursor_key in keys else 0)
            if not self.prefetched:  # the newest run is the one most often opened: compute its report
                self.prefetched = True
                domains = {task.domain for row in runs for task in row.run.config.tasks}
                self.app.prefetch(runs[0].run.id, report=True, domains=sorted(domains))
        running = sum(r.status == "running" for r in runs)
        title = f"{len(runs)} run(s) in {self.app.view.path.name}"
        if running:
            title += f" · {running} running (refreshing every {REFRESH_SECONDS:g} s)"
        if self.marked:
            title += f" · marked for compare: {len(self.marked)}"
        if not runs:
            title += " · start one with `modulo run CONFIG.toml`"
        self.query_one("#runs-title", Static).update(title)

    def _cells(self, row: RunRow) -> list[str | Text]:
        return [
            Text("●", style="bold yellow") if row.run.id in self.marked else Text(" "),
            row.run.config.name,
            Text(row.status, style=STATUS_STYLE.get(row.status, "")),
            f"{row.verified} / {row.total}" + (f" ({row.failed} failed)" if row.failed else ""),
            row.run.created_at[:16].replace("T", " "),
            row.run.id[:8],
            row.domains,
            row.generator,
            ", ".join(row.versions) or "–",
        ]

    def _current(self) -> str | None:
        return self.query_one("#runs", Grid).cursor_key

    def action_open(self) -> None:
        run_id = self._current()
        if run_id is not None:
            self.app.open_run(run_id)

    def on_grid_row_selected(self, event: Grid.RowSelected) -> None:
        self.action_open()

    def action_mark(self) -> None:
        run_id = self._current()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-2:]
        self._show(self.listed)

    def action_compare(self) -> None:
        if len(self.marked) != 2:
            self.notify("mark two runs with space first", severity="warning")
            return
        self.app.compare(*self.marked)


def _cell_len(cell: str | Text) -> int:
    return (Text(cell) if isinstance(cell, str) else cell).cell_len
