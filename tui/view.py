"""How the terminal UI writes things: rates, bars, the 2×2 table, steps, spans in the raw text, answers.

Pure functions from report and sample data to rich `Text`, so what the screens show is tested without a
terminal. Steps are numbered from 1 on screen, as in the verifiers' messages; nothing shows `None`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from modulo.model import Sample, StepVerdict
from modulo.report import Cell
from modulo.spans import StepSpan
from modulo.stats import Difference, Rate
from modulo.tui.textview import same_length

STATUS_STYLE = {
    "valid": "green",
    "invalid": "bold red",
    "unsupported": "yellow",
    "unparsed": "magenta",
    "unknown": "cyan",
}
"""Colour of each step verdict."""

SELECTED_STYLE = "bold underline reverse"
"""Laid over the selected step's span in the raw text."""
SPAN_STYLE = {
    "valid": "on dark_green",
    "invalid": "on red3",
    "unsupported": "on dark_goldenrod",
    "unparsed": "on dark_magenta",
    "unknown": "on dark_cyan",
}
"""Background of a step's span in the raw text, by its verdict."""

TRACE_STYLE = {"valid": "green", "invalid": "bold red", "unknown": "cyan", "none": "dim"}


def show(value: Any, empty: str = "–") -> str:
    """A value as text; None and empty strings as a dash (never `None`)."""
    return empty if value is None or value == "" else str(value)


def rate(r: Rate) -> str:
    """`61.2% [55.0–67.1] 120/196`, or a dash without trials."""
    if r.rate is None or r.low is None or r.high is None:
        return f"– 0/{r.n}"
    return f"{r.rate:.1%} [{r.low * 100:.1f}–{r.high * 100:.1f}] {r.k}/{r.n}"


def percent(k: int, n: int) -> str:
    return "–" if n == 0 else f"{k / n:.1%}"


def phi_text(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def cell_summary(cell: Cell) -> Text:
    """The rates beside the 2×2 table: trace valid, answer correct, phi, the two conditionals, and the
    samples outside the table."""
    text = Text()
    for label, value in (
        ("trace valid", rate(cell.trace_valid)),
        ("answer correct", rate(cell.answer_correct)),
        ("P(correct | valid trace)", rate(cell.correct_given_valid_trace)),
        ("P(correct | invalid trace)", rate(cell.correct_given_invalid_trace)),
        ("phi (valid ~ correct)", phi_text(cell.phi)),
        ("no trace: correct / not", f"{cell.no_trace.answer_correct} / {cell.no_trace.answer_not_correct}"),
        (
            "not judged: correct / not",
            f"{cell.trace_unknown.answer_correct} / {cell.trace_unknown.answer_not_correct}",
        ),
    ):
        text.append(f"{label:<28}", style="bold")
        text.append(f"{value}\n")
    return text


def bars(counts: dict[str, int], width: int = 30, limit: int = 20) -> Text:
    """Horizontal bars, one line per key (the `limit` largest when there are more), scaled to `width`."""
    text = Text()
    if not counts:
        return Text("none", style="dim")
    shown = list(counts.items())
    if len(shown) > limit:
        shown = sorted(shown, key=lambda kv: -kv[1])[:limit]
    top = max(n for _, n in shown) or 1
    label_width = min(max(len(k) for k, _ in shown), 28)
    for key, n in shown:
        filled = max(1, round(n / top * width)) if n else 0
        text.append(f"{key[:label_width]:>{label_width}} ", style="bold")
        text.append("█" * filled, style="cyan")
        text.append(f" {n}\n")
    if len(counts) > limit:
        text.append(f"({len(counts) - limit} more not shown)\n", style="dim")
    return text


def difference_line(label: str, d: Difference) -> Text:
    """`label: a vs b, difference +x.x pp [lo, hi], z, p`."""
    text = Text(f"{label:<28}", style="bold")
    text.append(f"{rate(d.a):<30} {rate(d.b):<30} ")
    if d.difference is None or d.low is None or d.high is None:
        text.append("no test (a proportion has no samples)", style="dim")
        return text
    text.append(f"{d.difference * 100:+.1f} pp [{d.low * 100:+.1f}, {d.high * 100:+.1f}]")
    text.append(f"  z={d.z:+.2f} p={d.p_value:.3g}")
    if d.p_value is not None and d.p_value < 0.05:
        text.append("  *", style="bold yellow")
    return text


def highlighted(raw: str, source: str, sample: Sample, spans: dict[int, StepSpan]) -> Text:
    """The raw text with each step's span in its verdict's colour (the selected one is marked on top,
    with SELECTED_STYLE)."""
    text = Text(same_length(raw))
    statuses = {v.index: v.status for v in (sample.verdicts.steps if sample.verdicts else [])}
    for index, span in spans.items():
        if span.source == source:
            text.stylize(SPAN_STYLE.get(statuses.get(index, ""), "on grey23"), span.start, span.end)
    return text


def verdict_rows(sample: Sample) -> list[tuple[StepVerdict, str]]:
    """Every verdict (steps, then whole-trace checks) with the text of its step ("whole trace" for checks)."""
    if sample.verdicts is None or sample.trace is None:
        return []
    texts = {step.index: step.text for step in sample.trace.steps}
    return [
        (v, texts.get(v.index, "(whole trace)"))
        for v in [*sample.verdicts.steps, *sample.verdicts.trace_checks]
    ]


def answer_text(sample: Sample) -> Text:
    """The answer as read, its verdict, message and extras (one per line, names and values aligned)."""
    text = Text()
    if sample.generation_error:
        text.append("generation failed: ", style="bold red")
        text.append(sample.generation_error + "\n")
        return text
    if sample.verdicts is None or sample.trace is None:
        return Text("not verified yet", style="dim")
    answer = sample.verdicts.answer
    text.append("answer read   ", style="bold")
    text.append(show(sample.trace.answer_text, "(none read)") + "\n")
    text.append("verdict       ", style="bold")
    text.append(answer.status, style="green" if answer.status == "correct" else "bold red")
    if answer.detail:
        text.append(f"  ({answer.detail})")
    text.append("\n")
    if answer.message:
        text.append("why           ", style="bold")
        text.append(answer.message + "\n")
    for key, value in answer.extras.items():
        text.append(f"  {key:<24}", style="dim")
        text.append(show(value) + "\n")
    reading = sample.trace.reading or {}
    if reading:
        text.append("reading       ", style="bold")
        text.append(show(reading.get("status")) + "  " + show(reading.get("why"), "") + "\n")
    for error in sample.trace.parse_errors:
        text.append("parse problem ", style="bold yellow")
        text.append(error + "\n")
    return text


def error_positions(sample: Sample) -> list[int]:
    """Row numbers (0-based, in `verdict_rows` order) of the verdicts that are not valid."""
    return [row for row, (v, _) in enumerate(verdict_rows(sample)) if v.status != "valid"]
