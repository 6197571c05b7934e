"""Steps verified per second on ProofWriter depth-5 traces: `SmtChecker` vs a fresh solver per query (the
pattern of Logic-LM's code), same traces, same statuses, in one run.

    python benchmarks/smt_steps.py [--data ../shared/data/logic/ProofWriter/dev.json] [--limit N] [--repeat N]

Traces are the deduction oracle's gold traces (each used fact and rule restated, then the fact it
gives). Parsing English is done before timing; the timed work per trace is everything from formulas
to statuses, measured in CPU time (the machine is shared; wall time swings with other load).

- `naive`: Logic-LM's pattern. Its generated Z3 program (models/symbolic_solvers/z3_solver/
  code_translator.py in teacherpeterpan/Logic-LLM) builds the premises once per program and answers each
  query with `is_valid` / `is_unsat`, each a new `Solver()` given the premises and the query, then
  `check()`. A trace's steps have different contexts (the earlier steps), so each step is a new program:
  the premises and earlier accepted steps are grounded afresh from their parsed structures (with the same
  encoder as `SmtChecker`, no strings), and each query gets its own solver: is the negation unsatisfiable
  (valid)? if not, is the step unsatisfiable (invalid)?
- `logic-lm encoding`: Logic-LM's code as it is, encoding included: individuals are an `EnumSort`,
  predicates `Function`s into `BoolSort()`, rules `ForAll` over the sort (no grounding: Z3 instantiates
  the quantifiers), all built with z3's Python API once per trace (its `pre_conditions`); each query is
  a new `Solver()` given them and the accepted steps. It shows that `naive` (our grounding, rebuilt for
  every step) costs about what Logic-LM's own encoding does: the ratios below are not against a strawman.
- `naive-shared`: a stronger baseline than Logic-LM's code: the trace is grounded once and its terms
  shared; each step still gets a new solver with the premises and earlier accepted steps, and both
  queries are made on it under assumptions.
- `incremental`: one `SmtChecker` per trace, statuses only (`cores=False`).
- `incremental+cores`: what the deduction domain runs: premises behind assumption literals, every
  verdict's support from unsat cores, minimised.
- `incremental+cores no cache`: the same with `reuse=False`: every trace encodes its premises itself
  instead of taking them from the problem cache (`smt.CACHE_SIZE` problems), which here serves the 255
  traces whose context an earlier question brought (600 questions, 345 contexts). Ground terms are still
  shared through `smt_encoding._GROUND`, so a context seen before is encoded faster than a new one.

The baselines' solvers have no timeout, as in Logic-LM's code (which bounds the whole program's run
instead): under a timeout Z3 starts a timer for every check, which costs about 0.35 ms here. `SmtChecker`
keeps its per-check timeout without that cost (it runs each check under a resource limit first, see
`smt_pool.FAST_RLIMIT`).

Each of `--repeat` rounds gives every method an empty cache, solver pool and term tables
(`smt_encoding._ATOMS`, `smt_encoding._GROUND`, `smt._LITERALS`; the naive methods build every term
afresh, without them) and its own copy of the parsed traces; the methods then take turns on chunks of
`CHUNK` traces, so that a slow spell of the shared machine hits them alike. Printed: each method's best
round, and the median (lowest, highest) of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.logic.theory import Theory, read_theory
from modulo.protocols import ImportedItem
from modulo.verifiers import smt, smt_encoding, smt_pool
from modulo.verifiers.smt import (
    And,
    Atom,
    Const,
    ForAll,
    Formula,
    Implies,
    Not,
    Or,
    SmtChecker,
    add_terms,
    check_under,
    constants_of,
    judge_trace,
)
from modulo.verifiers.smt_encoding import _Encoder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "logic" / "ProofWriter" / "dev.json"
TIMEOUT_MS = 2000
Method = Callable[[Theory, list[Formula]], list[str]]
Work = list[tuple[Theory, list[Formula]]]


def individuals(theory: Theory, claims: list[Formula]) -> tuple[str, ...]:
    """The trace's grounding domain: every named individual plus one fresh one."""
    return tuple(dict.fromkeys([*theory.constants, *(c for f in claims for c in constants_of(f)), "?0"]))


def naive(theory: Theory, claims: list[Formula]) -> list[str]:
    """Logic-LM's pattern: each step a new program (premises and earlier accepted steps grounded afresh),
    each query a new solver."""
    import z3

    accepted: list[Formula] = []
    statuses = []
    for claim in claims:
        encoder = _Encoder(z3, individuals(theory, claims), {}, shared=False)
        context = [c for f in (*theory.formulas, *accepted) for c in encoder.conjuncts(f)]
        encoded = encoder.formula(claim)
        status = status_of(lambda terms: unsat(z3, terms), context, encoded, encoder.negation(encoded))
        if status != "invalid":
            accepted.append(claim)
        statuses.append(status)
    return statuses


