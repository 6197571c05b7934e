"""Proving a corrupted step invalid with the domain's own reader and checker (shared by `*/corrupt.py`).

A corruption is kept only when it differs from the step it replaces, and the text made of the trace's
steps before `index` followed by the new step reads back as exactly those steps, and the domain's `check`
gives the new step a non-valid verdict (`invalid` or `unsupported`, never `unknown` or `unparsed`) with one
of the rules the operator targets.
"""

from __future__ import annotations

from collections.abc import Callable

from modulo.model import Instance, Trace
from modulo.protocols import Domain

PROVING = ("invalid", "unsupported")
"""The verdicts that prove a corruption; `unknown` (a timeout) and `unparsed` never do."""


def proved_rule(
    domain: Domain,
    instance: Instance,
    trace: Trace,
    index: int,
    text: str,
    accepts: Callable[[str], bool],
    sep: str = "\n",
) -> str | None:
    """The rule the domain's checker reports for `text` in place of step `index` of `trace`, if it proves
    the step non-valid with a rule `accepts` takes; None otherwise (or if the text does not read back)."""
    if text.strip() == trace.steps[index].text.strip():
        return None  # not a change: an already invalid step is not a corruption
    before = [step.text for step in trace.steps[:index]]
    rebuilt = domain.parse(sep.join([*before, text]), instance)
    if len(rebuilt.steps) != index + 1:
        return None
    if [s.text.strip() for s in rebuilt.steps] != [*(t.strip() for t in before), text.strip()]:
        return None
    verdict = domain.check(instance, rebuilt).steps[index]
    if verdict.status in PROVING and verdict.rule is not None and accepts(verdict.rule):
        return verdict.rule
    return None
