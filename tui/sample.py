"""The sample screen: one sample's steps and verdicts, its raw text with every step's span coloured by its
verdict, the instance as the domain draws it, the answer verdict, the prompt and the LLM-Modulo chain.

Steps are numbered from 1. `e` jumps to the first non-valid verdict, `n`/`N` to the next/previous one; the
raw text follows the selected step. The picture is the domain's `render` (found through the registry, in a
worker: a domain's import may take a moment).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from modulo.model import Sample
from modulo.registry import RegistryError, get_domain
from modulo.sample_summary import trace_state
from modulo.spans import StepSpan, step_spans
from modulo.tui.grid import Grid
from modulo.tui.probes import sample_probes
from modulo.tui.textview import TextView, same_length
from modulo.tui.view import (
    SELECTED_STYLE,
    STATUS_STYLE,
    TRACE_STYLE,
    answer_text,
    error_positions,
    highlighted,
    show,
    verdict_rows,
)
from modulo.tui.widgets import KeyBar, TabBar, TitleBar

if TYPE_CHECKING:
    from modulo.tui.app import ModuloApp

TABS = ["text", "reasoning", "picture", "answer", "prompt", "chain", "probes"]
LONG_TEXTS = {"text", "reasoning", "prompt"}
"""Tabs drawn by a TextView (wrapped once, drawn a line at a time); the others are Statics."""
PANE = {"response": "text", "reasoning": "reasoning"}
"""Step span source → the tab showing that text."""


class SampleScreen(Screen[None]):
    """One sample."""

    BINDINGS = [
        Binding("e", "first_error", "first error"),
        Binding("n", "next_error", "next error"),
        Binding("N", "previous_error", "previous error"),
        Binding("t", "next_tab", "next tab"),
        Binding("z", "zoom", "zoom the focused pane (again: back)"),
        Binding("p", "parent", "previous round"),
        Binding("r", "child", "next round (repair)"),
        Binding("escape", "app.pop_screen", "back"),
    ]
    AUTO_FOCUS = "#steps"
    DEFAULT_CSS = """
    #sample-title { height: auto; padding: 0 1; }
    #body { height: 1fr; }
    #left { width: 3fr; }
    #steps { height: 1fr; }
    #step-detail { height: auto; max-height: 8; padding: 0 1; border-top: solid $accent; }
    #right { width: 2fr; }
    #panes { height: 1fr; }
    #body.narrow { layout: vertical; }
    #body.narrow #left { height: 1fr; }
    #body.narrow #right { height: 1fr; }
    #scroll-picture { overflow-x: auto; }
    #pane-picture { width: auto; text-wrap: nowrap; }  /* a drawing: scrolled sideways, never wrapped */
    """

    app: ModuloApp

    def __init__(self, sample_id: str, sample: Sample | None = None) -> None:
        """`sample`, when the caller has read it already, is drawn with the screen's first frame."""
        super().__init__()
        self.sample_id = sample_id
        self.preloaded = sample
        self.sample: Sample | None = None
        self.tab = TABS[0]
        self.spans: dict[int, StepSpan] = {}
        self.children_ids: list[str] = []
        self.detailed: int | None = None
        """The step row whose detail is shown."""
        self.hidden: dict[str, RenderableType] = {}
        """What the Static tabs not shown will show (see `_pane`)."""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static("reading the sample…", id="sample-title")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Grid(id="steps", cursor_type="row")
                yield Static(id="step-detail")
            with Vertical(id="right"):
                yield TabBar(TABS, self.tab, id="tabs")
                with ContentSwitcher(initial=f"scroll-{self.tab}", id="panes"):
                    for name in TABS:
                        if name in LONG_TEXTS:
                            yield TextView(id=f"scroll-{name}")
                        else:
                            with VerticalScroll(id=f"scroll-{name}"):
                                yield Static(id=f"pane-{name}")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "sample"
        self.on_resize()
        if self.preloaded is not None:
            self._show(self.preloaded, [])
        self.run_worker(self._read, thread=True, exclusive=True, group="sample")

    def on_resize(self) -> None:
        self.query_one("#body").set_class(self.app.size.width < 120, "narrow")
        self.call_after_refresh(self._keep_in_view)

    def _keep_in_view(self) -> None:
        """The selected step stays on screen when the layout changes."""
        table = self.query_one("#steps", Grid)
        table.move_cursor(row=table.cursor_row)

    def _read(self) -> None:
        """The sample (unless preloaded), its later rounds, its probe results and its picture, off the UI
        thread."""
        sample = self.preloaded or self.app.view.sample(self.sample_id)
        children = [] if sample is None else self.app.view.children(sample)
        probed = self.app.view.probe_items(self.sample_id)
        self.app.call_from_thread(self._pane, "probes", sample_probes(probed))
        if self.preloaded is None:
            self.app.call_from_thread(self._show, sample, children)
        elif sample is not None:
            self.app.call_from_thread(self._show_chain, sample, children)
        if sample is not None:
            picture = _picture(sample)
            self.app.call_from_thread(self._pane, "picture", picture)

    def _show(self, sample: Sample | None, children: list[str]) -> None:
        if sample is None:
            self.query_one("#sample-title", Static).update(Text(f"no sample {self.sample_id}", style="red"))
            return
        self.sample = sample
        self.spans = step_spans(sample)
        self.query_one("#sample-title", Static).update(self._title(sample))
        table = self.query_one("#steps", Grid)
        table.clear(columns=True)
        rows = verdict_rows(sample)
        rule = max([4, *(len(v.rule or "") for v, _ in rows)])
        widths = (("#", len(str(len(rows))) + 1), ("status", 11), ("rule", min(rule, 24)), ("step", None))
        for name, width in widths:
            table.add_column(name, key=name, width=width)
        table.add_rows(
            (
                [
                    str(verdict.index + 1),
                    Text(verdict.status, style=STATUS_STYLE[verdict.status]),
                    show(verdict.rule, ""),
                    text,
                ],
                None,
            )
            for verdict, text in rows
        )
        self._pane("answer", answer_text(sample))
        self.query_one("#scroll-prompt", TextView).show(
            Text("\n\n").join(Text.assemble((f"[{m.role}]\n", "bold"), m.content) for m in sample.prompt)
            if sample.prompt
            else Text("no prompt stored", style="dim")
        )
        self._show_chain(sample, children)
        self._pane("picture", Text("drawing…", style="dim"))
        self._texts()
        errors = error_positions(sample)
        if errors:
            self.goto(errors[0])
        elif table.row_count:
            self.goto(0)
        else:
            why = (
                "generation failed: no text"
                if sample.generation_error
                else "not verified yet"
                if sample.verdicts is None
                else "no step was read from this text (no trace)"
            )
            self.query_one("#step-detail", Static).update(Text(why, style="dim"))
        table.focus()

    def _show_chain(self, sample: Sample, children: list[str]) -> None:
        self.children_ids = children
        self._pane("chain", self._chain(sample))

    def _title(self, sample: Sample) -> Text:
        state = trace_state(sample.verdicts) if sample.verdicts is not None else "not verified"
        first = sample.verdicts.first_error if sample.verdicts is not None else None
        answer = sample.verdicts.answer if sample.verdicts is not None else None
        text = Text.assemble(
            (sample.instance.id, "bold"),
            f" · {sample.instance.domain} · {sample.generator} · round {sample.round + 1} · trace ",
            (state, TRACE_STYLE.get(state, "")),
        )
        if first is not None:
            text.append(f" (first error at step {first + 1})")
        text.append(" · answer ")
        if answer is None:
            text.append("–")
        else:
            text.append(answer.status, style="green" if answer.status == "correct" else "bold red")
            if answer.detail:
                text.append(f" ({answer.detail})")
        difficulty = " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in sample.instance.difficulty.items())
        if difficulty:
            text.append(f"\ndifficulty: {difficulty}", style="dim")
        return text

    def _chain(self, sample: Sample) -> Text:
        text = Text("LLM-Modulo chain\n\n", style="bold")
        text.append(f"this sample: round {sample.round + 1}\n")
        text.append(
            f"previous round (p): {sample.parent_id}\n"
            if sample.parent_id
            else "previous round: none (first attempt)\n"
        )
        if self.children_ids:
            text.append(f"next round (r): {', '.join(self.children_ids)}\n")
        else:
            text.append("next round: none (not sent back, or the loop ended)\n")
        critique = [m for m in sample.prompt if m.role == "user"]
        if sample.parent_id and critique:
            text.append("\ncritique this round answered:\n", style="bold")
            text.append(critique[-1].content)
        return text

    def _texts(self) -> None:
        """Raw response and reasoning, each step's span in its verdict's colour."""
        sample = self.sample
        if sample is None:
            return
        for source, raw in (("response", sample.text), ("reasoning", sample.reasoning)):
            pane = self.query_one(f"#scroll-{PANE[source]}", TextView)
            if raw is None:
                pane.show(Text("no reasoning text", style="dim"))
            else:
                pane.show(highlighted(raw, source, sample, self.spans))

    def _mark(self, selected: int) -> None:
        """The selected step's span marked in its text, and scrolled to; nothing marked in the other."""
        span = self.spans.get(selected)
        for source, pane in PANE.items():
            view = self.query_one(f"#scroll-{pane}", TextView)
            if span is not None and span.source == source:
                view.mark(span.start, span.end, SELECTED_STYLE)
            else:
                view.unmark()

    # steps

    def goto(self, row: int) -> None:
        table = self.query_one("#steps", Grid)
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)
            self._detail(row)

    def on_grid_row_highlighted(self, event: Grid.RowHighlighted) -> None:
        if event.grid.id == "steps" and event.cursor_row != self.detailed:  # `goto` shows it at once
            self._detail(event.cursor_row)

    def _detail(self, row: int) -> None:
        if self.sample is None:
            return
        rows = verdict_rows(self.sample)
        if not 0 <= row < len(rows):
            return
        self.detailed = row
        verdict, step_text = rows[row]
        detail = Text.assemble(
            (f"step {verdict.index + 1} ", "bold"),
            (verdict.status, STATUS_STYLE[verdict.status]),
            f"  {show(verdict.rule, '')}\n",
            step_text,
        )
        if verdict.message:
            detail.append(f"\n{verdict.message}", style=STATUS_STYLE[verdict.status])
        if verdict.index not in self.spans and verdict.index < len(
            self.sample.verdicts.steps if self.sample.verdicts else []
        ):
            detail.append("\n(not found in the raw text: not highlighted)", style="dim")
        self.query_one("#step-detail", Static).update(detail)
        self._mark(verdict.index)

    def _errors(self) -> list[int]:
        return error_positions(self.sample) if self.sample is not None else []

    def action_first_error(self) -> None:
        errors = self._errors()
        if errors:
            self.goto(errors[0])
        else:
            self.notify("no step of this trace is non-valid")

    def action_next_error(self) -> None:
        row = self.query_one("#steps", Grid).cursor_row
        later = [e for e in self._errors() if e > row]
        if later:
            self.goto(later[0])
        else:
            self.notify("no later error")

    def action_previous_error(self) -> None:
        row = self.query_one("#steps", Grid).cursor_row
        earlier = [e for e in self._errors() if e < row]
        if earlier:
            self.goto(earlier[-1])
        else:
            self.notify("no earlier error")

    def action_next_tab(self) -> None:
        self.show_tab(TABS[(TABS.index(self.tab) + 1) % len(TABS)])

    def _pane(self, name: str, content: RenderableType) -> None:
        """Show `content` in a Static tab now if it is the tab shown, else when it is: updating a hidden
        Static laid the whole screen out again (three times while a sample opened)."""
        if name == self.tab:
            self.query_one(f"#pane-{name}", Static).update(content)
            self.hidden.pop(name, None)
        else:
            self.hidden[name] = content

    def show_tab(self, name: str) -> None:
        if name in self.hidden:
            self.query_one(f"#pane-{name}", Static).update(self.hidden.pop(name))
        self.tab = name
        self.query_one("#tabs", TabBar).show(name)
        self.query_one("#panes", ContentSwitcher).current = f"scroll-{name}"

    def on_tab_bar_picked(self, event: TabBar.Picked) -> None:
        self.show_tab(event.name)

    def action_zoom(self) -> None:
        """Fill the screen with the focused pane (the steps, or the tabs); again to restore."""
        if self.maximized is not None:
            self.minimize()
        else:
            self.maximize(self.focused or self.query_one("#steps", Grid))

    def action_parent(self) -> None:
        if self.sample is not None and self.sample.parent_id:
            self.app.open_sample(self.sample.parent_id, replace_current=True)
        else:
            self.notify("this is a first attempt")

    def action_child(self) -> None:
        if self.children_ids:
            self.app.open_sample(self.children_ids[0], replace_current=True)
        else:
            self.notify("no later round answers this sample")


