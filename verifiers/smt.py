"""Z3 entailment checking of claimed statements against premises and a trace's earlier steps.

Formulas are built with the Z3 API from the small structured language below, never from text a
model wrote. Universal quantifiers range over a finite domain: the named individuals plus
`generic` fresh individuals. For function-free universal premises this grounding is exact
(Herbrand): a universal claim ∀x φ holds iff φ holds of a fresh individual nothing is known about.

One `SmtChecker` serves one problem: the premises are encoded once, each behind an assumption
literal, and every claim is at most two incremental `check` calls under assumption literals (entailed?
contradicted?). Encodings are cached by content, so a claim restated or re-judged is grounded once.
Unsat cores, when asked for, say which premises and earlier steps a verdict rests on.
z3 is imported lazily so that importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Const:
    """A named individual."""

    name: str


@dataclass(frozen=True)
class Var:
    """A variable bound by an enclosing `ForAll`."""

    name: str


Term = Const | Var


@dataclass(frozen=True)
class Num:
    """An integer constant."""

    value: int


@dataclass(frozen=True)
class Fn:
    """An integer-valued function of individuals, e.g. `pos(owl)`."""

    name: str
    args: tuple[Term, ...]


IntTerm = Num | Fn


@dataclass(frozen=True)
class Atom:
    """A predicate applied to individuals: `red(bob)`, `visit(bear, cat)`."""

    pred: str
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Not:
    body: Formula


@dataclass(frozen=True)
class And:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Implies:
    premise: Formula
    conclusion: Formula


@dataclass(frozen=True)
class ForAll:
    """`body` holds for every individual of the finite domain bound to `var`."""

    var: Var
    body: Formula


CmpOp = Literal["==", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class Cmp:
    """An integer comparison, e.g. `pos(owl) < pos(robin)`."""

    op: CmpOp
    left: IntTerm
    right: IntTerm


Formula = Atom | Not | And | Or | Implies | ForAll | Cmp

Status = Literal["valid", "unsupported", "invalid", "unknown"]


@dataclass(frozen=True)
class Judgement:
    """How a claim stands to the context: `valid` (entailed), `unsupported` (consistent, not entailed),
    `invalid` (contradicts it) or `unknown` (the solver gave up: never counted as valid).

    `premises` and `steps` are the indices of the premises and earlier steps the verdict rests on
    (from an unsat core; empty for `unsupported` and `unknown`).
    """

    status: Status
    premises: tuple[int, ...] = ()
    steps: tuple[int, ...] = ()


@dataclass(frozen=True)
class IntRange:
    """Bounds every `Fn` value of the given name to [low, high]."""

    low: int
    high: int


@dataclass
class _Encoder:
    """Grounds formulas over a finite domain and builds Z3 terms, sharing atoms across calls."""

    z3: Any
    constants: tuple[str, ...]
    ranges: dict[str, IntRange]
    bools: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict)
    ints: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict)
    bounds: list[Any] = field(default_factory=list)
    memo: dict[Formula, Any] = field(default_factory=dict)
    """Closed formulas already encoded over the current `constants` (cleared when they change)."""

    def regrounded(self, constants: tuple[str, ...]) -> None:
        """Quantify over `constants` from now on; cached encodings of quantified formulas are stale."""
        self.constants = constants
        self.memo = {f: e for f, e in self.memo.items() if not has_forall(f)}

    def formula(self, f: Formula, env: dict[str, str] | None = None) -> Any:
        if env:
            return self._encode(f, env)
        if f not in self.memo:
            self.memo[f] = self._encode(f, {})
        return self.memo[f]

    def _encode(self, f: Formula, env: dict[str, str]) -> Any:
        z3 = self.z3
        if isinstance(f, Atom):
            key = (f.pred, tuple(self._term(a, env) for a in f.args))
            if key not in self.bools:
                self.bools[key] = z3.Bool(f"{key[0]}({','.join(key[1])})")
            return self.bools[key]
        if isinstance(f, Not):
            return z3.Not(self.formula(f.body, env))
        if isinstance(f, And):
            return z3.And([self.formula(p, env) for p in f.parts])
        if isinstance(f, Or):
            return z3.Or([self.formula(p, env) for p in f.parts])
        if isinstance(f, Implies):
            return z3.Implies(self.formula(f.premise, env), self.formula(f.conclusion, env))
        if isinstance(f, ForAll):
            return z3.And([self.formula(f.body, {**env, f.var.name: c}) for c in self.constants])
        left, right = self._int(f.left, env), self._int(f.right, env)
        ops = {
            "==": lambda: left == right,
            "!=": lambda: left != right,
            "<": lambda: left < right,
            "<=": lambda: left <= right,
            ">": lambda: left > right,
            ">=": lambda: left >= right,
        }
        return ops[f.op]()

    def _term(self, t: Term, env: dict[str, str]) -> str:
        if isinstance(t, Var):
            if t.name not in env:
                raise ValueError(f"variable {t.name!r} is not bound by a ForAll")
            return env[t.name]
        return t.name

    def _int(self, t: IntTerm, env: dict[str, str]) -> Any:
        if isinstance(t, Num):
            return self.z3.IntVal(t.value)
        key = (t.name, tuple(self._term(a, env) for a in t.args))
        if key not in self.ints:
            var = self.ints[key] = self.z3.Int(f"{key[0]}({','.join(key[1])})")
            if t.name in self.ranges:
                bound = self.ranges[t.name]
                self.bounds.append(self.z3.And(var >= bound.low, var <= bound.high))
        return self.ints[key]


class SmtChecker:
    """Incremental entailment checks of claims against fixed premises plus accepted trace steps.

    `timeout_ms` bounds each solver call; a call that runs out yields `unknown`. `cores` fills each
    judgement's support from the unsat core; `minimize` then shrinks it (one extra call per core member)
    preferring earlier steps over premises, so that a step's support names the trace's own earlier claims
    where they suffice.
    """

    def __init__(
        self,
        premises: Sequence[Formula],
        constants: Iterable[str],
        *,
        generic: int = 1,
        ranges: dict[str, IntRange] | None = None,
        timeout_ms: int = 2000,
        cores: bool = True,
        minimize: bool = True,
    ) -> None:
        import z3

        self._z3 = z3
        self._named = list(dict.fromkeys(constants))
        self._generic = tuple(f"?{k}" for k in range(generic))
        self._enc = _Encoder(z3, (*self._named, *self._generic), dict(ranges or {}))
        self._solver = z3.Solver()
        self._solver.set("timeout", int(timeout_ms))
        self.cores = cores
        self.minimize = minimize
        self._premise_lits: list[Any] = []
        self._step_lits: list[Any] = []
        self._guarded: list[tuple[Any, Formula]] = []
        self._guards: dict[tuple[Formula, bool], Any] = {}
        self._steps = 0
        self._origin: dict[int, tuple[str, int]] = {}
        self._fresh = 0
        for index, premise in enumerate(premises):
            self._premise_lits.append(self._assert(self._literal("p", ("premise", index)), premise))

    def _literal(self, prefix: str, origin: tuple[str, int]) -> Any:
        self._fresh += 1
        lit = self._z3.Bool(f"__{prefix}{self._fresh}")
        self._origin[lit.get_id()] = origin
        return lit

    def _assert(self, lit: Any, formula: Formula) -> Any:
        """Assert `lit -> formula` (re-grounded whenever new individuals appear); returns `lit`."""
        self._extend(formula)
        self._solver.add(self._z3.Implies(lit, self._enc.formula(formula)))
        self._guarded.append((lit, formula))
        self._flush_bounds()
        return lit

    def _probe(self, formula: Formula, negate: bool) -> Any:
        """A literal that, when assumed, asserts `formula` (or its negation).

        A ground atom is its own literal; anything else gets a guard literal, made once per content
        (until new individuals change the grounding) and left in the solver, harmless while not assumed.
        """
        z3 = self._z3
        if isinstance(formula, Atom):
            encoded = self._enc.formula(formula)
            return z3.Not(encoded) if negate else encoded
        if isinstance(formula, Not) and isinstance(formula.body, Atom):
            return self._probe(formula.body, not negate)
        key = (formula, negate)
        if key not in self._guards:
            encoded = self._enc.formula(formula)
            lit = self._guards[key] = self._literal("g", ("guard", self._fresh))
            self._solver.add(z3.Implies(lit, z3.Not(encoded) if negate else encoded))
            self._flush_bounds()
        return self._guards[key]

    def _flush_bounds(self) -> None:
        for bound in self._enc.bounds:
            self._solver.add(bound)
        self._enc.bounds.clear()

    def _extend(self, formula: Formula) -> None:
        """Ground every quantified premise and step over individuals that `formula` names for the first time.

        Keeps the Herbrand grounding exact when a claim mentions someone the premises never did.
        """
        new = [c for c in dict.fromkeys(constants_of(formula)) if c not in self._named]
        if not new:
            return
        self._named += new
        self._enc.regrounded((*self._named, *self._generic))
        self._guards.clear()
        for lit, old in self._guarded:
            if has_forall(old):
                self._solver.add(self._z3.Implies(lit, self._enc.formula(old)))

    def premises_consistent(self) -> bool | None:
        """False when the premises contradict each other (everything would follow); None on timeout."""
        result = self._solver.check(*self._premise_lits)
        return None if result == self._z3.unknown else result == self._z3.sat

    def judge(self, claim: Formula, *, use_steps: bool = True) -> Judgement:
        """Classify `claim` against the premises (and the accepted steps unless `use_steps` is False)."""
        z3 = self._z3
        context = self._premise_lits + (self._step_lits if use_steps else [])
        self._extend(claim)
        negated = self._probe(claim, True)
        first = self._solver.check(*context, negated)
        if first == z3.unsat:
            return self._explain("valid", context, negated)
        asserted = self._probe(claim, False)
        second = self._solver.check(*context, asserted)
        if second == z3.unsat:
            return self._explain("invalid", context, asserted)
        return Judgement("unknown" if z3.unknown in (first, second) else "unsupported")

    def models(self, terms: Sequence[IntTerm], limit: int = 2) -> list[tuple[int, ...]] | None:
        """Up to `limit` distinct value tuples that `terms` take in models of the premises and accepted
        steps (an empty list if there is none); None when the solver timed out."""
        z3 = self._z3
        encoded = [self._enc._int(t, {}) for t in terms]
        self._flush_bounds()
        context = self._premise_lits + self._step_lits
        found: list[tuple[int, ...]] = []
        self._solver.push()
        try:
            while len(found) < limit:
                result = self._solver.check(*context)
                if result != z3.sat:
                    return None if result == z3.unknown else found
                model = self._solver.model()
                values = tuple(model.eval(e, model_completion=True).as_long() for e in encoded)
                found.append(values)
                self._solver.add(z3.Or([e != v for e, v in zip(encoded, values, strict=True)]))
        finally:
            self._solver.pop()
        return found

    def accept(self, claim: Formula) -> int:
        """Add `claim` as the next trace step (context for later judgements); returns its step index."""
        self._step_lits.append(self._assert(self._literal("s", ("step", self._steps)), claim))
        return self.skip()

    def skip(self) -> int:
        """Count a trace step that is not context (unparsed or invalid), keeping step indices aligned."""
        self._steps += 1
        return self._steps - 1

    def _explain(self, status: Status, context: list[Any], probe: Any) -> Judgement:
        if not self.cores:
            return Judgement(status)
        origin = self._origin
        core = [c for c in self._solver.unsat_core() if c.get_id() in origin and not c.eq(probe)]
        if self.minimize:
            ids = {c.get_id() for c in core}
            steps = [s for s in context if origin[s.get_id()][0] == "step" and s.get_id() not in ids]
            core = self._minimize(core + steps, probe)
        premises = sorted(origin[c.get_id()][1] for c in core if origin[c.get_id()][0] == "premise")
        steps = sorted(origin[c.get_id()][1] for c in core if origin[c.get_id()][0] == "step")
        return Judgement(status, tuple(premises), tuple(steps))

    def _minimize(self, core: list[Any], probe: Any) -> list[Any]:
        """Deletion-based core shrinking: premises are tried for removal first, then steps, oldest first.

        Called with every earlier step in `core`, so a premise goes whenever the steps can stand in for it.
        """

        def rank(c: Any) -> tuple[bool, int]:
            kind, index = self._origin[c.get_id()]
            return kind == "step", index

        kept = {c.get_id(): c for c in core}
        for candidate in sorted(core, key=rank):
            if candidate.get_id() not in kept:
                continue
            trial = [k for i, k in kept.items() if i != candidate.get_id()]
            if self._solver.check(*trial, probe) == self._z3.unsat:
                ids = {c.get_id() for c in self._solver.unsat_core()}
                # members not yet tried stay: a later step may stand in for an earlier one
                kept = {k.get_id(): k for k in trial if k.get_id() in ids or rank(k) > rank(candidate)}
        return list(kept.values())


def constants_of(formula: Formula) -> list[str]:
    """Names of the individuals a formula mentions, in order of first mention."""
    if isinstance(formula, Atom):
        return [a.name for a in formula.args if isinstance(a, Const)]
    if isinstance(formula, Cmp):
        return [
            a.name
            for t in (formula.left, formula.right)
            if isinstance(t, Fn)
            for a in t.args
            if isinstance(a, Const)
        ]
    if isinstance(formula, Not | ForAll):
        return constants_of(formula.body)
    if isinstance(formula, Implies):
        return constants_of(formula.premise) + constants_of(formula.conclusion)
    return [name for part in formula.parts for name in constants_of(part)]


def has_forall(formula: Formula) -> bool:
    """Whether a quantifier occurs anywhere in the formula."""
    if isinstance(formula, ForAll):
        return True
    if isinstance(formula, Not):
        return has_forall(formula.body)
    if isinstance(formula, Implies):
        return has_forall(formula.premise) or has_forall(formula.conclusion)
    if isinstance(formula, And | Or):
        return any(has_forall(p) for p in formula.parts)
    return False


def judge_trace(checker: SmtChecker, claims: Sequence[Formula | None]) -> list[Judgement | None]:
    """Judge each claim against the premises and the earlier claims that were not `invalid`.

    `None` claims (unparsed steps) are skipped and give `None`. Earlier invalid claims are left out
    of the context so one error does not make every later claim follow by explosion; valid and
    unsupported ones stay in (local validity), and the context stays consistent by construction.
    """
    out: list[Judgement | None] = []
    for claim in claims:
        if claim is None:
            checker.skip()
            out.append(None)
            continue
        judgement = checker.judge(claim)
        if judgement.status in ("valid", "unsupported"):
            checker.accept(claim)
        else:
            checker.skip()
        out.append(judgement)
    return out
