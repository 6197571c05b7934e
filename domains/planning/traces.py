"""Reading planning traces (plans, state-tracking chains) with templates, and judging them.

Two trace kinds. A *plan*: each action line is a step. A *state-tracking* trace: numbered steps of
"Current State / Action / Reason / Resulting State" (PlanBench's state-tracking prompt). In both,
the answer is the plan made of the actions read, in order, judged on its own against the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from modulo.domains.structured import item_text
from modulo.model import AnswerVerdict, Step, StepStatus, StepVerdict, Trace, Verdicts
from modulo.verifiers.strips import (
    PlanAction,
    State,
    StripsProblem,
    apply,
    final_state,
    fits,
    fmt_atom,
    ground,
    state_difference,
    unmet,
    validate_plan,
)

from .reading import MAX_COMBINATIONS, PlanReader, StepReading, build_steps, plans_of, read_plan
from .templates import ReadAction, Templates

Optimum = int | Callable[[], int | None] | None
"""An optimal plan length, None if unknown, or how to find it (called only once a plan is valid)."""
FIELD = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(current state|action|reason|resulting state|final state)\s*:\s*(.*)$", re.I
)
STOP = re.compile(r"\[(?:cost|plan end)\]", re.I)


def parse_trace(text: str, templates: Templates, problem: StripsProblem) -> Trace:
    """Total: every line that states (or, numbered, should state) an action becomes a step."""
    if any((m := FIELD.match(line)) and m.group(1).lower() == "action" for line in text.splitlines()):
        return _trace(_state_tracking_steps(text, templates, problem))
    return read_plan(text, templates, problem)


def json_plan_trace(plan: Any, templates: Templates, problem: StripsProblem) -> Trace:
    """The `json` style's `plan` (a list of actions in the templates' English) read like a numbered plan:
    every item is a step, unparsed when it states no action. Total on any JSON value."""
    if not isinstance(plan, list):
        return Trace(parse_errors=["'plan' is not a list of actions"])
    reader = PlanReader(templates, problem)
    said = [
        (
            item_text(item).strip(),
            None,
            reader.read_line(item) if isinstance(item, str) else StepReading("unread"),
        )
        for item in plan
    ]
    steps, ambiguous, unread = build_steps(said, problem)
    trace = _trace(steps)
    plans = plans_of(steps, [])
    status = "ambiguous" if ambiguous else "read" if trace.answer else "unreadable"
    reason = "the JSON object's 'plan' list" + (
        f"; step(s) {', '.join(str(k + 1) for k in ambiguous)} read ambiguously" if ambiguous else ""
    )
    return trace.model_copy(
        update={"reading": {"status": status, "reason": reason, "plans": plans, "unread_steps": unread}}
    )


def _trace(steps: list[Step]) -> Trace:
    plan = [s.parsed["action"] for s in steps if s.parsed and s.parsed.get("action")]
    return Trace(
        steps=steps,
        answer=plan or None,
        answer_text="\n".join(fmt_atom(tuple(a)) for a in plan) or None,
        parse_errors=[] if plan else ["no action could be read from the response"],
    )


def _choose(read: ReadAction, problem: StripsProblem) -> PlanAction | None:
    """Of the actions the words state (several when templates are shared), the first whose objects fit."""
    if read.action is None or not read.alternatives:
        return read.action
    return next((a for a in (read.action, *read.alternatives) if fits(problem, a)), read.action)


def _state_tracking_steps(text: str, templates: Templates, problem: StripsProblem) -> list[Step]:
    steps: list[Step] = []
    current: dict[str, Any] = {}
    lines: list[str] = []

    def close() -> None:
        if "action" in current:
            steps.append(
                Step(index=len(steps), text="\n".join(lines), parsed={"kind": "transition", **current})
            )

    for line in text.splitlines():
        if STOP.search(line):
            break
        match = FIELD.match(line)
        if not match:
            continue
        name, body = match.group(1).lower(), match.group(2)
        if name == "current state" or (name == "action" and "action" in current):
            close()
            current, lines = {}, []
        if name == "final state":
            continue
        lines.append(line.strip())
        if name == "action":
            read = templates.read_action(body)
            action = _choose(read, problem)
            current["action"] = list(action) if action else None
            current["exact"] = read.exact
        elif name in ("current state", "resulting state"):
            atoms, unread = templates.read_state(body)
            key = "current" if name == "current state" else "result"
            current[key] = sorted(list(a) for a in atoms)
            current.setdefault("unread", []).extend(unread)
    close()
    return steps


def _atoms(value: Any) -> State | None:
    return None if value is None else frozenset(tuple(a) for a in value)


def _plan_of(trace: Trace) -> list[PlanAction | None]:
    return [tuple(s.parsed["action"]) if s.parsed and s.parsed.get("action") else None for s in trace.steps]


def check_trace(
    problem: StripsProblem, trace: Trace, optimal: Optimum, unsaid: frozenset[str] = frozenset()
) -> Verdicts:
    """Steps judged by kind; the goal as a whole-trace check; the answer judged on its own.
    `unsaid`: predicates the templates never say; claimed states carry them over from the true ones."""
    if any(s.parsed and s.parsed.get("kind") == "transition" for s in trace.steps):
        steps = _check_transitions(problem, trace, unsaid)
    else:
        steps = _check_actions(problem, trace)
    report = validate_plan(problem, _plan_of(trace))
    goal = StepVerdict(index=len(trace.steps), status="valid")
    if report.unmet_goals:
        goal = StepVerdict(
            index=len(trace.steps),
            status="invalid",
            rule="strips.goal",
            message=f"goals unmet at the end: {', '.join(report.unmet_goals)}",
        )
    return Verdicts(steps=steps, trace_checks=[goal], answer=_judge_read_answer(problem, trace, optimal))


def _fails_before(problem: StripsProblem, trace: Trace, index: int) -> bool:
    """Whether the plan read fails at an action before step `index` (nothing after can change that)."""
    before = [s for s in trace.steps[:index] if s.parsed and s.parsed.get("action")]
    return final_state(problem, [tuple(s.parsed["action"]) for s in before]) is None


def _judge_read_answer(problem: StripsProblem, trace: Trace, optimal: Optimum) -> AnswerVerdict:
    """The answer judged on the plan read; when the text may state several plans (an ambiguous step,
    rival blocks) each is judged, and if their verdicts differ the answer is `unknown` (ambiguous-reading).
    A step naming an action we cannot read makes the answer `unknown`, unless the plan fails before it;
    one that puts a non-object in an object's place ("from the table") makes it incorrect there."""
    verdict = judge_answer(problem, trace.answer, optimal)
    reading = trace.reading or {}
    unread = reading.get("unread_steps") or []
    if unread and not _fails_before(problem, trace, unread[0]["index"]) and unread[0].get("invalid"):
        return AnswerVerdict(
            status="incorrect",
            detail="not-executable",
            extras={"plan_length": len([s for s in trace.steps if s.parsed]) + len(unread)},
            message=f"{unread[0]['text']!r} is not an executable action: {unread[0]['note']}",
        )
    if unread and verdict.status == "unparsed":  # no action could be read at all: nothing to judge
        return verdict.model_copy(
            update={
                "message": f"{verdict.message}; unread step(s): " + ", ".join(repr(u["text"]) for u in unread)
            }
        )
    if unread and not _fails_before(problem, trace, unread[0]["index"]):
        return AnswerVerdict(
            status="unknown",
            detail="unread-step",
            message=f"{len(unread)} step(s) name an action we cannot read ({unread[0]['text']!r}); the plan "
            f"without them is {verdict.status} ({verdict.message}), with them it may not be",
        )
    plans = reading.get("plans") or []
    if reading.get("status") != "ambiguous" or len(plans) < 2:
        return verdict
    if len(plans) > MAX_COMBINATIONS:
        verdicts = None
    else:
        verdicts = [judge_answer(problem, plan, optimal) for plan in plans]
    if verdicts is not None and all(v.status == verdict.status for v in verdicts):
        reason = reading.get("reason", "")
        note = f"the text reads {len(plans)} ways ({reason}); every reading is {verdict.status}"
        return verdict.model_copy(update={"message": f"{verdict.message}; {note}".lstrip("; ")})
    shown = [
        f"{' '.join(fmt_atom(tuple(a)) for a in plan)} -> {v.status}"
        for plan, v in zip(plans, verdicts or [], strict=False)
    ]
    return AnswerVerdict(
        status="unknown",
        detail="ambiguous-reading",
        message=f"{reading.get('reason', '')}; the readings: " + " | ".join(shown or ["too many to judge"]),
        extras={"readings": len(plans)},
    )


