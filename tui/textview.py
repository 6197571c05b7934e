"""A long text (a response, a model's thinking, a prompt), word-wrapped once, drawn a visible line at a time.

A Static lays out its whole text on every layout pass and every update: for a 17 000-character thinking
text that was ~100 ms for each step the cursor moved to (the selected step's span is marked in the text)
and for each tab switch. Here the text is wrapped once per width, into lines that remember where in the
text they start; the marked span is laid over the visible lines as they are drawn, and the line holding a
character offset is known exactly, so the view scrolls to the marked step.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import ClassVar

from rich._wrap import divide_line
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

_ONE_SPACE = {ord(c): " " for c in "\t\a\b\v\f\r"}
"""A tab, and the control characters rich's Text deletes (the `\r` of a model API's `\r\n` among them)."""


def same_length(raw: str) -> str:
    """`raw` with tabs and the characters rich would delete made one space each: offsets into the stored
    text (step spans) stay offsets into the text drawn. Apply it before building the `Text`."""
    return raw.translate(_ONE_SPACE)


class TextView(ScrollView, can_focus=True):
    """A read-only wrapped text with one marked span."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "scroll_up", "up", show=False),
        Binding("down,j", "scroll_down", "down", show=False),
        Binding("pageup", "page_up", "page up", show=False),
        Binding("pagedown", "page_down", "page down", show=False),
        Binding("home,g", "scroll_home", "top", show=False),
        Binding("end,G", "scroll_end", "bottom", show=False),
    ]
    DEFAULT_CSS = """
    TextView { height: 1fr; padding: 0 1; scrollbar-gutter: stable; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = Text()
        self._mark: tuple[int, int, Style] | None = None
        self._width = 0
        self._starts: list[int] = []
        """The text offset each wrapped line starts at."""
        self._lines: list[Text] = []

    def show(self, text: Text) -> None:
        """Show `text` (its own styles kept), from the top, nothing marked."""
        plain = same_length(text.plain)
        if plain != text.plain:  # tabs (the Text is already built: rich dropped the others)
            text = text.copy()
            text.plain = plain
        self.text = text
        self._mark = None
        self._width = 0
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self._layout_lines()
        self.refresh()

    def mark(self, start: int, end: int, style: Style | str) -> None:
        """Lay `style` over text[start:end] and scroll so that it is in view, a few lines below the top."""
        self._mark = (start, end, Style.parse(style) if isinstance(style, str) else style)
        self.refresh()
        self._scroll_to_mark()

    def unmark(self) -> None:
        self._mark = None
        self.refresh()

    def line_of(self, offset: int) -> int:
        """The wrapped line holding text offset `offset`."""
        return max(0, bisect_right(self._starts, offset) - 1)

    def on_resize(self) -> None:
        self._layout_lines()
        self._scroll_to_mark()

    def _scroll_to_mark(self) -> None:
        if self._mark is not None and self._starts:
            top = self.line_of(self._mark[0])
            if not self.scroll_y <= top < self.scroll_y + self.scrollable_content_region.height - 1:
                self.scroll_to(y=max(0, top - 3), animate=False, immediate=True, force=True)

    def _layout_lines(self) -> None:
        """Wrap the text at the current width (once per width)."""
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._width:
            return
        self._width = width
        starts: list[int] = []
        lines: list[Text] = []
        at = 0
        for paragraph in self.text.split("\n", allow_blank=True):
            plain = paragraph.plain
            cuts = divide_line(plain, width, fold=True) if paragraph.cell_len > width else []
            pieces = paragraph.divide(cuts) if cuts else [paragraph]
            for piece, offset in zip(pieces, [0, *cuts], strict=True):
                starts.append(at + offset)
                lines.append(piece)
            at += len(plain) + 1
        self._starts, self._lines = starts, lines
        self.virtual_size = Size(width, len(lines))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = int(self.scroll_y) + y
        if index >= len(self._lines):
            return Strip.blank(width, base)
        line, start = self._lines[index], self._starts[index]
        if self._mark is not None:
            low, high, style = self._mark
            if low < start + len(line) and high > start:
                line = line.copy()
                line.stylize(style, max(0, low - start), min(len(line), high - start))
        console = self.app.console
        # rich applies a Text's own style only to texts with spans
        segments = (
            list(line.render(console)) if line.spans else [Segment(line.plain, console.get_style(line.style))]
        )
        return Strip(segments).apply_style(base).crop_extend(0, width, base)
