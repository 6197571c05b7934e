"""The replay generator: texts produced elsewhere, read from a traces JSONL file (the interchange format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modulo.protocols import DomainLookup, Generation, GenerationRequest
from modulo.verify import InputError, read_trace_records


class ReplayGenerator:
    """Params: `path` to a traces JSONL file; texts are matched to instances by domain and id."""

    def __init__(self, params: dict[str, Any], domains: DomainLookup) -> None:
        if "path" not in params:
            raise ValueError("the replay generator needs `path`, a traces JSONL file")
        path = Path(params["path"])
        self.name = f"replay:{path.name}"
        self._texts: dict[tuple[str, str], str] = {}
        for record in read_trace_records(path):
            if isinstance(record, InputError):
                raise ValueError(str(record))
            instance = record.to_instance()
            self._texts[(instance.domain, instance.id)] = record.text

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        out = []
        for request in requests:
            key = (request.instance.domain, request.instance.id)
            if key not in self._texts:
                raise LookupError(f"the replay file has no text for {key[0]} instance {key[1]!r}")
            out.append(Generation(key=request.key, text=self._texts[key], finish_reason="replay"))
        return out
