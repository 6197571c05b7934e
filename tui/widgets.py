"""Widgets shared by the screens: a title bar, a key bar, a tab bar, and the modal dialogs (help, filter,
export). The tables are `modulo.tui.grid.Grid`.

The title and key bars are one widget each. Textual's Header and Footer compose a widget per key and
per title part and restyle them all whenever the focus or the screen changes: on the sample screen that
was about half the time of opening it (measured with benchmarks/tui_scale.py)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

from modulo.tui.grid import Grid


class TitleBar(Static):
    """The app's title and the screen's sub-title on one line."""

    DEFAULT_CSS = """
    TitleBar { dock: top; height: 1; width: 100%; background: $panel; color: $foreground; }
    TitleBar { text-style: bold; padding: 0 1; }
    """

    def render(self) -> Text:
        screen = self.screen
        return Text.assemble(self.app.title, (f" — {screen.sub_title}" if screen.sub_title else "", "dim"))


class _Keys(Text):
    """Key labels, with the columns each key's label covers."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[tuple[int, int, str]] = []


class KeyBar(Static):
    """The current screen's shown bindings on one line, `key description`; a click on one presses its key."""

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; width: 100%; background: $panel; color: $foreground; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: list[tuple[int, int, str]] = []
        """(start column, end column, key) of each binding drawn."""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self.refresh())

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def render(self) -> Text:
        """The screen's keys, then the app's; help and the palette always at the right end, the rest cut
        with `…` when the line is too narrow."""
        shown: dict[str, tuple[str, str]] = {}
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and enabled and binding.action not in shown:
                shown[binding.action] = (binding.key.split(",")[0], binding.description)
        pinned = [shown.pop(action) for action in ("app.help", "help") if action in shown]
        pinned.append(("ctrl+p", "palette"))
        right = self._keys_text(pinned)
        left = self._keys_text(list(shown.values()))
        room = max(0, self.size.width - right.cell_len)
        if left.cell_len > room:
            left.truncate(max(0, room - 1))
            left.append("…")
            left.keys = [(start, end, key) for start, end, key in left.keys if end < room]
        text, self._keys = Text(), []
        for part, offset in ((left, 0), (right, max(room, left.cell_len))):
            text.append(" " * (offset - len(text)))
            self._keys += [(start + offset, end + offset, key) for start, end, key in part.keys]
            text.append_text(part)
        return text

    def _keys_text(self, keys: list[tuple[str, str]]) -> _Keys:
        text = _Keys()
        for key, description in keys:
            start = len(text)
            text.append(f" {self.app.get_key_display(Binding(key, ''))} ", style="bold reverse")
            text.append(f" {description} ")
            text.keys.append((start, len(text), key))
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._keys:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return


class TabBar(Static):
    """Tab names on one line, the active one highlighted; a click on a name posts `TabBar.Picked`."""

    DEFAULT_CSS = """
    TabBar { height: 1; width: 100%; background: $panel; }
    """

    class Picked(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, names: list[str], active: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names = names
        self.active = active

    def show(self, name: str) -> None:
        self.active = name
        self.refresh()

    def _layout(self) -> tuple[list[str], int]:
        """The labels and the gap between tabs: the names, or when they do not all fit, each cut to the
        same length (still telling the tabs apart), the gap dropped before the names get shorter than
        four characters; every tab stays visible and clickable."""
        width = self.size.width
        longest = max(map(len, self.names))
        for cut, gap in [(cut, gap) for cut in range(longest, 3, -1) for gap in (1, 0)] + [(3, 0)]:
            labels = [name[:cut] for name in self.names]
            fits = not width or sum(len(label) + 2 + gap for label in labels) <= width
            if fits and len(set(labels)) == len(labels):
                return labels, gap
        return labels, 0

    def _cells(self) -> list[tuple[int, int, str]]:
        """(first column, end column, tab name) of each tab drawn."""
        labels, gap = self._layout()
        cells, at = [], 0
        for name, label in zip(self.names, labels, strict=True):
            cells.append((at, at + len(label) + 2, name))
            at += len(label) + 2 + gap
        return cells

    def render(self) -> Text:
        labels, gap = self._layout()
        text = Text()
        for name, label in zip(self.names, labels, strict=True):
            text.append(f" {label} ", style="bold reverse" if name == self.active else "dim")
            text.append(" " * gap)
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, name in self._cells():
            if start <= event.x < end:
                self.post_message(self.Picked(name))
                return


def bindings_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, description) of every binding the screen, its widgets' classes and the app answer to."""
    seen: dict[str, str] = {}
    sources: list[Any] = [type(screen), Grid, type(screen.app)]
    for source in sources:
        for binding in source.BINDINGS:
            key = _readable(binding.key) if isinstance(binding, Binding) else ""
            if isinstance(binding, Binding) and binding.description and key not in seen:
                seen[key] = binding.description
    seen.setdefault("ctrl+p", "command palette: every action by name")
    seen.setdefault("up/down, pageup/pagedown", "move in a table; mouse click and scroll work too")
    return list(seen.items())


KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}
"""How Textual's key names are written in the help."""


def _readable(keys: str) -> str:
    return ", ".join(KEY_NAMES.get(key, key) for key in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Every key binding of the screen underneath, and the app's."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "close help")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 90%; max-width: 90; height: 90%; padding: 0 1; }
    #help { border: round $accent; background: $surface; }
    """

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text(f"{self.title_text}: keys\n\n", style="bold")
        width = max(len(key) for key, _ in self.keys)
        for key, description in self.keys:
            text.append(f"{key:>{width}}  ", style="bold cyan")
            text.append(description + "\n")
        text.append("\nescape, q or ? closes this help", style="dim")
        with VerticalScroll(id="help"):
            yield Static(text, id="help-text")


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a list (filters, runs to compare); returns the option id, or None on escape. The list is
    a Grid: an OptionList measured every option's height when it opened (a hundred filter values took
    as long as the rest of the screen)."""

    BINDINGS = [Binding("escape", "dismiss_none", "cancel")]
    AUTO_FOCUS = "#choice-list"
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    #choice { width: 90%; max-width: 100; height: 80%; border: round $accent; background: $surface; }
    #choice-title { padding: 0 1; text-style: bold; }
    #choice-list { height: 1fr; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Label(self.title_text, id="choice-title")
            yield Grid(id="choice-list", cursor_type="row")

    def on_mount(self) -> None:
        grid = self.query_one("#choice-list", Grid)
        grid.add_column("choose with Enter (escape: cancel)")
        grid.add_rows(([label], key) for key, label in self.options)

    def on_grid_row_selected(self, event: Grid.RowSelected) -> None:
        self.dismiss(event.row_key)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class AskScreen(ModalScreen[str | None]):
    """One line of input (a search word, a file name); returns it, or None on escape."""

    BINDINGS = [Binding("escape", "dismiss_none", "cancel")]
    DEFAULT_CSS = """
    AskScreen { align: center bottom; }
    #ask { width: 100%; height: auto; border: round $accent; background: $surface; }
    """

    def __init__(self, prompt: str, value: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(self.prompt)
            yield Input(value=self.value, id="ask-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
