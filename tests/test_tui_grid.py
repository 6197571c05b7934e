"""The line-drawn table (modulo.tui.grid.Grid): what it draws, where its cursor goes, what it posts.

Checked against the screen Textual composes (`app.screen._compositor` lines are not used: the widget's own
`render_line` is what the compositor draws, and its text and styles are asserted here), and against the
messages a screen receives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from modulo.tui.grid import Grid


class GridApp(App[None]):
    """One grid filling the screen; every message it posts is kept."""

    def __init__(self, build: Callable[[Grid], None], **options: object) -> None:
        super().__init__()
        self.build = build
        self.options = options
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Grid(id="grid", **self.options)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.build(self.query_one(Grid))

    def on_grid_row_highlighted(self, message: Grid.RowHighlighted) -> None:
        self.messages.append(message)

    def on_grid_row_selected(self, message: Grid.RowSelected) -> None:
        self.messages.append(message)

    def on_grid_cell_selected(self, message: Grid.CellSelected) -> None:
        self.messages.append(message)


def run(
    build: Callable[[Grid], None],
    script: Callable[[GridApp, Grid, Pilot[None]], Awaitable[None]],
    size: tuple[int, int] = (60, 10),
    **options: object,
) -> None:
    async def main() -> None:
        app = GridApp(build, **options)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(app, app.query_one(Grid), pilot)

    asyncio.run(main())


def numbers(count: int) -> Callable[[Grid], None]:
    def build(grid: Grid) -> None:
        grid.add_column("n", width=4)
        grid.add_column("word")
        grid.add_rows(([str(i), f"row {i}"], f"key{i}") for i in range(count))

    return build


def line(grid: Grid, y: int) -> str:
    return grid.render_line(y).text


def test_draws_header_and_rows_padded_and_cut() -> None:
    def build(grid: Grid) -> None:
        grid.add_column("id", width=3)
        grid.add_column("amount", width=6, justify="right")
        grid.add_column("text")  # as wide as its widest cell
        grid.add_row("1", "5", Text("green", style="green"), key="a")
        grid.add_row("12345", "123456789", "two\nlines", key="b")

    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        assert line(grid, 0).startswith(" id   amount  text      ")
        assert line(grid, 1).startswith(" 1         5  green     ")
        # too long: cut with an ellipsis; two lines read as one
        assert line(grid, 2).startswith(" 12…  12345…  two lines ")
        assert line(grid, 3).strip() == ""  # below the rows: blank
        assert [c.plain for c in grid.get_row_at(1)] == ["12345", "123456789", "two lines"]
        assert grid.columns[2].render_width == len("two lines") + 2

    run(build, script)


def test_header_row_cursor_and_zebra_styles() -> None:
    """The header, the cursor's row and every second row carry their component styles, plain cells too
    (rich drops a Text's own style when it has no spans)."""

    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        header = grid.get_component_rich_style("grid--header")
        cursor = grid.get_component_rich_style("grid--cursor")
        even = grid.get_component_rich_style("grid--even-row")
        assert header.bold
        width = sum(column.render_width for column in grid.columns)  # right of it: the widget's own
        styles = [{s.style for s in grid.render_line(y).crop(0, width)} for y in range(4)]
        assert styles[0] and all(style is not None and style.bold for style in styles[0])
        assert all(style is not None and style.bgcolor == cursor.bgcolor for style in styles[1])
        assert all(style is not None and style.bgcolor == even.bgcolor for style in styles[2])  # row 2
        assert all(style is not None and style.bgcolor == grid.rich_style.bgcolor for style in styles[3])
        assert even.bgcolor != grid.rich_style.bgcolor

    run(numbers(5), script, zebra_stripes=True)


def test_keys_move_the_cursor_and_scroll_it_into_view() -> None:
    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        grid.focus()
        await pilot.press("j", "down")
        assert grid.cursor_row == 2
        await pilot.press("k")
        assert grid.cursor_row == 1
        await pilot.press("G")
        await pilot.pause()
        assert grid.cursor_row == 49 and grid.cursor_key == "key49"
        body = grid.scrollable_content_region.height - 1
        assert grid.scroll_y == 50 - body  # the last row sits on the last line
        assert line(grid, body).startswith(" 49 ")
        assert line(grid, 0).startswith(" n ")  # the header stays put
        await pilot.press("pageup")
        assert grid.cursor_row == 49 - body
        await pilot.press("g")
        await pilot.pause()
        assert grid.cursor_row == 0 and grid.scroll_y == 0
        await pilot.press("up")  # stays at the top
        assert grid.cursor_row == 0
        highlighted = [m.cursor_row for m in app.messages if isinstance(m, Grid.RowHighlighted)]
        assert highlighted == [1, 2, 1, 49, 49 - body, 0]

    run(numbers(50), script)


def test_enter_and_a_second_click_select_the_row() -> None:
    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        grid.focus()
        await pilot.click(Grid, offset=(2, 3))  # the third row: moves the cursor there
        await pilot.pause()
        assert grid.cursor_row == 2
        assert not [m for m in app.messages if isinstance(m, Grid.RowSelected)]
        await pilot.click(Grid, offset=(20, 3))  # again: selects it
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        selected = [(m.cursor_row, m.row_key) for m in app.messages if isinstance(m, Grid.RowSelected)]
        assert selected == [(2, "key2"), (3, "key3")]
        await pilot.click(Grid, offset=(2, 0))  # the header: nothing
        await pilot.pause()
        assert grid.cursor_row == 3

    run(numbers(8), script)


def test_cell_cursor_moves_by_column_and_selects_the_cell() -> None:
    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        grid.focus()
        grid.move_cursor(row=1, column=1)
        await pilot.press("right", "right", "enter")  # the last column stops the cursor
        await pilot.pause()
        assert (grid.cursor_row, grid.cursor_column) == (1, 1)
        await pilot.press("left", "enter")
        await pilot.click(Grid, offset=(10, 1))  # row 0, column 1 ("row 0")
        await pilot.click(Grid, offset=(10, 1))
        await pilot.pause()
        cells = [(m.row, m.column, m.row_key) for m in app.messages if isinstance(m, Grid.CellSelected)]
        assert cells == [(1, 1, "key1"), (1, 0, "key1"), (0, 1, "key0")]
        cursor = grid.get_component_rich_style("grid--cursor").bgcolor
        drawn = grid.render_line(1)
        marked = "".join(s.text for s in drawn if s.style is not None and s.style.bgcolor == cursor)
        assert marked.strip() == "row 0"  # only the cell is marked, not the row

    run(numbers(3), script, cursor_type="cell")


def test_row_cursor_left_right_scroll_a_wide_table() -> None:
    def build(grid: Grid) -> None:
        grid.add_column("wide", width=100)
        grid.add_row("a" * 60 + "TAIL", key="x")

    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        grid.focus()
        assert "TAIL" not in line(grid, 1)
        for _ in range(40):
            await pilot.press("right")
        await pilot.pause()
        assert grid.scroll_x > 0 and "TAIL" in line(grid, 1)
        assert len(line(grid, 1)) == grid.scrollable_content_region.width

    run(build, script, size=(40, 6))


def test_clear_and_empty_table() -> None:
    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        grid.focus()
        await pilot.press("G")
        grid.clear()
        assert grid.row_count == 0 and grid.cursor_row == 0 and grid.cursor_key is None
        await pilot.press("down", "enter")
        await pilot.pause()
        assert not [m for m in app.messages if isinstance(m, Grid.RowSelected)]
        assert line(grid, 0).startswith(" n ")  # columns kept
        grid.clear(columns=True)
        assert grid.columns == [] and line(grid, 0).strip() == ""

    run(numbers(4), script)


def test_theme_change_redraws_cached_lines() -> None:
    async def script(app: GridApp, grid: Grid, pilot: Pilot[None]) -> None:
        app.theme = "textual-dark"
        await pilot.pause()
        dark = {s.style for s in grid.render_line(2)}
        app.theme = "textual-light"
        await pilot.pause()
        light = {s.style for s in grid.render_line(2)}
        assert dark != light

    run(numbers(4), script)
