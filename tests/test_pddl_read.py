"""The PDDL reader on malformed and unsupported input: one-line errors that say what and where, never a
traceback; and the PlanBench importer lists a record whose PDDL is bad and judges the rest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.importer import PlanBenchImporter
from modulo.importing import import_file
from modulo.store import Store
from modulo.verifiers.pddl_load import PddlSyntaxError, UnsupportedPddl, load_problem
from modulo.verifiers.strips import Condition

DOMAIN = """(define (domain d) (:requirements :strips :typing :negative-preconditions :equality)
  (:types block - object)
  (:predicates (on ?x ?y - block) (clear ?x - block) (handempty))
  (:action put :parameters (?x ?y - block)
    :precondition (and (clear ?x) (clear ?y) (not (= ?x ?y)))
    :effect (and (on ?x ?y) (not (clear ?y)))))"""
PROBLEM = """(define (problem p) (:domain d)
  (:objects a b - block)
  (:init (clear a) (clear b) (handempty))
  (:goal (on a b)))"""


def _error(domain: str, problem: str) -> ValueError:
    with pytest.raises((PddlSyntaxError, UnsupportedPddl)) as caught:
        load_problem(domain, problem)
    assert "\n" not in str(caught.value)
    return caught.value


def test_the_fixture_reads() -> None:
    problem = load_problem(DOMAIN, PROBLEM)
    assert problem.objects == {"a": "block", "b": "block"}
    assert problem.ancestors["block"] == {"block", "object"}


SYNTAX = [
    ("domain", "(clear ?y)))))", "(clear ?y))))", "line 1, column 1: this '(' is never closed"),
    ("problem", "(:goal (on a b)))", "(:goal (on a b))))", "line 4, column 20: ')' after the end"),
    ("problem", "(:domain d)", "(:domain d) (:init)", ":init is given twice"),
    ("domain", ":typing", ":typing :fancy", "unknown requirement :fancy"),
    ("domain", "(:types block - object)", "(:types block - a a - block)", "cycle through block"),
    ("domain", "(?x ?y - block)\n", "(?x ?y - brick)\n", "line 4, column 28: parameter ?x"),
    ("problem", "a b - block", "a b - brick", "object a has the undeclared type brick"),
    ("problem", "(:goal (on a b))", "(:goal (on a c))", "line 4, column 16: goal: undeclared object c"),
    ("problem", "(clear a) (clear b)", "(clear a) (clear z)", "init: undeclared object z"),
    ("problem", "(handempty))", "(handempty) (holding a))", "line 3, column 42: init: undeclared predicate"),
    (
        "domain",
        "(and (on ?x ?y)",
        "(and (on ?x ?z)",
        "line 6, column 25: action put effect: undeclared variable ?z",
    ),
    (
        "domain",
        "(and (clear ?x) (clear ?y)",
        "(and (clear ?x ?y) (clear ?y)",
        "clear takes 1 arguments, not 2",
    ),
    ("problem", "(:goal (on a b))", "(:goal (on a))", "goal: on takes 2 arguments, not 1"),
    ("problem", "(:objects a b - block)", "(:objects a b - block a)", "object a is declared twice"),
    ("problem", "(:goal (on a b))", "(:goal (on ?x b))", "goal: undeclared variable ?x"),
    ("problem", "(:goal (on a b))", "", "the problem has no :goal section"),
    (
        "problem",
        "(clear a) (clear b)",
        "(clear a) (clear b) (not (clear a))",
        "(clear a) both true and false",
    ),
    ("domain", "(define (domain d)", "(define (problem d)", "this is a PDDL problem, not a domain"),
    ("domain", "(:types block - object)", "(:tipes block - object)", "unknown domain section ':tipes'"),
    ("domain", ":effect", ":effects", "action put: unexpected ':effects'"),
]


@pytest.mark.parametrize("which,old,new,message", SYNTAX, ids=[s[3][:40] for s in SYNTAX])
def test_syntax_errors_say_what_and_where(which: str, old: str, new: str, message: str) -> None:
    domain, problem = DOMAIN, PROBLEM
    if which == "domain":
        assert old in domain
        domain = domain.replace(old, new, 1)
    else:
        assert old in problem
        problem = problem.replace(old, new, 1)
    error = _error(domain, problem)
    assert isinstance(error, PddlSyntaxError)
    assert str(error).startswith(f"PDDL {which}") and message in str(error)


UNSUPPORTED = [
    ("domain", ":equality)", ":equality :conditional-effects)", "requires :conditional-effects"),
    (
        "domain",
        ":effect (and",
        ":effect (and (when (handempty) (handempty))",
        "conditional effects (when ...)",
    ),
    ("domain", ":effect (and", ":effect (and (forall (?z - block) (clear ?z))", "universal quantification"),
    (
        "domain",
        ":precondition (and",
        ":precondition (and (or (handempty) (clear ?x))",
        "disjunction (or ...)",
    ),
    ("domain", "(:predicates", "(:functions (cost)) (:predicates", "numeric fluents (:functions)"),
    ("domain", ":effect (and", ":effect (and (increase (cost) 1)", "numeric fluents (increase ...)"),
    ("domain", "(?x ?y - block)\n", "(?x - (either block) ?y - block)\n", "(either ...) types"),
    ("domain", "(:action put", "(:durative-action put", "durative actions"),
    ("domain", "(:action put", "(:derived (handempty) (and)) (:action put", "derived predicates"),
    (
        "problem",
        "(:goal (on a b))",
        "(:goal (on a b)) (:metric minimize (total-time))",
        "plan metrics (:metric)",
    ),
    ("problem", "(handempty)", "(handempty) (= (cost) 0)", "init: (= ...)"),
    ("problem", "(:goal (on a b))", "(:goal (exists (?x - block) (on ?x b)))", "existential quantification"),
    ("problem", "(:goal (on a b))", "(:goal (not (and (on a b))))", "a negated formula"),
]


@pytest.mark.parametrize("which,old,new,feature", UNSUPPORTED, ids=[u[3][:40] for u in UNSUPPORTED])
def test_features_beyond_the_subset_are_named(which: str, old: str, new: str, feature: str) -> None:
    domain, problem = DOMAIN, PROBLEM
    if which == "domain":
        assert old in domain
        domain = domain.replace(old, new, 1)
    else:
        assert old in problem
        problem = problem.replace(old, new, 1)
    error = _error(domain, problem)
    assert isinstance(error, UnsupportedPddl) and feature in str(error)


def test_case_comments_and_layout_do_not_matter() -> None:
    shouting = "; a comment (with parentheses\n" + DOMAIN.upper().replace("\n", " ; ) comment\n")
    one = load_problem(DOMAIN, PROBLEM)
    other = load_problem(shouting, PROBLEM.upper())
    for field in ("domain_name", "name", "actions", "objects", "ancestors", "init", "goal", "predicates"):
        assert getattr(one, field) == getattr(other, field), field


def test_negative_init_literals_repeat_the_closed_world() -> None:
    problem = PROBLEM.replace("(handempty)", "(handempty) (not (on a b))")
    assert load_problem(DOMAIN, problem).init == load_problem(DOMAIN, PROBLEM).init


def test_empty_preconditions_and_nested_conjunctions() -> None:
    domain = DOMAIN.replace(
        "(:action put",
        "(:action wait :parameters () :precondition () :effect (and (and (handempty)))) (:action put",
    )
    wait = load_problem(domain, PROBLEM).actions["wait"]
    assert (wait.params, wait.pre, wait.add, wait.delete) == ((), (), (("handempty",),), ())


def test_a_supertype_used_but_not_declared_is_a_type_under_object() -> None:
    domain = DOMAIN.replace("(:types block - object)", "(:types block - thing)")
    problem = load_problem(domain, PROBLEM.replace("a b - block", "a b - block t - thing"))
    assert problem.ancestors["block"] == {"block", "thing", "object"}
    assert problem.ancestors["thing"] == {"thing", "object"} and problem.objects["t"] == "thing"


def test_constants_and_a_type_hierarchy() -> None:
    domain = DOMAIN.replace(
        "(:types block - object)", "(:types block - thing thing) (:constants Table - thing)"
    )
    domain = domain.replace("(clear ?x) (clear ?y)", "(clear ?x) (clear ?y) (not (= ?y table))")
    problem = load_problem(domain, PROBLEM)
    assert problem.objects == {"a": "block", "b": "block", "table": "thing"}
    assert problem.ancestors["block"] == {"block", "thing", "object"}
    assert Condition(("=", "?y", "table"), False) in problem.actions["put"].pre


LOGISTICS = SHARED_DATA / "planbench" / "llm_planning_analysis" / "instances" / "logistics"


@pytest.mark.skipif(not LOGISTICS.is_dir(), reason=f"PlanBench data not found at {LOGISTICS}")
def test_the_importer_lists_a_record_with_bad_pddl_and_judges_the_rest(tmp_path: Path) -> None:
    results = json.loads((SHARED_DATA / "planbench/results/logistics__gpt-4_chat__one_shot.json").read_text())
    results["instances"] = results["instances"][:5]
    ids = [str(r["instance_id"]) for r in results["instances"]]
    folder = tmp_path / "instances"
    folder.mkdir()
    for i in ids:
        shutil.copy(LOGISTICS / "generated_basic" / f"instance-{i}.pddl", folder / f"instance-{i}.pddl")
    broken = {
        ids[1]: lambda t: t.rstrip()[:-1],
        ids[2]: lambda t: t.replace("(:init", "(:init (= (total-cost) 0)"),
        ids[3]: lambda t: t.replace("(:init", "(:init (at p0)"),
    }
    for i, edit in broken.items():
        path = folder / f"instance-{i}.pddl"
        path.write_text(edit(path.read_text()))
    source = tmp_path / "results.json"
    source.write_text(json.dumps(results))
    config = SHARED_DATA / "planbench/llm_planning_analysis/configs/logistics.yaml"
    options = {
        "domain-file": str(LOGISTICS / "generated_domain.pddl"),
        "config": str(config),
        "instances": str(folder),
    }
    with Store(tmp_path / "s.sqlite") as store:
        _, summary = import_file(PlanBenchImporter(), source, options, store)
    reasons = {p["record"]: p["reason"] for p in summary["problems"]}
    assert set(reasons) == set(broken)
    assert reasons[ids[1]].startswith("PDDL problem, line") and "'(' is never closed" in reasons[ids[1]]
    assert "numeric fluents or object equality" in reasons[ids[2]]
    assert "init: at takes 2 arguments, not 1" in reasons[ids[3]]
    assert all("\n" not in r and "Traceback" not in r for r in reasons.values())
    assert summary["agree"] + summary["disagree"] + summary["unparsed"] == 2
