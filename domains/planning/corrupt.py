"""Step corruptions for planning traces: one action replaced by an action whose precondition fails.

Operator `inapplicable_action`: the step's action becomes a ground action (one that can ever apply, from
`ground_all`) with a precondition that does not hold in the state the plan reaches before the step (the
true state: earlier inapplicable steps change nothing, as the STRIPS validator has it; for a state-tracking
step, also the current state the step claims). The new action is written with the domain's templates, in
the step's own frame: a plan line keeps its numbering, a state-tracking step keeps its lines and changes
only its `Action:` line. Kept only if the checker flags the step `strips.precondition`
(`modulo.domains.corrupt_proof`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from modulo.domains.corrupt_proof import proved_rule
from modulo.model import Instance, Trace
from modulo.protocols import CorruptedStep, Domain
from modulo.verifiers.strips import GroundAction, State, StripsProblem, apply, ground, ground_all, unmet

ATTEMPTS = 8
"""Inapplicable actions proved at most per call."""
RULE = "strips.precondition"
NUMBERING = re.compile(r"^\s*(?:\d+\s*[.):]|[-*•])?\s*")
ACTION_LINE = re.compile(r"^(\s*(?:\d+[.)]\s*)?action\s*:\s*)(.*)$", re.I | re.M)


def corrupt_step(
    domain: Domain, instance: Instance, trace: Trace, index: int, seed: int
) -> CorruptedStep | None:
    """A proved corruption of step `index` of a plan or state-tracking trace, or None."""
    from .domain import problem_of, templates_of  # the domain module imports this one

    if not 0 <= index < len(trace.steps):
        return None
    step = trace.steps[index]
    parsed = step.parsed if isinstance(step.parsed, dict) else {}
    if not parsed.get("action"):
        return None
    problem = problem_of(instance)
    templates = templates_of(instance, problem)
    state = _state_before(problem, trace, index)
    claimed = _atoms(parsed.get("current")) if parsed.get("kind") == "transition" else None
    bad = [
        a for a in ground_all(problem) if unmet(a.pre, state) and (claimed is None or unmet(a.pre, claimed))
    ]
    random.Random(f"planning-corrupt:{seed}:{index}").shuffle(bad)
    for action in bad[:ATTEMPTS]:
        text = _rewrite(step.text, templates.action((action.name, *action.args)))
        if text is None:
            return None
        found = proved_rule(domain, instance, trace, index, text, RULE.__eq__)
        if found is not None:
            return CorruptedStep(index=index, text=text, rule=found, operator="inapplicable_action")
    return None


def _state_before(problem: StripsProblem, trace: Trace, index: int) -> State:
    """The true state before step `index`: the applicable actions of the steps before it, applied."""
    state: State = problem.init
    for step in trace.steps[:index]:
        action = step.parsed.get("action") if isinstance(step.parsed, dict) else None
        grounded = ground(problem, tuple(action)) if action else None
        if isinstance(grounded, GroundAction) and not unmet(grounded.pre, state):
            state = apply(grounded, state)
    return state


def _atoms(value: Any) -> State | None:
    return None if value is None else frozenset(tuple(a) for a in value)


def _rewrite(text: str, action: str) -> str | None:
    """`text` stating `action` instead: the `Action:` line of a state-tracking step, else the whole line
    after its numbering; None if a multi-line step has no `Action:` line."""
    if "\n" in text.strip():
        match = ACTION_LINE.search(text)
        if match is None:
            return None
        return text[: match.start(2)] + action + text[match.end(2) :]
    prefix = NUMBERING.match(text)
    return (prefix.group() if prefix else "") + action
