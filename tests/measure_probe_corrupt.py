"""Measure the verified-corruption and swapped-trace probes on the embedded model (not a test: run it).

    .venv/bin/python tests/measure_probe_corrupt.py [COUNT]

Base samples are exact oracle answers to the domains' prompts (COUNT per domain, default 4; seed 21): maze
5x5 (lines), Blocksworld 3 blocks, deduction (PrOntoQA-style, generated). Verified corruption at 4 positions
per sample; swapped trace on maze and deduction. Prints the `all` group of every metric."""

from __future__ import annotations

import sys
import time
from typing import Any

from generator_contract import no_domains
from probe_samples import sample_of

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.maze.domain import MazeDomain
from modulo.domains.planning.domain import BlocksworldDomain
from modulo.generators.local import LocalGenerator
from modulo.probes.base import Probe, ProbeContext, SampleItems
from modulo.probes.corruption import VerifiedCorruption
from modulo.probes.swapped import SwappedTrace


def run(
    model: Any, probe: Probe, domain: Any, samples: list[Any], params: dict[str, Any]
) -> list[SampleItems]:
    out = []
    for sample in samples:
        context = ProbeContext(params=params, seed=0, others=samples)
        items = []
        for intervention in probe.plan(sample, domain, context, {}):
            send = model.continue_generation if intervention.kind == "continue" else model.generate
            [generation] = send([intervention.request])
            items.append(probe.judge(sample, domain, intervention, generation.text, generation.error))
        verdicts = sample.verdicts
        out.append(
            SampleItems(
                sample.id,
                sample.instance.domain,
                verdicts.trace_valid,
                verdicts.answer.status == "correct",
                len(sample.trace.steps),
                items,
            )
        )
    return out


def show(label: str, probe: Probe, results: list[SampleItems]) -> None:
    for m in probe.summarise(results, {"bins": 4}):
        if m.group == "all":
            value = "undefined" if m.value is None else f"{m.value:.3f} [{m.low:.3f}, {m.high:.3f}]"
            print(f"{label:22} {m.name:42} {value:26} n={m.n}", flush=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    model = LocalGenerator({"n_ctx": 4096}, no_domains)
    started = time.time()
    maze, bw, logic = MazeDomain(), BlocksworldDomain(), DeductionDomain()
    sets = {
        "maze": (maze, maze.generate(count, 21, width=5), 300),
        "blocksworld": (bw, bw.generate(count, 21, blocks=3, timeout=0), 120),
        "deduction": (logic, logic.generate(count, 21), 150),
    }
    samples = {
        name: [
            sample_of(d, i, d.oracle(i, "gold" if name == "deduction" else "exact", 0), f"{name}{k}")
            for k, i in enumerate(instances)
        ]
        for name, (d, instances, _) in sets.items()
    }
    for name, (domain, _, tokens) in sets.items():
        probe = VerifiedCorruption()
        show(
            f"{name} corruption",
            probe,
            run(model, probe, domain, samples[name], {"positions": 4, "max_tokens": tokens}),
        )
    for name in ("maze", "deduction"):
        domain, _, tokens = sets[name]
        probe = SwappedTrace()
        show(f"{name} swapped", probe, run(model, probe, domain, samples[name], {"max_tokens": tokens}))
    print(f"seconds: {time.time() - started:.0f}")


if __name__ == "__main__":
    main()
