"""benchmarks/verify_per_token.py covers every registered domain with texts they read; no timings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from modulo.registry import domain_names
from modulo.verify import verify_text

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("verify_per_token", ROOT / "benchmarks" / "verify_per_token.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_every_registered_domain_is_measured() -> None:
    """A domain added to the registry without a suite here fails this test (pddl comes from PlanBench)."""
    assert set(domain_names()) == set(bench.GENERATED) | {"pddl"}


@pytest.mark.parametrize("name", sorted(bench.GENERATED))
def test_oracle_texts_are_read(name: str) -> None:
    """Every variant's text is read into at least one step: the benchmark times real parsing and checking."""
    cases = bench.oracle_cases(name, 1)
    assert cases
    for domain, instance, text in cases:
        trace, _ = verify_text(domain, instance, text)
        assert trace.steps, (name, text[:200])


def test_published_suites_hold_pddl_and_deduction_texts() -> None:
    planbench = SHARED_DATA / "planbench"
    if not (planbench / "results").is_dir():
        pytest.skip(f"no PlanBench data at {planbench}")
    mystery = bench.planbench_cases(planbench, "mystery")
    assert len(mystery) == 500 and {d.name for d, _, _ in mystery} == {"pddl"}
    gold = bench.prontoqa_cases(SHARED_DATA / "logic", 3)
    assert len(gold) == 3 and all(d.name == "deduction" and t for d, _, t in gold)
