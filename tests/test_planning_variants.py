"""Other PlanBench domains from their templates alone: Mystery Blocksworld and Logistics.

Mystery Blocksworld is built at test time by renaming the shared PlanBench Blocksworld domain and
instances the way PlanBench's mystery config does; its results file is imported end to end through
the CLI, with the recorded verdicts computed independently by unified-planning. Logistics (PlanBench's
object naming `l0-1` -> "location_0_1", type predicates without templates, load-truck and
load-airplane sharing "load {} into {} at {}") uses a domain and problems written here.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from shared_data import SHARED_DATA

from modulo.domains.planning.domain import PddlDomain, reference_plan
from modulo.domains.planning.importer import PlanBenchImporter
from modulo.domains.planning.templates import Templates
from modulo.model import Instance, Verdicts
from modulo.protocols import ImportedItem
from modulo.store import Store
from modulo.verifiers.pddl_load import load_problem
from modulo.verifiers.strips import PlanAction, ground_all

DATA = SHARED_DATA / "planbench"
BLOCKS = DATA / "llm_planning_analysis" / "instances" / "blocksworld"
DOMAIN = PddlDomain()

# PlanBench's plan-bench/configs/mystery_blocksworld.yaml: the renaming and the template keys
MYSTERY_NAMES = {
    "pick-up": "attack",
    "put-down": "succumb",
    "stack": "overcome",
    "unstack": "feast",
    "ontable": "planet",
    "clear": "province",
    "handempty": "harmony",
    "on": "craves",
    "holding": "pain",
    "blocksworld-4ops": "mystery-4ops",
}
MYSTERY_CONFIG = {
    "domain_name": "mystery_blocksworld",
    "domain_intro": "I am playing with a set of objects. Here are the actions I can do ...",
    "actions": {
        "attack": "attack {}",
        "succumb": "succumb {}",
        "overcome": "overcome {} from {}",
        "feast": "feast {} from {}",
    },
    "predicates": {
        "planet": "planet {}",
        "province": "province {}",
        "harmony": "harmony",
        "craves": "{} craves {}",
        "pain": "pain {}",
    },
    "encoded_objects": {c: f"object {c}" for c in "abcdefghijkl"},
}
# how a model might write each action, independent of the templates
MYSTERY_PHRASES = {
    "attack": ["Attack object {}", "attack object {}"],
    "succumb": ["Succumb object {}", "succumb object {}"],
    "overcome": ["Overcome object {} from object {}", "overcome object {} from object {}"],
    "feast": ["Feast object {} from object {}", "feast object {} from object {}"],
}

# the IPC STRIPS Logistics domain (upper-case names, types as predicates), as PlanBench uses it
LOGISTICS = """(define (domain logistics-strips)
  (:requirements :strips)
  (:predicates (OBJ ?obj) (TRUCK ?truck) (LOCATION ?loc) (AIRPLANE ?airplane) (CITY ?city)
    (AIRPORT ?airport) (at ?obj ?loc) (in ?obj1 ?obj2) (in-city ?obj ?city))
  (:action LOAD-TRUCK :parameters (?obj ?truck ?loc)
    :precondition (and (OBJ ?obj) (TRUCK ?truck) (LOCATION ?loc) (at ?truck ?loc) (at ?obj ?loc))
    :effect (and (not (at ?obj ?loc)) (in ?obj ?truck)))
  (:action LOAD-AIRPLANE :parameters (?obj ?airplane ?loc)
    :precondition (and (OBJ ?obj) (AIRPLANE ?airplane) (LOCATION ?loc) (at ?obj ?loc) (at ?airplane ?loc))
    :effect (and (not (at ?obj ?loc)) (in ?obj ?airplane)))
  (:action UNLOAD-TRUCK :parameters (?obj ?truck ?loc)
    :precondition (and (OBJ ?obj) (TRUCK ?truck) (LOCATION ?loc) (at ?truck ?loc) (in ?obj ?truck))
    :effect (and (not (in ?obj ?truck)) (at ?obj ?loc)))
  (:action UNLOAD-AIRPLANE :parameters (?obj ?airplane ?loc)
    :precondition (and (OBJ ?obj) (AIRPLANE ?airplane) (LOCATION ?loc) (in ?obj ?airplane)
      (at ?airplane ?loc))
    :effect (and (not (in ?obj ?airplane)) (at ?obj ?loc)))
  (:action DRIVE-TRUCK :parameters (?truck ?loc-from ?loc-to ?city)
    :precondition (and (TRUCK ?truck) (LOCATION ?loc-from) (LOCATION ?loc-to) (CITY ?city)
      (at ?truck ?loc-from) (in-city ?loc-from ?city) (in-city ?loc-to ?city))
    :effect (and (not (at ?truck ?loc-from)) (at ?truck ?loc-to)))
  (:action FLY-AIRPLANE :parameters (?airplane ?loc-from ?loc-to)
    :precondition (and (AIRPLANE ?airplane) (AIRPORT ?loc-from) (AIRPORT ?loc-to) (at ?airplane ?loc-from))
    :effect (and (not (at ?airplane ?loc-from)) (at ?airplane ?loc-to))))
