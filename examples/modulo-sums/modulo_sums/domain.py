"""The Domain class: generate, prompt, parse, check, render, critique (and an oracle)."""

from __future__ import annotations

import random
import re
from typing import Any

from modulo.model import AnswerVerdict, ChatMessage, Instance, Step, StepVerdict, Trace, Verdicts
from modulo_sums.verifier import check_steps

STEP = re.compile(r"step\s*\d+\s*:\s*(-?\d+)\s*\+\s*(-?\d+)\s*=\s*(-?\d+)", re.IGNORECASE)
ANSWER = re.compile(r"answer\s*:\s*(-?\d+)", re.IGNORECASE)


class SumsDomain:
    """Add a list of integers one number at a time."""

    name = "sums"
    description = "add integers step by step (worked example of a third-party domain)"
    oracle_variants = ("exact", "arithmetic-slip")

    def generate(self, count: int, seed: int, length: int = 4, **params: Any) -> list[Instance]:
        if params:
            raise ValueError(f"unknown sums params {sorted(params)}; known: length")
        rng = random.Random(seed)
        return [
            Instance(
                domain=self.name,
                id=f"sums-{seed}-{k}",
                seed=seed,
                difficulty={"length": length},
                payload={"numbers": [rng.randint(1, 99) for _ in range(length)]},
            )
            for k in range(count)
        ]

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        numbers = " ".join(map(str, instance.payload["numbers"]))
        return [
            ChatMessage(
                role="user",
                content=(
                    f"Add these numbers one at a time: {numbers}\n"
                    "Write one line per addition as 'Step N: a + b = c', then 'Answer: total'."
                ),
            )
        ]

    def parse(self, text: str, instance: Instance) -> Trace:
        steps = []
        for line in text.splitlines():
            if line.strip().lower().startswith("step"):
                match = STEP.search(line)
                parsed = [int(g) for g in match.groups()] if match else None
                steps.append(Step(index=len(steps), text=line.strip(), parsed=parsed))
        answer = ANSWER.search(text)
        return Trace(
            steps=steps,
            answer=int(answer.group(1)) if answer else None,
            answer_text=answer.group(0) if answer else None,
        )

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        numbers = instance.payload["numbers"]
        claims = [tuple(s.parsed) if s.parsed else None for s in trace.steps]
        steps = check_steps(numbers, claims)  # type: ignore[arg-type]
        complete = len(trace.steps) == len(numbers) - 1
        end = StepVerdict(
            index=len(steps),
            status="valid" if complete else "invalid",
            rule=None if complete else "sums.length",
            message="" if complete else f"{len(steps)} steps for {len(numbers)} numbers",
        )
        if trace.answer is None:
            answer = AnswerVerdict(status="unparsed", message="no 'Answer: N' line")
        elif trace.answer == sum(numbers):
            answer = AnswerVerdict(status="correct")
        else:
            answer = AnswerVerdict(status="incorrect", message=f"the sum is {sum(numbers)}")
        return Verdicts(steps=steps, trace_checks=[end], answer=answer)

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        lines = [" + ".join(map(str, instance.payload["numbers"]))]
        lines += [s.text for s in trace.steps] if trace else []
        return "\n".join(lines)

    def critique(self, verdicts: Verdicts) -> str:
        wrong = [f"step {v.index + 1}: {v.message}" for v in verdicts.steps if v.status != "valid"]
        return "Fix these steps and answer again:\n" + "\n".join(wrong or [verdicts.answer.message])

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        numbers = instance.payload["numbers"]
        slip = random.Random(seed).randrange(len(numbers) - 1) if variant == "arithmetic-slip" else -1
        lines, total = [], numbers[0]
        for k, n in enumerate(numbers[1:]):
            claimed = total + n + (1 if k == slip else 0)
            lines.append(f"Step {k + 1}: {total} + {n} = {claimed}")
            total = claimed
        return "\n".join([*lines, f"Answer: {total}"])
