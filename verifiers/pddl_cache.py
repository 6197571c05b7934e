"""An on-disk cache of converted PDDL problems, keyed by the content hash of the domain and problem text.

Entries live in `$MODULO_CACHE/pddl` (else `~/.cache/modulo/pddl`), one JSON file each, written to a
temporary file and renamed into place, so concurrent processes never see half an entry. An entry that
cannot be read or does not validate is ignored (and rewritten); a cache that cannot be written is
skipped. The key covers the `pddl` package's version and `FORMAT`, so a new parser or conversion never
reads an old entry.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from pydantic import ValidationError

from modulo.model import Model
from modulo.verifiers.strips import ActionSchema, Condition, StripsProblem

FORMAT = 1
"""Bump when the conversion from the parser's objects to `StripsProblem` changes."""


class _Literal(Model):
    atom: list[str]
    positive: bool


class _Action(Model):
    name: str
    params: list[str]
    types: list[str]
    pre: list[_Literal]
    add: list[list[str]]
    delete: list[list[str]]


class CachedProblem(Model):
    """A `StripsProblem` as stored (lists keep every mapping's order)."""

    key: str
    domain_name: str
    name: str
    actions: list[_Action]
    objects: list[tuple[str, str]]
    ancestors: list[tuple[str, list[str]]]
    init: list[list[str]]
    goal: list[_Literal]
    predicates: list[tuple[str, int]]


def cache_dir() -> Path:
    """Where entries live: `$MODULO_CACHE/pddl`, else `~/.cache/modulo/pddl`."""
    root = os.environ.get("MODULO_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "modulo") / "pddl"


def cache_key(domain_text: str, problem_text: str) -> str:
    """The content hash naming the entry of a domain/problem pair."""
    digest = hashlib.sha256(f"{FORMAT}\0{_pddl_version()}\0".encode())
    for text in (domain_text, problem_text):
        data = text.encode()
        digest.update(f"{len(data)}\0".encode() + data)
    return digest.hexdigest()


def read_cached(key: str) -> StripsProblem | None:
    """The cached problem, or None when there is no usable entry (missing, unreadable, corrupt)."""
    try:
        entry = CachedProblem.model_validate_json((cache_dir() / f"{key}.json").read_bytes())
    except (OSError, ValidationError):
        return None
    return _problem(entry) if entry.key == key else None


def write_cached(key: str, problem: StripsProblem) -> None:
    """Store the problem under `key` (atomically); a cache that cannot be written is skipped."""
    folder = cache_dir()
    data = _entry(key, problem).model_dump_json().encode()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, folder / f"{key}.json")
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError:
        return


@lru_cache(maxsize=1)
def _pddl_version() -> str:
    try:
        return version("pddl")
    except Exception:  # not installed as a distribution: a version no entry was written with
        return "unknown"


def _lit(condition: Condition) -> _Literal:
    return _Literal(atom=list(condition.atom), positive=condition.positive)


def _entry(key: str, problem: StripsProblem) -> CachedProblem:
    return CachedProblem(
        key=key,
        domain_name=problem.domain_name,
        name=problem.name,
        actions=[
            _Action(
                name=a.name,
                params=list(a.params),
                types=list(a.types),
                pre=[_lit(c) for c in a.pre],
                add=[list(x) for x in a.add],
                delete=[list(x) for x in a.delete],
            )
            for a in problem.actions.values()
        ],
        objects=list(problem.objects.items()),
        ancestors=[(t, sorted(up)) for t, up in problem.ancestors.items()],
        init=sorted(list(a) for a in problem.init),
        goal=[_lit(c) for c in problem.goal],
        predicates=list(problem.predicates.items()),
    )


def _condition(lit: _Literal) -> Condition:
    return Condition(tuple(lit.atom), lit.positive)


def _problem(entry: CachedProblem) -> StripsProblem:
    return StripsProblem(
        domain_name=entry.domain_name,
        name=entry.name,
        actions={
            a.name: ActionSchema(
                name=a.name,
                params=tuple(a.params),
                types=tuple(a.types),
                pre=tuple(_condition(c) for c in a.pre),
                add=tuple(tuple(x) for x in a.add),
                delete=tuple(tuple(x) for x in a.delete),
            )
            for a in entry.actions
        },
        objects=dict(entry.objects),
        ancestors={t: frozenset(up) for t, up in entry.ancestors},
        init=frozenset(tuple(a) for a in entry.init),
        goal=tuple(_condition(c) for c in entry.goal),
        predicates=dict(entry.predicates),
    )