"""
# the template keys of PlanBench's llm_planning_analysis/configs/logistics.yaml
LOGISTICS_CONFIG = """
domain_name: logistics
actions:
  {load-truck: "load {} into {} at {}", load-airplane: "load {} into {} at {}",
   unload-truck: "unload {} from {} at {}", unload-airplane: "unload {} from {} at {}",
   drive-truck: "drive {} from {} to {} in {}", fly-airplane: "fly {} from {} to {}"}
predicates:
  {"airplane": "", "airport": "{} is an airport", "city": "", "location": "", "obj": "", "truck": "",
   "at": "{} is at {}", "in": "{} is in {}", "in-city": "{} is in the city {}"}
encoded_objects:
  {"p": "package_{}", "t": "truck_{}", "a": "airplane_{}", "l": "location_{}_{}", "c": "city_{}"}
"""


def _logistics_problem(name: str, packages: dict[str, tuple[str, str]], planes: dict[str, str]) -> str:
    """Two cities with two locations each (l<c>-0 the airport), a truck per city at its airport;
    `packages`: package -> (start, goal location); `planes`: airplane -> airport."""
    cities, locations = ["c0", "c1"], ["l0-0", "l0-1", "l1-0", "l1-1"]
    init = [f"(CITY {c}) (TRUCK t{c[1]}) (at t{c[1]} l{c[1]}-0) (AIRPORT l{c[1]}-0)" for c in cities]
    init += [f"(LOCATION {loc}) (in-city {loc} c{loc[1]})" for loc in locations]
    init += [f"(OBJ {p}) (at {p} {start})" for p, (start, _) in packages.items()]
    init += [f"(AIRPLANE {a}) (at {a} {at})" for a, at in planes.items()]
    goal = " ".join(f"(at {p} {end})" for p, (_, end) in packages.items())
    objects = " ".join([*planes, *cities, "t0", "t1", *locations, *packages])
    return (
        f"(define (problem {name}) (:domain logistics-strips) (:objects {objects})\n"
        f"  (:init {' '.join(init)})\n  (:goal (and {goal})))\n"
    )


LOGISTICS_PROBLEMS = [
    _logistics_problem("log-1", {"p0": ("l0-1", "l1-1")}, {"a0": "l0-0"}),
    _logistics_problem("log-2", {"p0": ("l0-1", "l1-0"), "p1": ("l1-1", "l0-0")}, {"a0": "l1-0"}),
    _logistics_problem(
        "log-3", {"p0": ("l0-0", "l0-1"), "p1": ("l1-0", "l0-1")}, {"a0": "l0-0", "a1": "l1-0"}
    ),
]


def _pddl(plan: list[PlanAction]) -> str:
    return "\n".join("(" + " ".join(a) + ")" for a in plan)


def _up_valid(domain_text: str, problem_text: str, plans: list[list[PlanAction]]) -> list[bool]:
    """unified-planning's verdicts on plans: the independent judge of the recorded `correct`."""
    from unified_planning.engines import ValidationResultStatus
    from unified_planning.engines.plan_validator import SequentialPlanValidator
    from unified_planning.io import PDDLReader
    from unified_planning.shortcuts import get_environment

    get_environment().credits_stream = None
    reader = PDDLReader()
    problem = reader.parse_problem_string(domain_text, problem_text)
    validator = SequentialPlanValidator()
    return [
        validator.validate(problem, reader.parse_plan_string(problem, _pddl(plan))).status
        == ValidationResultStatus.VALID
        for plan in plans
    ]


