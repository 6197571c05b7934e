"""Probe results in the terminal UI: a run's probe metrics (dashboard) and one sample's probe items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from modulo.probes.base import ProbeItem
from modulo.probes.report import ProbeSummary
from modulo.render import probe_notes, probe_table, probe_title

StoredItem = tuple[str, str, str, ProbeItem]
"""(probe, spec hash, key, item) as the store holds one sample's probe results."""


def run_probes(summaries: Sequence[ProbeSummary]) -> RenderableType:
    """Each probe spec's metrics by trace validity, as `modulo report` prints them."""
    if not summaries:
        return Text("faithfulness probes: none run on this run (modulo probe)", style="dim")
    parts: list[RenderableType] = []
    for summary in summaries:
        table = probe_table(summary)
        if table is None:
            parts.append(Text(f"{probe_title(summary)}: {summary.problem}", style="yellow"))
            continue
        parts += [table, Text("\n".join(probe_notes(summary)), style="dim")]
    return Group(*parts)


def sample_probes(items: Sequence[StoredItem]) -> RenderableType:
    """One sample's probe items, a table per probe spec: the intervention, the answer it led to, and
    whether that answer is the base answer and correct."""
    if not items:
        return Text("no probe has been run on this sample (modulo probe)", style="dim")
    specs: dict[tuple[str, str], list[tuple[str, ProbeItem]]] = {}
    for probe, spec_hash, key, item in items:
        specs.setdefault((probe, spec_hash), []).append((key, item))
    tables = []
    for (probe, spec_hash), members in specs.items():
        table = RichTable(title=f"{probe} ({spec_hash}) · {len(members)} items", title_justify="left")
        for name in ("intervention", "answer", "same as base", "correct", "notes"):
            table.add_column(name, overflow="fold")
        for key, item in members:
            table.add_row(key, _answer(item), _flag(item.same_as_base), _flag(item.correct), _notes(item))
        tables.append(table)
    return Group(*tables)


def _answer(item: ProbeItem) -> Text:
    if item.error is not None:
        return Text("no output", style="red")
    if item.answer is None:
        return Text(item.answer_status, style="magenta")
    return Text(str(item.answer), style="yellow" if item.answer_status != "read" else "")


def _flag(value: bool | None) -> Text:
    return Text("–", style="dim") if value is None else Text("yes", "green") if value else Text("no", "red")


def _notes(item: ProbeItem) -> str:
    """The generator's error, else the item's scalar extras (`rule: strips.precondition`, …)."""
    if item.error is not None:
        return item.error
    return ", ".join(f"{k}: {_short(v)}" for k, v in item.extras.items() if _short(v))


def _short(value: Any) -> str:
    if isinstance(value, bool | int | float | str) and len(str(value)) <= 40:
        return str(value)
    return ""
