"""The samples screen: a run's samples a page at a time, filtered, sorted, searched, exported.

Pages are read from the summary columns (`modulo.tui.data`), so 100 000 samples page as fast as 100; moving
past the last row of a page reads the next one. `/` scans the raw texts in a worker, with progress.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from modulo.tui.data import PAGE_SIZE, QUADRANTS, SORTS, Filters, Page, Row
from modulo.tui.grid import Grid
from modulo.tui.view import TRACE_STYLE, show
from modulo.tui.widgets import AskScreen, ChoiceScreen, KeyBar, TitleBar

if TYPE_CHECKING:
    from modulo.tui.app import ModuloApp

QUADRANT_CYCLE = [None, *QUADRANTS]


@dataclass(frozen=True)
class PageRequest:
    """A page asked for, with the filters and order it was asked with."""

    number: int
    filters: Filters
    sort: str
    descending: bool
    offset: int
    cursor: int
    total: int | None


class SampleTable(Grid):
    """The samples table: moving down from its last row (or up from its first) turns the page."""

    def action_cursor_down(self) -> None:
        if self.cursor_row >= self.row_count - 1 and isinstance(self.screen, SamplesScreen):
            self.screen.turn(+1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and isinstance(self.screen, SamplesScreen):
            self.screen.turn(-1)
        else:
            super().action_cursor_up()


class SamplesScreen(Screen[None]):
    """One run's samples."""

    BINDINGS = [
        Binding("enter", "open", "open sample"),
        Binding("slash", "search", "search text"),
        Binding("f", "quadrant", "next quadrant"),
        Binding("F", "filter", "filter by…"),
        Binding("x", "clear", "clear filters"),
        Binding("o", "sort", "sort by…"),
        Binding("O", "reverse", "reverse order"),
        Binding("right_square_bracket", "page(1)", "next page"),
        Binding("left_square_bracket", "page(-1)", "previous page"),
        Binding("w", "export", "export JSONL"),
        Binding("escape", "back", "back / cancel search"),
    ]
    AUTO_FOCUS = "#samples"
    DEFAULT_CSS = """
    #samples-title { height: auto; padding: 0 1; }
    #samples { height: 1fr; }
    """

    app: ModuloApp

    def __init__(self, run_id: str, filters: Filters) -> None:
        super().__init__()
        self.run_id = run_id
        self.filters = filters
        self.sort = "generation order"
        self.descending = False
        self.page_data = Page([], 0, 0)
        self.status = ""
        self.prefetched = False
        self.requested = 0
        """How many pages were asked for (the latest is the one shown)."""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("reading samples…", id="samples-title")
        yield SampleTable(id="samples", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "samples"
        table = self.query_one("#samples", SampleTable)
        for name, width in (
            ("#", 7),
            ("instance", 26),
            ("trace", 8),
            ("1st error", 9),
            ("answer", 28),
            ("round", 5),
            ("domain", 11),
            ("reading", 12),
            ("generator", 40),  # a fixed width: an automatic one measures every cell of every page
        ):
            table.add_column(name, key=name, width=width)
        self.load(0)

    # loading

    def load(self, offset: int, cursor: int = 0, total: int | None = None) -> None:
        """Read the page starting at `offset` (in a worker), then put the cursor on row `cursor`. Only the
        latest request is shown: a slower earlier one (another filter, another page) is dropped."""
        self.requested += 1
        request = PageRequest(self.requested, self.filters, self.sort, self.descending, offset, cursor, total)
        self.run_worker(lambda: self._read(request), thread=True, exclusive=True, group="page")

    def _read(self, request: PageRequest) -> None:
        page = self.app.view.page(
            self.run_id,
            request.filters,
            request.sort,
            descending=request.descending,
            offset=request.offset,
            limit=PAGE_SIZE,
            total=request.total,
        )
        self.app.call_from_thread(self._show, page, request)

    def _show(self, page: Page, request: PageRequest) -> None:
        if request.number != self.requested:  # a later request is on its way
            return
        cursor = request.cursor
        self.page_data = page
        table = self.query_one("#samples", SampleTable)
        table.clear()
        first = page.first + 1
        table.add_rows((self._cells(at, row), row.id) for at, row in enumerate(page.rows, start=first))
        if page.rows:
            table.move_cursor(row=max(0, min(cursor, len(page.rows) - 1)))
        self._title()
        if not self.prefetched:  # once the first page is drawn: the filter menu's values
            self.prefetched = True
            self.app.prefetch(self.run_id, choices=True)

    def _title(self) -> None:
        page = self.page_data
        pages = max(1, -(-page.total // PAGE_SIZE))
        text = Text.assemble(
            (self.filters.describe(), "bold"),
            f" · {page.total} sample(s) · page {page.first // PAGE_SIZE + 1}/{pages}"
            f" · sorted by {self.sort}{' (descending)' if self.descending else ''}",
        )
        if self.status:
            text.append(f"\n{self.status}", style="yellow")
        self.query_one("#samples-title", Static).update(text)

    @staticmethod
    def _cells(position: int, row: Row) -> list[str | Text]:
        if row.failed:
            trace = Text("failed", style="bold red")
        elif row.trace_state is None:
            trace = Text("pending", style="dim")
        else:
            trace = Text(row.trace_state, style=TRACE_STYLE.get(row.trace_state, ""))
        answer = show(row.answer, "not verified")
        return [
            str(position),
            row.instance,
            trace,
            show(None if row.first_error is None else row.first_error + 1),
            Text(answer, style="green" if row.correct else "red" if row.answer else ""),
            str(row.round + 1),
            row.domain,
            show(row.reading),
            row.generator,
        ]

    # navigation

    def turn(self, step: int) -> None:
        """Go to the next (+1) or previous (-1) page, cursor on its first or last row."""
        page = self.page_data
        offset = page.first + step * PAGE_SIZE
        if offset < 0 or offset >= page.total:
            return
        self.load(offset, 0 if step > 0 else PAGE_SIZE - 1, page.total)

    def action_page(self, step: int) -> None:
        self.turn(step)

    def current(self) -> str | None:
        return self.query_one("#samples", SampleTable).cursor_key

    def action_open(self) -> None:
        sample_id = self.current()
        if sample_id is not None:
            self.app.open_sample(sample_id)

    def on_grid_row_selected(self, event: Grid.RowSelected) -> None:
        self.action_open()

    def action_back(self) -> None:
        if self.status.startswith("searching"):
            self.workers.cancel_group(self, "search")
            self.status = "search stopped"
            self._title()
        elif self.filters.search is not None:
            self.set_filters(replace(self.filters, search=None, matches=None))
        else:
            self.app.pop_screen()

    # filters and sort

    def set_filters(self, filters: Filters) -> None:
        self.filters = filters
        self.status = ""
        self.load(0)

    def action_quadrant(self) -> None:
        at = QUADRANT_CYCLE.index(self.filters.quadrant)
        self.set_filters(replace(self.filters, quadrant=QUADRANT_CYCLE[(at + 1) % len(QUADRANT_CYCLE)]))

    def action_clear(self) -> None:
        self.set_filters(Filters())

    def action_filter(self) -> None:
        self.app.load_choices(self.run_id, self._filter_menu)

    def _filter_menu(self, choices: dict[str, list[str]]) -> None:
        if not self.is_current:  # left before the values were read
            return
        options = [(f"quadrant={key}", f"quadrant: {label}") for key, (label, _) in QUADRANTS.items()]
        options += [("answer=correct", "answer: correct"), ("answer=wrong", "answer: not correct")]
        for name, values in choices.items():
            options += [(f"{name}={value}", f"{name}: {value}") for value in values]
        self.app.push_screen(
            ChoiceScreen("filter by (adds to the filters shown)", options), self._filter_chosen
        )

    def _filter_chosen(self, choice: str | None) -> None:
        if choice is None:
            return
        name, _, value = choice.partition("=")
        typed: dict[str, Any] = {name: int(value) if name == "round" else value}
        self.set_filters(replace(self.filters, **typed))

    def action_sort(self) -> None:
        options = [(name, name) for name in SORTS]
        self.app.push_screen(ChoiceScreen("sort by", options), self._sort_chosen)

    def _sort_chosen(self, choice: str | None) -> None:
        if choice is not None:
            self.sort = choice
            self.load(0, total=self.page_data.total)

    def action_reverse(self) -> None:
        self.descending = not self.descending
        self.load(0, total=self.page_data.total)

    # search and export

    def action_search(self) -> None:
        self.app.push_screen(
            AskScreen("search the raw text (response and reasoning) of these samples for:"), self.search
        )

    def search(self, word: str | None) -> None:
        if not word:
            return
        self.status = f"searching for {word!r}…"
        self._title()
        self.run_worker(lambda: self._scan(word), thread=True, exclusive=True, group="search")

    def _scan(self, word: str) -> None:
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, word, done, total)

        searched = self.filters
        found = self.app.view.search(
            self.run_id, searched, word, progress=progress, cancelled=lambda: worker.is_cancelled
        )
        if found is not None:
            self.app.call_from_thread(self._found, searched, found)

    def _found(self, searched: Filters, found: Filters) -> None:
        """Show the search's matches, unless the filters changed while it scanned (its matches are those
        of the filters it scanned)."""
        if self.filters == searched:
            self.set_filters(found)
        else:
            self.notify("the filters changed during the search: its result was dropped", severity="warning")

    def _progress(self, word: str, done: int, total: int) -> None:
        self.status = f"searching for {word!r}: {done}/{total} texts read (escape to stop)"
        self._title()

    def action_export(self) -> None:
        self.app.push_screen(
            AskScreen(
                f"export the {self.page_data.total} filtered samples as JSONL to file:", "samples.jsonl"
            ),
            self.export,
        )

    def export(self, answer: str | None) -> None:
        if not answer:
            return
        path = Path(answer).expanduser()
        self.run_worker(lambda: self._export(path), thread=True, group="export")

    def _export(self, path: Path) -> None:
        try:
            written = self.app.view.export(self.run_id, self.filters, path)
        except (OSError, ValueError) as exc:
            self.app.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"wrote {written} samples to {path}")
