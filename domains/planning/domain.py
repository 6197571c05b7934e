"""PDDL planning domains: `pddl` (any STRIPS domain from its payload) and `blocksworld` (+ a generator).

An instance's payload is self-contained JSON: `domain_pddl`, `problem_pddl`, `templates` (a
PlanBench-style config: actions, predicates, encoded_objects, domain_intro), optionally
`optimal_length` (None: unknown), `plan` (a reference plan, optimal when the length is known), and
`example_problem_pddl` with `example_plan` (for few-shot and state-tracking prompts). Parsing and
checking use only the payload, so imported Mystery Blocksworld or Logistics instances verify too.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

from modulo.domains.structured import json_instructions, json_object
from modulo.inputs import parse_yaml, read_text
from modulo.model import ChatMessage, Instance, Model, Step, StepVerdict, Trace, Verdicts
from modulo.protocols import JSON_STYLE, CorruptedStep, Grounding
from modulo.verifiers.pddl_load import load_problem
from modulo.verifiers.strips import PlanAction, StripsProblem, apply, execute, ground_all, unmet

from .corrupt import corrupt_step
from .generator import blocksworld_problem
from .grounding import ground_plan
from .pictures import picture
from .planner import shortest_plan
from .search import SEARCH_BUDGET, greedy_plan, optimal_length, optimal_plan
from .templates import Templates, load_config
from .thinking import judge_thinking
from .traces import Optimum, check_trace, json_plan_trace, parse_trace

STYLES = ("zero-shot", "few-shot", "state-tracking", JSON_STYLE)
CORRECTNESS = (
    "The plan correctness is defined in terms of states resulting from executing the actions in the plan. "
    "An action is executable in a state when all its preconditions hold in that state. The state resulting "
    "from the action execution consists of everything in the previous state with the addition and deletion "
    "of add and delete effects of the action."
)


class PlanJson(Model):
    """The plan as JSON (prompt style `json`)."""

    plan: list[str]
    """The actions in order, one string each, worded as in the problem statement."""


def problem_of(instance: Instance) -> StripsProblem:
    return load_problem(instance.payload["domain_pddl"], instance.payload["problem_pddl"])


def templates_of(instance: Instance, problem: StripsProblem) -> Templates:
    return _templates(
        json.dumps(instance.payload.get("templates", {}), sort_keys=True), tuple(problem.objects)
    )


@lru_cache(maxsize=256)
def _templates(config: str, objects: tuple[str, ...]) -> Templates:
    return Templates(json.loads(config), list(objects))


def optimal_of(instance: Instance, problem: StripsProblem) -> Optimum:
    """The payload's optimal length if it has the key (None: unknown), else a breadth-first search within
    `SEARCH_BUDGET` states, run only when a plan is found valid (past the budget: unknown)."""
    if "optimal_length" in instance.payload:
        known = instance.payload["optimal_length"]
        return None if known is None else int(known)
    return partial(optimal_length, problem, SEARCH_BUDGET)


def reference_plan(problem: StripsProblem) -> list[PlanAction]:
    """An optimal plan when search finds one within budget, else a greedy one."""
    plan = optimal_plan(problem, SEARCH_BUDGET) or greedy_plan(problem)
    if plan is None:
        raise ValueError(f"no plan found for problem {problem.name}")
    return plan


class PddlDomain:
    """Any STRIPS PDDL domain described by its instances' payloads (imported or loaded from files)."""

    name = "pddl"
    description = "PDDL/STRIPS planning from domain + problem files and English templates"
    reads_reasoning = True
    """`parse` gets the raw text and separates the thinking itself (its spans point into the raw text)."""
    oracle_variants = (
        "exact",
        "optimal",
        "state-tracking",
        "precondition-violation",
        "goal-missing",
        "state-error",
    )

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        """Instances from files: params `domain_file`, `problem_files` (list of paths), `config` (YAML)."""
        unknown = set(params) - {"domain_file", "problem_files", "config"}
        if unknown or "domain_file" not in params or "problem_files" not in params:
            raise ValueError(
                "pddl params: domain_file, problem_files (list of paths), optional config (YAML)"
            )
        domain_text = read_text(Path(params["domain_file"]), "pddl domain_file")
        config = _config(Path(params["config"])) if "config" in params else {}
        out = []
        for path in [Path(p) for p in params["problem_files"]][:count]:
            problem_text = read_text(path, "pddl problem file")
            payload = {"domain_pddl": domain_text, "problem_pddl": problem_text, "templates": config}
            problem = load_problem(domain_text, problem_text)
            if not config.get("actions"):
                payload["templates"] = _default_templates(problem)
            out.append(
                Instance(
                    domain=self.name,
                    id=f"pddl-{path.stem}",
                    payload=payload,
                    difficulty={"objects": len(problem.objects)},
                )
            )
        return out

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        if style not in STYLES:
            raise ValueError(f"unknown prompt style {style!r}; styles: {', '.join(STYLES)}")
        problem = problem_of(instance)
        templates = templates_of(instance, problem)
        if style in ("zero-shot", JSON_STYLE):
            ask = (
                "Just give the actions in the plan."
                if style == "zero-shot"
                else "Give the actions in the plan. " + json_instructions(self.output_schema(instance))
            )
            body = f"{templates.intro}\n\n{_statement(problem, templates)}\n\n"
            body += f"What is the plan to achieve my goal? {ask}"
            return [ChatMessage(role="user", content=body.lstrip())]
        example = instance.payload.get("example_problem_pddl")
        if example is None:
            raise ValueError(f"style {style!r} needs an example problem (payload 'example_problem_pddl')")
        shot = load_problem(instance.payload["domain_pddl"], example)
        stored = instance.payload.get("example_plan")
        plan = [tuple(a) for a in stored] if stored else reference_plan(shot)
        if style == "few-shot":
            worked = "\n".join(templates.action(a) for a in plan)
            intro = templates.intro
        else:
            worked = state_tracking_text(shot, templates, plan)
            intro = templates.intro_state_tracking or f"{templates.intro}\n\n{CORRECTNESS}"
        body = (
            f"{intro}\n\n{_statement(shot, templates)}\n\nMy plan is as follows:\n\n[PLAN]\n{worked}\n"
            f"[PLAN END]\n\n{_statement(problem, templates)}\n\nMy plan is as follows:\n\n[PLAN]"
        )
        return [ChatMessage(role="user", content=body.lstrip())]

    def output_schema(self, instance: Instance) -> dict[str, Any]:
        """JSON schema of the `json` style: `{"plan": ["pick up the red block", ...]}`."""
        return PlanJson.model_json_schema()

    def parse(self, text: str, instance: Instance) -> Trace:
        """A `json` style object if the text holds one, else a plan or state-tracking text (total)."""
        try:
            problem = problem_of(instance)
        except ValueError as exc:  # a broken payload must not make parse raise
            return Trace(parse_errors=[f"the instance's PDDL cannot be read: {exc}"])
        templates = templates_of(instance, problem)
        data = json_object(text, PlanJson.model_fields)
        if data is not None:
            return json_plan_trace(data.get("plan"), templates, problem)
        return parse_trace(text, templates, problem)

    def ground(self, instance: Instance, text: str, trace: Trace) -> list[Grounding]:
        """Where the response states each action of a model-assisted plan (see `grounding`)."""
        try:
            problem = problem_of(instance)
        except ValueError as exc:
            return [
                Grounding(index=s.index, note=f"the instance's PDDL cannot be read: {exc}")
                for s in trace.steps
            ]
        return ground_plan(text, trace, templates_of(instance, problem), problem)

    def judge_thinking(
        self, instance: Instance, reasoning: str
    ) -> tuple[list[Step], list[StepVerdict], dict[str, Any]]:
        """The thinking's state, action and applicability claims, each judged in its context (see
        `modulo.domains.planning.thinking`)."""
        problem = problem_of(instance)
        judged = judge_thinking(problem, templates_of(instance, problem), reasoning)
        return judged.steps, judged.verdicts, judged.info

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        problem = problem_of(instance)
        unsaid = templates_of(instance, problem).silent
        return check_trace(problem, trace, optimal_of(instance, problem), unsaid)

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        problem = problem_of(instance)
        lines = [
            f"{problem.domain_name} / {problem.name}",
            "init: " + " ".join(map(_fmt, sorted(problem.init))),
            "goal: "
            + " ".join(_fmt(c.atom) if c.positive else f"(not {_fmt(c.atom)})" for c in problem.goal),
        ]
        plan = None
        if trace is not None:
            lines += [f"{s.index + 1:>3}. {s.text.splitlines()[-1] if s.text else ''}" for s in trace.steps]
            if isinstance(trace.answer, list) and all(isinstance(a, list | tuple) for a in trace.answer):
                plan = [tuple(str(x) for x in a) for a in trace.answer]
        drawn = picture(problem, plan)
        return "\n".join([*drawn, "", *lines] if drawn else lines)

    def critique(self, verdicts: Verdicts) -> str:
        wrong = [f"step {v.index + 1}: {v.message}" for v in verdicts.steps if v.status != "valid"]
        wrong += [v.message for v in verdicts.trace_checks if v.status != "valid"]
        return "Your plan has these problems; give a corrected plan:\n" + "\n".join(
            wrong or [verdicts.answer.message or verdicts.answer.status]
        )

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        """Step `index` replaced by an action whose precondition fails there (see `corrupt.py`)."""
        return corrupt_step(self, instance, trace, index, seed)

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        if variant not in self.oracle_variants:
            raise ValueError(f"unknown variant {variant!r}; variants: {', '.join(self.oracle_variants)}")
        problem = problem_of(instance)
        templates = templates_of(instance, problem)
        stored = instance.payload.get("plan")
        plan = [tuple(a) for a in stored] if stored else reference_plan(problem)
        rng = random.Random(seed)
        if variant == "goal-missing":
            return "\n".join(templates.action(a) for a in plan[:-1])
        if variant == "precondition-violation":
            k = rng.randrange(len(plan))
            states = execute(problem, plan)
            assert states is not None
            bad = [a for a in ground_all(problem) if unmet(a.pre, states[k])]
            plan = [*plan[:k], (lambda a: (a.name, *a.args))(rng.choice(bad)), *plan[k + 1 :]]
        if variant in ("state-tracking", "state-error"):
            return state_tracking_text(
                problem,
                templates,
                plan,
                drop_at=rng.randrange(len(plan)) if variant == "state-error" else None,
            )
        return "\n".join(f"{i + 1}. {templates.action(a)}" for i, a in enumerate(plan))