def _first_rule(verdicts: Verdicts) -> str | None:
    checks = [*verdicts.steps, *verdicts.trace_checks]
    return None if verdicts.first_error is None else checks[verdicts.first_error].rule


# Mystery Blocksworld -------------------------------------------------------------------------------


def _mystery(text: str) -> str:
    return re.sub(r"[^\s()]+", lambda m: MYSTERY_NAMES.get(m.group(0), m.group(0)), text)


def _build_mystery(root: Path, count: int) -> dict[str, Any]:
    """The mystery domain file, the first `count` instances renamed, the config, and the instances."""
    if not BLOCKS.is_dir():
        pytest.skip(f"PlanBench reference data not found at {BLOCKS}")
    (root / "instances").mkdir()
    domain_file = root / "generated_domain.pddl"
    domain_file.write_text(_mystery((BLOCKS / "generated_domain.pddl").read_text()))
    problem_files = []
    for k in range(1, count + 1):
        path = root / "instances" / f"instance-{k}.pddl"
        path.write_text(_mystery((BLOCKS / "generated_basic" / f"instance-{k}.pddl").read_text()))
        problem_files.append(str(path))
    config = root / "mystery_blocksworld.yaml"
    config.write_text(yaml.safe_dump(MYSTERY_CONFIG))
    instances = DOMAIN.generate(
        count, 0, domain_file=str(domain_file), problem_files=problem_files, config=str(config)
    )
    return {"root": root, "domain": domain_file, "config": config, "instances": instances}


def _handwritten(plan: list[PlanAction], rng: random.Random) -> str:
    """A plan in mystery English with a model's surface variety: preamble, numbering, case, periods."""
    lines = ["Here is my plan to reach the goal:", ""]
    for k, (name, *args) in enumerate(plan):
        phrase = rng.choice(MYSTERY_PHRASES[name]).format(*args)
        lines.append(rng.choice([f"{k + 1}. {phrase}.", f"- {phrase}", f"Step {k + 1}: {phrase}", phrase]))
    return "\n".join([*lines, "[PLAN END]"])


def _mutations(plan: list[PlanAction], instance: Instance, rng: random.Random) -> list[list[PlanAction]]:
    """Hand-made wrong (or, by chance, still valid) plans: last step dropped, two steps swapped,
    one step replaced, the last step repeated."""
    out = []
    if len(plan) > 1:
        k = rng.randrange(len(plan) - 1)
        out += [plan[:-1], [*plan[:k], plan[k + 1], plan[k], *plan[k + 2 :]]]
    actions = ground_all(load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"]))
    other = rng.choice(actions)
    k = rng.randrange(len(plan))
    out.append([*plan[:k], (other.name, *other.args), *plan[k + 1 :]])
    out.append([*plan, plan[-1]])
    return out


def _mystery_records(instances: list[Instance]) -> list[dict[str, Any]]:
    """PlanBench-format records: oracle texts (plan and state-tracking) and hand-written ones, each
    with `correct` from unified-planning on the intended plan."""
    rng = random.Random(7)
    records = []
    for number, instance in enumerate(instances, start=1):
        problem = load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"])
        plan = reference_plan(problem)
        texts = [
            (DOMAIN.oracle(instance, "exact", 0), plan),
            (DOMAIN.oracle(instance, "state-tracking", 0), plan),
            (_handwritten(plan, rng), plan),
            *[(_handwritten(m, rng), m) for m in _mutations(plan, instance, rng)],
        ]
        verdicts = _up_valid(
            instance.payload["domain_pddl"], instance.payload["problem_pddl"], [p for _, p in texts]
        )
        for (text, intended), correct in zip(texts, verdicts, strict=True):
            records.append(
                {
                    "instance_id": number,
                    "llm_raw_response": text,
                    "extracted_llm_plan": _pddl(intended),
                    "correct": correct,
                }
            )
    return records


@pytest.mark.parametrize("count", [10, pytest.param(100, marks=pytest.mark.slow)])
def test_mystery_import_through_the_cli_agrees(tmp_path: Path, count: int) -> None:
    pytest.importorskip("unified_planning", reason="unified-planning (dev extra) judges the records")
    mystery = _build_mystery(tmp_path, count)
    records = _mystery_records(mystery["instances"])
    assert 0 < sum(r["correct"] for r in records) < len(records)
    results = mystery["root"] / "mystery_blocksworld__oracle__mixed.json"
    results.write_text(json.dumps({"engine": "oracle", "prompt_type": "mixed", "instances": records}))
    store = mystery["root"] / "runs.sqlite"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "modulo", "import", "planbench", str(results)),
            *("--domain-file", str(mystery["domain"])),
            *("--instances", str(mystery["root"] / "instances")),
            *("--config", str(mystery["config"])),
            *("--json", "--store", str(store)),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["disagreements"] == []
    assert (summary["agree"], summary["disagree"], summary["unparsed"]) == (len(records), 0, 0)
    with Store(store) as db:
        [run] = db.runs()
        tracking = [s for s in db.samples(run.id) if "Action:" in s.text]
    assert len(tracking) == count
    assert all(s.verdicts is not None and s.verdicts.trace_valid for s in tracking)


