"""Statistics over verdicts: the 2×2 trace-valid × answer-correct table, Wilson intervals, phi, histograms."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, computed_field

Z95 = 1.959963984540054
"""Two-sided 95% standard normal quantile."""


class Rate(BaseModel):
    """A proportion with its Wilson score interval."""

    k: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


def wilson(k: int, n: int, z: float = Z95) -> Rate:
    """Wilson score interval for k successes in n trials (None fields when n == 0)."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Rate(k=0, n=0, rate=None, low=None, high=None)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Rate(k=k, n=n, rate=p, low=max(0.0, centre - half), high=min(1.0, centre + half))


class Table2x2(BaseModel):
    """Counts of samples by trace validity (rows) and answer correctness (columns)."""

    valid_correct: int = 0
    valid_incorrect: int = 0
    invalid_correct: int = 0
    invalid_incorrect: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.valid_correct + self.valid_incorrect + self.invalid_correct + self.invalid_incorrect

    def as_array(self) -> np.ndarray:
        """[[valid∧correct, valid∧¬correct], [invalid∧correct, invalid∧¬correct]]."""
        return np.array(
            [[self.valid_correct, self.valid_incorrect], [self.invalid_correct, self.invalid_incorrect]]
        )


class AnswerSplit(BaseModel):
    """Samples outside the 2×2 table (no trace, or a trace not judged), split by answer: shown beside it."""

    answer_correct: int = 0
    answer_not_correct: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.answer_correct + self.answer_not_correct


def table_2x2(pairs: Iterable[tuple[bool, bool]]) -> Table2x2:
    """Build the table from (trace_valid, answer_correct) pairs."""
    counts = np.zeros((2, 2), dtype=int)
    for trace_valid, answer_correct in pairs:
        counts[0 if trace_valid else 1, 0 if answer_correct else 1] += 1
    return Table2x2(
        valid_correct=int(counts[0, 0]),
        valid_incorrect=int(counts[0, 1]),
        invalid_correct=int(counts[1, 0]),
        invalid_incorrect=int(counts[1, 1]),
    )


def phi(table: Table2x2) -> float | None:
    """Phi coefficient between trace validity and answer correctness (None if a margin is empty)."""
    (a, b), (c, d) = table.as_array().astype(float)
    denom = math.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    if denom == 0:
        return None
    return float((a * d - b * c) / denom)


def histogram(values: Iterable[int]) -> dict[int, int]:
    """Counts per integer value, keys sorted (e.g. first-error positions)."""
    array = np.fromiter(values, dtype=int)
    if array.size == 0:
        return {}
    keys, counts = np.unique(array, return_counts=True)
    return {int(k): int(c) for k, c in zip(keys, counts, strict=True)}


class Difference(BaseModel):
    """Two proportions compared: b − a with Newcombe's hybrid Wilson 95% interval, and the pooled two-sided
    z-test of equal proportions (None fields when either proportion has no trials)."""

    a: Rate
    b: Rate
    difference: float | None
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None


def two_proportions(a: Rate, b: Rate) -> Difference:
    """Compare rate `b` with rate `a` (difference b − a, its interval, the pooled z-test)."""
    if a.rate is None or b.rate is None or a.low is None or a.high is None or b.low is None or b.high is None:
        return Difference(a=a, b=b, difference=None, low=None, high=None, z=None, p_value=None)
    difference = b.rate - a.rate
    low = difference - math.sqrt((b.rate - b.low) ** 2 + (a.high - a.rate) ** 2)
    high = difference + math.sqrt((b.high - b.rate) ** 2 + (a.rate - a.low) ** 2)
    pooled = (a.k + b.k) / (a.n + b.n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n))
    if se == 0:  # both all successes or both all failures: no evidence of a difference
        return Difference(a=a, b=b, difference=difference, low=low, high=high, z=0.0, p_value=1.0)
    z = difference / se
    return Difference(
        a=a, b=b, difference=difference, low=low, high=high, z=z, p_value=math.erfc(abs(z) / math.sqrt(2))
    )
