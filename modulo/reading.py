"""The shared reading layer: where in a model's raw output to look, with the span behind every piece.

Domains decide what a step or a claim is; this module decides where to look. It knows nothing of any
domain. Every piece it returns carries the `Span` (start, end offsets) of the raw text it came from, so a
verdict can always be shown on the text. The stages, each usable alone:

- `separate_reasoning`: the thinking (`<think>…</think>` and variants, an unclosed tag, an API field)
  apart from the response; the answer is read from the response only.
- `normalise` / `lines`: markdown (bold, italics, code spans, headings, list markers) removed, with a
  map back to raw offsets.
- `find_blocks`: candidate answer blocks (explicit markers such as `[PLAN]…[PLAN END]`, fenced blocks,
  labelled blocks such as "Plan:" or "Final answer:", list runs), each marked retracted when the text
  after it rejects it ("This plan will not achieve the goal").
- `sentences`: prose split into sentences.
- `choose`: given the domain's reading of each block, the block read, why, the alternatives, and a
  status: `read`, `ambiguous` (plausible blocks disagree) or `unreadable` (nothing readable).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Literal

from pydantic import Field

from modulo.model import Model

ReadingStatus = Literal["read", "ambiguous", "unreadable"]
BlockKind = Literal["marker", "labelled", "fenced", "list", "text"]

RANK: dict[str, int] = {"marker": 4, "final": 3, "labelled": 2, "fenced": 2, "list": 1, "text": 0}
"""How strongly a block's form says "this is the answer" (`final`: a labelled block whose label says
final, correct, corrected, revised or complete)."""

THINK_TAGS = ("think", "thinking", "thought", "reasoning", "reflection")
_OPEN = re.compile(r"<\s*(" + "|".join(THINK_TAGS) + r")\s*>", re.I)
_CLOSE = re.compile(r"<\s*/\s*(" + "|".join(THINK_TAGS) + r")\s*>", re.I)
_INLINE = re.compile(r"\*\*|__|~~|`+|\*|(?<!\w)_|_(?!\w)")
_MARKER = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?P<heading>#{1,6})\s+|>\s*)?"
    r"(?:(?P<number>\d{1,3})[.):]\s+|(?P<bullet>[-*+•])\s+)?"
)
_STEP_LABEL = re.compile(r"^(?:step|action)\s*(\d{1,3})?\s*[:.)-]\s*", re.I)
_LABEL = re.compile(
    r"(?:^|\b)(?:[\w'’]+[ \t]+){0,8}?(?:plan|answer|solution|sequence(?: of actions)?|steps|actions)"
    r"\b[^:\n]{0,60}:\s*$",
    re.I,
)
_EXPLAIN = re.compile(
    r"\b(explanation|explained|reasoning|rationale|why|justification|verification|verify|check|notes?|"
    r"key steps|breakdown|because)\b[^:\n]{0,60}:\s*$",
    re.I,
)
_FINAL = re.compile(r"\b(final|correct|corrected|revised|updated|complete|full|fixed|valid|working)\b", re.I)
_RETRACT = re.compile(
    r"\b(?:will not|won't|does not|doesn't|do not|don't|cannot|can't|fails? to|did not|didn't)\s+"
    r"(?:\w+\s+){0,2}?(?:achieve|work|reach|satisfy|solve|meet|lead)\b"
    r"|\b(?:is|was|seems)\s+(?:incorrect|wrong|invalid|not (?:valid|correct|right|possible))\b"
    r"|\b(?:wait|oops|my mistake|let me (?:re\w*|correct|fix|try again)|on second thought)\b"
    r"|\b(?:there(?:'s| is) (?:a|an) (?:problem|issue|error|mistake))\b",
    re.I,
)
_SENTENCE_END = re.compile(
    r"(?:(?<=\D[.!?])|(?<=[A-Za-z_-]\d[.!?]))\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:\d{1,3}[.)]|[-*+•])\s)"
)
"""Where a sentence ends: after . ! ? (not after a bare number such as a list's "1.", but after a name
ending in a digit such as "p2." or "location_0_1."), at blank lines and before list items."""
_SPACES = {c: " " for c in (0xA0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}
"""Unicode spaces (no-break, narrow, em…) read as a plain space (one character for one: spans hold)."""
_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.M | re.S)


class Span(Model):
    """Offsets `[start, end)` into the raw text the piece came from."""

    start: int
    end: int


class Piece(Model):
    """A piece of normalised text and the raw span behind it."""

    text: str
    span: Span


class Line(Model):
    """One line: its normalised content (markdown, list marker and "Step N:" label removed)."""

    text: str
    span: Span
    """The raw span of the content (the whole line when the content is empty)."""
    indent: int = 0
    marker: Literal["number", "bullet", "none"] = "none"
    number: int | None = None
    heading: bool = False


class Block(Model):
    """A candidate answer block and why it is one."""

    kind: BlockKind
    label: str = ""
    """The marker or label that opened it ("[PLAN]", "Final plan:", "numbered list")."""
    span: Span
    lines: list[Line] = Field(default_factory=list)
    final: bool = False
    """Its label says it is the final or corrected answer."""
    explanation: bool = False
    """It follows a label such as "Explanation:" or "Why this works:": commentary, not an answer."""
    retracted: bool = False
    """Text after it rejects it (e.g. "This plan will not achieve the goal")."""
    retraction: str = ""
    """The rejecting words, when retracted."""

    def items(self) -> list[Line]:
        """The block's top-level list items if it holds a list (nested items are explanation), else every
        non-empty line."""
        listed = [ln for ln in self.lines if ln.marker != "none" and ln.text]
        if listed:
            top = min(ln.indent for ln in listed)
            return [ln for ln in listed if ln.indent == top]
        return [ln for ln in self.lines if ln.text and not ln.heading]

    @property
    def rank(self) -> int:
        if self.explanation:
            return -1
        return RANK["final"] if self.final and self.kind == "labelled" else RANK[self.kind]


class Separated(Model):
    """A raw output split into the response (read for the answer) and the reasoning (never read for it)."""

    response: str
    response_span: Span
    """Where the response lies in the raw text."""
    reasoning: str | None = None
    source: Literal["none", "tag", "unclosed-tag", "field"] = "none"
    """Where the reasoning came from: a `<think>` pair, an unclosed tag, or an API field."""
    parts: list[Span] = Field(default_factory=list)
    """The raw spans of the response's parts when thinking stood between them (the response joins them
    with a newline); empty when the response is one stretch of the raw text."""

    def raw(self, offset: int) -> int:
        """The raw-text offset of an offset into `response`."""
        at = 0
        for part in self.parts:
            size = part.end - part.start
            if offset <= at + size:
                return part.start + (offset - at)
            at += size + 1
        return self.response_span.start + offset


class Reading(Model):
    """Which block was read and why; the alternatives found; the reading status."""

    status: ReadingStatus
    block: Block | None = None
    reason: str
    alternatives: list[Block] = Field(default_factory=list)
    """Other readable blocks whose reading differs from the block read."""


def separate_reasoning(text: str, reasoning: str | None = None) -> Separated:
    """The response without its thinking. `reasoning`: thinking the API returned apart (kept as is).

    `<think>…</think>` pairs (and `thinking`, `thought`, `reasoning`, `reflection`) are removed; an
    opening tag never closed makes the rest thinking (the response is then empty); a closing tag with no
    opening one (chat templates that put `<think>` in the prompt) makes everything before it thinking."""
    if reasoning:
        return Separated(
            response=text, response_span=Span(start=0, end=len(text)), reasoning=reasoning, source="field"
        )
    thoughts: list[str] = []
    start = 0
    first_open = _OPEN.search(text)
    first_close = _CLOSE.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        thoughts.append(text[: first_close.start()])
        start = first_close.end()
    source: Literal["none", "tag", "unclosed-tag", "field"] = "tag" if thoughts else "none"
    end = len(text)
    pos = start
    response_parts: list[tuple[int, int]] = []
    while (m := _OPEN.search(text, pos)) is not None:
        close = _CLOSE.search(text, m.end())
        response_parts.append((pos, m.start()))
        if close is None:
            thoughts.append(text[m.end() :])
            source, pos = "unclosed-tag", end
            break
        thoughts.append(text[m.end() : close.start()])
        source, pos = "tag", close.end()
    response_parts.append((pos, end))
    kept = [(a, b) for a, b in response_parts if text[a:b].strip()]
    if not kept:
        return Separated(
            response="",
            response_span=Span(start=end, end=end),
            reasoning="\n".join(thoughts) or None,
            source=source,
        )
    lo, hi = kept[0][0], kept[-1][1]
    body = text[lo:hi] if len(kept) == 1 else "\n".join(text[a:b] for a, b in kept)
    return Separated(
        response=body,
        response_span=Span(start=lo, end=hi),
        reasoning="\n".join(t.strip() for t in thoughts) or None,
        source=source,
        parts=[Span(start=a, end=b) for a, b in kept] if len(kept) > 1 else [],
    )


def normalise(text: str, offset: int = 0) -> tuple[str, list[int]]:
    """Inline markdown removed (bold, italics, strike-through, code spans), Unicode spaces made plain.
    Returns the text and, per character, its raw offset (plus `offset`). Underscores inside words
    (`package_0`) are kept."""
    out: list[str] = []
    where: list[int] = []
    pos = 0
    text = text.translate(_SPACES)
    for m in _INLINE.finditer(text):
        out.append(text[pos : m.start()])
        where.extend(range(offset + pos, offset + m.start()))
        pos = m.end()
    out.append(text[pos:])
    where.extend(range(offset + pos, offset + len(text)))
    return "".join(out), where


def _span(where: list[int], start: int, end: int, fallback: int) -> Span:
    if start >= end or not where:
        return Span(start=fallback, end=fallback)
    return Span(start=where[start], end=where[end - 1] + 1)


def lines(text: str, offset: int = 0) -> list[Line]:
    """Every line of `text` with its list marker, indent, heading flag and normalised content."""
    out: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        m = _MARKER.match(raw)
        assert m is not None  # every part of the pattern is optional
        content, where = normalise(raw[m.end() :], offset + pos + m.end())
        lead = len(content) - len(content.lstrip())
        trail = len(content.rstrip())
        number = int(m.group("number")) if m.group("number") else None
        marker: Literal["number", "bullet", "none"] = (
            "number" if number is not None else "bullet" if m.group("bullet") else "none"
        )
        label = _STEP_LABEL.match(content[lead:trail])
        if label:
            lead += label.end()
            if marker == "none":
                marker, number = "number", int(label.group(1)) if label.group(1) else None
        body = content[lead:trail]
        indent = len(m.group("indent").expandtabs(4))
        out.append(
            Line(
                text=body,
                span=_span(where, lead, trail, offset + pos),
                indent=indent,
                marker=marker,
                number=number,
                heading=bool(m.group("heading")),
            )
        )
        pos += len(raw) + 1
    return out


def sentences(text: str, offset: int = 0) -> list[Piece]:
    """Prose split into sentences (at ., ! or ? before a capital or digit, at blank lines and list
    items), each normalised, with its raw span."""
    out: list[Piece] = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        stop = m.start() if m else len(text)
        chunk = text[pos:stop]
        body, where = normalise(chunk, offset + pos)
        body_lines = [ln for ln in lines(chunk, offset + pos) if ln.text]
        joined = " ".join(ln.text for ln in body_lines) if body_lines else body.strip()
        if joined:
            first, last = (body_lines[0].span, body_lines[-1].span) if body_lines else (None, None)
            span = (
                Span(start=first.start, end=last.end)
                if first and last
                else _span(where, 0, len(body), offset + pos)
            )
            out.append(Piece(text=" ".join(joined.split()), span=span))
        pos = m.end() if m else len(text)
    return out


def find_blocks(text: str, markers: Sequence[tuple[str, str]] = (("[PLAN]", "[PLAN END]"),)) -> list[Block]:
    """Candidate answer blocks in `text` (a response, not its thinking), in order of position, each
    marked retracted when the text between it and the next block rejects it. The whole text is always
    the last candidate (kind `text`)."""
    all_lines = lines(text)
    starts = _line_starts(text)
    blocks: list[Block] = []
    for open_, close in markers:
        blocks += _marker_blocks(text, all_lines, starts, open_, close)
    for m in _FENCE.finditer(text):
        inner = m.start(2)
        blocks.append(
            Block(
                kind="fenced",
                label=m.group(1),
                span=Span(start=m.start(), end=m.end()),
                lines=lines(m.group(2), inner),
            )
        )
    blocks += _labelled_and_lists(all_lines, starts)
    blocks.sort(key=lambda b: (b.span.start, -b.span.end))
    _mark_retracted(text, blocks)
    blocks.append(
        Block(kind="text", label="whole response", span=Span(start=0, end=len(text)), lines=all_lines)
    )
    return blocks


def _line_starts(text: str) -> list[int]:
    starts, pos = [], 0
    for raw in text.split("\n"):
        starts.append(pos)
        pos += len(raw) + 1
    return starts


def _within(all_lines: list[Line], starts: list[int], lo: int, hi: int) -> list[Line]:
    return [ln for ln, s in zip(all_lines, starts, strict=True) if s >= lo and ln.span.end <= hi and s < hi]


def _marker_blocks(
    text: str, all_lines: list[Line], starts: list[int], open_: str, close: str
) -> list[Block]:
    opens = [m.end() for m in re.finditer(re.escape(open_), text, re.I)]
    closes = [m.start() for m in re.finditer(re.escape(close), text, re.I)]
    out: list[Block] = []
    used_close: set[int] = set()
    for o in opens:
        c = next((c for c in closes if c >= o and c not in used_close), len(text))
        used_close.add(c)
        out.append(
            Block(
                kind="marker", label=open_, span=Span(start=o, end=c), lines=_within(all_lines, starts, o, c)
            )
        )
    first_open = min(opens, default=len(text) + 1)
    early = [c for c in closes if c < first_open]
    if early:  # the prompt ended with the opening marker: the response starts inside the block
        c = early[0]
        out.append(
            Block(
                kind="marker", label=close, span=Span(start=0, end=c), lines=_within(all_lines, starts, 0, c)
            )
        )
    return out


def _labelled_and_lists(all_lines: list[Line], starts: list[int]) -> list[Block]:
    out: list[Block] = []
    k = 0
    n = len(all_lines)
    explaining = False
    while k < n:
        line = all_lines[k]
        if line.text and line.marker == "none":
            explaining = bool(_EXPLAIN.search(line.text))
        label = _LABEL.search(line.text) if line.text and not explaining else None
        if label and line.marker == "none" or (line.heading and label):
            body, k2 = _following(all_lines, k + 1)
            if body:
                words = line.text
                out.append(
                    Block(
                        kind="labelled",
                        label=words,
                        span=Span(start=starts[k], end=body[-1].span.end),
                        lines=body,
                        final=bool(_FINAL.search(words)),
                    )
                )
        if line.marker != "none" and line.text:
            run, k2 = _list_run(all_lines, k)
            kind_label = "numbered list" if line.marker == "number" else "bulleted list"
            out.append(
                Block(
                    kind="list",
                    label=kind_label,
                    span=Span(start=starts[k], end=run[-1].span.end),
                    lines=run,
                    explanation=explaining,
                )
            )
            k = k2
            continue
        k += 1
    return out


def _following(all_lines: list[Line], k: int) -> tuple[list[Line], int]:
    """The lines after a label: blank lines skipped, then a list run or a paragraph."""
    while k < len(all_lines) and not all_lines[k].text:
        k += 1
    if k >= len(all_lines):
        return [], k
    if all_lines[k].marker != "none":
        return _list_run(all_lines, k)
    body = []
    while k < len(all_lines) and all_lines[k].text and not _LABEL.search(all_lines[k].text):
        body.append(all_lines[k])
        k += 1
    return body, k


def _list_run(all_lines: list[Line], k: int) -> tuple[list[Line], int]:
    """A run of list items from line k: nested items, indented continuation lines and single blank lines
    inside it belong to it; it ends at a non-indented non-item line or at a heading."""
    top = all_lines[k].indent
    run = [all_lines[k]]
    k += 1
    while k < len(all_lines):
        ln = all_lines[k]
        if ln.heading:
            break
        if not ln.text:
            nxt = next((x for x in all_lines[k + 1 :] if x.text), None)
            if nxt is None or (nxt.marker == "none" and nxt.indent <= top) or nxt.heading:
                break
            k += 1
            continue
        if ln.marker == "none" and ln.indent <= top:
            break
        run.append(ln)
        k += 1
    return run, k


def _mark_retracted(text: str, blocks: list[Block]) -> None:
    for k, block in enumerate(blocks):
        later = [_body_start(b) for b in blocks[k + 1 :] if _body_start(b) >= block.span.end]
        after = text[block.span.end : min(later, default=len(text))]
        m = _RETRACT.search(after)
        if m and later:
            block.retracted, block.retraction = True, " ".join(_sentence_around(after, m.start()).split())


def _body_start(block: Block) -> int:
    """Where a block's content starts (a label line may itself hold a retraction: "This plan fails.
    Here's a correct plan:")."""
    return block.lines[0].span.start if block.kind == "labelled" and block.lines else block.span.start