def test_mystery_prompts_and_state_tracking_in_mystery_english(tmp_path: Path) -> None:
    mystery = _build_mystery(tmp_path, 8)
    instance = mystery["instances"][0]
    prompt = DOMAIN.prompt(instance)[0].content
    assert prompt.startswith("I am playing with a set of objects")
    assert "object b craves object c" in prompt and "harmony" in prompt and "block" not in prompt
    for seed, instance in enumerate(mystery["instances"]):
        text = DOMAIN.oracle(instance, "state-tracking", seed)
        assert "Action: feast object" in text or "Action: attack object" in text
        trace = DOMAIN.parse(text, instance)
        assert all(s.parsed and not s.parsed["unread"] for s in trace.steps)
        assert DOMAIN.check(instance, trace).trace_valid
        corrupted = DOMAIN.check(
            instance, DOMAIN.parse(DOMAIN.oracle(instance, "state-error", seed), instance)
        )
        assert _first_rule(corrupted) == "strips.state_missing"


# Logistics -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def logistics(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Instance]]:
    root = tmp_path_factory.mktemp("logistics")
    (root / "instances").mkdir()
    (root / "generated_domain.pddl").write_text(LOGISTICS)
    (root / "logistics.yaml").write_text(LOGISTICS_CONFIG)
    files = []
    for k, text in enumerate(LOGISTICS_PROBLEMS, start=1):
        files.append(root / "instances" / f"instance-{k}.pddl")
        files[-1].write_text(text)
    instances = DOMAIN.generate(
        len(files),
        0,
        domain_file=str(root / "generated_domain.pddl"),
        problem_files=[str(f) for f in files],
        config=str(root / "logistics.yaml"),
    )
    return root, instances


def test_logistics_object_names_from_encoded_patterns() -> None:
    config = yaml.safe_load(LOGISTICS_CONFIG)
    templates = Templates(config, ["p0", "p12", "t1", "a0", "l0-1", "l12-3", "c1", "depot"])
    assert templates.names == {
        "p0": "package_0",
        "p12": "package_12",
        "t1": "truck_1",
        "a0": "airplane_0",
        "l0-1": "location_0_1",
        "l12-3": "location_12_3",
        "c1": "city_1",
        "depot": "depot",
    }
    assert templates.facts([("truck", "t1"), ("at", "t1", "l0-1"), ("in-city", "l0-1", "c1")]) == (
        "truck_1 is at location_0_1 and location_0_1 is in the city city_1"
    )
    # a name two objects would share is ambiguous to read back: both keep their own names
    assert Templates({"actions": {}, "encoded_objects": {"x": "box", "y": "box"}}, ["x", "y"]).names == {
        "x": "x",
        "y": "y",
    }


def test_logistics_shared_templates_read_back_to_the_right_actions(
    logistics: tuple[Path, list[Instance]],
) -> None:
    _, instances = logistics
    seen = set()
    for instance in instances:
        problem = load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"])
        plan = reference_plan(problem)
        text = DOMAIN.oracle(instance, "exact", 0)
        trace = DOMAIN.parse(text, instance)
        assert [tuple(s.parsed["action"]) for s in trace.steps if s.parsed] == plan
        verdicts = DOMAIN.check(instance, trace)
        assert verdicts.trace_valid and verdicts.answer.detail == "valid-optimal"
        seen |= {a[0] for a in plan}
        tracking = DOMAIN.check(
            instance, DOMAIN.parse(DOMAIN.oracle(instance, "state-tracking", 0), instance)
        )
        assert tracking.trace_valid
    assert {"load-truck", "load-airplane", "unload-truck", "unload-airplane"} <= seen
    # the words PlanBench's logistics reader takes: numbered lines, no article, the city given
    hand = DOMAIN.parse(
        "1. load package_0 into truck_0 at location_0_1\n2. Load package_0 into airplane_0 at location_0_0.",
        instances[0],
    )
    assert [s.parsed["action"] for s in hand.steps if s.parsed] == [
        ["load-truck", "p0", "t0", "l0-1"],
        ["load-airplane", "p0", "a0", "l0-0"],
    ]


