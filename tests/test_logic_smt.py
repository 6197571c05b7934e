"""The Z3 step verifier: statuses, cores, fresh individuals, timeouts and the light-import rule."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
MAX = Const("max")


def atom(pred: str, who: Const | Var = MAX) -> Atom:
    return Atom(pred, (who,))


def rule(a: str, b: str, negated: bool = False) -> ForAll:
    return ForAll(X, Implies(atom(a, X), Not(atom(b, X)) if negated else atom(b, X)))


PREMISES = [rule("yumpus", "dumpus"), rule("dumpus", "sour", negated=True), atom("yumpus")]


def test_statuses_and_cores() -> None:
    checker = SmtChecker(PREMISES, ["max"])
    dumpus, not_sour = atom("dumpus"), Not(atom("sour"))
    verdicts = judge_trace(checker, [dumpus, not_sour, atom("sour"), atom("red"), None])
    assert [v.status if v else None for v in verdicts] == ["valid", "valid", "invalid", "unsupported", None]
    assert verdicts[0] is not None and verdicts[0].premises == (0, 2)
    # the core names the trace's own earlier step where it can stand in for a premise
    assert verdicts[1] is not None and verdicts[1].steps == (0,) and verdicts[1].premises == (1,)
    assert verdicts[2] is not None and verdicts[2].steps == (1,)


def test_entailment_from_a_chosen_part_of_the_context() -> None:
    checker = SmtChecker(PREMISES, ["max"])
    judge_trace(checker, [atom("dumpus")])  # step 0
    not_sour = Not(atom("sour"))
    assert checker.entailed_by(not_sour, [1], [0]) == Judgement("valid", premises=(1,), steps=(0,))
    assert checker.entailed_by(not_sour, [0, 1, 2], []) == Judgement("valid", premises=(0, 1, 2))
    assert checker.entailed_by(not_sour, [0, 2], [0]).status == "unsupported"
    assert checker.entailed_by(not_sour, [1], [5]).status == "unsupported"  # no step 5: ignored
    with pytest.raises(ValueError, match="cores"):
        SmtChecker(PREMISES, ["max"], cores=False).entailed_by(not_sour, [1], [])


def test_invalid_steps_are_not_context_but_unsupported_ones_are() -> None:
    checker = SmtChecker(PREMISES, ["max"])
    verdicts = judge_trace(
        checker,
        [Not(atom("yumpus")), atom("sour"), atom("red"), Implies(atom("red"), atom("blue")), atom("blue")],
    )
    assert [v.status for v in verdicts if v] == ["invalid", "invalid", "unsupported", "unsupported", "valid"]


def test_universal_claims_are_not_proved_by_the_named_individuals_alone() -> None:
    checker = SmtChecker([atom("yumpus"), atom("dumpus")], ["max"])
    assert checker.judge(rule("yumpus", "dumpus")).status == "unsupported"
    assert (
        SmtChecker(PREMISES, ["max"])
        .judge(ForAll(X, Implies(atom("yumpus", X), Not(atom("sour", X)))))
        .status
        == "valid"
    )


def test_new_individuals_are_grounded_in_the_premises() -> None:
    stella = Const("stella")
    checker = SmtChecker(PREMISES, ["max"])
    assert checker.judge(Implies(atom("yumpus", stella), atom("dumpus", stella))).status == "valid"
    assert checker.judge(atom("dumpus", stella)).status == "unsupported"


@pytest.mark.parametrize("reuse", [False, True])
def test_an_existential_is_regrounded_not_kept_when_a_new_individual_appears(reuse: bool) -> None:
    """`not every x is P` grounded over {max, ?0} says max or ?0 is not P. When a claim names gerald, the
    witness may be gerald: the old grounding, too strong now, must stop counting (a fuzzing review found
    it kept, making this claim `invalid`)."""
    gerald, y = Const("gerald"), Var("y")
    premises: list[Formula] = [atom("p"), atom("q"), Not(ForAll(X, atom("p", X)))]
    claim = And(
        (Not(atom("p", gerald)), Not(ForAll(y, atom("q", y))), ForAll(X, Or((atom("q", X), atom("p", X)))))
    )
    for _ in range(2):  # the second checker takes the cached premises
        assert judge_trace(SmtChecker(premises, ["max"], reuse=reuse), [claim]) == [Judgement("unsupported")]
    named_first = SmtChecker(premises, ["max", "gerald"], reuse=reuse)
    assert named_first.judge(claim) == Judgement("unsupported")
    checker = SmtChecker(premises, ["max"], reuse=reuse)
    checker.accept(Not(atom("p", gerald)))  # gerald is the witness: ?0 is free to be p and not q
    assert checker.judge(Not(ForAll(y, atom("q", y)))).status == "unsupported"
    assert checker.judge(ForAll(X, atom("p", X))).status == "invalid"


def test_a_claim_gets_a_fresh_witness_for_each_universal() -> None:
    """r(x, x), r(max, x) and r(x, max) for all x say nothing of r between two strangers: one fresh
    individual cannot refute `for all x, y: r(x, y)`, two can (a fuzzing review found it judged valid)."""
    y = Var("y")

    def r(a: Const | Var, b: Const | Var) -> Atom:
        return Atom("r", (a, b))

    premises: list[Formula] = [ForAll(X, r(X, X)), ForAll(X, r(MAX, X)), ForAll(X, r(X, MAX))]
    checker = SmtChecker(premises, ["max"])
    assert checker.judge(ForAll(X, ForAll(y, r(X, y)))).status == "unsupported"
    assert checker.judge(ForAll(X, r(X, X))).status == "valid"
    assert checker.judge(Or((ForAll(X, atom("p", X)), ForAll(y, atom("q", y))))).status == "unsupported"


def test_names_cannot_collide() -> None:
    """An individual named `a,b` is not the pair (a, b), and `?0` is kept for the fresh individual."""
    a, b, ab = Const("a"), Const("b"), Const("a,b")
    checker = SmtChecker([Atom("t", (a, b))], ["a", "b"])
    assert checker.judge(Atom("t", (ab,))).status == "unsupported"
    assert checker.judge(Atom("t", (a, b))).status == "valid"
    with pytest.raises(ValueError, match="kept for fresh individuals"):
        SmtChecker([atom("p")], ["?0"])
    with pytest.raises(ValueError, match="kept for fresh individuals"):
        SmtChecker([atom("p")], ["max"]).judge(atom("p", Const("?0")))


def test_a_free_variable_is_refused() -> None:
    with pytest.raises(ValueError, match="variable 'x' is not bound"):
        SmtChecker([atom("p", X)], ["max"])
    with pytest.raises(ValueError, match="variable 'x' is not bound"):
        SmtChecker([], ["max"], generic=0, ranges={"pos": IntRange(1, 3)}).judge(
            Cmp("<", Fn("pos", (X,)), Num(2))
        )


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(ValueError, match="empty range"):
        IntRange(3, 1)


def test_inconsistent_premises_are_reported() -> None:
    assert SmtChecker([atom("a"), Not(atom("a"))], ["max"]).premises_consistent() is False
    assert SmtChecker(PREMISES, ["max"]).premises_consistent() is True


def test_integer_positions() -> None:
    pos = {n: Fn("pos", (Const(n),)) for n in "abc"}
    premises = [Cmp("<", pos["a"], pos["b"]), Cmp("<", pos["b"], pos["c"])]
    checker = SmtChecker(premises, "abc", ranges={"pos": IntRange(1, 3)}, generic=0)
    assert checker.judge(Cmp("==", pos["a"], Num(1))).status == "valid"
    assert checker.judge(Cmp("==", pos["c"], Num(2))).status == "invalid"


def test_importing_the_verifier_does_not_import_z3() -> None:
    code = "import sys, modulo.verifiers.smt, modulo.domains.logic.deduction; print('z3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def pigeonhole(pigeons: int) -> list[Formula]:
    """`pigeons` pigeons in one hole fewer: unsatisfiable, and exponentially hard for resolution."""
    holes = range(pigeons - 1)
    at = lambda p, h: Atom("in", (Const(f"p{p}"), Const(f"h{h}")))  # noqa: E731
    some = [Or(tuple(at(p, h) for h in holes)) for p in range(pigeons)]
    alone = [Not(And((at(p, h), at(q, h)))) for h in holes for p in range(pigeons) for q in range(p)]
    return [*some, *alone]


def test_a_timed_out_check_is_unknown_never_valid() -> None:
    checker = SmtChecker(pigeonhole(11), [], timeout_ms=1, cores=False)
    assert checker.judge(atom("red")).status == "unknown"
    assert checker.premises_consistent() is None


def test_an_unknown_solver_result_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import z3

    checker = SmtChecker(PREMISES, ["max"])
    monkeypatch.setattr(checker, "_check", lambda assumptions: z3.unknown)
    assert checker.judge(atom("dumpus")).status == "unknown"
    assert judge_trace(checker, [atom("dumpus")])[0] == Judgement("unknown")
