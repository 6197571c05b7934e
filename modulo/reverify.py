"""Recomputing stored verdicts with the installed code, and listing what changed.

A verdict depends on the verifier and domain code that made it; `reverify` re-parses and re-checks every
stored text of a run and compares trace and verdicts with what the store holds (`modulo reverify`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from modulo.model import Sample, StepVerdict, Verdicts
from modulo.registry import get_domain
from modulo.runner import ProgressFn, trace_source_of, verify_sample
from modulo.store import Store

M = TypeVar("M", bound=BaseModel)


@dataclass
class Difference:
    """One sample whose recomputed judgement differs from the stored one."""

    sample_id: str
    what: str
    """The first difference, e.g. `answer: correct → incorrect` or `step 3: valid → invalid (astar.min_f)`."""


@dataclass
class ReverifyResult:
    checked: int = 0
    unverified: int = 0
    """Stored texts that had no verdicts yet (verified now, unless only checking)."""
    rewritten: int = 0
    """Samples whose verdicts or recorded code versions were written anew."""
    differences: list[Difference] = field(default_factory=list)


def reverify(store: Store, run_id: str, *, check: bool, progress: ProgressFn | None = None) -> ReverifyResult:
    """Recompute the verdicts of every generated sample of the run; with `check`, only compare."""
    result = ReverifyResult()
    run = store.get_run(run_id)
    for stored in store.samples(run_id):
        if stored.generation_error is not None:
            continue
        source = trace_source_of(run.config, stored) if run else "response"
        fresh = verify_sample(get_domain(stored.instance.domain), stored, source)
        what = describe_difference(stored, fresh)
        if stored.verdicts is None:
            result.unverified += 1
        else:
            result.checked += 1
            if what:
                result.differences.append(Difference(stored.id, what))
        if not check and (what or stored.verified_by != fresh.verified_by):  # a new judgement or new code
            result.rewritten += store.set_verdicts(fresh)
        if progress:
            progress("re-verifying", 1)
    return result


def describe_difference(stored: Sample, fresh: Sample) -> str:
    """The first way the fresh judgement differs from the stored one ('' when they are the same)."""
    old, new = _as_stored(stored.verdicts), _as_stored(fresh.verdicts)
    if old is None or new is None:
        return "" if old is new else "verdicts: missing"
    if old.answer != new.answer:
        return f"answer: {_answer(old)} → {_answer(new)}"
    old_steps, new_steps = [*old.steps, *old.trace_checks], [*new.steps, *new.trace_checks]
    for before, after in zip(old_steps, new_steps, strict=False):
        if before != after:
            return f"step {before.index}: {_step(before)} → {_step(after)}"
    if len(old_steps) != len(new_steps):
        return f"steps: {len(old_steps)} verdicts → {len(new_steps)}"
    if _as_stored(stored.trace) != _as_stored(fresh.trace):
        return "trace: read differently (same verdicts)"
    return ""


def _as_stored(model: M | None) -> M | None:
    """The model as the store gives it back (a JSON round trip: tuples become lists), so a fresh
    judgement compares equal to the same judgement stored."""
    return None if model is None else type(model).model_validate_json(model.model_dump_json())


def _answer(v: Verdicts) -> str:
    return v.answer.status + (f" ({v.answer.detail})" if v.answer.detail else "")


def _step(v: StepVerdict) -> str:
    return v.status + (f" ({v.rule})" if v.rule else "") + (f": {v.message[:80]}" if v.message else "")
