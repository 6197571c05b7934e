"""The dependency direction of DESIGN.md, checked on the source: who may import whom."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# folder -> module prefixes of ours it must never import
FORBIDDEN = {
    "verifiers": [
        "modulo.domains",
        "modulo.tui",
        "modulo.cli",
        "modulo.runner",
        "modulo.store",
        "modulo.registry",
        "modulo.generators",
        "modulo.report",
        "modulo.protocols",
    ],
    "modulo": ["modulo.domains", "modulo.tui"],
    "domains": [
        "modulo.tui",
        "modulo.cli",
        "modulo.runner",
        "modulo.store",
        "modulo.registry",
        "modulo.report",
    ],
    "tui": ["modulo.domains", "modulo.verifiers", "modulo.runner", "modulo.cli", "modulo.generators"],
}
# the one place the core may reach the UI: the `modulo tui` command, importing it lazily
ALLOWED = {("modulo/cli.py", "modulo.tui.app")}
HEAVY = ["vllm", "torch", "llama_cpp", "ray", "z3", "textual"]


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_dependency_direction(folder: str) -> None:
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[folder])
        and (str(path.relative_to(ROOT)), name) not in ALLOWED
    ]
    assert not offences, "\n".join(offences)


def test_import_modulo_stays_light() -> None:
    code = (
        "import sys, modulo, modulo.cli, modulo.runner, modulo.report; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
