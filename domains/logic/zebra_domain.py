"""The `zebra` domain: zebra (Einstein) puzzles — who lives in which house — with every deduction checked
by Z3 for entailment, and the chosen option by uniqueness, exactly as for ordering puzzles.

Output format: one deduction per line in the puzzle's English ('Eric is in the second house.', 'The
person who drinks tea is Eric.'), then `Answer: (X)`. Rules: `zebra.parse`, `zebra.entailment`,
`zebra.contradiction`, `logic.timeout`.
"""

from __future__ import annotations

import random
from functools import cached_property
from typing import Any

from modulo.domains.logic.ordering import OrderingDomain
from modulo.domains.logic.puzzle import PositionPuzzle
from modulo.domains.logic.steps import generator_settings
from modulo.domains.logic.zebra import CHARACTERISTICS, read_zebra, zebra_puzzle
from modulo.model import Instance

INSTRUCTIONS = (
    "Solve the puzzle step by step. Write one deduction per line, each a single statement in the same "
    "English as the clues (for example 'Eric is in the second house.', 'The person who drinks tea is not "
    "in the first house.' or 'The person who drinks tea is Eric.'). Finish with one line 'Answer: (X)' "
    "giving the letter of the true option."
)
JSON_INSTRUCTIONS = (
    "Solve the puzzle step by step. Put one deduction in each item of `steps`, each a single statement in "
    "the same English as the clues (for example 'Eric is in the second house.' or 'The person who drinks "
    "tea is Eric.'). Then give `answer`: the letter of the true option.\n\n"
)
HOUSES = range(2, 7)


class ZebraDomain(OrderingDomain):
    """Zebra puzzles: values of several characteristics placed in n houses, checked by Z3."""

    name = "zebra"
    description = "zebra (Einstein) puzzles: who lives in which house; every deduction checked by Z3"
    instructions = INSTRUCTIONS
    json_instructions = JSON_INSTRUCTIONS

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        """`houses` 2–6 (default 4) and `characteristics` 2–6 (default 3, names always included)."""
        settings = generator_settings(self.name, params, {"houses": 4, "characteristics": 3})
        houses, kinds = int(settings["houses"]), int(settings["characteristics"])
        if houses not in HOUSES or not 2 <= kinds <= len(CHARACTERISTICS):
            raise ValueError(f"houses must be 2..6 and characteristics 2..{len(CHARACTERISTICS)}")
        out = []
        for k in range(count):
            rng = random.Random(f"zebra:{seed}:{k}")
            out.append(
                Instance(
                    domain=self.name,
                    id=f"zebra-h{houses}-c{kinds}-{seed}-{k}",
                    seed=seed,
                    difficulty={"houses": houses, "characteristics": kinds},
                    payload={"dataset": "generated", **zebra_puzzle(rng, houses, kinds)},
                )
            )
        return out

    def read(self, context: str) -> PositionPuzzle:
        return read_zebra(context)

    @cached_property
    def few_shot(self) -> tuple[str, str]:  # type: ignore[override]
        """A solved three-house puzzle (made on first use: it needs Z3)."""
        [example] = self.generate(1, seed=-1, houses=3, characteristics=2)
        payload = example.payload
        return (
            "\n".join([payload["context"], payload["question"], *payload["options"]]),
            self.oracle(example, "gold", 0),
        )

    def shown_context(self, context: str) -> str:
        """The whole puzzle: its listing of values is needed to read the clues."""
        return context
