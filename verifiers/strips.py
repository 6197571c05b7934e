"""A STRIPS plan validator with per-step diagnostics (typing, negative preconditions, equality).

The problem is plain data (`StripsProblem`, built from PDDL by `modulo.verifiers.pddl_load`); states
are frozensets of ground atoms such as `("on", "a", "b")`. Actions are grounded one at a time as the
plan names them, so validating needs no full grounding; `ground_all` exists for search.

Rules (stable ids) a plan step can break, checked in this order:

| rule id                 | the step ...                                                       |
|-------------------------|--------------------------------------------------------------------|
| `strips.parse`          | could not be read (None); status `unparsed`                        |
| `strips.unknown_action` | names an action the domain does not have                           |
| `strips.arity`          | gives the wrong number of arguments                                |
| `strips.unknown_object` | names an object the problem does not have, or one of the wrong type|
| `strips.precondition`   | is not applicable: the unmet preconditions are named               |
| `strips.goal`           | (whole plan) the final state misses goals: they are named          |

Each step is judged twice: in the *true* state (every applicable earlier step applied, inapplicable
ones skipped, as an executor that refuses them would) and in the *claimed* state (every earlier
well-formed step's effects applied, as the plan asserts). The verdict uses the true state; the
claimed-state judgement is reported beside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

Atom = tuple[str, ...]
"""A ground atom `(predicate, arg, ...)`; in action schemas, arguments starting with `?` are variables."""
State = frozenset[Atom]
PlanAction = tuple[str, ...]
"""A plan step as written: `(action name, arg, ...)`."""


@dataclass(frozen=True)
class Condition:
    """A literal of a precondition or goal; predicate `=` is equality."""

    atom: Atom
    positive: bool = True


@dataclass(frozen=True)
class ActionSchema:
    name: str
    params: tuple[str, ...]
    """Parameter variables, with their leading `?`."""
    types: tuple[str, ...]
    """The type of each parameter (`object` when untyped)."""
    pre: tuple[Condition, ...]
    add: tuple[Atom, ...]
    delete: tuple[Atom, ...]


@dataclass(frozen=True, eq=False)
class StripsProblem:
    """A grounded-on-demand STRIPS problem: domain schemas plus the problem's objects, init and goal.

    Compared and hashed by identity: `load_problem` returns one object per distinct PDDL text."""

    domain_name: str
    name: str
    actions: Mapping[str, ActionSchema]
    objects: Mapping[str, str]
    """Object (and domain constant) name -> its declared type."""
    ancestors: Mapping[str, frozenset[str]]
    """Type -> itself and every supertype (always including `object`)."""
    init: State
    goal: tuple[Condition, ...]
    predicates: Mapping[str, int] = field(default_factory=dict)
    """Predicate name -> arity, in declaration order."""

    def is_a(self, obj: str, type_name: str) -> bool:
        """Whether object `obj` belongs to `type_name` (through the type hierarchy)."""
        own = self.objects.get(obj)
        return own is not None and type_name in self.ancestors.get(own, frozenset({own, "object"}))


@dataclass(frozen=True)
class GroundAction:
    name: str
    args: tuple[str, ...]
    pre: tuple[Condition, ...]
    add: frozenset[Atom]
    delete: frozenset[Atom]

    @property
    def text(self) -> str:
        return fmt_atom((self.name, *self.args))


class StepReport(NamedTuple):
    """The judgement of one plan step (a named tuple: validators make one per step, and cheaply)."""

    index: int
    action: str
    """The step as written, e.g. `(unstack b c)` (empty if unreadable)."""
    rule: str | None
    """None when applicable in the true state, else the first rule broken."""
    message: str = ""
    unmet: tuple[str, ...] = ()
    """Unmet preconditions in the true state."""
    claimed_unmet: tuple[str, ...] | None = None
    """Unmet preconditions in the claimed state (None if the step is not well formed)."""


@dataclass(frozen=True)
class PlanReport:
    steps: list[StepReport]
    final_state: State
    """True state after the executable steps."""
    unmet_goals: tuple[str, ...]
    """Goals unmet in the true final state."""

    @property
    def executable(self) -> bool:
        return all(step.rule is None for step in self.steps)

    @property
    def valid(self) -> bool:
        """Executable and reaches the goal: the classical notion of a valid plan."""
        return self.executable and not self.unmet_goals


def fmt_atom(atom: Atom) -> str:
    return "(" + " ".join(atom) + ")"


def fmt_condition(cond: Condition) -> str:
    return fmt_atom(cond.atom) if cond.positive else f"(not {fmt_atom(cond.atom)})"


def holds(cond: Condition, state: AbstractSet[Atom]) -> bool:
    if cond.atom[0] == "=":
        return (cond.atom[1] == cond.atom[2]) == cond.positive
    return (cond.atom in state) == cond.positive


def unmet(conditions: Sequence[Condition], state: AbstractSet[Atom]) -> tuple[str, ...]:
    """The conditions that do not hold in `state`, formatted."""
    return tuple(fmt_condition(c) for c in conditions if not holds(c, state))


def apply(action: GroundAction, state: State) -> State:
    """PDDL semantics: delete effects first, then add effects."""
    return (state - action.delete) | action.add


def _bind(atom: Atom, binding: Mapping[str, str]) -> Atom:
    return tuple(binding.get(term, term) for term in atom)


def instantiate(schema: ActionSchema, args: Sequence[str]) -> GroundAction:
    binding = dict(zip(schema.params, args, strict=True))
    return GroundAction(
        name=schema.name,
        args=tuple(args),
        pre=tuple(Condition(_bind(c.atom, binding), c.positive) for c in schema.pre),
        add=frozenset(_bind(a, binding) for a in schema.add),
        delete=frozenset(_bind(a, binding) for a in schema.delete),
    )


def ground(problem: StripsProblem, step: PlanAction) -> GroundAction | tuple[str, str]:
    """The ground action a plan step names, or `(rule, message)` if it is not well formed."""
    name, *args = step
    schema = problem.actions.get(name)
    if schema is None:
        known = ", ".join(problem.actions)
        return "strips.unknown_action", f"{fmt_atom(step)}: no action {name!r} (the domain has {known})"
    if len(args) != len(schema.params):
        return "strips.arity", (
            f"{fmt_atom(step)}: {name} takes {len(schema.params)} argument(s) "
            f"{' '.join(schema.params)}, got {len(args)}"
        )
    for arg, param, type_name in zip(args, schema.params, schema.types, strict=True):
        if arg not in problem.objects:
            return "strips.unknown_object", f"{fmt_atom(step)}: no object {arg!r} in the problem"
        if not problem.is_a(arg, type_name):
            return "strips.unknown_object", (
                f"{fmt_atom(step)}: {arg} is a {problem.objects[arg]}, but {param} must be a {type_name}"
            )
    return instantiate(schema, args)


@dataclass(frozen=True)
class _Compiled:
    """A ground action with its precondition split for a fast applicability test."""

    action: GroundAction
    text: str
    add: frozenset[Atom]
    delete: frozenset[Atom]
    positive: frozenset[Atom]
    negative: frozenset[Atom]
    equality_holds: bool
    """Whether every (ground, hence state-independent) equality literal holds."""


_Grounded = _Compiled | tuple[str, str]
MAX_CACHED_STEPS = 1 << 16
"""Steps kept per problem in `_steps` (a bound against plans made of endless distinct garbage)."""


@lru_cache(maxsize=1024)
def _steps(problem: StripsProblem) -> dict[PlanAction, _Grounded]:
    """The problem's cache of grounded steps (plans repeat steps and validators re-check plans)."""
    return {}


