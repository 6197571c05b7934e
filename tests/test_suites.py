"""Every shipped suite is a valid config whose domains exist and accept their params and prompt styles."""

from __future__ import annotations

from pathlib import Path

import pytest

from modulo.model import RunConfig
from modulo.probes.config import load_probe_config
from modulo.registry import get_domain
from modulo.runner import load_config

SUITES = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.toml"))


@pytest.mark.parametrize("path", SUITES, ids=[p.stem for p in SUITES])
def test_suite_is_runnable(path: Path) -> None:
    config = _run_part(path)
    for task in config.tasks:
        domain = get_domain(task.domain)
        [instance] = domain.generate(1, task.seed, **task.params)
        assert domain.prompt(instance, task.style), f"{path.name}: {task.domain} gave an empty prompt"


def _run_part(path: Path) -> RunConfig:
    """A suite, or the run a probe config probes (its probes are checked in tests/test_probe_engine.py)."""
    if "[[probes]]" in path.read_text(encoding="utf-8"):
        return load_probe_config(path, check=False).run
    return load_config(path)
