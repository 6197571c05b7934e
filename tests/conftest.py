"""Shared fixtures: the worked-example plugin package installed the way a user would install it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modulo.registry import get_domain

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "modulo-sums"


@pytest.fixture(scope="session")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install --target` of examples/modulo-sums: a real third-party distribution with an entry point."""
    target = tmp_path_factory.mktemp("plugin")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
    )
    return target


@pytest.fixture
def with_plugin(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The plugin importable in this process and in subprocesses (returns the subprocess environment)."""
    monkeypatch.syspath_prepend(str(plugin_dir))
    get_domain.cache_clear()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), os.environ.get("PYTHONPATH", "")])}
    yield env
    get_domain.cache_clear()