class BlocksworldDomain(PddlDomain):
    """The 4-operator Blocksworld with a seeded generator (3-20 blocks)."""

    name = "blocksworld"
    description = "Blocksworld planning (PDDL/STRIPS) with plan and state-tracking traces"

    def generate(
        self, count: int, seed: int, blocks: int = 4, timeout: float = 10.0, **params: Any
    ) -> list[Instance]:
        """`blocks` (3-20); `timeout`: seconds Fast Downward (if installed) may take per optimal plan past
        breadth-first search; past it generation fails rather than depend on the machine's speed. With 0
        (or without Fast Downward) those optimal lengths are unknown and the reference plan a valid one."""
        if params:
            raise ValueError(f"unknown blocksworld params {sorted(params)}; known: blocks (3-20), timeout")
        files = resources.files(__package__)
        domain_text = (files / "blocksworld.pddl").read_text(encoding="utf-8")
        config = load_config((files / "blocksworld.yaml").read_text(encoding="utf-8"))
        rng = random.Random(f"blocksworld-{seed}-{blocks}")
        out = []
        for k in range(count):
            problem_text, fallback = blocksworld_problem(blocks, rng, f"bw-{blocks}-{seed}-{k}")
            example, example_plan = blocksworld_problem(blocks, rng, f"bw-{blocks}-{seed}-{k}-example")
            best = shortest_plan(load_problem(domain_text, problem_text), domain_text, problem_text, timeout)
            optimal = None if best is None else len(best)
            payload = {
                "domain_pddl": domain_text,
                "problem_pddl": problem_text,
                "templates": config,
                "optimal_length": optimal,
                "plan": [list(a) for a in best or fallback],
                "example_problem_pddl": example,
                "example_plan": [list(a) for a in example_plan],
            }
            out.append(
                Instance(
                    domain=self.name,
                    id=f"bw-{blocks}-{seed}-{k}",
                    seed=seed,
                    payload=payload,
                    difficulty={"blocks": blocks, "optimal_length": optimal},
                )
            )
        return out