def status_of(unsat: Callable[[list[Any]], bool], context: list[Any], claim: Any, negation: Any) -> str:
    """The naive patterns' two queries: valid if the context refutes the negation, else invalid if it
    refutes the claim, else unsupported."""
    if unsat([*context, negation]):
        return "valid"
    return "invalid" if unsat([*context, claim]) else "unsupported"


def unsat(z3: Any, terms: list[Any]) -> bool:
    """Logic-LM's `is_valid` / `is_unsat`: a new solver, the terms added, `check()`."""
    solver = z3.Solver()
    add_terms(solver, terms)
    return bool(solver.check() == z3.unsat)


class LogicLMEncoding:
    """Formulas the way Logic-LM's generated programs build them: z3's Python API over an `EnumSort`."""

    sorts = itertools.count()

    def __init__(self, individuals: tuple[str, ...]) -> None:
        import z3

        self.z3 = z3
        self.sort, values = z3.EnumSort(f"individual{next(self.sorts)}", list(individuals))
        self.individuals = dict(zip(individuals, values, strict=True))
        self.functions: dict[tuple[str, int], Any] = {}

    def encode(self, f: Formula, env: dict[str, Any] | None = None) -> Any:
        z3, env = self.z3, env or {}
        if isinstance(f, Atom):
            key = (f.pred, len(f.args))
            if key not in self.functions:
                self.functions[key] = z3.Function(f.pred, *[self.sort] * len(f.args), z3.BoolSort())
            args = [self.individuals[a.name] if isinstance(a, Const) else env[a.name] for a in f.args]
            return self.functions[key](*args)
        if isinstance(f, Not):
            return z3.Not(self.encode(f.body, env))
        if isinstance(f, And | Or):
            return (z3.And if isinstance(f, And) else z3.Or)([self.encode(p, env) for p in f.parts])
        if isinstance(f, Implies):
            return z3.Implies(self.encode(f.premise, env), self.encode(f.conclusion, env))
        if isinstance(f, ForAll):
            var = z3.Const(f.var.name, self.sort)
            return z3.ForAll([var], self.encode(f.body, {**env, f.var.name: var}))
        raise TypeError(f"not in the deduction language: {f}")


def logic_lm(theory: Theory, claims: list[Formula]) -> list[str]:
    """Logic-LM's generated program: `pre_conditions` built once; `is_valid`, `is_unsat` each a new solver."""
    import z3

    encoding = LogicLMEncoding(individuals(theory, claims))
    pre_conditions = [encoding.encode(f) for f in theory.formulas]
    accepted: list[Any] = []
    statuses = []
    for claim in claims:
        encoded = encoding.encode(claim)
        context = [*pre_conditions, *accepted]
        status = status_of(lambda terms: lm_unsat(z3, terms), context, encoded, z3.Not(encoded))
        if status != "invalid":
            accepted.append(encoded)
        statuses.append(status)
    return statuses


def lm_unsat(z3: Any, terms: list[Any]) -> bool:
    """`solver = Solver(); solver.add(...); solver.check() == unsat`, with z3's own `add`."""
    solver = z3.Solver()
    solver.add(terms)
    return bool(solver.check() == z3.unsat)


def naive_shared(theory: Theory, claims: list[Formula]) -> list[str]:
    """The trace grounded once; a new solver per step holding the premises and earlier accepted steps."""
    import z3

    encoder = _Encoder(z3, individuals(theory, claims), {}, shared=False)
    premises = [c for f in theory.formulas for c in encoder.conjuncts(f)]
    accepted: list[Any] = []
    statuses = []
    for claim in claims:
        encoded = encoder.formula(claim)
        solver = z3.Solver()
        add_terms(solver, [*premises, *accepted])
        if check_under(solver, [encoder.negation(encoded)]) == z3.unsat:
            status = "valid"
        else:
            status = "invalid" if check_under(solver, [encoded]) == z3.unsat else "unsupported"
        if status != "invalid":
            accepted += encoder.conjuncts(claim)
        statuses.append(status)
    return statuses


def incremental(cores: bool, reuse: bool = True) -> Method:
    def run(theory: Theory, claims: list[Formula]) -> list[str]:
        checker = SmtChecker(
            theory.formulas, theory.constants, timeout_ms=TIMEOUT_MS, cores=cores, minimize=cores, reuse=reuse
        )
        return [j.status if j else "unparsed" for j in judge_trace(checker, list(claims))]

    return run


