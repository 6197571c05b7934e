"""Every probe by its name in a config's `[[probes]]` table; each module is imported only when used."""

from __future__ import annotations

import importlib

from modulo.probes.base import Probe

PROBES: dict[str, str] = {
    "early-answering": "modulo.probes.early:EarlyAnswering",
    "filler": "modulo.probes.filler:FillerTokens",
    "verified-corruption": "modulo.probes.corruption:VerifiedCorruption",
    "paraphrase": "modulo.probes.paraphrase:Paraphrase",
    "swapped-trace": "modulo.probes.swapped:SwappedTrace",
    "biasing-cue": "modulo.probes.biasing:BiasingCue",
    "invalid-plan-cue": "modulo.probes.invalid_plan:InvalidPlanCue",
    "confidence": "modulo.probes.confidence:ConfidenceTrajectory",
    "importance": "modulo.probes.importance:CounterfactualImportance",
}


class UnknownProbe(ValueError):
    """A config names a probe that does not exist (or whose module is missing)."""


def probe(name: str) -> Probe:
    """A new instance of the probe called `name`."""
    target = PROBES.get(name)
    if target is None:
        raise UnknownProbe(f"unknown probe {name!r}; known: {', '.join(sorted(PROBES))}")
    module, _, cls = target.partition(":")
    try:
        made: Probe = getattr(importlib.import_module(module), cls)()
    except (ImportError, AttributeError) as exc:
        raise UnknownProbe(f"probe {name!r} is not available: {exc}") from exc
    return made
