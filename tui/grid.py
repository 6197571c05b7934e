"""A table drawn a line at a time: the runs, the 2×2, the breakdowns, the samples, the steps.

Textual's DataTable renders each cell through a rich console (padding, styles, caches): about 1.4 ms per
drawn line here, 67 ms for one page of samples at 200×50, the largest part of opening a screen
(benchmarks/tui_scale.py). A table whose cells are one line each needs less: each line is one `Text`,
cropped to the columns and cut into segments, cached until the data, the cursor, the focus or the theme
changes. The API is the small part of DataTable's the screens use (`add_column`, `add_row`, `clear`,
`move_cursor`, `cursor_row`, `row_count`, row keys and Highlighted / Selected messages).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
Justify = Literal["left", "right"]
PADDING = 1
"""Blank columns each side of a cell."""
COMPONENTS = ("grid--header", "grid--cursor", "grid--even-row")


@dataclass
class Column:
    label: str
    key: str
    width: int | None
    """None: as wide as its widest cell."""
    justify: Justify = "left"
    widest: int = 0

    @property
    def render_width(self) -> int:
        return (self.width if self.width is not None else max(len(self.label), self.widest)) + 2 * PADDING


def _one_line(cell: Cell) -> Text:
    """The cell as a one-line Text (a multi-line step reads on one line, its lines joined by a space)."""
    text = cell.copy() if isinstance(cell, Text) else Text(cell)
    if "\n" in text.plain or "\t" in text.plain:
        text = Text(" ").join(text.split("\n", allow_blank=True))
        text.plain = text.plain.replace("\t", " ")  # same length: spans keep their places
    return text


class Grid(ScrollView, can_focus=True):
    """Rows of one-line cells under a header that stays put; a row or cell cursor; keys and mouse."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "select", show=False),
        Binding("up,k", "cursor_up", "up", show=False),
        Binding("down,j", "cursor_down", "down", show=False),
        Binding("left", "cursor_left", "left", show=False),
        Binding("right", "cursor_right", "right", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown", "page_down", "page down", show=False),
        Binding("home,g", "first_row", "top", show=False),
        Binding("end,G", "last_row", "bottom", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = set(COMPONENTS)
    DEFAULT_CSS = """
    Grid { background: $surface; color: $foreground; height: auto; max-height: 100%; }
    Grid > .grid--header { text-style: bold; background: $panel; color: $foreground; }
    Grid > .grid--even-row { background: $surface-lighten-1 50%; }
    Grid:dark > .grid--even-row { background: $surface-darken-1 40%; }
    Grid > .grid--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    Grid:focus > .grid--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """

    class RowHighlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, grid: Grid, cursor_row: int) -> None:
            super().__init__()
            self.grid = grid
            self.cursor_row = cursor_row

        @property
        def control(self) -> Grid:
            return self.grid

    class RowSelected(Message):
        """Enter, or a click on the cursor's row (row cursor)."""

        def __init__(self, grid: Grid, cursor_row: int, row_key: str | None) -> None:
            super().__init__()
            self.grid = grid
            self.cursor_row = cursor_row
            self.row_key = row_key

        @property
        def control(self) -> Grid:
            return self.grid

    class CellSelected(Message):
        """Enter, or a click on the cursor's cell (cell cursor)."""

        def __init__(self, grid: Grid, row: int, column: int, row_key: str | None) -> None:
            super().__init__()
            self.grid = grid
            self.row = row
            self.column = column
            self.row_key = row_key

        @property
        def control(self) -> Grid:
            return self.grid

    def __init__(
        self,
        *,
        cursor_type: Literal["row", "cell"] = "row",
        zebra_stripes: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.cursor_type = cursor_type
        self.zebra_stripes = zebra_stripes
        self.columns: list[Column] = []
        self._rows: list[list[Text]] = []
        self._keys: list[str | None] = []
        self.cursor_row = 0
        self.cursor_column = 0
        self._lines: dict[tuple[int, int | None, Style], Strip] = {}
        """(row, the cursor's column when the cursor is on it, the widget's style) → its whole line; row -1
        is the header."""
        self._styled_with: tuple[Style, ...] = ()
        """The component styles the cached lines were drawn with (focus and theme change them)."""

    # data

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def add_column(
        self, label: str, *, key: str | None = None, width: int | None = None, justify: Justify = "left"
    ) -> None:
        """A column `width` cells wide, or as wide as its widest cell when `width` is None."""
        self.columns.append(Column(label, key or label, width, justify))
        self._changed()

    def add_row(self, *cells: Cell, key: str | None = None) -> None:
        """A row of one cell per column (missing cells are blank)."""
        self.add_rows([(list(cells), key)])

    def add_rows(self, rows: Iterable[tuple[Sequence[Cell], str | None]]) -> None:
        """Rows of (cells, key), drawn once all are added."""
        for cells, key in rows:
            texts = [_one_line(cell) for cell in cells]
            for column, text in zip(self.columns, texts, strict=False):
                if column.width is None:
                    column.widest = max(column.widest, text.cell_len)
            self._rows.append(texts)
            self._keys.append(key)
        self._changed()

    def clear(self, columns: bool = False) -> None:
        """Remove every row (and every column with `columns`); the cursor goes to the top."""
        self._rows, self._keys = [], []
        if columns:
            self.columns = []
        else:
            for column in self.columns:
                column.widest = 0
        self.cursor_row = self.cursor_column = 0
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self._changed()

    def get_row_at(self, row: int) -> list[Text]:
        return list(self._rows[row])

    def row_key(self, row: int) -> str | None:
        return self._keys[row]

    @property
    def cursor_key(self) -> str | None:
        """The key of the cursor's row (None when the table is empty)."""
        return self._keys[self.cursor_row] if self._rows else None

    def _changed(self) -> None:
        self._lines.clear()
        width = sum(column.render_width for column in self.columns)
        self.virtual_size = Size(width, len(self._rows) + 1)
        self.refresh()

    # the cursor

    def move_cursor(self, *, row: int | None = None, column: int | None = None) -> None:
        """Put the cursor on `row` / `column` (clamped to the table) and scroll it into view."""
        before = (self.cursor_row, self.cursor_column)
        if row is not None:
            self.cursor_row = max(0, min(row, len(self._rows) - 1))
        if column is not None:
            self.cursor_column = max(0, min(column, len(self.columns) - 1))
        self._scroll_to_cursor()
        if (self.cursor_row, self.cursor_column) != before:
            self.refresh()
            if self.cursor_row != before[0] and self._rows:
                self.post_message(self.RowHighlighted(self, self.cursor_row))

    def _scroll_to_cursor(self) -> None:
        if not self._rows or not self.is_mounted:
            return
        x, width = 0, self.size.width
        if self.cursor_type == "cell" and self.columns:
            x = sum(column.render_width for column in self.columns[: self.cursor_column])
            width = self.columns[self.cursor_column].render_width
        self.scroll_to_region(
            Region(x, self.cursor_row + 1, width, 1),
            spacing=Spacing(top=1),
            animate=False,
            immediate=True,
            force=True,
            x_axis=self.cursor_type == "cell",
        )

    def _body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_left(self) -> None:
        if self.cursor_type == "cell":
            self.move_cursor(column=self.cursor_column - 1)
        else:
            self.scroll_left(animate=False)

    def action_cursor_right(self) -> None:
        if self.cursor_type == "cell":
            self.move_cursor(column=self.cursor_column + 1)
        else:
            self.scroll_right(animate=False)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._body_height())

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._body_height())

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select_cursor(self) -> None:
        if not self._rows:
            return
        key = self._keys[self.cursor_row]
        if self.cursor_type == "cell":
            self.post_message(self.CellSelected(self, self.cursor_row, self.cursor_column, key))
        else:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to the row (cell) clicked; a click where the cursor is selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0:
            return
        row = int(self.scroll_y) + offset.y - 1
        if not 0 <= row < len(self._rows):
            return
        column, right = self.cursor_column, 0
        for index, spec in enumerate(self.columns):
            right += spec.render_width
            if int(self.scroll_x) + offset.x < right:
                column = index
                break
        again = row == self.cursor_row and (self.cursor_type == "row" or column == self.cursor_column)
        self.move_cursor(row=row, column=column)
        if again:
            self.action_select_cursor()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        self._lines.clear()
        super().notify_style_update()

    # drawing

    def render_line(self, y: int) -> Strip:
        current = tuple(self.get_component_rich_style(name) for name in COMPONENTS)
        if current != self._styled_with:
            self._styled_with = current
            self._lines.clear()
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            line = self._line(-1, base)
        else:
            row = scroll_y + y - 1
            if row >= len(self._rows):
                return Strip.blank(width, base)
            line = self._line(row, base)
        return line.crop_extend(scroll_x, scroll_x + width, base)

    def _line(self, row: int, base: Style) -> Strip:
        cursor = self.cursor_row == row and row >= 0
        key = (row, self.cursor_column if cursor else None, base)
        cached = self._lines.get(key)
        if cached is not None:
            return cached
        if row < 0:
            cells = [Text(column.label) for column in self.columns]
            style = base + self.get_component_rich_style("grid--header")
        else:
            cells = self._rows[row]
            zebra = self.zebra_stripes and row % 2 == 1
            style = base + self.get_component_rich_style("grid--even-row") if zebra else base
        cursor_style = self.get_component_rich_style("grid--cursor") if cursor else None
        line = Text(style=style, end="", no_wrap=True)
        for index, column in enumerate(self.columns):
            start = len(line)
            text = cells[index].copy() if index < len(cells) else Text()
            width = column.render_width - 2 * PADDING
            if text.cell_len > width:
                text.truncate(width, overflow="ellipsis")
            pad = " " * (width - text.cell_len)
            line.append(" " * PADDING + (pad if column.justify == "right" else ""))
            line.append_text(text)
            line.append((pad if column.justify == "left" else "") + " " * PADDING)
            if cursor_style is not None and (self.cursor_type == "row" or index == self.cursor_column):
                line.stylize(cursor_style, start, len(line))
        # rich applies a Text's own style only to texts with spans: give a plain line its style here
        segments = line.render(self.app.console) if line.spans else [Segment(line.plain, style)]
        strip = Strip(segments, line.cell_len)
        self._lines[key] = strip
        return strip