def _picture(sample: Sample) -> Text:
    """The instance drawn by its domain (with the trace), or why it cannot be."""
    try:
        drawing = get_domain(sample.instance.domain).render(sample.instance, sample.trace)
    except RegistryError as exc:
        return Text(f"no picture: {exc}", style="dim")
    except Exception as exc:  # a domain's drawing bug must not take the screen down
        return Text(f"the domain could not draw this instance: {exc}", style="red")
    return _colour(sample, drawing)


def _colour(sample: Sample, drawing: str) -> Text:
    """Maze pictures with walls, start, goal, closed nodes and plan coloured; in other pictures, each trace
    step's numbered line (`  3. …`) in its verdict's colour."""
    text = Text(same_length(drawing))
    if sample.instance.domain == "maze":
        for char, style in (
            ("#", "grey50"),
            ("S", "bold green"),
            ("G", "bold red"),
            ("o", "cyan"),
            ("*", "bold yellow"),
        ):
            text.highlight_regex(re.escape(char), style)
        text.append("\n\n# wall · S start · G goal · o closed by the trace · * the plan", style="dim")
        return text
    statuses = {v.index: v.status for v in (sample.verdicts.steps if sample.verdicts else [])}
    at = 0
    for line in drawing.split("\n"):
        numbered = _STEP_LINE.match(line)
        status = statuses.get(int(numbered.group(1)) - 1) if numbered else None
        if status is not None:
            text.stylize(STATUS_STYLE[status], at, at + len(line))
        at += len(line) + 1
    return text


_STEP_LINE = re.compile(r"\s*(\d+)\. ")
"""A trace step's line in a domain's picture (steps are numbered from 1)."""