def _grounded(problem: StripsProblem, step: PlanAction) -> _Grounded:
    """`ground` of a step with its precondition split, cached per problem; `(rule, message)` if ill formed."""
    cache = _steps(problem)
    found = cache.get(step)
    if found is None:
        found = _compile(problem, step)
        if len(cache) < MAX_CACHED_STEPS:
            cache[step] = found
    return found


def _compile(problem: StripsProblem, step: PlanAction) -> _Grounded:
    action = ground(problem, step)
    if isinstance(action, tuple):
        return action
    literals = [c for c in action.pre if c.atom[0] != "="]
    return _Compiled(
        action,
        action.text,
        action.add,
        action.delete,
        frozenset(c.atom for c in literals if c.positive),
        frozenset(c.atom for c in literals if not c.positive),
        all(holds(c, frozenset()) for c in action.pre if c.atom[0] == "="),
    )


def _unmet(compiled: _Compiled, state: AbstractSet[Atom]) -> tuple[str, ...]:
    """`unmet(compiled.action.pre, state)`, with a set test first so an applicable step formats nothing."""
    if compiled.equality_holds and compiled.positive <= state and compiled.negative.isdisjoint(state):
        return ()
    return unmet(compiled.action.pre, state)


def _apply_in_place(compiled: _Compiled, state: set[Atom]) -> None:
    """`apply` on a mutable state: delete effects first, then add effects."""
    state -= compiled.delete
    state |= compiled.add


def validate_plan(problem: StripsProblem, plan: Sequence[PlanAction | None]) -> PlanReport:
    """Judge every step in the true and in the claimed state, then the goals in the true final state."""
    # Both states are updated in place; they are one set until the first inapplicable step. The hot
    # path (a cached, applicable step) is inlined: it is most of what a validator does.
    true_state = claimed = set(problem.init)
    cache = _steps(problem)
    reports: list[StepReport] = []
    append = reports.append
    for index, step in enumerate(plan):
        if step is None:
            append(StepReport(index, "", "strips.parse", "the step could not be read as an action"))
            continue
        compiled = cache.get(step) if type(step) is tuple else None
        if compiled is None:
            compiled = _grounded(problem, tuple(step))
        if isinstance(compiled, tuple):
            append(StepReport(index, fmt_atom(step), *compiled))
            continue
        if (
            compiled.positive <= true_state
            and compiled.equality_holds
            and compiled.negative.isdisjoint(true_state)
        ):
            missing: tuple[str, ...] = ()
        else:
            missing = unmet(compiled.action.pre, true_state)
        if claimed is true_state:
            claimed_missing = missing
            if missing:  # the states part: the claimed one applies the step the true one refuses
                claimed = set(true_state)
                _apply_in_place(compiled, claimed)
            else:
                true_state -= compiled.delete
                true_state |= compiled.add
        else:
            claimed_missing = _unmet(compiled, claimed)
            _apply_in_place(compiled, claimed)
            if not missing:
                _apply_in_place(compiled, true_state)
        if missing:
            message = f"{compiled.text} is not applicable: unmet {', '.join(missing)}"
            append(StepReport(index, compiled.text, "strips.precondition", message, missing, claimed_missing))
        else:
            append(StepReport(index, compiled.text, None, "", (), claimed_missing))
    final = frozenset(true_state)
    return PlanReport(reports, final, unmet(problem.goal, final))