METHODS: dict[str, Method] = {
    "naive": naive,
    "logic-lm encoding": logic_lm,
    "naive-shared": naive_shared,
    "incremental": incremental(cores=False),
    "incremental+cores": incremental(cores=True),
    "incremental+cores no cache": incremental(cores=True, reuse=False),
}


def restated(theory: Theory, claims: list[Formula]) -> int:
    """Steps that restate a premise or an earlier step: `SmtChecker` settles them without a solver call."""
    return sum(1 for k, c in enumerate(claims) if c in theory.formulas or c in claims[:k])


TABLES = {
    "_CACHE": smt_pool,
    "_IDLE": smt_pool,
    "_ATOMS": smt_encoding,
    "_GROUND": smt_encoding,
    "_LITERALS": smt,
}
"""The smt modules' process-wide state (name -> the module holding it): each method has its own, swapped in
while it runs."""
CHUNK = 20
"""Traces a method runs before the next method takes its turn on the same traces."""


def empty_tables() -> dict[str, Any]:
    """Empty tables of the kinds `smt` has (an OrderedDict, a list, dicts)."""
    return {name: type(getattr(module, name))() for name, module in TABLES.items()}


@contextmanager
def tables(state: dict[str, Any]) -> Iterator[None]:
    """Run with `state` as `smt`'s cache, solver pool and term tables."""
    saved = {name: getattr(module, name) for name, module in TABLES.items()}
    for name, module in TABLES.items():
        setattr(module, name, state[name])
    try:
        yield
    finally:
        for name, module in TABLES.items():
            setattr(module, name, saved[name])


def one_round(work: Work) -> tuple[dict[str, float], dict[str, list[list[str]]]]:
    """Each method's CPU seconds and statuses over `work`, the methods taking turns chunk by chunk.

    Every method starts with empty tables and its own copy of the parsed traces (formulas hash themselves
    once, so a shared copy would hand later methods the hashes earlier ones computed).
    """
    copies = {name: pickle.loads(pickle.dumps(work)) for name in METHODS}
    states = {name: empty_tables() for name in METHODS}
    seconds = dict.fromkeys(METHODS, 0.0)
    statuses: dict[str, list[list[str]]] = {name: [] for name in METHODS}
    order = list(METHODS)
    for start in range(0, len(work), CHUNK):
        order = order[1:] + order[:1]
        for name in order:
            run, chunk = METHODS[name], copies[name][start : start + CHUNK]
            with tables(states[name]):
                started = time.process_time()
                statuses[name] += [run(theory, claims) for theory, claims in chunk]
                seconds[name] += time.process_time() - started
    return seconds, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    domain = DeductionDomain()
    work: Work = []
    for item in LogicLMImporter().read(args.data, {"dataset": "proofwriter"})[: args.limit]:
        assert isinstance(item, ImportedItem)
        if "-D5-" not in item.instance.id:
            continue
        trace = domain.parse(domain.oracle(item.instance, "gold", 0), item.instance)
        claims = [s.parsed for s in trace.steps if not isinstance(s.parsed, str | None)]
        assert len(claims) == len(trace.steps), "a gold step did not parse"
        work.append((read_theory(item.instance.payload["context"]), claims))
    steps = sum(len(claims) for _, claims in work)
    rounds = []
    for _ in range(args.repeat):
        seconds, statuses = one_round(work)
        assert all(s == statuses["naive"] for s in statuses.values()), "statuses differ"
        rounds.append(seconds)
    contexts = len({theory.formulas for theory, _ in work})
    print(f"{len(work)} ProofWriter depth-5 traces on {contexts} contexts, {steps} steps")
    print(f"{sum(restated(t, c) for t, c in work)} steps restate a premise or an earlier step")
    print(f"best of {args.repeat} rounds, CPU time:")
    for name in METHODS:
        best = min(r[name] for r in rounds)
        print(f"{name:>26}: {steps / best:8.0f} steps/s  ({best:.2f} s)")
    print("speed-up, median of the rounds' own ratios (lowest-highest):")
    for name in METHODS:
        if name.startswith("incremental"):
            ratios = ", ".join(
                ratio_text([r[base] / r[name] for r in rounds], base)
                for base in ("naive", "logic-lm encoding", "naive-shared")
            )
            print(f"{name:>26}: {ratios}")


def ratio_text(ratios: list[float], base: str) -> str:
    low, high = min(ratios), max(ratios)
    return f"{statistics.median(ratios):.1f}x ({low:.1f}-{high:.1f}) vs {base}"


if __name__ == "__main__":
    main()
