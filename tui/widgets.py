"""Widgets shared by the screens: a table with vi keys, and the modal dialogs (help, filter, export)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class Table(DataTable[str | Text]):
    """A DataTable with `j`/`k` (down/up) and `g`/`G` (top/bottom) beside the arrow keys."""

    BINDINGS = [
        Binding("j", "cursor_down", "down", show=False),
        Binding("k", "cursor_up", "up", show=False),
        Binding("g", "scroll_top", "top", show=False),
        Binding("G", "scroll_bottom", "bottom", show=False),
    ]


def bindings_of(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, description) of every binding the screen, its widgets' classes and the app answer to."""
    seen: dict[str, str] = {}
    sources: list[Any] = [type(screen), Table, type(screen.app)]
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
    """Pick one of a list (filters, runs to compare); returns the option id, or None on escape."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "cancel"),
        Binding("j", "down", "down", show=False),
        Binding("k", "up", "up", show=False),
    ]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    #choice { width: 90%; max-width: 100; height: 80%; border: round $accent; background: $surface; }
    #choice-title { padding: 0 1; text-style: bold; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(id="choice"):
            yield Label(self.title_text, id="choice-title")
            yield OptionList(*[Option(label, id=key) for key, label in self.options], id="choice-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()


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
