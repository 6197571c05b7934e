"""The on-disk cache of converted PDDL problems: hits, corrupt entries, concurrent writers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.verifiers import pddl_load
from modulo.verifiers.pddl_cache import cache_key
from modulo.verifiers.pddl_load import PddlSyntaxError, load_problem

INSTANCES = SHARED_DATA / "planbench" / "llm_planning_analysis" / "instances" / "logistics"
pytestmark = pytest.mark.skipif(not INSTANCES.is_dir(), reason=f"PlanBench data not found at {INSTANCES}")


@pytest.fixture
def texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A typed PDDL pair (PlanBench Logistics), an empty cache folder, no in-memory cache."""
    monkeypatch.setenv("MODULO_CACHE", str(tmp_path))
    pddl_load._load.cache_clear()
    yield (
        (INSTANCES / "generated_domain.pddl").read_text(),
        (INSTANCES / "generated_basic" / "instance-7.pddl").read_text(),
    )
    pddl_load._load.cache_clear()


def _entry(tmp_path: Path, domain: str, problem: str) -> Path:
    return tmp_path / "pddl" / f"{cache_key(domain, problem)}.json"


def _same(a: object, b: object) -> bool:
    fields = ("domain_name", "name", "actions", "objects", "ancestors", "init", "goal", "predicates")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and list(a.objects) == list(b.objects)  # type: ignore[attr-defined]


def test_a_second_process_reads_the_entry_without_parsing(
    texts: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = load_problem(*texts)
    assert _entry(tmp_path, *texts).is_file()
    pddl_load._load.cache_clear()  # as a new process would start

    def refuse(text: str, kind: str) -> None:
        raise AssertionError("parsed although the cache holds the problem")

    monkeypatch.setattr(pddl_load, "parse_pddl", refuse)
    cached = load_problem(*texts)
    assert cached is not parsed and _same(cached, parsed)


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"key": "x"}', b"\xff\xfe"])
def test_a_corrupt_entry_is_ignored_and_rewritten(
    texts: tuple[str, str], tmp_path: Path, garbage: bytes
) -> None:
    reference = load_problem(*texts)
    entry = _entry(tmp_path, *texts)
    entry.write_bytes(garbage)
    pddl_load._load.cache_clear()
    assert _same(load_problem(*texts), reference)
    assert entry.read_bytes() != garbage  # rebuilt
    pddl_load._load.cache_clear()
    assert _same(load_problem(*texts), reference)


def test_an_entry_of_another_problem_is_not_used(texts: tuple[str, str], tmp_path: Path) -> None:
    domain, problem = texts
    other = (INSTANCES / "generated_basic" / "instance-8.pddl").read_text()
    load_problem(domain, other)
    _entry(tmp_path, domain, other).rename(_entry(tmp_path, domain, problem))
    pddl_load._load.cache_clear()
    mine, theirs = load_problem(domain, problem), load_problem(domain, other)
    assert mine.init != theirs.init
    assert load_problem(domain, problem).init == mine.init


def test_a_parse_error_is_not_cached(texts: tuple[str, str], tmp_path: Path) -> None:
    with pytest.raises(PddlSyntaxError, match="cannot parse the PDDL problem"):
        load_problem(texts[0], "(define (problem broken")
    assert not list((tmp_path / "pddl").glob("*.json"))


def test_an_unwritable_cache_is_skipped(texts: tuple[str, str], tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MODULO_CACHE", str(blocker))  # `file/pddl` cannot be created
    assert load_problem(*texts).objects


CHILD = """
import sys
from modulo.verifiers.pddl_load import load_problem
domain, problem = open(sys.argv[1]).read(), open(sys.argv[2]).read()
print(sorted(load_problem(domain, problem).init))
"""


def test_concurrent_processes_write_one_whole_entry(texts: tuple[str, str], tmp_path: Path) -> None:
    env = {**os.environ, "MODULO_CACHE": str(tmp_path)}
    problem = INSTANCES / "generated_basic" / "instance-7.pddl"
    args = [sys.executable, "-c", CHILD, str(INSTANCES / "generated_domain.pddl"), str(problem)]
    children = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert all(child.returncode == 0 for child in children)
    assert len(set(outputs)) == 1 and outputs[0].startswith("[(")
    assert [p.name for p in (tmp_path / "pddl").iterdir()] == [_entry(tmp_path, *texts).name]
    pddl_load._load.cache_clear()
    assert str(sorted(load_problem(*texts).init)) == outputs[0].strip()
