"""Grounding a model-assisted plan in the response it was translated from.

A translator (another model, or a file's recorded translation) may invent, repeat or repair steps. Every
action of its plan must be stated somewhere in the response (never the thinking): a line, sentence or
clause that our own reader reads as that action (`reading`), or else one that holds the action's verb
words and names its objects in order (`words`). An action found nowhere is ungrounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modulo.model import Trace
from modulo.protocols import Grounding
from modulo.reading import lines, sentences, separate_reasoning
from modulo.verifiers.strips import PlanAction, StripsProblem, fmt_atom

from .reading import PlanReader, StepReading
from .templates import Templates

CLAUSE = re.compile(r",?\s+(?:and\s+)?then\s+|;\s+|,\s+(?:and\s+)?(?=[a-z]+\s)|\s+and\s+", re.I)
"""Where a sentence of prose splits into clauses, as the plan reader splits prose."""


@dataclass(frozen=True)
class _Piece:
    text: str
    start: int
    end: int


def ground_plan(text: str, trace: Trace, templates: Templates, problem: StripsProblem) -> list[Grounding]:
    """For every step of `trace`, the span of the response that states its action, preferring one at or
    after the previous step's (a span earlier than that is noted: the translation reorders the text)."""
    separated = separate_reasoning(text)
    reader = PlanReader(templates, problem)
    pieces = _pieces(separated.response, separated.response_span.start)
    readings = [(piece, reader.read_line(piece.text)) for piece in pieces]
    out: list[Grounding] = []
    previous = -1
    for step in trace.steps:
        parsed = step.parsed if isinstance(step.parsed, dict) else {}
        action = parsed.get("action")
        if not action:
            out.append(
                Grounding(index=step.index, note=f"the translation's step {step.text!r} names no action")
            )
            continue
        found = _candidates(tuple(action), readings, reader)
        if not found:
            out.append(
                Grounding(
                    index=step.index,
                    note=f"no line, sentence or clause of the response states {fmt_atom(tuple(action))}",
                )
            )
            continue
        later = [c for c in found if c[0].start >= previous]
        piece, how = (later or found)[0]
        note = "" if later else "stated before the previous step's span: the translation reorders the text"
        previous = max(previous, piece.start)
        out.append(Grounding(index=step.index, span=[piece.start, piece.end], how=how, note=note))
    return out


def _candidates(
    action: PlanAction, readings: list[tuple[_Piece, StepReading]], reader: PlanReader
) -> list[tuple[_Piece, str]]:
    """Pieces that state `action`, in order of position; at one position a reading beats mere words."""
    found = [(piece, "reading") for piece, reading in readings if action in reading.readings]
    found += [(piece, "words") for piece, _ in readings if reader.says_words(piece.text, action)]
    return sorted(found, key=lambda c: (c[0].start, c[1] != "reading"))


def _pieces(response: str, offset: int) -> list[_Piece]:
    """Every line of the response (markdown and list markers removed), every sentence, and every clause
    of a line, each with the raw span of the line or sentence it lies in."""
    out: list[_Piece] = []
    for line in lines(response, offset):
        if not line.text:
            continue
        out.append(_Piece(line.text, line.span.start, line.span.end))
        out += [
            _Piece(c, line.span.start, line.span.end) for c in CLAUSE.split(line.text) if c and c != line.text
        ]
    out += [_Piece(s.text, s.span.start, s.span.end) for s in sentences(response, offset)]
    return out
