"""A probe config: a run config (the base samples), `[[probes]]` tables and an optional `[probe]` selection.

```toml
name = "probe-quick"            # ... everything a `modulo run` suite holds ...
[probe]
samples = 2                     # base samples per task to probe (default: all)
seed = 0                        # which ones, and the probes' own seed
[[probes]]
name = "early-answering"        # a name of modulo.probes.registry.PROBES
params = { unit = "steps" }
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modulo.limits import over_caps
from modulo.model import GeneratorConfig, RunConfig
from modulo.probes.base import Probe, RequestKind
from modulo.probes.registry import probe as make_probe
from modulo.registry import GENERATOR_GROUP
from modulo.runner import ConfigError, refuse_credentials

M = TypeVar("M", bound=BaseModel)

CONTINUING_KINDS: frozenset[str] = frozenset({"continue", "score"})

CONTINUATION_SUPPORT = (
    "continuation and option scoring work with the `local` generator (llama.cpp, embedded) and the `vllm` "
    "generator (offline engine: chat template with `continue_final_message`), and with the `openai` "
    'generator only when it talks to a vLLM server and says so with the param `continuation = "vllm"` '
    "(standard chat-completions endpoints cannot continue a partial assistant message)"
)


class ProbeSpec(BaseModel):
    """One `[[probes]]` table."""

    model_config = ConfigDict(extra="forbid")

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class ProbeSelection(BaseModel):
    """The `[probe]` table: which base samples to probe."""

    model_config = ConfigDict(extra="forbid")

    samples: int | None = Field(default=None, ge=1)
    """Verified first-attempt samples per task to probe (all when unset), chosen with `seed`."""
    seed: int = 0


class ProbeConfig(BaseModel):
    """The base run and the probes to run on its samples."""

    run: RunConfig
    probes: list[ProbeSpec] = Field(min_length=1)
    selection: ProbeSelection = Field(default_factory=ProbeSelection)


def load_probe_config(path: str | Path, *, check: bool = True) -> ProbeConfig:
    """Read a probe config; every problem is one ConfigError naming the file and what to fix. With
    `check`, also that every probe is installed, accepts its params and can use the run's generators."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    refuse_credentials(data, str(path))
    probes, selection = data.pop("probes", None), data.pop("probe", {})
    if not probes:
        raise ConfigError(
            f"{path} has no [[probes]] table; add one with `name` = a probe, e.g. early-answering"
        )
    run = _validated(RunConfig, data, "", path)
    if not isinstance(probes, list):
        raise ConfigError(f"{path}: `probes` must be [[probes]] tables, each with a `name`")
    specs = [_validated(ProbeSpec, p, f"probes[{i + 1}]", path) for i, p in enumerate(probes)]
    chosen = _validated(ProbeSelection, selection, "probe", path)
    try:
        over = over_caps(run)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if over:
        raise ConfigError(f"{path} asks for more than modulo's caps allow: {'; '.join(over)}")
    config = ProbeConfig(run=run, probes=specs, selection=chosen)
    if check:
        check_config(config, str(path))
    return config


def check_config(config: ProbeConfig, source: str) -> None:
    """Every probe exists and accepts its params; every generator can send what the probes need."""
    seen: set[tuple[str, str]] = set()
    for spec in config.probes:
        try:
            probe = make_probe(spec.name)
            params = checked_params(probe, spec.params)
        except ValueError as exc:
            raise ConfigError(f"{source}: [[probes]] {spec.name!r}: {exc}") from exc
        identity = (spec.name, repr(sorted(params.items())))
        if identity in seen:
            raise ConfigError(f"{source}: probe {spec.name!r} is listed twice with the same params")
        seen.add(identity)
        kinds = needed_kinds(probe)
        for generator in generators(config.run):
            check_generator(generator, kinds, spec.name)


def checked_params(probe: Probe, params: Mapping[str, Any]) -> dict[str, Any]:
    """The probe's params with its defaults, when it declares `check_params`; ValueError names a bad one."""
    check = getattr(probe, "check_params", None)
    return dict(check(params)) if callable(check) else dict(params)


def needed_kinds(probe: Probe) -> frozenset[str]:
    """The request kinds a probe declares it sends (`kinds`); unknown ones are checked when sent."""
    kinds: frozenset[RequestKind] | None = getattr(probe, "kinds", None)
    return frozenset(kinds or ())


def generators(run: RunConfig) -> list[GeneratorConfig]:
    """The run's generator and every task's own."""
    found = [run.generator, *(task.generator for task in run.tasks if task.generator is not None)]
    return list({g.model_dump_json(): g for g in found}.values())


def check_generator(generator: GeneratorConfig, kinds: frozenset[str], probe: str) -> None:
    """ConfigError, before any work, when a probe needs continuation or scoring the generator lacks."""
    needs = kinds & CONTINUING_KINDS
    if not needs:
        return
    factory = {ep.name: ep for ep in entry_points(group=GENERATOR_GROUP)}.get(generator.name)
    if factory is None:
        return  # the run reports the unknown generator in its own words
    made = factory.load()
    continues = getattr(made, "continues", None)  # a factory that decides by its params (`openai`)
    if callable(continues):
        able = bool(continues(generator.params))
    else:
        able = all(callable(getattr(made, method, None)) for method in ("continue_generation", "score"))
    if not able:
        raise ConfigError(
            f"probe {probe!r} needs {' and '.join(sorted(needs))} requests, which generator "
            f"{generator.name!r} cannot send; {CONTINUATION_SUPPORT}"
        )


def _validated(model: type[M], data: Any, where: str, path: Path) -> M:
    """`data` as `model`, or one ConfigError naming each bad field (prefixed with `where`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        located = [([where, *e["loc"]] if where else list(e["loc"]), e["msg"]) for e in exc.errors()]
        problems = "; ".join(f"{'.'.join(map(str, loc))}: {msg}" for loc, msg in located)
        raise ConfigError(f"{path} does not describe a probe run: {problems}") from exc