def _sentence_around(text: str, pos: int) -> str:
    lo = max(text.rfind(".", 0, pos), text.rfind("\n", 0, pos)) + 1
    hi = min((i for i in (text.find(".", pos), text.find("\n", pos)) if i >= 0), default=len(text))
    return text[lo : hi + 1].strip()


def describe(block: Block) -> str:
    """A short phrase naming the block and where it is."""
    return f"{block.kind} block {block.label!r} at {block.span.start}-{block.span.end}"


def choose(candidates: Sequence[tuple[Block, Hashable | None]]) -> Reading:
    """The block to read, given each candidate's reading by the domain (None: nothing readable).

    Retracted blocks are set aside; of the rest, the strongest form wins (explicit marker, a label saying
    final, any label or fence, a list, the whole text). Blocks of that form that disagree make the
    reading `ambiguous`: it is never resolved silently. Weaker blocks that disagree are listed as
    alternatives."""
    readable = [(b, key) for b, key in candidates if key is not None]
    if not readable:
        return Reading(status="unreadable", reason="no block of the response could be read")
    live = [(b, key) for b, key in readable if not b.retracted]
    retracted = [b for b, _ in readable if b.retracted]
    if not live:
        block, key = readable[-1]
        return Reading(
            status="ambiguous",
            block=block,
            reason=f"every readable block is retracted ({retracted[-1].retraction!r})",
            alternatives=[b for b, k in readable[:-1] if k != key],
        )
    best = max(b.rank for b, _ in live)
    tops = [
        (b, key) for b, key in live if b.rank == best and b.kind != "text" or (best == 0 and b.kind == "text")
    ]
    block, key = tops[-1]
    others = [b for b, k in readable if k != key and b is not block and b.kind != "text"]
    same = sum(1 for b, k in readable if k == key and b is not block and b.kind != "text")
    reason = f"read the {describe(block)}"
    if same:
        reason += f"; {same} other block(s) restate it"
    if retracted:
        reason += f"; set aside {len(retracted)} retracted block(s) ({retracted[-1].retraction!r})"
    rivals = [b for b, k in tops if k != key]
    if rivals:
        return Reading(
            status="ambiguous",
            block=block,
            reason=reason + f"; {len(rivals)} block(s) of the same form read differently",
            alternatives=others,
        )
    if others:
        reason += f"; {len(others)} weaker block(s) read differently"
    return Reading(status="read", block=block, reason=reason, alternatives=others)
