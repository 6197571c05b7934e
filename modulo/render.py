"""Printing a Report as terminal tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from modulo.assisted import AGREEMENTS, AssistedReport
from modulo.probes.base import Metric
from modulo.probes.report import GROUPS, ProbeSummary
from modulo.report import Cell, Report
from modulo.stats import Rate
from modulo.thinking_report import ThinkingSummary


def fmt_rate(rate: Rate) -> str:
    if rate.rate is None or rate.low is None or rate.high is None:
        return "–"
    return f"{rate.rate:.1%} [{rate.low * 100:.1f}–{rate.high * 100:.1f}] {rate.k}/{rate.n}"


def _table_2x2(cell: Cell) -> Table:
    t = cell.table
    table = Table(title="first attempts: trace × answer", title_justify="left")
    table.add_column("")
    table.add_column("answer correct", justify="right")
    table.add_column("answer not correct", justify="right")
    table.add_row("trace valid", str(t.valid_correct), str(t.valid_incorrect))
    table.add_row("trace invalid", str(t.invalid_correct), str(t.invalid_incorrect))
    beside = [("no trace", cell.no_trace), ("trace not judged (unknown)", cell.trace_unknown)]
    if any(split.total for _, split in beside):
        table.add_section()
    for name, split in beside:
        if split.total:
            table.add_row(
                f"{name}, not in the table",
                str(split.answer_correct),
                str(split.answer_not_correct),
                style="dim",
            )
    return table


def _breakdown(title: str, cells: dict[str, Cell]) -> Table:
    table = Table(title=title, title_justify="left")
    for name in ("group", "n", "trace valid [95% CI]", "answer correct [95% CI]", "phi"):
        if name == "group":
            table.add_column(name, overflow="fold")
        else:
            table.add_column(name, justify="right", no_wrap=True)
    for key, cell in cells.items():
        table.add_row(
            key,
            str(cell.samples),
            fmt_rate(cell.trace_valid),
            fmt_rate(cell.answer_correct),
            "–" if cell.phi is None else f"{cell.phi:+.2f}",
        )
    return table


def _counts(title: str, counts: dict[str, int] | dict[int, int], key_name: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key_name)
    table.add_column("count", justify="right")
    for key, count in counts.items():
        table.add_row(str(key), str(count))
    return table


def print_report(console: Console, report: Report) -> None:
    """Everything in the report, as tables."""
    console.print(
        f"[bold]{report.run_name}[/] · run {report.run_id} · {report.created_at} · "
        f"{report.samples} samples ({report.unverified} unverified)",
        highlight=False,
    )
    if report.failed_generations:
        console.print(
            f"{report.failed_generations} failed generation(s), outside the table "
            "(`modulo run --retry-failed` tries them again)",
            highlight=False,
        )
    if report.stale_verdicts:
        console.print(
            f"[yellow]warning:[/] {report.stale_verdicts} verdict(s) were made by other code than the "
            f"installed one ({len(report.verdict_versions)} version set(s) in this run); "
            f"`modulo reverify {report.run_id} --check` lists what the installed code judges differently",
            highlight=False,
        )
    console.print(_table_2x2(report.overall))
    overall = {"all": report.overall}
    console.print(_breakdown("rates", overall))
    for title, cells in (
        ("by domain", report.by_domain),
        ("by generator", report.by_generator),
        ("by difficulty", report.by_difficulty),
    ):
        if cells:
            console.print(_breakdown(title, cells))
    console.print(
        f"P(correct | trace valid) = {fmt_rate(report.overall.correct_given_valid_trace)}    "
        f"P(correct | trace invalid) = {fmt_rate(report.overall.correct_given_invalid_trace)}",
        highlight=False,
    )
    if report.first_error_histogram:
        ones = {index + 1: count for index, count in report.first_error_histogram.items()}
        console.print(_counts("first invalid step (numbered from 1, as in messages)", ones, "step"))
    if report.rule_counts:
        console.print(_counts("broken rules", report.rule_counts, "rule"))
    console.print(_counts("answers", report.answer_details, "verdict"))
    if set(report.reading_status) - {"not-reported"}:
        console.print(_counts("reading status", report.reading_status, "status"))
    for generator, summary in report.thinking.items():
        _print_thinking(console, generator, summary)
    speed = report.throughput
    if speed.tokens_per_second is not None and speed.verify_fraction is not None:
        console.print(
            f"generation {speed.completion_tokens} tokens in {speed.generate_seconds:.1f} s "
            f"({speed.tokens_per_second:.1f} tok/s); verification {speed.verify_seconds:.2f} s "
            f"= {speed.verify_fraction:.1%} of generation time",
            highlight=False,
        )
    if report.assisted is not None:
        print_assisted(console, report.assisted)
    if len(report.loop) > 1:
        loop = Table(title="LLM-Modulo rounds", title_justify="left")
        for name in ("round", "attempted", "solved so far"):
            loop.add_column(name, justify="right")
        for r in report.loop:
            loop.add_row(str(r.round), str(r.attempted), fmt_rate(r.solved_so_far))
        console.print(loop)
    for probed in report.probes:
        print_probe(console, probed)


def fmt_metric(metric: Metric | None) -> str:
    """A metric's value with its interval and n ("–" when undefined)."""
    if metric is None or metric.value is None:
        return "–" if metric is None else f"– n={metric.n}"
    interval = (
        f" [{metric.low:.3f}–{metric.high:.3f}]" if metric.low is not None and metric.high is not None else ""
    )
    return f"{metric.value:.3f}{interval} n={metric.n}"


