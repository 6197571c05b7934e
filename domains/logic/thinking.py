"""Judging a reasoning model's thinking about a logic problem, claim by claim.

The thinking is read like a response (`domains/logic/reading.py`: chained claims, commentary set aside,
spans kept) and each claim is checked like a response step: entailed by the premises and the claims
before it (`valid`), contradicting them (`invalid`), or neither (`unsupported`). What thinking adds:

- **Suppositions.** "Suppose Max is not sour. Then Max is a wumpus, …" — the claims after a supposition
  ("suppose", "assume", "let's say", "what if", "hypothetically", "for the sake of argument") are said
  under it, not asserted: they are `unknown` (`thinking.context`) up to the sentence that closes it (a
  contradiction found, "so the assumption is false") or the next blank line.
- **Retractions.** "Wait, no, that's wrong" marks the errors of the sentence before it as retracted by
  the thinking itself (they stay errors: the claims were made).

The answer is judged from the response, never from the thinking.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from modulo.model import Instance, Step, StepVerdict, Trace, Verdicts
from modulo.reading import sentences

SUPPOSE = re.compile(
    r"\b(?:suppose|supposing|assume|assuming|let's say|let us say|what if|hypothetically|"
    r"for the sake of (?:argument|contradiction)|imagine)\b",
    re.I,
)
CLOSES = re.compile(
    r"\b(?:contradiction|contradicts|contradictory|impossible|inconsistent|"
    r"(?:the|our|this|that) (?:assumption|supposition|hypothesis) (?:is|was|must be) "
    r"(?:false|wrong|incorrect))\b",
    re.I,
)
RETRACT = re.compile(
    r"\b(?:wait,? no\b|no,? (?:that|this|wait)|that(?:'s| is| was) (?:wrong|incorrect|not right|a mistake)|"
    r"scratch that|my mistake|i was wrong)",
    re.I,
)
ERRORS = ("invalid", "unsupported")
STEP_REF = re.compile(r"\bstep (\d+)\b")
"""A verdict message's reference to an earlier step (1-based), renumbered after suppositions are left out."""


class LogicDomain(Protocol):
    def parse(self, text: str, instance: Instance) -> Trace: ...

    def check(self, instance: Instance, trace: Trace) -> Verdicts: ...


def judge_logic_thinking(
    domain: LogicDomain, instance: Instance, reasoning: str
) -> tuple[list[Step], list[StepVerdict], dict[str, Any]]:
    """The thinking's claims as steps, one verdict each (claims under a supposition `unknown`), and what
    was read: sentences, coverage, suppositions, commentary."""
    trace = domain.parse(reasoning, instance)
    scopes = supposition_scopes(reasoning)
    supposed = {k: _scope(scopes, s) for k, s in enumerate(trace.steps) if _scope(scopes, s) is not None}
    asserted = [k for k in range(len(trace.steps)) if k not in supposed]
    checked = domain.check(instance, _only(trace, asserted)).steps  # supposed claims support nothing
    verdicts: list[StepVerdict] = []
    for k in range(len(trace.steps)):
        scope = supposed.get(k)
        if scope is None:
            verdict = checked[asserted.index(k)]
            message = STEP_REF.sub(lambda m: f"step {asserted[int(m.group(1)) - 1] + 1}", verdict.message)
            verdicts.append(verdict.model_copy(update={"index": k, "message": message}))
            continue
        said = reasoning[scope[0] : min(scope[1], scope[0] + 60)].strip()
        verdicts.append(
            StepVerdict(
                index=k,
                status="unknown",
                rule="thinking.context",
                message=f"said under a supposition ({said!r}…), not asserted",
            )
        )
    _mark_retracted(reasoning, trace.steps, verdicts)
    pieces = sentences(reasoning)
    judged_at = [_start(s) for s, v in zip(trace.steps, verdicts, strict=False) if v.status != "unknown"]
    judged = sum(any(p.span.start <= a < p.span.end for a in judged_at if a is not None) for p in pieces)
    info: dict[str, Any] = {
        "source": "reasoning",
        "sentences": len(pieces),
        "judged_sentences": judged,
        "coverage": round(judged / len(pieces), 4) if pieces else 0.0,
        "claims": {"claim": len(trace.steps)},
        "suppositions": [list(s) for s in scopes],
        "commentary": len((trace.reading or {}).get("commentary", [])),
    }
    return trace.steps, verdicts, info


def supposition_scopes(text: str) -> list[tuple[int, int]]:
    """Raw spans said under a supposition: from the sentence that makes it to the end of the sentence
    that closes it, or to the next blank line."""
    scopes: list[tuple[int, int]] = []
    pieces = sentences(text)
    k = 0
    while k < len(pieces):
        if not SUPPOSE.search(pieces[k].text):
            k += 1
            continue
        start, end = pieces[k].span.start, len(text)
        blank = re.search(r"\n\s*\n", text[pieces[k].span.end :])
        if blank:
            end = pieces[k].span.end + blank.start()
        j = k
        while j < len(pieces) and pieces[j].span.start < end:
            if j > k and CLOSES.search(pieces[j].text):
                end = pieces[j].span.end
                break
            j += 1
        scopes.append((start, end))
        k = max(j, k + 1)
    return scopes


def _mark_retracted(text: str, steps: list[Step], verdicts: list[StepVerdict]) -> None:
    """Errors in the sentence right before a retraction are marked retracted (message and `parsed`)."""
    pieces = sentences(text)
    for k, piece in enumerate(pieces):
        if k == 0 or not RETRACT.search(piece.text):
            continue
        before = pieces[k - 1].span
        for n, step in enumerate(steps):
            start = _start(step)
            if start is None or not before.start <= start < before.end or n >= len(verdicts):
                continue
            if verdicts[n].status in ERRORS:
                note = f" (the thinking retracts it: {piece.text[:80]!r})"
                verdicts[n] = verdicts[n].model_copy(update={"message": verdicts[n].message + note})
                if isinstance(step.parsed, dict):
                    step.parsed["retracted"] = True


def _scope(scopes: list[tuple[int, int]], step: Step) -> tuple[int, int] | None:
    start = _start(step)
    return next((s for s in scopes if start is not None and s[0] <= start < s[1]), None)


def _only(trace: Trace, keep: list[int]) -> Trace:
    """The trace with only the steps `keep`, renumbered from 0 (the answer and reading unchanged)."""
    steps = [trace.steps[k].model_copy(update={"index": n}) for n, k in enumerate(keep)]
    return trace.model_copy(update={"steps": steps})


def _start(step: Step) -> int | None:
    parsed = step.parsed if isinstance(step.parsed, dict) else {}
    span = parsed.get("span")
    return int(span[0]) if isinstance(span, list | tuple) and span else None
