"""Two readings of one PlanBench record: modulo's reading of the response, and PlanBench's own extraction
(`extracted_llm_plan`, the plan VAL judged). Where they differ, which side we believe is wrong and why.

A reason is given only when a known PlanBench extraction fault explains the difference (a `Fault`);
otherwise the difference is `unexplained`, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modulo.model import Instance, Trace, Verdicts

from .domain import BlocksworldDomain, PddlDomain, problem_of, templates_of
from .reading import PlanReader

JOINING = frozenset(["from", "on", "onto", "to", "into", "at", "in", "of", "top"])
FAULTS = {
    "joining-word-kept": 'PlanBench keeps a word that is no object ("from", "object") as an argument',
    "past-plan-end": "PlanBench runs past the plan ([PLAN END], a restated plan)",
    "adds-steps": "PlanBench's translation adds steps the response does not state",
    "adds-arguments": "PlanBench adds arguments the response does not state (a city, an airplane)",
    "nothing-extracted": "PlanBench extracts nothing (bold markdown, short names)",
    "dropped-steps": "PlanBench drops step(s) of the plan (often the last)",
    "misread-step": "PlanBench's step is not what the response says",
}
"""The known PlanBench extraction faults: kind -> what it is, for summaries."""
UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class Fault:
    """A known way PlanBench's extraction is wrong about a plan the response states."""

    kind: str
    """A key of FAULTS."""
    reason: str
    """The sentence saying how, for this record."""


def extraction_fault(
    ours: list[str], theirs: list[str], said: list[str] | None = None, objects: frozenset[str] | None = None
) -> Fault | None:
    """Where PlanBench's own extraction (`theirs`, one action a line) is wrong about a plan we read
    (`ours`), how; None when the two differ otherwise. `said`: the text of each of our steps, when every
    one was read exactly (then a plain difference is PlanBench's misreading, quoted). `objects`: the
    problem's objects (without them only joining words count as non-objects)."""
    if not ours or ours == theirs:
        return None
    kept = [_objects_only(step, objects) for step in theirs]
    if kept == ours:
        return Fault(
            "joining-word-kept",
            "PlanBench's extraction keeps a word that is no object as an argument (e.g. "
            f"{next(t for t in theirs if t not in ours)!r}), so VAL judged a step the response does not "
            "state",
        )
    if len(theirs) > len(ours) and theirs[: len(ours)] == ours:
        return Fault(
            "past-plan-end",
            "PlanBench's extraction runs past the plan (a restated plan or text after [PLAN END]) and adds "
            f"{len(theirs) - len(ours)} step(s); VAL judged that longer plan, so the recorded verdict is "
            "wrong",
        )
    if len(theirs) > len(ours) and _subsequence(ours, theirs):
        added = [theirs[k] for k in _missing(theirs, ours)]
        return Fault(
            "adds-steps",
            f"PlanBench's extraction adds {len(added)} step(s) the response does not state "
            f"({', '.join(f'({a})' for a in added[:3])}; its translation repeats or invents steps); VAL "
            "judged that longer plan",
        )
    if not theirs:
        return Fault(
            "nothing-extracted",
            "PlanBench's extraction found no plan in this response (bold markdown, short names), so VAL "
            "judged none",
        )
    if len(theirs) < len(ours) and _subsequence(theirs, ours):
        missing = _missing(ours, theirs)
        numbers = ", ".join(str(k + 1) for k in missing)
        where = "the last step" if missing == [len(ours) - 1] else f"step(s) {numbers}"
        quoted = f" ({said[missing[0]]!r})" if said and len(said) == len(ours) else ""
        return Fault(
            "dropped-steps",
            f"PlanBench's extraction dropped {where}{quoted} of the plan, so the recorded verdict is about "
            "a plan the response does not state",
        )
    widened = [k for k in range(len(ours)) if ours[k] != theirs[k]] if len(ours) == len(theirs) else []
    if widened and all(_adds_arguments(ours[k], theirs[k], objects) for k in widened):
        k = widened[0]
        quoted = f" says {said[k]!r}," if said else ""
        return Fault(
            "adds-arguments",
            f"PlanBench's extraction adds argument(s) the response does not state: step {k + 1}{quoted} "
            f"read as ({ours[k]}); PlanBench has ({theirs[k]}) ({len(widened)} step(s) so); we judge the "
            "step as written",
        )
    if said and len(said) == len(ours):
        wrong = [k for k in range(len(ours)) if k >= len(theirs) or ours[k] != theirs[k]]
        if not wrong:
            return None
        k = wrong[0]
        other = theirs[k] if k < len(theirs) else "nothing"
        return Fault(
            "misread-step",
            f"PlanBench's extraction is not what the response says: step {k + 1} says {said[k]!r}, read "
            f"exactly as ({ours[k]}); PlanBench has ({other})",
        )
    return None


def _subsequence(short: list[str], long: list[str]) -> bool:
    rest = iter(long)
    return all(step in rest for step in short)


