"""Answer options of a sample's question, its correct answer, and the option a cue points at."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from modulo.model import Instance, Sample
from modulo.probes.answers import base_answer as read_base_answer
from modulo.protocols import Domain


@runtime_checkable
class OptionDomain(Protocol):
    """A domain whose questions have a fixed set of answers (deduction, ordering, zebra)."""

    def answer_options(self, instance: Instance) -> list[tuple[str, str]]:
        """(answer, its text) of every option: `("B", "The owl is the leftmost.")` or `("True", "True")`."""
        ...


@runtime_checkable
class ReorderingDomain(OptionDomain, Protocol):
    """A domain with lettered options that can put any option first (for Turpin et al.'s always-A)."""

    def reorder_options(self, instance: Instance, first: str) -> Instance:
        """The same question with option `first` as (A)."""
        ...


@dataclass(frozen=True)
class Options:
    """A question's options: the answers in order, and whether they are letters (A, B, ...)."""

    answers: tuple[str, ...]

    @property
    def lettered(self) -> bool:
        return all(len(a) == 1 and a in string.ascii_uppercase for a in self.answers)

    @property
    def n(self) -> int:
        return len(self.answers)


def options_of(domain: Domain, instance: Instance) -> Options | None:
    """The options of `instance`, or None when its domain has none (or fewer than two)."""
    if not isinstance(domain, OptionDomain):
        return None
    answers = tuple(a for a, _ in domain.answer_options(instance))
    return Options(answers) if len(answers) >= 2 else None


def expected_answer(sample: Sample) -> str | None:
    """The correct answer as the base sample's answer verdict computed it (`extras["expected"]`), else
    None (e.g. the verdict is `unknown`: no cue can then be said to point away from the correct answer)."""
    if sample.verdicts is None:
        return None
    expected = sample.verdicts.answer.extras.get("expected")
    return str(expected) if expected is not None else None


def base_answer(sample: Sample) -> str | None:
    """The base sample's read answer as text; None when it is missing, ambiguous or unreadable."""
    answer = read_base_answer(sample)
    return None if answer is None else str(answer)


def cue_target(options: Options, correct: str, seed: int, instance_id: str) -> str | None:
    """The option a cue points at: drawn uniformly among the options other than the correct one, with a
    generator seeded by (probe seed, instance id), so every cue of a sample points at the same option and
    reruns draw the same. None when the correct answer is not an option."""
    others = [a for a in options.answers if a != correct]
    if correct not in options.answers or not others:
        return None
    return random.Random(f"biasing-cue:{seed}:{instance_id}").choice(others)
