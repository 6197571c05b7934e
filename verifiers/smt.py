"""Z3 entailment checking of claimed statements against premises and a trace's earlier steps.

Formulas are built with the Z3 API from the small structured language of `formulas.py`, never from text a
model wrote. Universal quantifiers range over a finite domain: the named individuals plus
`generic` fresh individuals, and at least as many fresh individuals as the claim being judged has
universal quantifiers. For function-free universal premises this grounding is exact (Herbrand): a
universal claim ∀x φ holds iff φ holds of a fresh individual nothing is known about. Premises with an
existential (a `ForAll` under negation) are judged over the same finite domain, whose fresh individuals
are then also their witnesses: exact only if there are enough of them (raise `generic`).
When a claim names a new individual, the domain grows and quantified premises and steps are grounded
over it again; a `ForAll` under negation (an existential, whose grounding a new individual weakens) is
grounded behind an epoch literal that is then switched off, so its old grounding stops counting.

One `SmtChecker` serves one problem: the premises are encoded once (behind assumption literals when
supports are wanted), and every claim is at most two incremental `check` calls under assumption literals
(entailed? contradicted?), plus one on the steps alone when supports are minimised. Encodings are cached
by content: a problem's encoded premises for later checkers on it (`CACHE_SIZE` problems), a claim's for
its restatements, ground terms across checkers. Each checker asserts its problem on a solver of its own,
taken from a pool. Unsat cores, when asked for, say which premises and earlier steps a verdict rests on.
Each check runs under a Z3 resource limit first and, only if it needs more, again under the time left of
`timeout_ms` (see `_Lease`). z3 is imported lazily so that importing this module stays light.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modulo.verifiers.formulas import (
    And,
    Atom,
    Cmp,
    CmpOp,
    Const,
    Fn,
    ForAll,
    Formula,
    Implies,
    IntRange,
    IntTerm,
    Not,
    Num,
    Or,
    Term,
    Var,
    check_names,
    constants_of,
    has_forall,
    universals,
)
from modulo.verifiers.smt_encoding import _Encoder, add_terms, check_under
from modulo.verifiers.smt_pool import (
    CACHE_SIZE,
    FAST_RLIMIT,
    _cached,
    _Lease,
    _Problem,
    _remember,
    clear_cache,
)

__all__ = [
    "CACHE_SIZE",
    "FAST_RLIMIT",
    "And",
    "Atom",
    "Cmp",
    "CmpOp",
    "Const",
    "Fn",
    "ForAll",
    "Formula",
    "Implies",
    "IntRange",
    "IntTerm",
    "Judgement",
    "Not",
    "Num",
    "Or",
    "SmtChecker",
    "Status",
    "Term",
    "Var",
    "add_terms",
    "check_under",
    "clear_cache",
    "constants_of",
    "has_forall",
    "judge_trace",
    "universals",
]

_LITERALS: dict[str, tuple[Any, int]] = {}
"""Premise and step assumption literals (`__p<k>`, `__s<k>`) and their Z3 ids, shared by every checker."""
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


class SmtChecker:
    """Incremental entailment checks of claims against fixed premises plus accepted trace steps.

    `timeout_ms` bounds each solver call (below a few milliseconds it may overrun by its first run, which
    `FAST_RLIMIT` bounds instead); a call that runs out yields `unknown`. `cores` fills each
    judgement's support from unsat cores (premises are then asserted behind assumption literals, which
    makes every check slower; without cores they are asserted as they are); `minimize` then shrinks it to the
    support a fixed deletion order keeps (premises tried first, then steps oldest first), so that a step's
    support names the trace's own earlier claims where they suffice, whatever cores Z3 returned on the way.

    With `reuse`, the encoded premises come from a process-wide cache keyed by their content (and the
    settings above), so checkers for other questions on the same context, or other samples of one
    instance, skip grounding and encoding them; verdicts are the same as without it.
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
        reuse: bool = True,
    ) -> None:
        import z3

        self._z3 = z3
        self.cores = cores
        self.minimize = minimize
        named = tuple(dict.fromkeys(constants))
        self._generic = tuple(f"?{k}" for k in range(generic))
        check_names(named)
        ranges = dict(ranges or {})
        self._lease = _Lease(z3, int(timeout_ms))
        weakref.finalize(self, self._lease.release).atexit = False
        self._solver = self._lease.solver
        self._enc = _Encoder(z3, (*named, *self._generic), ranges)
        key = (tuple(premises), named, generic, tuple(sorted(ranges.items())), cores)
        problem = _cached(key) if reuse else None
        if problem is None:
            problem = self._compile(key[0], named)
            if reuse:
                _remember(key, problem)
        else:
            domain, memo, ints = problem.encoded
            self._enc.constants, self._enc.memo, self._enc.ints = domain, dict(memo), dict(ints)
        if problem.assertion is not None:
            add_terms(self._solver, [problem.assertion])
        self._problem = problem
        self._premise_lits, self._premise_ids = list(problem.lits), list(problem.ids)
        self._index, self._origin = problem.index, dict(problem.origin)
        self._guarded, self._named = list(problem.guarded), list(problem.named)
        self._lits = dict(zip(problem.ids, problem.lits, strict=True))
        self._epoch: Any | None = problem.epoch
        """Assumed in every check: the clauses of formulas with an existential quantifier (a `ForAll` under
        negation) hang on it, because their grounding weakens when new individuals appear. `_extend` then
        starts a new epoch, leaving the old, too strong groundings switched off."""
        self._fresh = problem.fresh
        """Counter for guard and epoch literals' names: none is used twice while the solver holds it."""
        self._step_lits: list[Any] = []
        self._step_ids: list[int] = []
        self._accepted: dict[Formula, tuple[int, Any]] = {}
        """Each accepted claim's (latest) step index and literal."""
        self._guards: dict[tuple[Formula, bool], Any] = {}
        self._steps = 0

    def _compile(self, premises: tuple[Formula, ...], named: tuple[str, ...]) -> _Problem:
        """Ground and encode the premises (behind literals if `cores`): the state this and later checkers
        start from."""
        self._origin, self._lits, self._guarded, self._named = {}, {}, [], list(named)
        self._guards, self._epoch, self._fresh = {}, None, 0
        self._extend(And(premises))  # every individual first: each premise is then grounded once
        lits: list[tuple[Any, int]] = []
        terms: list[Any] = []
        for index, premise in enumerate(premises):
            if self.cores:
                lits.append(self._literal(("premise", index)))
            lit = lits[-1][0] if self.cores else None
            terms += self._clauses(lit, premise)
            self._guarded.append((lit, premise))
        enc = self._enc
        return _Problem(
            assertion=enc.conjunction([*terms, *self._pending()]),
            lits=tuple(lit for lit, _ in lits),
            ids=tuple(i for _, i in lits),
            origin=self._origin,
            guarded=tuple(self._guarded),
            named=tuple(self._named),
            index={premise: index for index, premise in enumerate(premises)},
            encoded=(enc.constants, dict(enc.memo), dict(enc.ints)),
            epoch=self._epoch,
            fresh=self._fresh,
        )

    def _literal(self, origin: tuple[str, int]) -> tuple[Any, int]:
        """The assumption literal standing for `origin` and its Z3 id.

        Premise k and step k are `__p<k>` and `__s<k>`, made once per process: a solver holds one
        problem's premises and one checker's steps at a time, and whatever a literal guarded before is
        popped off before it is used again. A guard gets a name its solver has never seen, because
        guards stay asserted in the checker's scope.
        """
        kind, number = origin
        if kind == "guard":
            lit = self._enc.boolean(f"__g{number}")
            lit_id = lit.get_id()
        else:
            name = f"__{kind[0]}{number}"
            found = _LITERALS.get(name)
            if found is None:
                lit = self._enc.boolean(name)
                found = _LITERALS[name] = (lit, lit.get_id())
            lit, lit_id = found
        self._origin[lit_id] = origin
        self._lits[lit_id] = lit
        return lit, lit_id

    def _assert(self, lit: Any | None, formula: Formula) -> None:
        """Assert `formula`, behind `lit` unless it is None; re-grounded whenever new individuals appear."""
        self._extend(formula)
        self._add(self._clauses(lit, formula))
        self._guarded.append((lit, formula))

    def _clauses(self, lit: Any | None, formula: Formula) -> list[Any]:
        """The Z3 terms that assert `formula` (behind `lit` unless it is None) over the current domain."""
        enc = self._enc
        parts = enc.conjuncts(formula)
        if universals(formula, positive=False):  # an existential: its grounding weakens as the domain grows
            if self._epoch is None:
                self._fresh += 1
                self._epoch = enc.boolean(f"__e{self._fresh}")
            parts = [enc.implies(self._epoch, p) for p in parts]
        return parts if lit is None else [enc.implies(lit, p) for p in parts]

    def _add(self, terms: list[Any]) -> None:
        """Assert `terms` and the range bounds their encoding made."""
        add_terms(self._solver, [*terms, *self._pending()])

    def _pending(self) -> list[Any]:
        """The range bounds of integer terms encoded since the last call."""
        bounds = list(self._enc.bounds)
        self._enc.bounds.clear()
        return bounds

    def _check(self, assumptions: list[Any]) -> Any:
        if self._epoch is not None:
            assumptions = [*assumptions, self._epoch]
        return self._lease.check(assumptions)

    def _core(self, probe_id: int) -> set[int]:
        """The premises' and steps' literals in the last check's unsat core."""
        origin = self._origin
        z3, solver = self._z3, self._solver
        ref = solver.ctx.ref()
        core = z3.AstVector(z3.Z3_solver_get_unsat_core(ref, solver.solver), solver.ctx)
        ids = (z3.Z3_get_ast_id(ref, z3.Z3_ast_vector_get(ref, core.vector, k)) for k in range(len(core)))
        return {i for i in ids if i in origin and i != probe_id}

    def _probe(self, formula: Formula, negate: bool) -> Any:
        """A literal that, when assumed, asserts `formula` (or its negation).

        A ground atom is its own literal; anything else gets a guard literal, made once per content
        (until new individuals change the grounding) and left in the solver, harmless while not assumed.
        """
        enc = self._enc
        if isinstance(formula, Atom):
            encoded = enc.formula(formula)
            return enc.negation(encoded) if negate else encoded
        if isinstance(formula, Not) and isinstance(formula.body, Atom):
            return self._probe(formula.body, not negate)
        key = (formula, negate)
        if key not in self._guards:
            encoded = enc.formula(formula)
            self._fresh += 1
            lit = self._guards[key] = self._literal(("guard", self._fresh))[0]
            self._add([enc.implies(lit, enc.negation(encoded) if negate else encoded)])
        return self._guards[key]

    def _extend(self, formula: Formula, claim: bool = False) -> None:
        """Ground every quantified premise and step over individuals that `formula` names for the first time,
        and, for a `claim`, over as many fresh individuals as it has universal quantifiers.

        Keeps the Herbrand grounding exact when a claim mentions someone the premises never did, or needs
        several witnesses nothing is known about (∀x∀y r(x, y) is not refuted by one fresh individual).
        """
        new = [c for c in dict.fromkeys(constants_of(formula)) if c not in self._named]
        witnesses = universals(formula) if claim else 0
        fresh = tuple(f"?{k}" for k in range(len(self._generic), witnesses))
        if not new and not fresh:
            return
        check_names(new)
        self._named += new
        self._generic += fresh
        self._enc.regrounded((*self._named, *self._generic))
        self._guards.clear()
        self._epoch = None  # a new one is made for the first existential grounding below
        self._add([t for lit, old in self._guarded if has_forall(old) for t in self._clauses(lit, old)])

    def entailed_by(self, claim: Formula, premises: Iterable[int], steps: Iterable[int]) -> Judgement:
        """Whether the given premises and accepted steps alone (by index) entail `claim`: `valid` with its
        support minimised within them, `unsupported` if they do not, `unknown` if the solver gave up.

        For questions about a restricted context, e.g. whether a claim follows from the facts and one rule.
        Needs `cores` (the premises behind literals); steps not accepted (or not yet made) are ignored.
        """
        if not self.cores:
            raise ValueError("entailed_by needs a checker with cores=True")
        self._extend(claim, claim=True)
        step_lit = {self._origin[i][1]: i for i in self._step_ids}
        context = [self._premise_ids[p] for p in sorted(set(premises))]
        context += [step_lit[s] for s in sorted(set(steps)) if s in step_lit]
        negated = self._probe(claim, True)
        result = self._check([*(self._lits[i] for i in context), negated])
        if result == self._z3.unsat:
            return self._explain("valid", context, negated, True)
        return Judgement("unknown" if result == self._z3.unknown else "unsupported")

    def premises_consistent(self) -> bool | None:
        """False when the premises contradict each other (everything would follow); None on timeout."""
        problem = self._problem
        base = self._enc.constants == problem.encoded[0]  # over a grown domain, existentials may differ
        if base and problem.consistent is not None:
            return problem.consistent
        result = self._check(self._premise_lits)
        if result == self._z3.unknown:
            return None
        consistent = bool(result == self._z3.sat)
        if base:
            problem.consistent = consistent
        return consistent

    def judge(self, claim: Formula, *, use_steps: bool = True, explain: bool = True) -> Judgement:
        """Classify `claim` against the premises (and the accepted steps unless `use_steps` is False).

        With `explain` False the judgement names no support (no cores are extracted even with `cores`). When
        supports are minimised, the accepted steps alone are tried first: if they entail the claim, every
        premise would be deleted from the support anyway, and the check on the whole context is not needed.
        """
        restated = self._restated(claim, use_steps, explain and self.cores)
        if restated is not None:
            return restated
        z3 = self._z3
        context = self._premise_ids + (self._step_ids if use_steps else [])
        lits = [self._lits[i] for i in context]
        self._extend(claim, claim=True)
        negated = self._probe(claim, True)
        steps = self._step_ids if use_steps and explain and self.cores and self.minimize else []
        if steps and self._check([*(self._lits[i] for i in steps), negated]) == z3.unsat:
            return self._explain("valid", steps, negated, explain)
        first = self._check([*lits, negated])
        if first == z3.unsat:
            return self._explain("valid", context, negated, explain, try_steps=not steps)
        if first == z3.unknown:  # open even if the claim contradicts the context, which may be inconsistent
            return Judgement("unknown")
        asserted = self._probe(claim, False)
        second = self._check([*lits, asserted])
        if second == z3.unsat:
            return self._explain("invalid", context, asserted, explain)
        return Judgement("unknown" if second == z3.unknown else "unsupported")

    def _restated(self, claim: Formula, use_steps: bool, explain: bool) -> Judgement | None:
        """A claim identical to an accepted step or a premise is valid and rests on it alone (the latest such
        step, else the premise): no solver call. None for any other claim."""
        step = self._accepted[claim][0] if use_steps and claim in self._accepted else None
        premise = self._index.get(claim)
        if not explain and (step is not None or premise is not None):
            return Judgement("valid")
        if step is not None:
            return Judgement("valid", steps=(step,))
        return None if premise is None else Judgement("valid", premises=(premise,))

    def models(self, terms: Sequence[IntTerm], limit: int = 2) -> list[tuple[int, ...]] | None:
        """Up to `limit` distinct value tuples that `terms` take in models of the premises and accepted
        steps (an empty list if there is none); None when the solver timed out."""
        z3 = self._z3
        encoded = [self._enc._int(t, {}) for t in terms]
        self._add([])
        context = self._premise_lits + self._step_lits
        found: list[tuple[int, ...]] = []
        self._solver.push()
        try:
            while len(found) < limit:
                result = self._check(context)
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
        lit, lit_id = self._literal(("step", self._steps))
        same = self._restating(claim)
        if same is None:
            self._assert(lit, claim)
        else:
            self._add([self._enc.implies(lit, s) for s in same])
        self._step_lits.append(lit)
        self._step_ids.append(lit_id)
        self._accepted[claim] = (self._steps, lit)
        return self.skip()

    def _restating(self, claim: Formula) -> list[Any] | None:
        """For a claim that restates an accepted step or a premise, the literal already asserting it (none
        for a premise asserted as it is); None for any other claim."""
        if claim in self._accepted:
            return [self._accepted[claim][1]]
        if claim in self._index:
            return [self._premise_lits[self._index[claim]]] if self.cores else []
        return None

    def skip(self) -> int:
        """Count a trace step that is not context (unparsed or invalid), keeping step indices aligned."""
        self._steps += 1
        return self._steps - 1

    def _explain(
        self, status: Status, context: list[int], probe: Any, explain: bool, try_steps: bool = True
    ) -> Judgement:
        """The judgement with its support; `try_steps` False when the steps alone are known not to refute
        `probe` (so `_minimize` does not check it again)."""
        if not (self.cores and explain):
            return Judgement(status)
        probe_id = probe.get_id()
        core = self._core(probe_id)
        support = self._minimize(context, core, probe, probe_id, try_steps) if self.minimize else core
        origin = [self._origin[i] for i in support]
        premises = sorted(index for kind, index in origin if kind == "premise")
        steps = sorted(index for kind, index in origin if kind == "step")
        return Judgement(status, tuple(premises), tuple(steps))

    def _minimize(
        self, context: list[int], core: set[int], probe: Any, probe_id: int, try_steps: bool
    ) -> list[int]:
        """What deletion in `context` order keeps (each member dropped if the rest still refutes `probe`).

        A member not in the last unsat core goes without a solver call (that core lies in what is left),
        and when the earlier steps alone refute `probe` every premise goes at once (`judge` may have found
        that already and pass just the steps as `context`); neither changes the result, which depends on
        the claims alone, not on the cores Z3 happens to return.
        """
        kept = dict.fromkeys(context)
        steps = [i for i in context if self._origin[i][0] == "step"]
        some_premise = any(self._origin[i][0] == "premise" for i in core)
        if (
            try_steps
            and steps
            and some_premise
            and self._check([*(self._lits[i] for i in steps), probe]) == self._z3.unsat
        ):
            kept, core = dict.fromkeys(steps), self._core(probe_id)
        for member in list(kept):
            if member not in core:
                del kept[member]
                continue
            trial = [self._lits[i] for i in kept if i != member]
            if self._check([*trial, probe]) == self._z3.unsat:
                del kept[member]
                core = self._core(probe_id)
        return list(kept)


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
