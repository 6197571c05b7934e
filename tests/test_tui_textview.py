"""The wrapped text view (modulo.tui.textview.TextView): lines as rich wraps them, offsets exact, the mark
drawn on the right line and scrolled to."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from modulo.tui.textview import TextView


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TextView(id="view")


def run(script: Callable[[ViewApp, TextView, Pilot[None]], Awaitable[None]], size: tuple[int, int]) -> None:
    async def main() -> None:
        app = ViewApp()
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await script(app, app.query_one(TextView), pilot)

    asyncio.run(main())


def random_text(seed: int) -> str:
    rng = random.Random(seed)
    words = ["a", "step", "Unstack", "the", "orange", "block", "(6,", "5)", "g=6", "h=9", "x" * 45, ""]
    paragraphs = []
    for _ in range(rng.randint(1, 12)):
        paragraphs.append(" ".join(rng.choice(words) for _ in range(rng.randint(0, 40))))
    return "\n".join(paragraphs)


def test_lines_are_richs_wrapping_and_offsets_are_exact() -> None:
    """Against rich's own Text.wrap (the reference a Static uses), on random texts and widths."""

    async def script(app: ViewApp, view: TextView, pilot: Pilot[None]) -> None:
        width = view.scrollable_content_region.width
        for seed in range(40):
            raw = random_text(seed)
            view.show(Text(raw))
            reference = Text(raw).wrap(Console(width=width), width)
            assert [line.plain.rstrip() for line in view._lines] == [
                line.plain.rstrip() for line in reference
            ], seed
            for start, line in zip(view._starts, view._lines, strict=True):
                assert raw[start : start + len(line.plain)] == line.plain
            for offset in range(0, len(raw), 7):
                line = view.line_of(offset)
                start = view._starts[line]
                assert start <= offset and (raw[start:offset].count("\n") == 0)

    run(script, (40, 10))


def test_mark_is_drawn_on_its_line_and_scrolled_to() -> None:
    raw = "\n".join(f"line {i} of the thinking" for i in range(200)) + "\nTHE STEP here"

    async def script(app: ViewApp, view: TextView, pilot: Pilot[None]) -> None:
        view.show(Text(raw))
        start = raw.index("THE STEP")
        view.mark(start, start + len("THE STEP"), "reverse")
        await pilot.pause()
        line = view.line_of(start)
        assert view.scroll_y <= line < view.scroll_y + view.size.height
        drawn = view.render_line(line - int(view.scroll_y))
        marked = "".join(s.text for s in drawn if s.style is not None and s.style.reverse)
        assert marked == "THE STEP"
        others = [view.render_line(y) for y in range(view.size.height) if y != line - int(view.scroll_y)]
        assert not any(s.style is not None and s.style.reverse for strip in others for s in strip)
        view.unmark()
        drawn = view.render_line(line - int(view.scroll_y))
        assert not any(s.style is not None and s.style.reverse for s in drawn)

    run(script, (50, 12))


def test_own_styles_kept_and_tabs_keep_offsets() -> None:
    async def script(app: ViewApp, view: TextView, pilot: Pilot[None]) -> None:
        view.show(Text("no reasoning text", style="dim"))
        assert all(s.style is not None and s.style.dim for s in view.render_line(0) if s.text.strip())
        raw = "a\tb\tSTEP"
        view.show(Text(raw))
        at = raw.index("STEP")
        view.mark(at, at + 4, "reverse")
        marked = "".join(s.text for s in view.render_line(0) if s.style is not None and s.style.reverse)
        assert marked == "STEP"

    run(script, (40, 5))


def test_rewraps_on_resize_and_keeps_the_mark_in_view() -> None:
    raw = " ".join(f"word{i}" for i in range(600))

    async def script(app: ViewApp, view: TextView, pilot: Pilot[None]) -> None:
        view.show(Text(raw))
        at = raw.index("word500")
        view.mark(at, at + len("word500"), "reverse")
        await pilot.pause()
        wide = len(view._lines)
        await pilot.resize_terminal(30, 10)
        await pilot.pause()
        assert len(view._lines) > wide
        line = view.line_of(at)
        assert view.scroll_y <= line < view.scroll_y + view.size.height

    run(script, (80, 10))


def test_a_crlf_text_keeps_its_offsets() -> None:
    """Text from an API often ends lines with \r\n, which rich's Text deletes: the raw text's offsets
    (step spans) must still mark exactly the step."""
    from modulo.model import Instance, Sample
    from modulo.spans import StepSpan
    from modulo.tui.view import highlighted

    raw = "Step 1: unstack A\r\nStep 2: put down A\x0c\r\nStep 3: pick up C\r\n"
    start = raw.index("pick up C")
    spans = {0: StepSpan(source="response", start=start, end=start + len("pick up C"))}
    sample = Sample(id="x", run_id="r", instance=Instance(domain="d", id="i"), generator="g", text=raw)

    async def script(app: ViewApp, view: TextView, pilot: Pilot[None]) -> None:
        text = highlighted(raw, "response", sample, spans)
        assert len(text.plain) == len(raw)
        view.show(text)
        view.mark(start, start + len("pick up C"), "reverse")
        await pilot.pause()
        line = view.line_of(start) - int(view.scroll_y)
        marked = "".join(s.text for s in view.render_line(line) if s.style is not None and s.style.reverse)
        assert marked == "pick up C"

    run(script, (50, 10))