def _check_actions(problem: StripsProblem, trace: Trace) -> list[StepVerdict]:
    """Each step against the plan so far; its message says how its words were read."""
    out = _judge_actions(problem, trace)
    return [v.model_copy(update={"message": _with_reading(trace.steps[v.index], v.message)}) for v in out]


def _with_reading(step: Step, message: str) -> str:
    parsed = step.parsed or {}
    if "reading" not in parsed:
        return message
    said = f"read {step.text!r} as {parsed['reading']}"
    if parsed.get("readings"):
        said += " (ambiguous: " + str(parsed.get("note", "several readings")) + ")"
    return f"{said}; {message}" if message else said


def _judge_actions(problem: StripsProblem, trace: Trace) -> list[StepVerdict]:
    report = validate_plan(problem, _plan_of(trace))
    out = []
    for step in report.steps:
        if step.rule is None:
            note = ""
            if step.claimed_unmet:
                note = (
                    f"applicable in the true state; in the state the plan claims (earlier inapplicable "
                    f"steps applied) unmet: {', '.join(step.claimed_unmet)}"
                )
            out.append(StepVerdict(index=step.index, status="valid", message=note))
            continue
        message = step.message
        if step.rule == "strips.precondition" and step.claimed_unmet == ():
            message += (
                " (applicable in the state the plan claims, where earlier inapplicable steps took effect)"
            )
        status: StepStatus = "unparsed" if step.rule == "strips.parse" else "invalid"
        out.append(StepVerdict(index=step.index, status=status, rule=step.rule, message=message))
    return out


