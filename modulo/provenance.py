"""Which code computed a verdict: modulo's version and a digest of its sources, each domain plugin's
distribution, version and source digest, and the solver engines' versions.

Stored with every verification, so that `report` can say when a run's verdicts were made by other code
and `reverify` can recompute them. A digest covers the source files themselves, so an edited checkout
(same version string) is told apart from the code that made the stored verdicts.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

import modulo
from modulo.registry import domain_entry_point

VERDICT_ENGINES = ("z3-solver", "networkx", "lark")
"""Libraries whose behaviour a verdict may depend on (the PDDL reader is modulo's own: `modulo.verifiers`)."""


@cache
def source_digest(*packages: str) -> str:
    """sha256 (12 hex digits) over the source and data files of these packages (by path relative to each
    package)."""
    digest = hashlib.sha256()
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None:
            continue
        roots = list(spec.submodule_search_locations or [])
        files = (
            [(Path(root), path) for root in roots for path in sorted(Path(root).rglob("*")) if _source(path)]
            if roots
            else [(Path(spec.origin).parent, Path(spec.origin))]
            if spec.origin
            else []
        )
        for root, path in files:
            digest.update(f"{package}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


SOURCE_SUFFIXES = frozenset({".py", ".pddl", ".yaml", ".yml", ".json", ".lark", ".toml", ".txt"})
"""Files whose content can change a verdict: code and the data files domains ship (PDDL, configs)."""


def _source(path: Path) -> bool:
    return path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts and path.is_file()


@cache
def _engines() -> tuple[tuple[str, str], ...]:
    found = []
    for name in VERDICT_ENGINES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return tuple(found)


@cache
def _domain_version(name: str) -> str:
    """`dist version+digest` of the package that holds the domain's class."""
    entry = domain_entry_point(name)
    if entry is None:
        return "not installed"
    package = entry.module.rpartition(".")[0] or entry.module
    dist = f"{entry.dist.name} {entry.dist.version}" if entry.dist is not None else "unpackaged"
    return f"{dist}+{source_digest(package)}"


def is_current(made_by: dict[str, str]) -> bool:
    """Whether the installed code would record these versions (for the domains they name): a verdict made
    by other code, or with no versions recorded, is stale."""
    domains = [key.removeprefix("domain:") for key in made_by if key.startswith("domain:")]
    return bool(made_by) and made_by == code_versions(domains)


def code_versions(domains: Iterable[str]) -> dict[str, str]:
    """The versions behind a verdict of these domains (deterministic, cheap after the first call)."""
    found = {
        "modulo": f"{modulo.__version__}+{source_digest('modulo', 'modulo.verifiers', 'modulo.domains')}"
    }
    for name in sorted(set(domains)):
        found[f"domain:{name}"] = _domain_version(name)
    found.update(_engines())
    return found