def final_state(problem: StripsProblem, plan: Sequence[PlanAction | None]) -> State | None:
    """The state an executable plan ends in; None if a step is unreadable, ill-formed or inapplicable.
    The verdict of `validate_plan` without its per-step reports (it stops at the first bad step):
    `validate_plan(p, plan).executable` is `final_state(p, plan) is not None`."""
    state = set(problem.init)
    cache = _steps(problem)
    for step in plan:
        if step is None:
            return None
        compiled = cache.get(step) if type(step) is tuple else None
        if compiled is None:
            compiled = _grounded(problem, tuple(step))
        if isinstance(compiled, tuple):
            return None
        if not (
            compiled.positive <= state and compiled.equality_holds and compiled.negative.isdisjoint(state)
        ):
            return None
        state -= compiled.delete
        state |= compiled.add
    return frozenset(state)


@lru_cache(maxsize=256)
def static_predicates(problem: StripsProblem) -> frozenset[str]:
    """Predicates no action adds or deletes (types written as predicates, maps): fixed by the init."""
    changed = {atom[0] for schema in problem.actions.values() for atom in (*schema.add, *schema.delete)}
    return frozenset(problem.predicates) - changed


def fits(problem: StripsProblem, step: PlanAction) -> bool:
    """Whether a step is well formed and its static and equality preconditions hold: whether it can
    ever apply. Tells apart actions that share an English template (Logistics' load-truck and
    load-airplane are both "load {} into {} at {}")."""
    compiled = _grounded(problem, tuple(step))
    if isinstance(compiled, tuple):
        return False
    static = static_predicates(problem)
    return all(holds(c, problem.init) for c in compiled.action.pre if c.atom[0] in static or c.atom[0] == "=")


def execute(problem: StripsProblem, plan: Sequence[PlanAction]) -> list[State] | None:
    """States init, s1, ..., sn along an executable plan; None if a step is ill-formed or inapplicable."""
    states = [problem.init]
    for step in plan:
        action = ground(problem, step)
        if isinstance(action, tuple) or unmet(action.pre, states[-1]):
            return None
        states.append(apply(action, states[-1]))
    return states


def ground_all(problem: StripsProblem) -> list[GroundAction]:
    """Every well-typed ground action whose static and equality preconditions hold: every action that
    can ever apply (for search). Arguments are bound one at a time and each such condition is checked
    as soon as its variables are bound, so Logistics' 4-argument drive-truck stays cheap."""
    static = static_predicates(problem)
    out = []
    for schema in problem.actions.values():
        due: list[list[Condition]] = [[] for _ in schema.params]
        unbound: list[Condition] = []
        for cond in (c for c in schema.pre if c.atom[0] in static or c.atom[0] == "="):
            bound = [schema.params.index(t) for t in cond.atom[1:] if t in schema.params]
            (due[max(bound)] if bound else unbound).append(cond)
        if all(holds(c, problem.init) for c in unbound):
            out += [instantiate(schema, args) for args in _bindings(problem, schema, due, ())]
    return out


def _bindings(
    problem: StripsProblem, schema: ActionSchema, due: list[list[Condition]], prefix: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    """Argument tuples extending `prefix`; `due[k]` holds the conditions decided once argument k is bound."""
    k = len(prefix)
    if k == len(schema.params):
        yield prefix
        return
    for obj in problem.objects:
        if problem.is_a(obj, schema.types[k]):
            binding = dict(zip(schema.params, (*prefix, obj), strict=False))
            if all(holds(Condition(_bind(c.atom, binding), c.positive), problem.init) for c in due[k]):
                yield from _bindings(problem, schema, due, (*prefix, obj))


def applicable(actions: Sequence[GroundAction], state: State) -> Iterator[GroundAction]:
    return (a for a in actions if all(holds(c, state) for c in a.pre))


def state_difference(claimed: State, expected: State) -> tuple[list[str], list[str]]:
    """(missing, extra): facts of `expected` the claim leaves out, and facts it adds that do not hold."""
    return sorted(map(fmt_atom, expected - claimed)), sorted(map(fmt_atom, claimed - expected))
