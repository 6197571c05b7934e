"""The cached, set-tested `validate_plan` gives exactly the reports of the plain reference below
(the validator as it was before the fast path): every verdict, message and state, on random plans."""

from __future__ import annotations

import random
from collections.abc import Sequence
from importlib import resources

from modulo.domains.planning.generator import blocksworld_problem
from modulo.verifiers.pddl_load import load_problem
from modulo.verifiers.strips import (
    PlanAction,
    PlanReport,
    StepReport,
    StripsProblem,
    apply,
    final_state,
    fmt_atom,
    ground,
    unmet,
    validate_plan,
)

BLOCKS = (resources.files("modulo.domains.planning") / "blocksworld.pddl").read_text(encoding="utf-8")
TYPED = """(define (domain move) (:requirements :strips :typing :negative-preconditions :equality)
  (:types robot room - object)
  (:predicates (at ?r - robot ?x - room) (locked ?x - room) (open ?x - room))
  (:action go :parameters (?r - robot ?from ?to - room)
    :precondition (and (at ?r ?from) (not (locked ?to)) (not (= ?from ?to)))
    :effect (and (at ?r ?to) (not (at ?r ?from))))
  (:action stay :parameters (?r - robot ?x ?y - room)
    :precondition (and (at ?r ?x) (= ?x ?y))
    :effect (and (open ?x)))
  (:action lock :parameters (?x - room) :precondition (and (not (locked ?x)) (open ?x))
    :effect (and (locked ?x) (not (open ?x)))))"""
TYPED_PROBLEM = """(define (problem m) (:domain move) (:objects r1 r2 - robot k h g - room)
  (:init (at r1 k) (at r2 h) (open g)) (:goal (and (at r1 h) (locked g))))"""


def reference(problem: StripsProblem, plan: Sequence[PlanAction | None]) -> PlanReport:
    """`validate_plan` before the fast path, verbatim."""
    true_state = claimed = problem.init
    reports = []
    for index, step in enumerate(plan):
        if step is None:
            reports.append(StepReport(index, "", "strips.parse", "the step could not be read as an action"))
            continue
        action = ground(problem, step)
        if isinstance(action, tuple):
            reports.append(StepReport(index, fmt_atom(step), *action))
            continue
        missing = unmet(action.pre, true_state)
        claimed_missing = unmet(action.pre, claimed)
        claimed = apply(action, claimed)
        if missing:
            message = f"{action.text} is not applicable: unmet {', '.join(missing)}"
            reports.append(
                StepReport(index, action.text, "strips.precondition", message, missing, claimed_missing)
            )
        else:
            true_state = apply(action, true_state)
            reports.append(StepReport(index, action.text, None, "", (), claimed_missing))
    return PlanReport(reports, true_state, unmet(problem.goal, true_state))


def random_step(problem: StripsProblem, rng: random.Random) -> PlanAction | None:
    """A step that is mostly well formed, sometimes unreadable, unknown, of the wrong arity or type."""
    names = [*problem.actions, "fly"]
    objects = [*problem.objects, "zz"] if rng.random() < 0.05 else list(problem.objects)
    if rng.random() < 0.02:
        return None
    name = rng.choice(names) if rng.random() < 0.05 else rng.choice(list(problem.actions))
    arity = len(problem.actions[name].params) if name in problem.actions else 1
    if rng.random() < 0.03:
        arity += rng.choice((-1, 1))
    return (name, *(rng.choice(objects) for _ in range(max(arity, 0))))


def mutated(plan: list[PlanAction], rng: random.Random) -> list[PlanAction | None]:
    """A valid plan with a few swaps, drops, duplicates or random steps."""
    out: list[PlanAction | None] = list(plan)
    for _ in range(rng.randrange(4)):
        i = rng.randrange(len(out))
        kind = rng.randrange(3)
        if kind == 0 and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif kind == 1:
            del out[i]
        else:
            out.insert(i, out[i])
        if not out:
            break
    return out


def test_fast_path_matches_reference_on_random_blocksworld_plans() -> None:
    rng = random.Random(7)
    checked = invalid = 0
    for k in range(60):
        text, plan = blocksworld_problem(rng.randrange(3, 9), rng, f"fast{k}")
        problem = load_problem(BLOCKS, text)
        plans: list[list[PlanAction | None]] = [list(plan), mutated(plan, rng)]
        plans.append([random_step(problem, rng) for _ in range(rng.randrange(1, 30))])
        for candidate in plans:
            ours, theirs = validate_plan(problem, candidate), reference(problem, candidate)
            assert ours == theirs  # steps (verdicts, messages, unmet lists), final state, unmet goals
            end = final_state(problem, candidate)
            assert (end is not None) == ours.executable
            assert end is None or end == ours.final_state
            checked += 1
            invalid += not ours.valid
    assert checked == 180 and 60 <= invalid < 180  # both verdicts occur


def test_fast_path_matches_reference_with_negation_equality_and_typing() -> None:
    problem = load_problem(TYPED, TYPED_PROBLEM)
    rng = random.Random(3)
    rules: set[str | None] = set()
    for _ in range(400):
        plan = [random_step(problem, rng) for _ in range(rng.randrange(1, 12))]
        ours, theirs = validate_plan(problem, plan), reference(problem, plan)
        assert ours == theirs
        assert (final_state(problem, plan) is not None) == ours.executable
        rules |= {s.rule for s in ours.steps}
    assert rules == {
        None,
        "strips.parse",
        "strips.unknown_action",
        "strips.arity",
        "strips.unknown_object",
        "strips.precondition",
    }


def test_claimed_state_diverges_after_a_skipped_step() -> None:
    """After an inapplicable step the claimed state has its effects and the true state does not."""
    problem = load_problem(TYPED, TYPED_PROBLEM)
    plan: list[PlanAction | None] = [("go", "r1", "h", "g"), ("go", "r1", "g", "k"), ("stay", "r1", "k", "k")]
    report = validate_plan(problem, plan)
    assert report == reference(problem, plan)
    assert [s.rule for s in report.steps] == ["strips.precondition", "strips.precondition", None]
    assert report.steps[0].unmet == ("(at r1 h)",)
    assert report.steps[1].unmet == ("(at r1 g)",) and report.steps[1].claimed_unmet == ()
    assert ("open", "k") in report.final_state and ("at", "r1", "k") in report.final_state


def test_steps_given_as_lists_are_judged_like_tuples() -> None:
    """Readers may hand over lists; the step cache is keyed by tuples and must not mix the two up."""
    problem = load_problem(TYPED, TYPED_PROBLEM)
    rng = random.Random(11)
    for _ in range(100):
        plan = [random_step(problem, rng) for _ in range(rng.randrange(1, 10))]
        as_lists = [None if step is None else list(step) for step in plan]
        assert validate_plan(problem, as_lists) == validate_plan(problem, plan) == reference(problem, plan)  # type: ignore[arg-type]
        assert final_state(problem, as_lists) == final_state(problem, plan)  # type: ignore[arg-type]
