"""Steps verified per second on ProofWriter depth-5 traces: one incremental solver per trace vs a fresh
solver per step (the pattern of Logic-LM's code), same traces, same statuses, in one run.

    python benchmarks/smt_steps.py [--data ../shared/data/logic/ProofWriter/dev.json] [--limit 600]

Traces are the deduction oracle's gold traces (each used fact and rule restated, then the fact it
gives). Parsing English is done before timing; the timed work per problem is everything from formulas
to statuses, measured in CPU time (the machine is shared; wall time swings with other load).

- `naive`: the problem is grounded once with the same encoder as `SmtChecker` (same terms, same
  cached atoms, clauses asserted with the same coercion-free calls); then, for every step, a new
  `z3.Solver()` gets the premises and the earlier accepted steps and checks the step's negation (and,
  if that is satisfiable, the step itself).
- `incremental`: one `SmtChecker` per trace (`cores=False`): premises asserted once on a solver reused
  from a pool through push/pop, each step at most two checks under assumption literals.
- `incremental+cores`: the same with premises behind assumption literals and every verdict's unsat core
  extracted and minimised, as the deduction domain does.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.importer import LogicLMImporter
from modulo.domains.logic.theory import Theory, read_theory
from modulo.protocols import ImportedItem
from modulo.verifiers.smt import (
    Formula,
    SmtChecker,
    _Encoder,
    add_terms,
    check_under,
    constants_of,
    judge_trace,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "logic" / "ProofWriter" / "dev.json"


def naive(theory: Theory, claims: list[Formula]) -> list[str]:
    """Logic-LM's pattern: the problem encoded once, then a fresh solver per step holding the premises and
    the earlier accepted steps."""
    import z3

    names = [*theory.constants, *(c for f in claims for c in constants_of(f)), "?0"]
    encoder = _Encoder(z3, tuple(dict.fromkeys(names)), {})
    premises = [c for f in theory.formulas for c in encoder.conjuncts(f)]
    accepted: list[Any] = []
    statuses = []
    for claim in claims:
        encoded = encoder.formula(claim)
        solver = z3.Solver()
        solver.set("timeout", 2000)
        add_terms(solver, [*premises, *accepted])
        if check_under(solver, [encoder.negation(encoded)]) == z3.unsat:
            status = "valid"
        else:
            status = "invalid" if check_under(solver, [encoded]) == z3.unsat else "unsupported"
        if status != "invalid":
            accepted += encoder.conjuncts(claim)
        statuses.append(status)
    return statuses


def incremental(theory: Theory, claims: list[Formula], cores: bool) -> list[str]:
    checker = SmtChecker(theory.formulas, theory.constants, cores=cores, minimize=cores)
    return [j.status if j else "unparsed" for j in judge_trace(checker, list(claims))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=600)
    args = parser.parse_args()
    domain = DeductionDomain()
    work: list[tuple[Theory, list[Any]]] = []
    for item in LogicLMImporter().read(args.data, {"dataset": "proofwriter"})[: args.limit]:
        assert isinstance(item, ImportedItem)
        if "-D5-" not in item.instance.id:
            continue
        trace = domain.parse(domain.oracle(item.instance, "gold", 0), item.instance)
        work.append((read_theory(item.instance.payload["context"]), [s.parsed for s in trace.steps]))
    steps = sum(len(claims) for _, claims in work)
    timings: dict[str, float] = {}
    results: dict[str, list[list[str]]] = {}
    runs = {
        "naive": lambda t, c: naive(t, c),
        "incremental": lambda t, c: incremental(t, c, False),
        "incremental+cores": lambda t, c: incremental(t, c, True),
    }
    for name, run in runs.items():
        started = time.process_time()
        results[name] = [run(theory, claims) for theory, claims in work]
        timings[name] = time.process_time() - started
    assert results["naive"] == results["incremental"] == results["incremental+cores"], "statuses differ"
    print(f"{len(work)} ProofWriter depth-5 traces, {steps} steps")
    for name, seconds in timings.items():
        print(f"{name:>18}: {steps / seconds:8.0f} steps/s  ({seconds:.2f} s CPU)")
    print(f"ratio incremental / naive: {timings['naive'] / timings['incremental']:.1f}x")
    print(f"ratio incremental+cores / naive: {timings['naive'] / timings['incremental+cores']:.1f}x")


if __name__ == "__main__":
    main()
