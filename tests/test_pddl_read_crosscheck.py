"""The PDDL reader against unified-planning's `PDDLReader` (a separate parser, built on pyparsing).

For every domain/problem pair in the shared data (slow; a sample by default) and typed fixtures written
here: the same objects with the same types, initial atoms and goal literals, and along a random walk from
the initial state (a plan prefix, chosen by unified-planning's simulator), in every state the same set of
applicable ground actions, each leading to the same successor state.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from shared_data import SHARED_DATA

from modulo.verifiers.pddl_load import load_problem
from modulo.verifiers.strips import Atom, Condition, State, StripsProblem, applicable, apply, ground_all

pytest.importorskip("unified_planning", reason="unified-planning (dev extra) is needed for the cross-check")

from unified_planning.engines.compilers.grounder import GrounderHelper  # noqa: E402
from unified_planning.io import PDDLReader  # noqa: E402
from unified_planning.shortcuts import SequentialSimulator, get_environment  # noqa: E402

get_environment().credits_stream = None


def _purge_items_list(self: Any, items_list: Any, params: Any, conds: Any) -> list[list[Any]]:
    """unified-planning 1.3's `GrounderHelper._purge_items_list` with its bug fixed: it removes an object
    once per static condition the object fails, so Logistics (`(TRUCK ?t)` and `(at ?t ?l)`-style
    conditions on one parameter) raises `list.remove(x): x not in list`. Same pruning, each object once."""
    out = []
    for param, objects in zip(params, items_list, strict=True):
        keep = list(objects)
        for cond in conds:
            where = self._problem.environment.expression_manager.ParameterExp(param)
            positions = [i for i, arg in enumerate(cond.args) if arg == where][:1]
            if positions:
                valid = self._bool_static_fluent_valid_parameters(cond, positions[0])
                keep = [obj for obj in keep if obj in valid]
        out.append(keep)
    return out


@pytest.fixture(autouse=True)
def _fixed_grounder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GrounderHelper, "_purge_items_list", _purge_items_list)


WALK = 4
"""Steps of the random walk along which applicable actions and successors are compared."""

TYPED = """(define (domain Move) (:requirements :strips :typing :negative-preconditions :equality)
  (:types robot room vehicle - object car truck - vehicle)  ; a comment
  (:constants Home - room)
  (:predicates (at ?r - robot ?x - room) (locked ?x - room) (parked ?v - vehicle ?x - room) (free)
               (near ?x ?y - room))
  (:action Go :parameters (?r - robot ?from ?to - room)
    :precondition (and (at ?r ?from) (not (locked ?to)) (not (= ?from ?to)) (near ?from ?to))
    :effect (and (at ?r ?to) (not (at ?r ?from))))
  (:action Park :parameters (?v - car ?x - room)
    :precondition (and (= ?x Home) (free))
    :effect (and (parked ?v ?x) (not (free))))
  (:action Lock :parameters (?x - room ?r - robot)
    :precondition (and (not (locked ?x)) (not (at ?r ?x)))
    :effect (locked ?x)))"""
TYPED_PROBLEMS = [
    """(define (problem M) (:domain Move)
  (:objects R1 R2 - robot K H - room c1 - car t1 - truck)
  (:init (at r1 k) (AT R2 home) (free) (locked h) (near k home) (near home k) (near k h) (near h k))
  (:goal (and (at r1 home) (not (locked k)) (parked c1 home))))""",
    """(define (problem n) (:domain move) (:objects r1 - robot k - room)
  (:init (near k home) (near home k) (at r1 home)) (:goal (at r1 k)))""",
]


def shared_pairs() -> list[tuple[str, Path, Path]]:
    """(label, domain file, problem file) for every PDDL problem in the shared data: each problem is
    paired with the domain file of the nearest folder above it that holds one."""
    files = sorted(SHARED_DATA.rglob("*.pddl"))
    domains = {f.parent: f for f in files if "(domain" in f.read_text()[:300].lower()}
    pairs = []
    for f in files:
        if f in domains.values():
            continue
        folder = next((p for p in f.parents if p in domains), None)
        if folder is not None:
            pairs.append((str(f.relative_to(SHARED_DATA)), domains[folder], f))
    return pairs


def sample(pairs: list[tuple[str, Path, Path]], per_folder: int) -> list[tuple[str, Path, Path]]:
    """The first problems (by name) of each folder."""
    seen: dict[Path, int] = {}
    out = []
    for label, domain, problem in pairs:
        seen[problem.parent] = seen.get(problem.parent, 0) + 1
        if seen[problem.parent] <= per_folder:
            out.append((label, domain, problem))
    return out


def _name(x: Any) -> str:
    return str(x.name).lower()


def _fluent_atom(node: Any) -> Atom:
    return (_name(node.fluent()), *(_name(a.object()) for a in node.args))


def _up_literals(node: Any) -> Iterator[Condition]:
    """A unified-planning goal as our literals (conjunctions flattened)."""
    if node.is_and():
        for arg in node.args:
            yield from _up_literals(arg)
        return
    positive = not node.is_not()
    inner = node if positive else node.arg(0)
    if inner.is_equals():
        yield Condition(("=", *(_name(a.object()) for a in inner.args)), positive)
    else:
        assert inner.is_fluent_exp(), f"not a literal: {inner}"
        yield Condition(_fluent_atom(inner), positive)


class Theirs:
    """unified-planning's reading of a pair, and its simulator."""

    def __init__(self, domain: str, problem: str) -> None:
        self.problem = PDDLReader().parse_problem_string(domain, problem)
        self.simulator = SequentialSimulator(problem=self.problem)
        self.fluents = list(self.problem.initial_values)  # every ground fluent (defaults included)

    def true_atoms(self, state: Any) -> State:
        return frozenset(_fluent_atom(f) for f in self.fluents if state.get_value(f).is_true())

    def applicable(self, state: Any) -> dict[tuple[str, ...], tuple[Any, Any]]:
        return {
            (_name(a), *(_name(p.object()) for p in params)): (a, params)
            for a, params in self.simulator.get_applicable_actions(state)
        }


