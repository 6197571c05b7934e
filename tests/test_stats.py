"""Statistics against values computed by hand."""

import math

import pytest

from modulo.stats import histogram, phi, table_2x2, wilson


def test_wilson_matches_hand_computation() -> None:
    # k=8, n=10, z=1.96: centre = (0.8 + 0.192) / 1.384 = 0.71676; half = 1.96*sqrt(0.016 + 0.0096)/1.384
    r = wilson(8, 10, z=1.96)
    assert r.rate == pytest.approx(0.8)
    assert r.low == pytest.approx(0.4902, abs=1e-4)
    assert r.high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson(0, 0).rate is None
    zero = wilson(0, 5)
    assert zero.low == 0.0 and zero.high is not None and 0.4 < zero.high < 0.6  # 0.4345 with z≈1.96
    full = wilson(5, 5)
    assert full.high == 1.0
    with pytest.raises(ValueError):
        wilson(6, 5)


def test_table_and_phi() -> None:
    pairs = [(True, True)] * 3 + [(True, False)] * 1 + [(False, True)] * 2 + [(False, False)] * 4
    t = table_2x2(pairs)
    assert (t.valid_correct, t.valid_incorrect, t.invalid_correct, t.invalid_incorrect) == (3, 1, 2, 4)
    assert t.total == 10
    # (3*4 - 1*2) / sqrt(4 * 6 * 5 * 5) = 10 / sqrt(600)
    assert phi(t) == pytest.approx(10 / math.sqrt(600))


def test_phi_undefined_with_empty_margin() -> None:
    assert phi(table_2x2([(True, True), (True, False)])) is None


def test_histogram() -> None:
    assert histogram([3, 1, 3, 0]) == {0: 1, 1: 1, 3: 2}
    assert histogram([]) == {}


def test_two_proportions_matches_scipy_chi_square() -> None:
    """The pooled z-test is the uncorrected chi-square test of the 2×2 table (scipy, written apart)."""
    chi2_contingency = pytest.importorskip("scipy.stats").chi2_contingency

    from modulo.stats import two_proportions

    for k1, n1, k2, n2 in [(30, 100, 45, 100), (7, 9, 2, 11), (500, 1000, 520, 1000)]:
        diff = two_proportions(wilson(k1, n1), wilson(k2, n2))
        chi2, p, _, _ = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)
        assert diff.p_value is not None and diff.z is not None and diff.difference is not None
        assert abs(diff.p_value - p) < 1e-9 and abs(diff.z**2 - chi2) < 1e-9
        assert abs(diff.difference - (k2 / n2 - k1 / n1)) < 1e-12
        assert diff.low is not None and diff.high is not None and diff.low < diff.difference < diff.high


def test_two_proportions_newcombe_interval() -> None:
    """Newcombe (1998), method 10, example (a): 56/70 vs 48/80 gives 0.2 with interval 0.0524 to 0.3339."""
    from modulo.stats import two_proportions

    diff = two_proportions(wilson(48, 80), wilson(56, 70))
    assert diff.low is not None and diff.high is not None
    assert abs(diff.low - 0.0524) < 5e-4 and abs(diff.high - 0.3339) < 5e-4


def test_two_proportions_without_trials() -> None:
    from modulo.stats import two_proportions

    assert two_proportions(wilson(0, 0), wilson(1, 2)).p_value is None
    assert two_proportions(wilson(3, 3), wilson(5, 5)).p_value == 1.0
