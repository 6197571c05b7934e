"""A logic problem drawn for the terminal: its premises numbered one per line, the question, and the trace."""

from __future__ import annotations

import re

from modulo.domains.logic.puzzle import split_sentences
from modulo.model import Trace


def picture(context: str, question: list[str], trace: Trace | None, answer: str) -> str:
    """`premises:` P1, P2… (the context's sentences), the question lines, then the trace's steps numbered
    from 1 and its answer (`answer` as the domain writes it)."""
    premises = premise_lines(context)
    width = len(str(len(premises)))
    lines = ["premises:", *(f"  P{i:<{width}}  {p}" for i, p in enumerate(premises, 1)), "", *question]
    if trace is not None:
        lines += ["", "trace:", *(f"{s.index + 1:>3}. {s.text}" for s in trace.steps), f"answer: {answer}"]
    return "\n".join(lines)


_LISTED = re.compile(r"\s*(?:[-*•]|\d+[.)]|#+)\s")
"""A line that is already an item of its own: a bullet, a numbered clue, a heading."""


def premise_lines(context: str) -> list[str]:
    """The context's premises: listed lines (bullets, numbered clues, headings) as they are, prose split into
    sentences."""
    premises: list[str] = []
    for line in context.splitlines():
        if not line.strip():
            continue
        premises += [line.strip()] if _LISTED.match(line) else split_sentences(line)
    return premises
