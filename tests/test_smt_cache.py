"""The process-wide cache of encoded premises and the pool of solvers: same verdicts as without them,
bounded, a solver never shared by two live checkers nor pooled again after a timeout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from shared_data import SHARED_DATA

from modulo.verifiers import smt, smt_encoding, smt_pool
from modulo.verifiers.smt import (
    And,
    Atom,
    Cmp,
    Const,
    Fn,
    ForAll,
    Formula,
    Implies,
    IntRange,
    Judgement,
    Not,
    Num,
    Or,
    SmtChecker,
    Var,
    judge_trace,
)

X = Var("x")
PROOFWRITER = SHARED_DATA / "logic" / "ProofWriter" / "dev.json"


def atom(pred: str, who: str = "max") -> Atom:
    return Atom(pred, (Const(who),))


def rule(a: str, b: str) -> ForAll:
    return ForAll(X, Implies(Atom(a, (X,)), Atom(b, (X,))))


PREMISES = [rule("yumpus", "dumpus"), rule("dumpus", "sour"), atom("yumpus")]


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    smt.clear_cache()
    yield
    smt.clear_cache()


def judged(
    claims: list[Formula | None], reuse: bool, premises: list[Formula] = PREMISES
) -> list[Judgement | None]:
    return judge_trace(SmtChecker(premises, ["max"], reuse=reuse), claims)


def test_a_cached_checker_starts_from_the_premises_alone() -> None:
    """Steps, probes and groundings over a new individual from one trace do not leak into the next."""
    stella = [rule("sour", "red"), atom("dumpus", "stella"), atom("red", "stella")]
    first = judged(stella, reuse=True)
    assert [j.status for j in first if j] == ["unsupported", "unsupported", "valid"]
    again = [atom("red", "stella"), atom("red"), rule("sour", "red")]
    assert judged(again, reuse=True) == judged(again, reuse=False)
    assert [j.status for j in judged(again, reuse=True) if j] == ["unsupported", "unsupported", "unsupported"]


def test_a_step_literal_guards_only_its_own_checkers_claim() -> None:
    """Step k's literal is the same Z3 constant for every checker: what it guarded in one trace is gone
    from the pooled solver when the next trace accepts its own step k."""
    first = SmtChecker(PREMISES, ["max"])
    assert first.judge(atom("red")).status == "unsupported"
    first.accept(atom("red"))
    assert first.judge(atom("red")).status == "valid"
    solver, problem = first._solver, first._problem
    del first
    second = SmtChecker(PREMISES, ["max"])
    assert second._solver is solver and second._problem is problem
    second.accept(atom("blue"))
    assert second.judge(atom("red")) == Judgement("unsupported")
    both = And((atom("blue"), atom("dumpus")))
    assert second.judge(both) == Judgement("valid", premises=(0, 2), steps=(0,))


def test_restated_claims_rest_on_what_they_restate() -> None:
    claims: list[Formula | None] = [PREMISES[2], atom("dumpus"), PREMISES[2], atom("dumpus")]
    verdicts = judged(claims, reuse=True)
    assert verdicts == [
        Judgement("valid", premises=(2,)),
        Judgement("valid", premises=(0,), steps=(0,)),
        Judgement("valid", steps=(0,)),
        Judgement("valid", steps=(1,)),
    ]


def test_range_bounds_of_new_terms_survive_the_reset() -> None:
    """An integer term first made in one trace's scope gets its bound again in the next trace."""
    pos = {n: Fn("pos", (Const(n),)) for n in "abd"}
    premises: list[Formula] = [Cmp("<", pos["a"], pos["b"])]
    ranges = {"pos": IntRange(1, 3)}
    for _ in range(2):
        checker = SmtChecker(premises, "ab", generic=0, ranges=ranges)
        assert checker.judge(Cmp("<=", pos["d"], Num(3))).status == "valid"
        assert checker.judge(Cmp("==", pos["a"], Num(3))).status == "invalid"


def test_a_live_checkers_solver_is_not_shared() -> None:
    """Two live checkers on one problem share its encoding, each on a solver of its own."""
    first = SmtChecker(PREMISES, ["max"])
    first.accept(atom("red"))
    second = SmtChecker(PREMISES, ["max"])
    assert second._problem is first._problem and second._solver is not first._solver
    assert second.judge(atom("red")).status == "unsupported"
    assert first.judge(atom("red")).status == "valid"
    solver = second._solver
    del second
    assert SmtChecker(PREMISES, ["max"])._solver is solver


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smt_pool, "CACHE_SIZE", 3)
    for k in range(5):
        SmtChecker([atom(f"p{k}")], ["max"])
    assert len(smt_pool._CACHE) == 3


def test_shared_groundings_follow_the_domain() -> None:
    """A grounding with a quantifier inside is not shared between checkers over different individuals."""
    y = Var("y")
    nested = ForAll(X, Implies(Atom("p", (X,)), ForAll(y, Atom("q", (y,)))))
    premises: list[Formula] = [nested, atom("p", "a")]
    assert SmtChecker(premises, "ab").judge(atom("q", "b")).status == "valid"
    assert SmtChecker(premises, "abc").judge(atom("q", "c")).status == "valid"


def test_shared_groundings_keep_range_bounds() -> None:
    """A grounding with an integer term is built by each encoder, which bounds the term's range."""
    import z3

    formula = ForAll(X, Cmp("<", Fn("pos", (X,)), Num(5)))
    smt_encoding._Encoder(z3, ("a",), {}).conjuncts(formula)
    bounded = smt_encoding._Encoder(z3, ("a",), {"pos": IntRange(1, 3)})
    bounded.conjuncts(formula)
    assert len(bounded.bounds) == 1


