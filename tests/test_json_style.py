"""The `json` prompt style of every domain: the JSON form of a trace gets the same verdicts as its text
form, the schema reaches the generator, and parsing stays total on JSON-ish garbage."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.ordering import OrderingDomain
from modulo.domains.logic.steps import LogicJson
from modulo.domains.logic.zebra_domain import ZebraDomain
from modulo.domains.maze.domain import MazeDomain
from modulo.domains.maze.schema import MazeJson
from modulo.domains.planning.domain import BlocksworldDomain, PlanJson
from modulo.model import GeneratorConfig, Instance, Run, RunConfig, TaskConfig, Trace
from modulo.protocols import JSON_STYLE, OracleDomain, StructuredDomain
from modulo.registry import get_domain
from modulo.runner import Runner, run_id_for
from modulo.store import Store

DOMAINS: dict[str, OracleDomain] = {
    "maze": MazeDomain(),
    "blocksworld": BlocksworldDomain(),
    "deduction": DeductionDomain(),
    "ordering": OrderingDomain(),
    "zebra": ZebraDomain(),
}
MODELS: dict[str, type[BaseModel]] = {
    "maze": MazeJson,
    "blocksworld": PlanJson,
    "deduction": LogicJson,
    "ordering": LogicJson,
    "zebra": LogicJson,
}
PARAMS: dict[str, list[dict[str, Any]]] = {
    "maze": [{"width": 6, "dialect": d} for d in ("lines", "searchformer", "beyond_semantics")],
    "blocksworld": [{"blocks": 4}],
    "deduction": [{"world": "closed"}, {"world": "open", "hops": 2}],
    "ordering": [{"objects": 4}],
    "zebra": [{"houses": 3, "characteristics": 3}],
}
VARIANTS = {
    "maze": MazeDomain.oracle_variants,
    "blocksworld": ("exact", "precondition-violation", "goal-missing"),  # the JSON form has no states
    "deduction": DeductionDomain.oracle_variants,
    "ordering": OrderingDomain.oracle_variants,
    "zebra": ZebraDomain.oracle_variants,
}


@cache
def instances(name: str) -> list[Instance]:
    domain = DOMAINS[name]
    return [i for params in PARAMS[name] for i in domain.generate(2, seed=7, **params)]


def to_json(name: str, trace: Trace) -> dict[str, Any]:
    """The JSON form of a trace read from text."""
    if name == "maze":
        steps = [
            {"op": s.parsed["kind"], "x": s.parsed["node"][0], "y": s.parsed["node"][1]}
            | {"g": s.parsed["g"], "h": s.parsed["h"]}
            for s in trace.steps
        ]
        return {"steps": steps, "plan": trace.answer}
    if name == "blocksworld":
        return {"plan": [re.sub(r"^\d+\.\s*", "", s.text) for s in trace.steps]}
    return {"steps": [s.text for s in trace.steps], "answer": trace.answer}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_json_form_gets_the_text_forms_verdicts(name: str) -> None:
    domain = DOMAINS[name]
    assert isinstance(domain, StructuredDomain)
    seen = set()
    for instance in instances(name):
        for variant in VARIANTS[name]:
            text = domain.oracle(instance, variant, seed=3)
            from_text = domain.parse(text, instance)
            data = to_json(name, from_text)
            MODELS[name].model_validate(data)  # the JSON follows the domain's schema
            schema = domain.output_schema(instance)
            assert schema["properties"].keys() == MODELS[name].model_fields.keys()
            if "answer" in data:  # the logic schemas name the instance's answers
                assert data["answer"] in schema["properties"]["answer"]["enum"]
            verdicts = domain.check(instance, from_text)
            seen.add((verdicts.trace_valid, verdicts.answer.status))
            raw = json.dumps(data)
            for form in (raw, f"Sure, here it is:\n```json\n{json.dumps(data, indent=2)}\n```\nDone."):
                from_json = domain.parse(form, instance)
                assert [_unplaced(s.parsed) for s in from_json.steps] == [
                    _unplaced(s.parsed) for s in from_text.steps
                ]
                assert from_json.answer == from_text.answer
                assert domain.check(instance, from_json) == verdicts, (instance.id, variant)
    assert (True, "correct") in seen and any(not valid for valid, _ in seen)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_json_prompt_shows_the_schema_and_styles_are_listed(name: str) -> None:
    domain = DOMAINS[name]
    assert isinstance(domain, StructuredDomain)
    instance = instances(name)[0]
    prompt = "\n".join(m.content for m in domain.prompt(instance, JSON_STYLE))
    assert json.dumps(domain.output_schema(instance)) in prompt
    assert prompt != "\n".join(m.content for m in domain.prompt(instance, "zero-shot"))
    with pytest.raises(ValueError, match="json"):
        domain.prompt(instance, "yaml")


BAD_ITEMS: dict[str, dict[str, Any]] = {
    "maze": {"steps": [{"op": "open", "x": 0, "y": 0, "g": 0, "h": 0}, [1, 2], {"op": "close"}], "plan": 3},
    "blocksworld": {"plan": ["dance with the red block", 7, None]},
    "deduction": {
        "steps": [{"s": "Rex is cold."}, 3, "Rex is a grumpus and a frog, maybe."],
        "answer": "Maybe",
    },
    "ordering": {"steps": [["The owl"], "The owl flies away."], "answer": "Z"},
    "zebra": {"steps": [{"house": 1}, "Eric flies away."], "answer": "Z"},
}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_bad_json_items_are_unparsed_steps(name: str) -> None:
    domain = DOMAINS[name]
    instance = instances(name)[0]
    trace = domain.parse(json.dumps(BAD_ITEMS[name]), instance)
    verdicts = domain.check(instance, trace)
    assert len(verdicts.steps) == (2 if name in ("ordering", "zebra") else 3)
    assert all(v.status == "unparsed" for v in verdicts.steps)
    assert verdicts.answer.status == "unparsed"


def test_json_without_the_models_fields_is_read_as_text() -> None:
    domain = DOMAINS["deduction"]
    instance = instances("deduction")[0]
    text = '{"thoughts": "hm"}\nRex is a wumpus.\nAnswer: True'
    trace = domain.parse(text, instance)
    assert trace.answer == "True" and trace.steps[-1].text == "Rex is a wumpus."


def test_runner_passes_the_schema_and_oracle_samples_verify(tmp_path: Path) -> None:
    config = RunConfig(
        name="json-style",
        generator=GeneratorConfig(name="oracle", params={"variant": "gold"}),
        tasks=[
            TaskConfig(domain=name, count=1, seed=7, params=PARAMS[name][0], style=JSON_STYLE)
            for name in ("deduction", "ordering")
        ]
        + [
            TaskConfig(
                domain=name,
                count=1,
                seed=7,
                params=PARAMS[name][0],
                style=JSON_STYLE,
                generator=GeneratorConfig(name="oracle", params={"variant": "exact"}),
            )
            for name in ("maze", "blocksworld")
        ],
    )
    with Store(tmp_path / "s.sqlite") as store:
        runner = Runner(config, store)
        run = store.ensure_run(Run(id=run_id_for(config), config=config, created_at="now"))
        jobs = runner.plan_first_round(run.id)
        assert len(jobs) == 4
        for job in jobs:
            domain = get_domain(job.instance.domain)
            assert isinstance(domain, StructuredDomain)
            assert job.sampling.json_schema == domain.output_schema(job.instance)
        summary = runner.run()
        samples = store.samples(summary.run.id)
    assert len(samples) == 4
    for sample in samples:
        assert sample.verdicts is not None
        assert sample.verdicts.trace_valid and sample.verdicts.answer.status == "correct", sample.instance.id


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(["steps", "plan", "answer", "op", "x", "y", "g", "h", "other"])
STEP_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "op": st.sampled_from(["create", "close", "open"]) | JSON_VALUES,
        "x": st.integers() | JSON_VALUES,
        "y": st.integers(),
        "g": st.integers() | st.floats(),
        "h": st.integers(),
    },
)
GARBAGE = st.builds(
    lambda obj, cut, fence: (f"```json\n{obj}\n```" if fence else obj)[: cut or None],
    st.dictionaries(
        FIELDS, st.lists(STEP_LIKE | st.text(max_size=30) | JSON_VALUES, max_size=5) | JSON_VALUES, max_size=4
    ).map(json.dumps),
    st.integers(min_value=0, max_value=200),
    st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=GARBAGE)
def test_parsing_json_ish_garbage_is_total(text: str) -> None:
    for name, domain in DOMAINS.items():
        instance = instances(name)[0]
        trace = domain.parse(text, instance)
        assert isinstance(trace, Trace)
        if name in ("maze", "blocksworld"):  # fast checkers: judging any parsed trace must not raise either
            domain.check(instance, trace)


def _unplaced(parsed: object) -> object:
    """A step's reading without its span (offsets into a text; a JSON item has none)."""
    return {k: v for k, v in parsed.items() if k != "span"} if isinstance(parsed, dict) else parsed
