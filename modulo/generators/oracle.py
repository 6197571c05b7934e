"""The oracle generator: a domain writes its own reference outputs (exact, swapped, corrupted traces).

No language model is involved; this is the testbed for verifiers and a dataset generator.
"""

from __future__ import annotations

import time
from typing import Any

from modulo.generators.sampling import request_seed
from modulo.protocols import DomainLookup, Generation, GenerationRequest, OracleDomain


class OracleGenerator:
    """Params: `variant` (default "exact"; the domain lists the others) and `latency`
    (seconds to wait per request, to simulate a slow model when testing a pipeline)."""

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        unknown = set(params) - {"variant", "latency"}
        if unknown:
            raise ValueError(f"unknown oracle params {sorted(unknown)}; known: variant, latency")
        self.variant = str(params.get("variant", "exact"))
        self.latency = float(params.get("latency", 0.0))
        self._domains = domains
        self.name = f"oracle:{self.variant}"

    def _domain(self, name: str) -> OracleDomain:
        domain = self._domains(name)
        if not isinstance(domain, OracleDomain):
            raise ValueError(f"domain {name!r} has no oracle; use another generator for it")
        if self.variant not in domain.oracle_variants:
            raise ValueError(
                f"domain {name!r} has no oracle variant {self.variant!r}; "
                f"its variants: {', '.join(domain.oracle_variants)}"
            )
        return domain

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        out = []
        for request in requests:
            started = time.perf_counter()
            time.sleep(self.latency)
            domain = self._domain(request.instance.domain)
            text = domain.oracle(request.instance, self.variant, request_seed(request.sampling, request.key))
            out.append(
                Generation(
                    key=request.key,
                    text=text,
                    finish_reason="stop",
                    completion_tokens=len(text.split()),
                    seconds=time.perf_counter() - started,
                )
            )
        return out
