"""Grounding formulas over a finite domain into Z3 terms, and the process-wide tables of shared terms.

z3 is never imported at module level: the `z3` module is handed to the encoder, or imported inside the
functions that need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modulo.verifiers.formulas import (
    And,
    Atom,
    Const,
    ForAll,
    Formula,
    Implies,
    IntRange,
    IntTerm,
    Not,
    Num,
    Or,
    Term,
    has_forall,
)

_SHARED_LIMIT = 1 << 16
"""How many terms each process-wide table below holds before it is emptied (a fresh start, not an error)."""
_ATOMS: dict[tuple[str, tuple[str, ...]], Any] = {}
"""Ground atoms' Z3 constants, shared by every encoder."""
_GROUND: dict[tuple[Formula, tuple[tuple[str, str], ...]], Any] = {}
"""Encodings of formulas under a binding of their variables that depend on nothing else (no quantifier,
whose grounding depends on the domain, and no integer term, whose range an encoder bounds). Z3 makes one
term per content (hash-consing), so an encoder taking it from here gets the very term it would have built."""


def _symbol(key: tuple[str, tuple[str, ...]]) -> str:
    """The Z3 name of `pred(args)`: quoted, so that no two keys share it (e.g. `("T", ("a,b",))` and
    `("T", ("a", "b"))`) and so that it is never an assumption literal's name."""
    return f"{key[0]!r}{key[1]!r}"


class _Encoder:
    """Grounds formulas over a finite domain and builds Z3 terms, sharing atoms and groundings across calls.

    Boolean terms are made with Z3's C API (`Z3_mk_and`, ...) rather than `z3.And` and friends, whose
    argument coercion costs several times the term itself. Every term is held by a Python wrapper (so Z3
    keeps it alive) for as long as a term built from it is being made.
    """

    def __init__(
        self, z3: Any, constants: tuple[str, ...], ranges: dict[str, IntRange], shared: bool = True
    ) -> None:
        """Without `shared`, terms are neither taken from nor added to `_ATOMS` and `_GROUND`: all are built
        afresh, as in a new process."""
        self.z3 = z3
        self.constants = constants
        self.ranges = ranges
        self.ints: dict[tuple[str, tuple[str, ...]], Any] = {}
        self.bounds: list[Any] = []
        self.memo: dict[Formula, Any] = {}
        """Closed formulas already encoded over the current `constants` (cleared when they change)."""
        self._ctx = z3.main_ctx()
        self._ref = self._ctx.ref()
        self._bool_sort = z3.BoolSort(self._ctx).ast
        self._wrap = z3.BoolRef
        self._atoms = _ATOMS if shared else {}
        self._grounded = _GROUND if shared else {}
        self._local = 0
        """Counts encodings of quantifiers and integer terms: those that may not go to `_GROUND`."""

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

    def conjuncts(self, f: Formula, env: dict[str, str] | None = None) -> list[Any]:
        """The Z3 terms whose conjunction is `f`: conjunctions and groundings split into their parts, which
        Z3 takes as separate clauses without first transforming a nested `And`."""
        if isinstance(f, And):
            return [c for p in f.parts for c in self.conjuncts(p, env)]
        if isinstance(f, ForAll):
            self._local += 1
            name = f.var.name
            return [c for k in self.constants for c in self.conjuncts(f.body, {**(env or {}), name: k})]
        return [self._ground(f, env) if env else self.formula(f)]

    def _ground(self, f: Formula, env: dict[str, str]) -> Any:
        """`f` encoded under the binding `env`, taken from the table of such encodings when it is there."""
        key = (f, tuple(env.items()))
        term = self._grounded.get(key)
        if term is None:
            local = self._local
            term = self._encode(f, env)
            if self._local == local:
                if len(self._grounded) >= _SHARED_LIMIT:
                    self._grounded.clear()
                self._grounded[key] = term
        return term

    def implies(self, premise: Any, conclusion: Any) -> Any:
        return self._wrap(self.z3.Z3_mk_implies(self._ref, premise.ast, conclusion.ast), self._ctx)

    def negation(self, term: Any) -> Any:
        return self._wrap(self.z3.Z3_mk_not(self._ref, term.ast), self._ctx)

    def boolean(self, name: str) -> Any:
        """The Boolean constant `name`."""
        symbol = self.z3.Z3_mk_string_symbol(self._ref, name)
        return self._wrap(self.z3.Z3_mk_const(self._ref, symbol, self._bool_sort), self._ctx)

    def conjunction(self, parts: list[Any]) -> Any | None:
        """The conjunction of `parts`, None if there are none."""
        return self._nary(self.z3.Z3_mk_and, parts) if parts else None

    def _nary(self, make: Any, parts: list[Any]) -> Any:
        """`make` (`Z3_mk_and` / `Z3_mk_or`) applied to `parts`; a single part is itself."""
        if len(parts) == 1:
            return parts[0]
        array = (self.z3.Ast * len(parts))(*(p.ast for p in parts))
        return self._wrap(make(self._ref, len(parts), array), self._ctx)

    def _encode(self, f: Formula, env: dict[str, str]) -> Any:
        if isinstance(f, Atom):
            key = (f.pred, self._names(f.args, env))
            term = self._atoms.get(key)
            if term is None:
                if len(self._atoms) >= _SHARED_LIMIT:
                    self._atoms.clear()
                term = self._atoms[key] = self.boolean(_symbol(key))
            return term
        if isinstance(f, Implies):
            return self.implies(self.formula(f.premise, env), self.formula(f.conclusion, env))
        if isinstance(f, Not):
            return self.negation(self.formula(f.body, env))
        z3 = self.z3
        if isinstance(f, And):
            return self._nary(z3.Z3_mk_and, [self.formula(p, env) for p in f.parts])
        if isinstance(f, Or):
            return self._nary(z3.Z3_mk_or, [self.formula(p, env) for p in f.parts])
        if isinstance(f, ForAll):
            return self._nary(z3.Z3_mk_and, self.conjuncts(f, env))
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

    @staticmethod
    def _names(args: tuple[Term, ...], env: dict[str, str]) -> tuple[str, ...]:
        """The individuals `args` stand for under `env`."""
        try:
            return tuple([a.name if isinstance(a, Const) else env[a.name] for a in args])
        except KeyError as unbound:
            raise ValueError(f"variable {unbound.args[0]!r} is not bound by a ForAll") from None

    def _int(self, t: IntTerm, env: dict[str, str]) -> Any:
        if isinstance(t, Num):
            return self.z3.IntVal(t.value)
        self._local += 1
        key = (t.name, self._names(t.args, env))
        if key not in self.ints:
            var = self.ints[key] = self.z3.Int(_symbol(key))
            if t.name in self.ranges:
                bound = self.ranges[t.name]
                self.bounds.append(self.z3.And(var >= bound.low, var <= bound.high))
        return self.ints[key]


def add_terms(solver: Any, terms: Sequence[Any]) -> None:
    """`solver.add(*terms)` for Boolean terms, minus the wrapper's per-term coercions."""
    import z3

    ref = solver.ctx.ref()
    for term in terms:
        z3.Z3_solver_assert(ref, solver.solver, term.as_ast())


def check_under(solver: Any, assumptions: Sequence[Any]) -> Any:
    """`solver.check(*assumptions)` for Boolean literals, minus the wrapper's per-assumption coercions."""
    import z3

    array = (z3.Ast * len(assumptions))(*(a.as_ast() for a in assumptions))
    found = z3.Z3_solver_check_assumptions(solver.ctx.ref(), solver.solver, len(assumptions), array)
    return z3.CheckSatResult(found)
