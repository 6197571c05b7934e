"""Pooled Z3 solvers under a resource limit (`_Lease`) and the cache of problems' encoded premises."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modulo.verifiers.formulas import Formula
from modulo.verifiers.smt_encoding import check_under

FAST_RLIMIT = 20_000
"""Z3 resource units a check may spend before it is run again under the timeout: a few milliseconds of work
on this machine, some hundred times what the check of a ProofWriter step spends."""
_NO_TIMEOUT = 4294967295
"""Z3's value for no timeout, under which a check starts no timer."""

_IDLE: list[Any] = []
"""Solvers no checker holds, with nothing asserted (see `_Lease`)."""
_KEEP_IDLE = 4


class _Lease:
    """A pooled solver held by one checker inside a fresh scope, returned by `release`.

    Reusing a solver through push/pop skips Z3's per-solver set-up and tear-down (about a millisecond, more
    than a whole problem's incremental checks); after the pop it holds nothing of the previous problem.
    Pooled solvers have no timeout: under one, Z3 starts a timer for every check, which costs more (about
    0.35 ms here) than the checks of a typical step. `check` runs each check under `FAST_RLIMIT` instead and
    runs only a check that needs more again, under what is left of the timeout.
    """

    def __init__(self, z3: Any, timeout_ms: int) -> None:
        self.z3 = z3
        self.timeout_ms = timeout_ms
        if _IDLE:
            self.solver = _IDLE.pop()
        else:
            self.solver = z3.SimpleSolver()
            self.solver.set("rlimit", FAST_RLIMIT)
        self.solver.push()
        self.spoiled = False
        """Set when a check ran out of time: the solver is then not pooled again."""

    def check(self, assumptions: Sequence[Any]) -> Any:
        """The check's result, `unknown` only if it ran out of `timeout_ms` (or Z3 gave up)."""
        started = time.perf_counter()
        result = check_under(self.solver, assumptions)
        if result != self.z3.unknown:
            return result
        left = int(self.timeout_ms - (time.perf_counter() - started) * 1000)
        if left >= 1:
            self.solver.set("rlimit", 0, "timeout", left)
            try:
                result = check_under(self.solver, assumptions)
            finally:
                self.solver.set("rlimit", FAST_RLIMIT, "timeout", _NO_TIMEOUT)
        if result == self.z3.unknown:
            self.spoiled = True
        return result

    def release(self) -> None:
        if self.spoiled:
            return
        self.solver.pop(self.solver.num_scopes())
        if len(_IDLE) < _KEEP_IDLE:
            _IDLE.append(self.solver)


@dataclass
class _Problem:
    """One problem's premises, grounded and encoded (behind literals with cores): the state every checker on
    them starts from, after asserting `assertion` on its solver."""

    assertion: Any | None
    """The premises' clauses and the range bounds of their integer terms as one conjunction (None if there are
    none): asserting it is one call, and Z3 splits it into the same clauses."""
    lits: tuple[Any, ...]
    ids: tuple[int, ...]
    origin: dict[int, tuple[str, int]]
    guarded: tuple[tuple[Any | None, Formula], ...]
    named: tuple[str, ...]
    index: dict[Formula, int]
    """Each premise formula's (last) index, for claims that restate one."""
    encoded: tuple[tuple[str, ...], dict[Formula, Any], dict[tuple[str, tuple[str, ...]], Any]]
    """The encoder's domain, closed-formula memo and integer terms (whose range bounds are in `assertion`)."""
    epoch: Any | None
    """The literal the premises' existential groundings hang on (see `SmtChecker._epoch`), if any."""
    fresh: int
    """How many guard and epoch literals were named so far."""
    consistent: bool | None = None
    """Whether the premises are consistent over the domain of `encoded`, once a check has told."""


CACHE_SIZE = 1024
"""How many problems' encoded premises are kept for later checkers (least recently used dropped first).

An entry holds Z3 terms, not a solver: about 6 kB of Python objects on ProofWriter contexts (measured), plus
terms that Z3 shares between problems."""
_CACHE: OrderedDict[tuple[Any, ...], _Problem] = OrderedDict()


def clear_cache() -> None:
    """Forget every cached problem."""
    _CACHE.clear()


def _cached(key: tuple[Any, ...]) -> _Problem | None:
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
    return found


def _remember(key: tuple[Any, ...], problem: _Problem) -> None:
    _CACHE[key] = problem
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
