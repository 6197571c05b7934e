"""Same config -> byte-identical instances, prompts, oracle texts, traces and verdicts, in fresh processes
with different hash seeds, and whatever ran before in the process (issue 12, item 4).

Each run is `tests/determinism_probe.py` in a subprocess; its JSON lines are compared byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = ROOT / "tests" / "determinism_probe.py"
DOMAINS = ("blocksworld", "pddl", "maze", "deduction", "ordering", "zebra")


def _runs(runs: list[tuple[int, list[str]]]) -> list[dict[str, str]]:
    """Each (PYTHONHASHSEED, cases) run in a fresh process: case -> its JSON line."""

    def run(hash_seed: int, cases: list[str]) -> dict[str, str]:
        env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
        done = subprocess.run(
            [sys.executable, str(PROBE), *cases], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
        lines = done.stdout.splitlines()
        assert len(lines) == len(cases)
        return dict(zip(cases, lines, strict=True))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda r: run(*r), runs))


def _differences(case: str, outputs: list[str]) -> list[str]:
    """Empty if all outputs are equal, else where the first differing one first differs."""
    other = next((o for o in outputs if o != outputs[0]), None)
    if other is None:
        return []
    return [f"{case}: runs differ, first at {_first_difference(json.loads(outputs[0]), json.loads(other))}"]


def _first_difference(a: object, b: object, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            if a.get(key) != b.get(key):
                return _first_difference(a[key], b.get(key), f"{path}/{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:300]!r} != {str(b)[:300]!r}"


def test_every_domain_is_byte_identical_across_hash_seeds_and_earlier_work() -> None:
    """Every built-in domain in two processes with different hash seeds; zebra and ordering also alone and
    after other seeds' instances of every domain (Z3 supports once depended on what was solved before)."""
    cases = [f"{d}:2" for d in DOMAINS]
    warm = ["warm+zebra:2", "warm+ordering:2"]
    one, two, alone, after = _runs([(1, cases), (2, cases), (3, ["zebra:2"]), (4, warm)])
    differences = [d for case in cases for d in _differences(case, [one[case], two[case]])]
    differences += _differences(
        "zebra alone, first, after other work", [alone["zebra:2"], one["zebra:2"], after["warm+zebra:2"]]
    )
    differences += _differences("ordering after other work", [one["ordering:2"], after["warm+ordering:2"]])
    assert differences == []


def test_pddl_objects_and_actions_come_in_name_order() -> None:
    """The PDDL parser holds objects and actions in frozensets (order by string hash): the problem lists
    them by name, so grounding, search and messages do not depend on the hash seed."""
    from modulo.verifiers.pddl_load import load_problem
    from modulo.verifiers.strips import ground

    domain = (ROOT / "domains" / "planning" / "blocksworld.pddl").read_text(encoding="utf-8")
    names = [f"b{k:02d}" for k in range(20)]
    problem = load_problem(
        domain,
        f"(define (problem order) (:domain blocksworld-4ops) (:objects {' '.join(reversed(names))})"
        f" (:init (handempty) {' '.join(f'(ontable {n}) (clear {n})' for n in names)})"
        " (:goal (and (on b00 b01))))",
    )
    assert list(problem.objects) == names
    assert list(problem.actions) == ["pick-up", "put-down", "stack", "unstack"]
    assert ground(problem, ("fly", "b00")) == (
        "strips.unknown_action",
        "(fly b00): no action 'fly' (the domain has pick-up, put-down, stack, unstack)",
    )


@pytest.mark.slow
def test_larger_sweep_is_byte_identical() -> None:
    """Larger instances (greedy Blocksworld plans, Searchformer mazes, open-world deduction, 4-house zebra
    puzzles) in three hash seeds, and the logic domains after other work."""
    cases = [f"{d}:2:large" for d in DOMAINS if d != "pddl"]
    warm = [f"warm+{d}:2:large" for d in ("zebra", "ordering", "deduction")]
    runs = _runs([(11, cases), (12, cases), (13, cases), (14, warm)])
    differences = [d for case in cases for d in _differences(case, [run[case] for run in runs[:3]])]
    for case in warm:
        differences += _differences(case, [runs[0][case.removeprefix("warm+")], runs[3][case]])
    assert differences == []


def test_fast_downward_out_of_time_refuses_the_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    """An optimal length Fast Downward finds only on a fast, idle machine would make instances depend on
    the machine: running out of `timeout` is an error, not a silent 'unknown'."""
    pytest.importorskip("up_fast_downward")
    from modulo.domains.planning import planner
    from modulo.domains.planning.search import optimal_length
    from modulo.registry import get_domain
    from modulo.verifiers.pddl_load import load_problem

    monkeypatch.setattr(planner, "BFS_BUDGET", 1)  # past breadth-first search at once: Fast Downward decides
    with pytest.raises(ValueError, match="Fast Downward ran out of .* raise `timeout`"):
        get_domain("blocksworld").generate(1, seed=0, blocks=4, timeout=0.001)
    [instance] = get_domain("blocksworld").generate(1, seed=0, blocks=4, timeout=30)
    problem = load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"])
    assert instance.payload["optimal_length"] == len(instance.payload["plan"]) == optimal_length(problem)


def test_timeout_zero_leaves_the_optimum_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """`timeout = 0`: no Fast Downward, so the same instances on every machine, with or without it."""
    from modulo.domains.planning import planner
    from modulo.registry import get_domain
    from modulo.verifiers.pddl_load import load_problem
    from modulo.verifiers.strips import validate_plan

    monkeypatch.setattr(planner, "BFS_BUDGET", 1)
    [instance] = get_domain("blocksworld").generate(1, seed=0, blocks=5, timeout=0)
    payload = instance.payload
    assert payload["optimal_length"] is None
    problem = load_problem(payload["domain_pddl"], payload["problem_pddl"])
    assert validate_plan(problem, [tuple(a) for a in payload["plan"]]).valid