def _adds_arguments(ours: str, theirs: str, objects: frozenset[str] | None) -> bool:
    """Whether `theirs` is our action with more arguments (objects of the problem), ours among them in
    order."""
    mine, other = ours.split(), theirs.split()
    added = [a for a in other[1:] if a not in mine[1:]]
    return (
        mine[:1] == other[:1]
        and len(other) > len(mine)
        and _subsequence(mine[1:], other[1:])
        and (objects is None or all(a in objects for a in added))
    )


def _objects_only(step: str, objects: frozenset[str] | None) -> str:
    """The step without its arguments that are no object: joining words, or any non-object."""
    name, *args = step.split() or [""]
    kept = [a for a in args if a not in JOINING and (objects is None or a in objects)]
    return " ".join([name, *kept])


def _missing(ours: list[str], theirs: list[str]) -> list[int]:
    """Indices of our steps that `theirs` (a subsequence of ours) leaves out, matched greedily."""
    out, k = [], 0
    for i, step in enumerate(ours):
        if k < len(theirs) and theirs[k] == step:
            k += 1
        else:
            out.append(i)
    return out


def problem_objects(instance: Instance) -> frozenset[str] | None:
    """The instance's objects (None if its PDDL cannot be read)."""
    try:
        return frozenset(problem_of(instance).objects)
    except ValueError:
        return None


def plan_of(trace: Trace) -> list[str]:
    """The plan a trace states, one action a string (`unstack a b`)."""
    return [" ".join(a) for a in trace.answer or []]


def extracted(instance: Instance, lines: list[str]) -> list[str]:
    """PlanBench's extracted plan, one action a string: a line naming an action and the problem's objects
    (by PDDL name or another name: `(pick-up red)`) as `pick-up a`; any other line as written
    (`(feast c from d)` -> `feast c from d`)."""
    try:
        problem = problem_of(instance)
    except ValueError:
        return [_as_written(line) for line in lines]
    reader = PlanReader(templates_of(instance, problem), problem)
    out = []
    for line in lines:
        reading = reader.read_line(line)
        out.append(" ".join(reading.readings[0]) if reading.status == "read" else _as_written(line))
    return out


def _as_written(line: str) -> str:
    return " ".join(line.strip("() ").split())


def read_exactly(trace: Trace) -> list[str] | None:
    """The text of each step when the plan was read and every step exactly, else None."""
    exact = (trace.reading or {}).get("status") == "read" and all(
        s.parsed and s.parsed.get("exact") for s in trace.steps
    )
    return [s.text for s in trace.steps] if exact else None


def lines_read(trace: Trace) -> list[str]:
    """The response's lines (or clauses) our reading took as steps, as written."""
    return [s.text.strip() for s in trace.steps]


def verify_extraction(instance: Instance, lines: list[str]) -> tuple[Trace, Verdicts]:
    """Our checker's verdict on PlanBench's extracted plan (correctness only: no optimal-length search)."""
    domain = BlocksworldDomain() if instance.domain == "blocksworld" else PddlDomain()
    quick = instance.model_copy(update={"payload": {**instance.payload, "optimal_length": None}})
    trace = domain.parse("\n".join(lines), quick)
    return trace, domain.check(quick, trace)


def compare(
    instance: Instance,
    recorded: bool,
    ours: tuple[Trace, Verdicts],
    lines: list[str],
    theirs: tuple[Trace, Verdicts],
) -> dict[str, Any] | None:
    """The difference between the two readings of one record (None when they state the same plan or
    neither states one): both plans, both verdicts, the recorded verdict, the lines each side read,
    which side we believe is wrong (`planbench`, or `unexplained` when no known fault explains it), why,
    and all that in one line (`summary`)."""
    our_trace, our_verdicts = ours
    mine, other = plan_of(our_trace), extracted(instance, lines)
    if mine == other or our_verdicts.answer.status == theirs[1].answer.status == "unparsed":
        return None  # the same plan, or no plan on either side
    fault = extraction_fault(mine, other, read_exactly(our_trace), problem_objects(instance))
    reason = fault.reason if fault else "no known PlanBench extraction fault explains the difference"
    verdicts = (
        f"ours {our_verdicts.answer.status}, PlanBench's extraction {theirs[1].answer.status}, recorded "
        f"{'correct' if recorded else 'incorrect'}"
    )
    return {
        "record": instance.id,
        "recorded": recorded,
        "response": _side(mine, our_verdicts, lines_read(our_trace)),
        "extraction": _side(other, theirs[1], lines),
        "verdicts_differ": our_verdicts.answer.status != theirs[1].answer.status,
        "wrong": "planbench" if fault else UNEXPLAINED,
        "fault": fault.kind if fault else UNEXPLAINED,
        "reason": reason,
        "summary": f"{instance.id} ({verdicts}): {fault.kind if fault else UNEXPLAINED}: {reason}",
    }


def _side(plan: list[str], verdicts: Verdicts, lines: list[str]) -> dict[str, Any]:
    answer = verdicts.answer
    return {"plan": plan, "verdict": answer.status, "detail": answer.detail, "lines": lines}
