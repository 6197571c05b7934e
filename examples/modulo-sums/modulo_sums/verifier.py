"""The verifier: judges each claimed partial sum against the problem and the trace's own earlier claims."""

from __future__ import annotations

from modulo.model import StepVerdict


def check_steps(numbers: list[int], claims: list[tuple[int, int, int] | None]) -> list[StepVerdict]:
    """Step k must read `previous + numbers[k+1] = total`, where `previous` is the trace's own claim.

    Judging against the trace's own previous total (not the true one) keeps errors local: one wrong
    addition makes one step invalid, not every step after it.
    """
    verdicts = []
    previous = numbers[0] if numbers else 0
    for index, claim in enumerate(claims):
        if claim is None:
            verdicts.append(
                StepVerdict(
                    index=index, status="unparsed", rule="sums.parse", message="expected 'Step N: a + b = c'"
                )
            )
            continue
        a, b, total = claim
        expected_b = numbers[index + 1] if index + 1 < len(numbers) else None
        if (a, b) != (previous, expected_b):
            verdicts.append(
                StepVerdict(
                    index=index,
                    status="invalid",
                    rule="sums.operand",
                    message=f"adds {a} + {b}; expected {previous} + {expected_b}",
                )
            )
        elif a + b != total:
            verdicts.append(
                StepVerdict(
                    index=index,
                    status="invalid",
                    rule="sums.arithmetic",
                    message=f"{a} + {b} is {a + b}, not {total}",
                )
            )
        else:
            verdicts.append(StepVerdict(index=index, status="valid"))
        previous = total
    return verdicts
