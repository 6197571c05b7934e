"""Discovery of domains and generators through entry points (groups `modulo.domains`, `modulo.generators`).

The core never imports a domain module: third-party packages register theirs the same way ours do.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from modulo.model import GeneratorConfig
from modulo.protocols import Domain, Generator, GeneratorFactory, Importer
from modulo.redact import redact

DOMAIN_GROUP = "modulo.domains"
GENERATOR_GROUP = "modulo.generators"
IMPORTER_GROUP = "modulo.importers"


class RegistryError(LookupError):
    """A name that is not registered, or an entry point that fails to load."""


def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def domain_names() -> list[str]:
    """Names of every installed domain, sorted."""
    return sorted(_entry_points(DOMAIN_GROUP))


def domain_entry_point(name: str) -> EntryPoint | None:
    """The entry point that registers domain `name` (its module and distribution), if any."""
    return _entry_points(DOMAIN_GROUP).get(name)


def generator_names() -> list[str]:
    """Names of every installed generator, sorted."""
    return sorted(_entry_points(GENERATOR_GROUP))


def _load(group: str, kind: str, name: str) -> Any:
    found = _entry_points(group)
    if name not in found:
        installed = ", ".join(sorted(found)) or "none"
        raise RegistryError(
            f"unknown {kind} {name!r}; installed {kind}s: {installed}. "
            f"A package adds one under the entry-point group {group!r}."
        )
    try:
        return found[name].load()
    except Exception as exc:  # a broken plugin must not look like a missing one
        raise RegistryError(f"{kind} {name!r} is registered but failed to load: {exc}") from exc


@cache
def get_domain(name: str) -> Domain:
    """The domain registered as `name` (one shared instance per process)."""
    domain = _load(DOMAIN_GROUP, "domain", name)()
    if not isinstance(domain, Domain):
        raise RegistryError(f"domain {name!r} does not implement the modulo Domain protocol")
    return domain


def get_generator(name: str, params: dict[str, Any]) -> Generator:
    """A generator built from its registered factory with the config's params."""
    factory: GeneratorFactory = _load(GENERATOR_GROUP, "generator", name)
    try:
        generator = factory(params, get_domain)
    except (TypeError, ValueError) as exc:
        raise RegistryError(redact(f"generator {name!r} rejected its params {params}: {exc}")) from exc
    if not isinstance(generator, Generator):
        raise RegistryError(f"generator {name!r} does not implement the modulo Generator protocol")
    return generator


@cache
def serving_params(name: str) -> frozenset[str]:
    """The params of generator `name` that decide where and how requests are sent, not what the model
    writes (its factory's `SERVING_PARAMS`, e.g. the openai generator's endpoints and retry settings);
    empty for a generator that declares none or is not installed."""
    if name not in _entry_points(GENERATOR_GROUP):
        return frozenset()
    return frozenset(getattr(_load(GENERATOR_GROUP, "generator", name), "SERVING_PARAMS", ()))


def generator_identity(config: GeneratorConfig) -> GeneratorConfig:
    """The generator config without its serving params: what decides the texts (the same object when
    there is nothing to leave out, so ids made from it do not change)."""
    drop = serving_params(config.name)
    if not drop & config.params.keys():
        return config
    return GeneratorConfig(name=config.name, params={k: v for k, v in config.params.items() if k not in drop})


def importer_names() -> list[str]:
    """Names of every installed importer, sorted."""
    return sorted(_entry_points(IMPORTER_GROUP))


def get_importer(name: str) -> Importer:
    """The importer registered as `name`."""
    importer = _load(IMPORTER_GROUP, "importer", name)()
    if not isinstance(importer, Importer):
        raise RegistryError(f"importer {name!r} does not implement the modulo Importer protocol")
    return importer