def cross_check(domain: str, problem_text: str, seed: int) -> int:
    """Assert that both readings agree (see the module docstring); the number of successors compared."""
    ours: StripsProblem = load_problem(domain, problem_text)
    theirs = Theirs(domain, problem_text)
    assert ours.objects == {_name(o): _name(o.type) for o in theirs.problem.all_objects}
    explicit = theirs.problem.explicit_initial_values
    assert ours.init == frozenset(_fluent_atom(f) for f, v in explicit.items() if v.is_true())
    up_goal = [c for g in theirs.problem.goals for c in _up_literals(g)]
    assert sorted(ours.goal, key=repr) == sorted(up_goal, key=repr)

    rng = random.Random(seed)
    grounded = ground_all(ours)
    state, up_state = ours.init, theirs.simulator.get_initial_state()
    assert theirs.true_atoms(up_state) == state
    compared = 0
    for _ in range(WALK):
        mine = {(g.name, *g.args): g for g in applicable(grounded, state)}
        other = theirs.applicable(up_state)
        assert sorted(mine) == sorted(other), f"applicable actions differ in {sorted(state)}"
        for key, (action, params) in other.items():
            successor = theirs.simulator.apply(up_state, action, params)
            assert apply(mine[key], state) == theirs.true_atoms(successor), f"{key} leads elsewhere"
            compared += 1
        if not other:
            break
        key = rng.choice(sorted(other))
        state, up_state = apply(mine[key], state), theirs.simulator.apply(up_state, *other[key])
    return compared


SHARED = shared_pairs() if SHARED_DATA.is_dir() else []
needs_data = pytest.mark.skipif(not SHARED, reason=f"no PDDL files found under {SHARED_DATA}")


@pytest.mark.parametrize("problem", TYPED_PROBLEMS)
def test_typed_fixtures_agree(problem: str) -> None:
    assert cross_check(TYPED, problem, seed=0) > 0


def test_the_packaged_blocksworld_domain_agrees() -> None:
    domain = (resources.files("modulo.domains.planning") / "blocksworld.pddl").read_text(encoding="utf-8")
    problem = """(define (problem p) (:domain blocksworld-4ops) (:objects a b c)
      (:init (handempty) (ontable a) (on b c) (ontable c) (clear a) (clear b)) (:goal (and (on c b))))"""
    assert cross_check(domain, problem, seed=0) > 0


@needs_data
def test_every_shared_folder_is_found() -> None:
    folders = {problem.parent.relative_to(SHARED_DATA).as_posix() for _, _, problem in SHARED}
    assert {"planbench/llm_planning_analysis/instances/logistics/generated_basic"} <= folders
    assert len(folders) >= 5 and len(SHARED) >= 1000


@needs_data
@pytest.mark.parametrize("label,domain,problem", [pytest.param(*p, id=p[0]) for p in sample(SHARED, 2)])
def test_a_sample_of_the_shared_data_agrees(label: str, domain: Path, problem: Path) -> None:
    assert cross_check(domain.read_text(), problem.read_text(), seed=len(label)) > 0


@pytest.mark.slow
@needs_data
def test_all_of_the_shared_data_agrees() -> None:
    compared = 0
    for label, domain, problem in SHARED:
        try:
            compared += cross_check(domain.read_text(), problem.read_text(), seed=len(label))
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from exc
    print(f"{len(SHARED)} problems, {compared} successors compared")
