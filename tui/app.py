"""`modulo tui`: browse a store — runs, the trace × answer table, samples, and every step's verdict.

Reads the store and the report; never writes, never imports a domain or a verifier.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Header, Static

from modulo.model import Sample
from modulo.report import build_report, trace_state
from modulo.store import Store

STATUS_STYLE = {
    "valid": "green",
    "invalid": "bold red",
    "unsupported": "yellow",
    "unparsed": "magenta",
    "unknown": "cyan",
}
QUADRANTS = {
    "all": lambda s: True,
    "valid trace, correct answer": lambda s: _state(s) == "valid" and _correct(s),
    "valid trace, wrong answer": lambda s: _state(s) == "valid" and not _correct(s),
    "invalid trace, correct answer": lambda s: _state(s) == "invalid" and _correct(s),
    "invalid trace, wrong answer": lambda s: _state(s) == "invalid" and not _correct(s),
    "no trace": lambda s: _state(s) == "none",
    "trace not judged": lambda s: _state(s) == "unknown",
}


def _state(sample: Sample) -> str:
    """The sample's trace state; samples without a judged trace are beside the 2×2 table."""
    return trace_state(sample.verdicts) if sample.verdicts is not None else "unverified"


def _correct(sample: Sample) -> bool:
    return sample.verdicts is not None and sample.verdicts.answer.status == "correct"


def step_lines(sample: Sample) -> Text:
    """The trace as coloured lines: one per step with its verdict, then the answer verdict."""
    text = Text()
    if sample.trace is None or sample.verdicts is None:
        return Text("not verified yet\n\n" + sample.text)
    texts = {step.index: step.text for step in sample.trace.steps}
    for verdict in [*sample.verdicts.steps, *sample.verdicts.trace_checks]:
        style = STATUS_STYLE[verdict.status]
        text.append(f"{verdict.index:>4} ", style="dim")
        text.append(f"{verdict.status:<11}", style=style)
        text.append(texts.get(verdict.index, "(whole trace)"))
        if verdict.status != "valid":
            text.append(f"\n     {verdict.rule}: {verdict.message}", style=style)
        text.append("\n")
    answer = sample.verdicts.answer
    text.append(f"\nanswer: {sample.trace.answer_text or '—'}\n")
    text.append(
        f"{answer.status} {answer.detail} {answer.message}".rstrip() + "\n",
        style="green" if answer.status == "correct" else "bold red",
    )
    for key, value in answer.extras.items():
        text.append(f"  {key}: {value}\n", style="dim")
    return text


class ModuloApp(App[None]):
    """Runs on the left, the 2×2 table and samples in the middle, the selected trace on the right."""

    TITLE = "modulo"
    CSS = """
    #runs { width: 32; }
    #middle { width: 1fr; }
    #quadrants { height: 8; }
    #detail { width: 1fr; border-left: solid $accent; padding: 0 1; }
    """
    BINDINGS = [Binding("q", "quit", "quit"), Binding("f", "next_filter", "filter quadrant")]

    def __init__(self, store_path: Path) -> None:
        super().__init__()
        self.store_path = store_path
        self.samples: list[Sample] = []
        self.filter = "all"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield DataTable(id="runs", cursor_type="row")
            with Vertical(id="middle"):
                yield Static(id="quadrants")
                yield DataTable(id="samples", cursor_type="row")
            with VerticalScroll(id="detail"):
                yield Static(id="steps")
        yield Footer()

    def on_mount(self) -> None:
        runs = self.query_one("#runs", DataTable)
        runs.add_columns("run", "samples")
        with Store(self.store_path, readonly=True) as store:
            for run in reversed(store.runs()):
                runs.add_row(run.config.name, str(store.sample_count(run.id)), key=run.id)
        samples = self.query_one("#samples", DataTable)
        samples.add_columns("instance", "generator", "round", "trace", "first error", "answer")
        if runs.row_count:
            self.show_run(str(runs.coordinate_to_cell_key(Coordinate(0, 0)).row_key.value))

    def show_run(self, run_id: str) -> None:
        with Store(self.store_path, readonly=True) as store:
            run = store.find_run(run_id)
            self.samples = store.samples(run_id, verified=True)
        report = build_report(run, self.samples)
        t = report.overall.table
        self.query_one("#quadrants", Static).update(
            f"[b]{run.config.name}[/b]  {report.samples} samples\n\n"
            f"                 answer correct   answer wrong\n"
            f"trace valid      {t.valid_correct:>14}   {t.valid_incorrect:>12}\n"
            f"trace invalid    {t.invalid_correct:>14}   {t.invalid_incorrect:>12}\n"
            f"no trace         {report.overall.no_trace.answer_correct:>14}   "
            f"{report.overall.no_trace.answer_not_correct:>12}\n"
            f"not judged       {report.overall.trace_unknown.answer_correct:>14}   "
            f"{report.overall.trace_unknown.answer_not_correct:>12}\n"
            f"filter (f): {self.filter}"
        )
        self.fill_samples()

    def fill_samples(self) -> None:
        table = self.query_one("#samples", DataTable)
        table.clear()
        keep = QUADRANTS[self.filter]
        for sample in self.samples:
            v = sample.verdicts
            if v is None or not keep(sample):
                continue
            table.add_row(
                sample.instance.id,
                sample.generator,
                str(sample.round),
                Text("valid", "green") if v.trace_valid else Text("invalid", "red"),
                "" if v.first_error is None else str(v.first_error),
                Text(v.answer.status, "green" if v.answer.status == "correct" else "red"),
                key=sample.id,
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if event.data_table.id == "runs" and key is not None:
            self.show_run(key)
        elif event.data_table.id == "samples":
            sample = next((s for s in self.samples if s.id == key), None)
            if sample is not None:
                self.query_one("#steps", Static).update(step_lines(sample))

    def action_next_filter(self) -> None:
        names = list(QUADRANTS)
        self.filter = names[(names.index(self.filter) + 1) % len(names)]
        runs = self.query_one("#runs", DataTable)
        if runs.row_count:
            row_key = runs.coordinate_to_cell_key(Coordinate(runs.cursor_row, 0)).row_key.value
            self.show_run(str(row_key))