def pigeonhole(pigeons: int) -> list[Formula]:
    """Unsatisfiable and exponentially hard for resolution: a 1 ms timeout runs out."""
    holes = range(pigeons - 1)
    at = lambda p, h: Atom("in", (Const(f"p{p}"), Const(f"h{h}")))  # noqa: E731
    some: list[Formula] = [Or(tuple(at(p, h) for h in holes)) for p in range(pigeons)]
    alone: list[Formula] = [
        Not(And((at(p, h), at(q, h)))) for h in holes for p in range(pigeons) for q in range(p)
    ]
    return [*some, *alone]


def test_a_timeout_is_unknown_and_its_solver_not_pooled() -> None:
    premises = pigeonhole(11)
    checker = SmtChecker(premises, [], timeout_ms=1)
    assert checker.judge(atom("red")).status == "unknown"
    assert checker.premises_consistent() is None
    solver = checker._solver
    del checker
    assert all(idle is not solver for idle in smt_pool._IDLE)
    later = SmtChecker(premises, [], timeout_ms=1)
    assert later._solver is not solver and later.judge(atom("red")).status == "unknown"
    assert later.premises_consistent() is None


def test_a_check_beyond_the_resource_limit_runs_again_under_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The resource limit only decides which checks need a timer: one that exceeds it still gets an answer."""
    monkeypatch.setattr(smt_pool, "_IDLE", [])
    monkeypatch.setattr(smt_pool, "FAST_RLIMIT", 1)
    checker = SmtChecker(pigeonhole(6), [], timeout_ms=60_000)
    assert checker.premises_consistent() is False
    assert checker.judge(atom("red")).status == "valid"
    assert not checker._lease.spoiled


def proofwriter_traces(limit: int) -> list[tuple[list[Formula], list[str], list[Formula | None]]]:
    from modulo.domains.logic.deduction import DeductionDomain
    from modulo.domains.logic.importer import LogicLMImporter
    from modulo.domains.logic.steps import claim_of
    from modulo.domains.logic.theory import read_theory

    domain = DeductionDomain()
    out = []
    for item in LogicLMImporter().read(PROOFWRITER, {"dataset": "proofwriter"})[:limit]:
        theory = read_theory(item.instance.payload["context"])
        for variant in domain.oracle_variants:
            text = domain.oracle(item.instance, variant, 3)
            trace = domain.parse(text, item.instance)
            claims = [claim_of(s) for s in trace.steps]
            out.append((list(theory.formulas), theory.constants, claims))
    return out


@pytest.mark.skipif(not PROOFWRITER.is_file(), reason=f"ProofWriter data not found at {PROOFWRITER}")
def test_cached_and_uncached_judgements_agree_on_proofwriter() -> None:
    """Statuses and supports alike: minimised supports do not depend on the solver's history."""
    traces = proofwriter_traces(60)
    cached = [judge_trace(SmtChecker(p, c), claims) for p, c, claims in traces]
    assert smt_pool._CACHE
    fresh = [judge_trace(SmtChecker(p, c, reuse=False), claims) for p, c, claims in traces]
    assert cached == fresh
    assert sum(1 for t in cached for j in t if j and j.status != "valid") > 10


def test_a_formula_hash_is_kept_but_not_pickled() -> None:
    """Formulas cache their hash; a pickled formula carries none (string hashes differ between processes)."""
    import pickle

    formula = rule("yumpus", "dumpus")
    expected = hash(formula)
    assert hash(formula) == expected and formula.__dict__["_hash"] == expected
    assert b"_hash" not in pickle.dumps(formula)
    copy = pickle.loads(pickle.dumps(formula))
    assert copy == formula and hash(copy) == expected and {formula: 1}[copy] == 1


def test_the_first_checkers_own_literals_stay_out_of_the_cached_problem() -> None:
    first = SmtChecker(PREMISES, ["max"])
    first.accept(atom("red"))
    first.judge(And((atom("red"), atom("sour"))))
    assert sorted(first._problem.origin.values()) == [("premise", k) for k in range(len(PREMISES))]


def test_a_solver_stays_out_of_the_pool_once_a_check_ran_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when later checks on it, re-run under the timeout, succeed."""
    monkeypatch.setattr(smt_pool, "_IDLE", [])
    monkeypatch.setattr(smt_pool, "FAST_RLIMIT", 1)
    checker = SmtChecker([atom("red")], ["max"], timeout_ms=50)
    assert checker.judge(And(tuple(pigeonhole(11)))).status == "unknown"
    assert checker.judge(Or((atom("red"), atom("blue")))).status == "valid"
    assert checker._lease.spoiled
    solver = checker._solver
    del checker
    assert all(idle is not solver for idle in smt_pool._IDLE)


def test_premise_consistency_is_cached_only_for_the_premises_own_domain() -> None:
    """With an existential premise, consistency depends on the domain: a checker whose claims grew it does
    not answer for the next checker on the same premises (found by a fuzzing review)."""
    premises: list[Formula] = [Not(ForAll(X, Atom("p", (X,))))]
    grown = SmtChecker(premises, [], generic=0)
    grown.judge(atom("q", "a"))
    assert grown.premises_consistent() is True
    fresh = SmtChecker(premises, [], generic=0)
    assert fresh.premises_consistent() is False
    assert SmtChecker(premises, [], generic=0, reuse=False).premises_consistent() is False
    assert grown.premises_consistent() is True


def test_a_claim_whose_entailment_check_runs_out_is_unknown_not_invalid() -> None:
    """Over inconsistent premises every claim follows; a contradiction found while the entailment check ran
    out must not make the claim invalid (found by a fuzzing review)."""
    premises = pigeonhole(8)
    claim = Not(premises[0])
    assert SmtChecker(premises, [], timeout_ms=1).judge(claim).status == "unknown"
