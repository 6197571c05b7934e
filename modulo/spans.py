"""Where each step of a sample's trace sits in the raw text it was read from."""

from __future__ import annotations

from dataclasses import dataclass

from modulo.model import Sample


@dataclass(frozen=True)
class StepSpan:
    """Where a step sits in the raw output: which text (`response` is the sample's raw text) and offsets."""

    source: str
    start: int
    end: int


def step_spans(sample: Sample) -> dict[int, StepSpan]:
    """Each step's span: the one its reading recorded (`parsed.span`), else where its text (or its lines, in
    order) occurs next in the raw output; a step found in neither has none (and is not highlighted)."""
    spans: dict[int, StepSpan] = {}
    if sample.trace is None:
        return spans
    texts = {"response": sample.text, "reasoning": sample.reasoning or ""}
    cursor = {"response": 0, "reasoning": 0}
    for step in sample.trace.steps:
        parsed = step.parsed if isinstance(step.parsed, dict) else {}
        source = "reasoning" if parsed.get("source") == "reasoning" else "response"
        raw = texts[source]
        span = parsed.get("span")
        if isinstance(span, list | tuple) and len(span) == 2 and 0 <= span[0] <= span[1] <= len(raw):
            spans[step.index] = StepSpan(source, int(span[0]), int(span[1]))
        else:
            found = _found(raw, step.text, cursor[source])
            if found is None:
                continue
            spans[step.index] = StepSpan(source, *found)
        cursor[source] = spans[step.index].end
    return spans


def _found(raw: str, text: str, cursor: int) -> tuple[int, int] | None:
    """Where `text` occurs in `raw` from `cursor`: whole, else line by line in order (a multi-line step whose
    text is its lines without their indentation, as PlanBench state-tracking steps are read), from the
    start of its first line to the end of its last."""
    if not text:
        return None
    at = raw.find(text, cursor)
    if at >= 0:
        return at, at + len(text)
    start = end = None
    for line in (line.strip() for line in text.splitlines()):
        if not line:
            continue
        where = raw.find(line, cursor if end is None else end)
        if where < 0:
            return None
        start = where if start is None else start
        end = where + len(line)
    return None if start is None or end is None else (start, end)
