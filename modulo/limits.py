"""Caps on what a suite may ask for, so that a typo (`count = 1e9`) fails at once with a clear message
instead of exhausting memory or running for hours. Each cap has a default and an environment variable
that raises (or lowers) it; the README lists them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from modulo.model import RunConfig


@dataclass(frozen=True)
class Cap:
    """One limit: its environment variable, default and what it counts."""

    env: str
    default: int
    what: str

    def value(self) -> int:
        """The cap in force: the environment variable if set, else the default."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{self.env} must be a positive whole number, got {raw!r}")
        return value

    def problem(self, where: str, value: int) -> str | None:
        """Why `value` is over the cap (naming the place and how to raise it), or None."""
        cap = self.value()
        if value <= cap:
            return None
        return f"{where} = {value} is over the cap of {cap} {self.what} (set {self.env} to change it)"


INSTANCES = Cap("MODULO_MAX_INSTANCES", 100_000, "instances per task")
SAMPLES = Cap("MODULO_MAX_SAMPLES", 1_000_000, "samples per task (count × samples)")
ROUNDS = Cap("MODULO_MAX_ROUNDS", 100, "rounds")
BATCH = Cap("MODULO_MAX_BATCH", 4096, "prompts per batch")
CAPS = (INSTANCES, SAMPLES, ROUNDS, BATCH)


def over_caps(config: RunConfig) -> list[str]:
    """Every place where `config` asks for more than a cap allows."""
    found = [ROUNDS.problem("rounds", config.rounds), BATCH.problem("batch_size", config.batch_size)]
    for index, task in enumerate(config.tasks):
        found.append(INSTANCES.problem(f"tasks[{index}].count", task.count))
        found.append(SAMPLES.problem(f"tasks[{index}].count × samples", task.count * task.samples))
    return [problem for problem in found if problem]