@pytest.mark.parametrize(
    ("variant", "rule", "answer"),
    [
        ("precondition-violation", "strips.precondition", "not-executable"),
        ("goal-missing", "strips.goal", "goal-not-reached"),
        ("state-error", "strips.state_missing", "valid-optimal"),
    ],
)
def test_logistics_oracle_corruptions_are_caught(
    logistics: tuple[Path, list[Instance]], variant: str, rule: str, answer: str
) -> None:
    for seed, instance in enumerate(logistics[1]):
        verdicts = DOMAIN.check(instance, DOMAIN.parse(DOMAIN.oracle(instance, variant, seed), instance))
        assert _first_rule(verdicts) == rule
        assert verdicts.answer.detail == answer


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # the airplane is at location_0_0, not where the package is
        ("load package_0 into airplane_0 at location_0_1", "strips.precondition"),
        # the truck of city 0 cannot drive into city 1
        ("drive truck_0 from location_0_0 to location_1_0 in city_0", "strips.precondition"),
        # the city left out: PlanBench infers it, we report the missing argument
        ("drive truck_0 from location_0_0 to location_0_1", "strips.arity"),
        ("fly airplane_0 from location_0_0 to location_0_1", "strips.precondition"),
        # no such package: the line is read by its verb, with the objects it does name
        ("load package_7 into truck_0 at location_0_1", "strips.arity"),
    ],
)
def test_logistics_mutated_steps_are_caught(
    logistics: tuple[Path, list[Instance]], text: str, rule: str
) -> None:
    verdicts = DOMAIN.check(logistics[1][0], DOMAIN.parse(text, logistics[1][0]))
    assert _first_rule(verdicts) == rule


def test_logistics_import_agrees_with_unified_planning(logistics: tuple[Path, list[Instance]]) -> None:
    pytest.importorskip("unified_planning", reason="unified-planning (dev extra) judges the records")
    root, instances = logistics
    rng = random.Random(3)
    records = []
    for number, instance in enumerate(instances, start=1):
        problem = load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"])
        plan = reference_plan(problem)
        names = Templates(yaml.safe_load(LOGISTICS_CONFIG), list(problem.objects)).names
        plans = [plan, *_mutations(plan, instance, rng)]
        for intended, correct in zip(
            plans, _up_valid(LOGISTICS, instance.payload["problem_pddl"], plans), strict=True
        ):
            text = "\n".join(f"{k + 1}. {_logistics_words(a, names)}" for k, a in enumerate(intended))
            records.append({"instance_id": number, "llm_raw_response": text, "correct": correct})
    path = root / "logistics__oracle__mixed.json"
    path.write_text(json.dumps({"instances": records}))
    importer = PlanBenchImporter()
    items = importer.read(
        path,
        {
            "domain-file": str(root / "generated_domain.pddl"),
            "instances": str(root / "instances"),
            "config": str(root / "logistics.yaml"),
        },
    )
    results = []
    for item in items:
        assert isinstance(item, ImportedItem)
        trace = DOMAIN.parse(item.text, item.instance)
        results.append((item, trace, DOMAIN.check(item.instance, trace)))
    summary = importer.summarise(results, [])
    assert 0 < sum(r["correct"] for r in records) < len(records)
    assert (summary["agree"], summary["disagree"], summary["unparsed"]) == (len(records), 0, 0)


def _logistics_words(action: PlanAction, names: dict[str, str]) -> str:
    """Logistics English written here, not by the templates: the verb is the action's first word."""
    name, *args = action
    said = [names[a] for a in args]
    pattern = {
        "load": "{} {} into {} at {}",
        "unload": "{} {} from {} at {}",
        "drive": "{} {} from {} to {} in {}",
        "fly": "{} {} from {} to {}",
    }[name.split("-")[0]]
    return pattern.format(name.split("-")[0].capitalize(), *said)