def _check_transitions(problem: StripsProblem, trace: Trace, unsaid: frozenset[str]) -> list[StepVerdict]:
    """Each claimed state against the true progression from the trace's own previous claim."""
    out = []
    previous: State = problem.init
    for step in trace.steps:
        parsed = step.parsed or {}
        problems: list[tuple[str, str]] = []
        current = _atoms(parsed.get("current"))
        if current is None:
            current = previous
        else:
            current |= _only(unsaid, previous)
            problems += _difference("current state", current, previous)
        action = parsed.get("action")
        expected: State | None = None
        if action is None:
            problems.append(("strips.parse", "the action could not be read"))
        else:
            ground_action = ground(problem, tuple(action))
            if isinstance(ground_action, tuple):
                problems.append(ground_action)
            else:
                missing = unmet(ground_action.pre, current)
                if missing:
                    problems.append(
                        (
                            "strips.precondition",
                            f"{ground_action.text} is not applicable in the "
                            f"claimed current state: unmet {', '.join(missing)}",
                        )
                    )
                expected = apply(ground_action, current)
        result = _atoms(parsed.get("result"))
        if result is not None and expected is not None:
            result |= _only(unsaid, expected)
            problems += _difference("resulting state", result, expected)
        if parsed.get("unread"):
            problems.append(("strips.parse", f"unread text in a state: {'; '.join(parsed['unread'])}"))
        previous = result if result is not None else (expected if expected is not None else current)
        if not problems:
            out.append(StepVerdict(index=step.index, status="valid"))
        else:
            rule = problems[0][0]
            out.append(
                StepVerdict(
                    index=step.index,
                    status="unparsed" if rule == "strips.parse" else "invalid",
                    rule=rule,
                    message="; ".join(m for _, m in problems),
                )
            )
    return out


def _only(predicates: frozenset[str], state: State) -> State:
    return frozenset(a for a in state if a[0] in predicates)


def _difference(what: str, claimed: State, expected: State) -> list[tuple[str, str]]:
    missing, extra = state_difference(claimed, expected)
    out = []
    if missing:
        out.append(("strips.state_missing", f"{what} leaves out {', '.join(missing)}"))
    if extra:
        out.append(("strips.state_extra", f"{what} claims {', '.join(extra)}, which do not hold"))
    return out


def judge_answer(problem: StripsProblem, answer: Any, optimal: Optimum) -> AnswerVerdict:
    """Executable, reaches the goal, and how its length compares with the optimum (searched for, when
    `optimal` says how, only once the plan is valid: an incorrect plan's `optimal_length` is then None)."""
    if not answer:
        return AnswerVerdict(status="unparsed", message="no plan could be read from the response")
    plan = [tuple(a) for a in answer]
    report = validate_plan(problem, plan)
    extras: dict[str, int | None] = {
        "plan_length": len(plan),
        "optimal_length": None if callable(optimal) else optimal,
    }
    failure = next((s for s in report.steps if s.rule is not None), None)
    if failure is not None:
        return AnswerVerdict(
            status="incorrect",
            detail="not-executable",
            extras=dict(extras),
            message=f"step {failure.index + 1}: {failure.message}",
        )
    if report.unmet_goals:
        return AnswerVerdict(
            status="incorrect",
            detail="goal-not-reached",
            extras=dict(extras),
            message=f"goals unmet at the end: {', '.join(report.unmet_goals)}",
        )
    if callable(optimal):
        optimal = optimal()
        extras["optimal_length"] = optimal
    detail = "valid" if optimal is None else "valid-optimal" if len(plan) <= optimal else "valid-suboptimal"
    return AnswerVerdict(
        status="correct",
        detail=detail,
        extras=dict(extras),
        message="" if optimal is None else f"{len(plan)} actions; optimal is {optimal}",
    )
