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
