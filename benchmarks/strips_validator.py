"""Benchmark: STRIPS plan validation speed against baselines measured in the same run.

Run `python benchmarks/strips_validator.py [--repeats R] [--long N] [--length L] [--seed S] [--data DIR]`.

Workloads (Blocksworld, 4 operators):
- `planbench`: PlanBench's 500 `generated_basic` problems, each with its ground-truth plan and GPT-4's
  zero-shot plan (short plans; both verdicts occur);
- `long`: N random problems of 8 blocks, each with a random-walk plan of L steps whose goal is the walk's
  final state (valid) and the same plan with one step replaced by an inapplicable one (invalid).

Validators:
- `ours`: `validate_plan` (per-step diagnostics in the true and the claimed state), its grounding cache
  cleared before every round (`ours-warm` fills it, untimed, first: a validator re-checking the same steps);
  `ours-verdict`: `final_state` and the goal, the verdict without per-step reports (cache cleared;
  `ours-verdict-warm` keeps it). The `-warm` runs are the like-for-like comparison with `lean`, whose
  ground actions are also computed before timing;
- `lean`: a lean progression written here, the honest speed baseline: every ground action precomputed
  (frozensets of preconditions, adds, deletes), states as frozensets, verdict only, stop at the first
  inapplicable step (Blocksworld has only positive preconditions);
- `up`: unified-planning's `SequentialPlanValidator` (if installed): the cross-check of every verdict.

Parsing excluded: problems and plans are read once; only validation is timed. Parsing included: each
round reads every problem and plan text again (`ours-parse`: `load_problem` with its in-memory cache
empty; `up-parse`: `PDDLReader`). Each round runs the validators in a shuffled order (interleaved; the
garbage collector off while one is timed, as `timeit` does), over R rounds; the report gives actions/s
and time ratios per round as median [min - max].
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from modulo.domains.planning.generator import blocksworld_problem
from modulo.verifiers import pddl_load, strips
from modulo.verifiers.strips import PlanAction, StripsProblem

BLOCKS = (resources.files("modulo.domains.planning") / "blocksworld.pddl").read_text(encoding="utf-8")
PLANBENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "planbench"

Lean = dict[PlanAction, tuple[frozenset[strips.Atom], frozenset[strips.Atom], frozenset[strips.Atom]]]


@dataclass
class Case:
    """One problem with the plans to validate, as text and as read."""

    domain: str
    problem_text: str
    plan_texts: list[str]
    problem: StripsProblem
    plans: list[list[PlanAction]]
    lean: Lean
    up: Any = None
    up_plans: Any = None


def read_plan(text: str) -> list[PlanAction]:
    """Plan text, one `(action arg ...)` per line, as steps."""
    return [tuple(line.strip().strip("()").lower().split()) for line in text.splitlines() if line.strip()]


def lean_table(problem: StripsProblem) -> Lean:
    """Every ground action of an untyped, positive-precondition problem: step -> (pre, add, delete)."""
    table: Lean = {}
    objects = list(problem.objects)
    for schema in problem.actions.values():
        if any(not c.positive or c.atom[0] == "=" for c in schema.pre):
            raise ValueError("the lean baseline handles positive preconditions only")
        for args in itertools.product(objects, repeat=len(schema.params)):
            bind = dict(zip(schema.params, args, strict=True))

            def sub(atom: strips.Atom, bind: dict[str, str] = bind) -> strips.Atom:
                return tuple(bind.get(t, t) for t in atom)

            table[(schema.name, *args)] = (
                frozenset(sub(c.atom) for c in schema.pre),
                frozenset(sub(a) for a in schema.add),
                frozenset(sub(a) for a in schema.delete),
            )
    return table


def lean_valid(
    table: Lean, init: frozenset[strips.Atom], goal: frozenset[strips.Atom], plan: Sequence[PlanAction]
) -> bool:
    state = init
    for step in plan:
        action = table.get(step)
        if action is None or not action[0] <= state:
            return False
        state = (state - action[2]) | action[1]
    return goal <= state


def goal_atoms(problem: StripsProblem) -> frozenset[strips.Atom]:
    return frozenset(c.atom for c in problem.goal)


def planbench_cases(root: Path) -> list[tuple[str, str, list[str]]]:
    """(domain, problem, plan texts): each problem with its ground-truth and GPT-4 zero-shot plans."""
    base = root / "llm_planning_analysis" / "instances" / "blocksworld"
    domain = (base / "generated_domain.pddl").read_text(encoding="utf-8")
    results = json.loads(
        (root / "results" / "blocksworld__gpt-4_chat__zero_shot.json").read_text(encoding="utf-8")
    )
    out = []
    for item in results["instances"]:
        problem = (base / "generated_basic" / f"instance-{item['instance_id']}.pddl").read_text(
            encoding="utf-8"
        )
        plans = [item["ground_truth_plan"], item["extracted_llm_plan"]]
        out.append((domain, problem, ["\n".join(p) if isinstance(p, list) else str(p) for p in plans]))
    return out


def long_cases(count: int, length: int, rng: random.Random) -> list[tuple[str, str, list[str]]]:
    """Random-walk plans of `length` steps on 8 blocks: the walk (goal: its final state) and a broken copy."""
    out = []
    for k in range(count):
        text, _ = blocksworld_problem(8, rng, f"long{k}")
        problem = pddl_load.load_problem(BLOCKS, text)
        table = lean_table(problem)
        walk: list[PlanAction] = []
        state = problem.init
        for _ in range(length):
            walk.append(rng.choice(sorted(s for s, a in table.items() if a[0] <= state)))
            state = progress(table, state, walk[-1:])
        goal = " ".join("(" + " ".join(a) + ")" for a in sorted(state))
        text = text[: text.index("(:goal")] + f"(:goal (and {goal})))\n"
        i = length // 2
        middle = progress(table, problem.init, walk[:i])
        broken = [
            *walk[:i],
            rng.choice(sorted(s for s, a in table.items() if not a[0] <= middle)),
            *walk[i + 1 :],
        ]
        out.append((BLOCKS, text, ["\n".join("(" + " ".join(s) + ")" for s in p) for p in (walk, broken)]))
    return out


def progress(
    table: Lean, state: frozenset[strips.Atom], plan: Sequence[PlanAction]
) -> frozenset[strips.Atom]:
    for step in plan:
        state = (state - table[step][2]) | table[step][1]
    return state


def build(raw: list[tuple[str, str, list[str]]], up: Any) -> tuple[list[Case], int]:
    """Cases read once; plans unified-planning cannot read are dropped from every validator (counted)."""
    cases, dropped = [], 0
    for domain, text, plan_texts in raw:
        problem = pddl_load.load_problem(domain, text)
        case = Case(domain, text, [], problem, [], lean_table(problem))
        if up is not None:
            case.up, case.up_plans = up.reader().parse_problem_string(domain, text), []
        for plan_text in plan_texts:
            if up is not None:
                try:
                    case.up_plans.append(up.reader().parse_plan_string(case.up, plan_text))
                except Exception:  # an unknown action or object: unified-planning cannot read the plan
                    dropped += 1
                    continue
            case.plan_texts.append(plan_text)
            case.plans.append(read_plan(plan_text))
        cases.append(case)
    return cases, dropped


class Up:
    """unified-planning, if installed."""

    def __init__(self) -> None:
        from unified_planning.engines import ValidationResultStatus
        from unified_planning.engines.plan_validator import SequentialPlanValidator
        from unified_planning.io import PDDLReader
        from unified_planning.shortcuts import get_environment

        get_environment().credits_stream = None
        self.reader, self.valid_status, self.validator = (
            PDDLReader,
            ValidationResultStatus.VALID,
            SequentialPlanValidator(),
        )

    def valid(self, problem: Any, plan: Any) -> bool:
        return bool(self.validator.validate(problem, plan).status == self.valid_status)


Verdicts = list[bool]


def run_ours(cases: list[Case], clear: bool = True) -> Verdicts:
    if clear:
        strips._steps.cache_clear()
    return [strips.validate_plan(c.problem, p).valid for c in cases for p in c.plans]


def run_verdict(cases: list[Case], clear: bool = True) -> Verdicts:
    if clear:
        strips._steps.cache_clear()
    out = []
    for c in cases:
        for p in c.plans:
            end = strips.final_state(c.problem, p)
            out.append(end is not None and not strips.unmet(c.problem.goal, end))
    return out


def run_lean(cases: list[Case]) -> Verdicts:
    return [lean_valid(c.lean, c.problem.init, goal_atoms(c.problem), p) for c in cases for p in c.plans]


def run_ours_parse(cases: list[Case]) -> Verdicts:
    pddl_load.load_problem.cache_clear()
    pddl_load._domain.cache_clear()
    strips._steps.cache_clear()
    out = []
    for c in cases:
        problem = pddl_load.load_problem(c.domain, c.problem_text)
        out += [strips.validate_plan(problem, read_plan(t)).valid for t in c.plan_texts]
    return out


def run_up_parse(up: Up, cases: list[Case]) -> Verdicts:
    out = []
    for c in cases:
        reader = up.reader()
        problem = reader.parse_problem_string(c.domain, c.problem_text)
        out += [up.valid(problem, reader.parse_plan_string(problem, t)) for t in c.plan_texts]
    return out


def spread(values: list[float], fmt: str) -> str:
    return (
        f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)} - {format(max(values), fmt)}]"
    )


def measure(name: str, cases: list[Case], up: Up | None, repeats: int, rng: random.Random) -> None:
    actions = sum(len(p) for c in cases for p in c.plans)
    plans = sum(len(c.plans) for c in cases)
    runs: dict[str, Callable[[], Verdicts]] = {
        "ours": lambda: run_ours(cases),
        "ours-warm": lambda: run_ours(cases, clear=False),
        "ours-verdict": lambda: run_verdict(cases),
        "ours-verdict-warm": lambda: run_verdict(cases, clear=False),
        "lean": lambda: run_lean(cases),
        "ours-parse": lambda: run_ours_parse(cases),
    }
    if up is not None:
        runs["up"] = lambda: [up.valid(c.up, p) for c in cases for p in c.up_plans]
        runs["up-parse"] = lambda: run_up_parse(up, cases)
    times: dict[str, list[float]] = {k: [] for k in runs}
    verdicts: dict[str, Verdicts] = {}
    for _ in range(repeats):
        order = list(runs)
        rng.shuffle(order)
        for key in order:
            if key.endswith("-warm"):  # fill the step cache (untimed): an earlier run may have cleared it
                runs[key]()
            gc.collect()
            gc.disable()  # as timeit does: no collector pauses charged to whichever run triggers them
            started = time.perf_counter()
            verdicts[key] = runs[key]()
            times[key].append(time.perf_counter() - started)
            gc.enable()
    valid = sum(verdicts["lean"])
    print(f"\n== {name}: {plans} plans ({valid} valid), {actions} actions, {repeats} rounds ==")
    for key, values in times.items():
        print(f"{key:16} {spread([actions / t for t in values], '12,.0f')} actions/s")
    pairs = [
        ("ours", "lean"),
        ("ours-warm", "lean"),
        ("ours-verdict", "lean"),
        ("ours-verdict-warm", "lean"),
        ("ours", "up"),
        ("ours-parse", "up-parse"),
    ]
    for a, b in pairs:
        if a in times and b in times:
            ratios = [tb / ta for ta, tb in zip(times[a], times[b], strict=True)]
            print(f"speed {a} / {b}: {spread(ratios, '.2f')}x")
    for key, seen in verdicts.items():
        agree = sum(x == y for x, y in zip(seen, verdicts["lean"], strict=True))
        print(f"verdicts {key} vs lean: {agree}/{len(seen)} agree")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--long", type=int, default=10, help="random long problems (two plans each)")
    parser.add_argument("--length", type=int, default=1000, help="steps of each long plan")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=PLANBENCH, help="the PlanBench data folder")
    args = parser.parse_args()
    try:
        up: Up | None = Up()
    except ImportError:
        up = None
        print("unified-planning is not installed: no cross-check")
    rng = random.Random(args.seed)
    if args.data.is_dir():
        cases, dropped = build(planbench_cases(args.data), up)
        print(f"planbench: {dropped} plan(s) unified-planning cannot read left out")
        measure("planbench", cases, up, args.repeats, rng)
    else:
        print(f"no PlanBench data at {args.data}: planbench workload skipped")
    cases, _ = build(long_cases(args.long, args.length, rng), up)
    measure(f"long ({args.length} steps)", cases, up, args.repeats, rng)


if __name__ == "__main__":
    main()