DIRECTIONS = {"higher-more-faithful": "higher", "lower-more-faithful": "lower", "neutral": "–"}
"""The `faithful if` column: which way a metric reads as more faithful."""


def print_probe(console: Console, summary: ProbeSummary) -> None:
    """One probe's metrics side by side for all samples, valid traces and invalid traces, with definitions
    and curves: the table answers "do invalid traces matter less to the answer than valid ones?"."""
    table = probe_table(summary)
    if table is None:
        console.print(f"{probe_title(summary)}: {summary.problem}", highlight=False)
        return
    console.print(table)
    for line in probe_notes(summary):
        console.print(line, highlight=False)


def probe_title(summary: ProbeSummary) -> str:
    title = f"probe {summary.probe} ({summary.spec_hash}) · {summary.samples} samples, {summary.items} items"
    return title + (f", {summary.errors} failed requests" if summary.errors else "")


def probe_table(summary: ProbeSummary) -> Table | None:
    """The probe's metrics (rows) by group (columns); None when it has none to show (`problem` says why)."""
    if summary.problem:
        return None
    table = Table(
        title=probe_title(summary), title_justify="left", caption=summary.source, caption_justify="left"
    )
    table.add_column("metric", overflow="fold")
    table.add_column("faithful if")
    for group in GROUPS:
        table.add_column(group, justify="right", overflow="fold")
    found = {(m.name, m.group): m for m in summary.metrics}
    for name, first in _first_of_each(summary).items():
        table.add_row(name, DIRECTIONS[first.direction], *(fmt_metric(found.get((name, g))) for g in GROUPS))
    return table


def probe_notes(summary: ProbeSummary) -> list[str]:
    """Each metric's definition, and its curves as `x:y` points."""
    found = {(m.name, m.group): m for m in summary.metrics}
    lines = []
    for name, first in _first_of_each(summary).items():
        lines.append(f"  {name}: {first.definition}")
        for group in GROUPS:
            metric = found.get((name, group))
            if metric is not None and metric.curve:
                points = " ".join(f"{x:g}:{y:.2f}" for x, y in metric.curve)
                lines.append(f"    {group} curve (x:y) {points}")
    return lines


def _first_of_each(summary: ProbeSummary) -> dict[str, Metric]:
    """Each metric name (in order) with its first entry (which carries the definition and direction)."""
    first: dict[str, Metric] = {}
    for metric in summary.metrics:
        first.setdefault(metric.name, metric)
    return first


def print_assisted(console: Console, assisted: AssistedReport) -> None:
    """Agreement of the model-assisted readings with the deterministic ones, per task, and what disagrees."""
    table = Table(
        title="model-assisted extraction (the verdicts above are the deterministic reading's)",
        title_justify="left",
    )
    table.add_column("task", overflow="fold")
    for name in (*AGREEMENTS, "same plan [95% CI]", "same verdict [95% CI]", "grounded by words"):
        table.add_column(name, justify="right", no_wrap=name.endswith("]"))
    for key, counts in {"all": assisted.overall, **assisted.by_task}.items():
        table.add_row(
            key,
            *(str(counts.counts.get(a, 0)) for a in AGREEMENTS),
            fmt_rate(counts.same_plan),
            fmt_rate(counts.same_verdict),
            str(counts.by_words),
        )
    console.print(table)
    console.print(f"translators: {', '.join(assisted.translators)}", highlight=False)
    if assisted.stale:
        console.print(
            f"[yellow]note:[/] {assisted.stale} reading(s) were made from another text than the stored one "
            "and are not counted",
            highlight=False,
        )
    for entry in assisted.listed[:20]:
        console.print(f"  {entry['agreement']}: {entry['instance']}: {entry['why']}", highlight=False)


def _print_thinking(console: Console, generator: str, s: ThinkingSummary) -> None:
    """One generator's thinking: claims, coverage, the error × answer table, rules."""
    claims = Table(title=f"thinking of {generator}: claim by claim", title_justify="left")
    claims.add_column("measure")
    claims.add_column("value", justify="right")
    per_trace = "–" if s.claims_judged_per_trace is None else f"{s.claims_judged_per_trace:g}"
    coverage = "–" if s.coverage is None else f"{s.coverage:.1%}"
    for name, value in (
        ("traces judged", str(s.traces)),
        ("claims read / judged", f"{s.claims} / {s.claims_judged}"),
        ("judged claims per trace (median)", per_trace),
        ("coverage (sentences with a judged claim)", coverage),
        ("traces with an error in their thinking", fmt_rate(s.with_error)),
        ("… with an error the thinking did not retract", fmt_rate(s.with_standing_error)),
        ("traces every claim of which was judged valid", str(s.fully_judged_without_error)),
        ("replies with no thinking (not counted)", str(s.no_thinking)),
    ):
        claims.add_row(name, value)
    console.print(claims)
    t = s.table
    table = Table(title="thinking × answer", title_justify="left")
    for name in ("", "answer correct", "answer not correct", "P(correct)"):
        table.add_column(name, justify="right" if name else "left")
    table.add_row(
        "error in the thinking", str(t.error_correct), str(t.error_incorrect), fmt_rate(s.correct_given_error)
    )
    table.add_row(
        "no error found (unjudged claims aside)",
        str(t.no_error_correct),
        str(t.no_error_incorrect),
        fmt_rate(s.correct_given_no_error),
    )
    console.print(table)
    if s.first_error_histogram:
        ones = {index + 1: count for index, count in s.first_error_histogram.items()}
        console.print(_counts("first error in the thinking (claim, numbered from 1)", ones, "claim"))
    if s.rules:
        console.print(_counts("thinking errors by rule", s.rules, "rule"))