def state_tracking_text(
    problem: StripsProblem, templates: Templates, plan: list[PlanAction], drop_at: int | None = None
) -> str:
    """A PlanBench-style state-tracking trace of `plan`; `drop_at` leaves one fact out of that step's
    resulting state (the corruption carries on, as a model's would)."""
    actions = {(a.name, *a.args): a for a in ground_all(problem)}
    state, blocks = problem.init, []
    for i, step in enumerate(plan):
        action = actions[step]
        result = apply(action, state) if not unmet(action.pre, state) else state | action.add
        if i == drop_at:
            result = result - {min(a for a in result if a[0] not in templates.silent)}
        precondition = templates.facts([c.atom for c in action.pre if c.positive and c.atom[0] != "="])
        blocks.append(
            f"{i + 1}. Current State: {templates.facts(sorted(state))}\n"
            f"   Action: {templates.action(step)}\n"
            f"   Reason: The above action is applicable in the current state because its preconditions; "
            f"{precondition}, are satisfied in the current state.\n"
            f"   Resulting State: {templates.facts(sorted(result))}\n"
        )
        state = result
    return "\n".join(blocks) + f"\nFinal State: {templates.facts(sorted(state))}"


def _statement(problem: StripsProblem, templates: Templates) -> str:
    goal = templates.facts([c.atom for c in problem.goal if c.positive])
    return (
        f"[STATEMENT]\nAs initial conditions I have that, {templates.facts(sorted(problem.init))}.\n"
        f"My goal is to have that {goal}."
    )


def _fmt(atom: tuple[str, ...]) -> str:
    return "(" + " ".join(atom) + ")"


def _config(path: Path) -> dict[str, Any]:
    """A PlanBench-style template config from a user's file; one-line errors name the file and line."""
    text = read_text(path, "pddl config")
    parse_yaml(text, f"pddl config {path}")
    try:
        return load_config(text)
    except ValueError as exc:
        raise ValueError(f"pddl config {path}: {exc}") from None


def _default_templates(problem: StripsProblem) -> dict[str, Any]:
    """Templates that just write PDDL, for files given without a config."""
    return {
        "actions": {
            n: "(" + " ".join([n, *["{}"] * len(s.params)]) + ")" for n, s in problem.actions.items()
        },
        "predicates": {n: "(" + " ".join([n, *["{}"] * k]) + ")" for n, k in problem.predicates.items()},
    }
