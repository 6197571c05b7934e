"""Benchmark: our STRIPS plan validator vs unified-planning's SequentialPlanValidator.

Run `python benchmarks/strips_validator.py [--problems N] [--blocks B] [--seed S]` (needs the dev
extra unified-planning). Both validate the same valid and mutated Blocksworld plans on already
parsed problems; prints actions per second for each, the ratio ours/theirs of time (target < 1.0)
and whether the verdicts agree on every plan.
"""

from __future__ import annotations

import argparse
import random
import time
from importlib import resources

from modulo.domains.planning.generator import blocksworld_problem
from modulo.verifiers.pddl_load import load_problem
from modulo.verifiers.strips import PlanAction, validate_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from unified_planning.engines import ValidationResultStatus
    from unified_planning.engines.plan_validator import SequentialPlanValidator
    from unified_planning.io import PDDLReader
    from unified_planning.shortcuts import get_environment

    get_environment().credits_stream = None
    domain = (resources.files("modulo.domains.planning") / "blocksworld.pddl").read_text(encoding="utf-8")
    rng = random.Random(args.seed)
    cases = []
    for k in range(args.problems):
        text, plan = blocksworld_problem(args.blocks, rng, f"bench{k}")
        swapped: list[PlanAction] = plan[:]
        i = rng.randrange(len(plan) - 1)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        reader = PDDLReader()
        up_problem = reader.parse_problem_string(domain, text)
        for candidate in (plan, swapped):
            up_plan = reader.parse_plan_string(
                up_problem, "\n".join("(" + " ".join(a) + ")" for a in candidate)
            )
            cases.append((load_problem(domain, text), candidate, up_problem, up_plan))

    actions = sum(len(c[1]) for c in cases)
    started = time.perf_counter()
    ours = [validate_plan(problem, plan).valid for problem, plan, _, _ in cases]
    ours_time = time.perf_counter() - started
    validator = SequentialPlanValidator()
    started = time.perf_counter()
    theirs = [validator.validate(p, plan).status == ValidationResultStatus.VALID for _, _, p, plan in cases]
    theirs_time = time.perf_counter() - started
    print(f"plans: {len(cases)}, actions: {actions}")
    print(f"ours:             {actions / ours_time:12,.0f} actions/s")
    print(f"unified-planning: {actions / theirs_time:12,.0f} actions/s")
    print(f"ratio ours/theirs (time): {ours_time / theirs_time:.4f}")
    print(f"verdicts agree: {sum(a == b for a, b in zip(ours, theirs, strict=True))}/{len(cases)}")


if __name__ == "__main__":
    main()
