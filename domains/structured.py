"""The `json` prompt style shared by the domains: what to ask for, and finding the JSON in model text.

A domain's trace model (pydantic) gives the schema; `parse` looks for a JSON object with the model's
fields and converts it item by item into the same steps its text format gives, so one bad item is one
unparsed step, and text that holds no such object is read in the text format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)


def json_instructions(schema: dict[str, Any]) -> str:
    """The output-format paragraph of a `json` prompt: one object following the schema."""
    return (
        "Answer with a single JSON object and nothing else (no prose, no code fence), following this "
        f"JSON schema:\n{json.dumps(schema)}"
    )


def _candidates(text: str) -> Iterator[str]:
    yield text
    yield from (m.group(1) for m in FENCE.finditer(text))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        yield text[start : end + 1]


def json_object(text: str, fields: Iterable[str]) -> dict[str, Any] | None:
    """The JSON object `text` is (whole, in a ```json fence, or from its first `{` to its last `}`) if it
    has one of `fields`; None otherwise. Total: never raises."""
    wanted = set(fields)
    for candidate in _candidates(text):
        try:
            value = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict) and value.keys() & wanted:
            return value
    return None


def item_text(item: Any) -> str:
    """A JSON item as step text: a string as it is, anything else as compact JSON."""
    return item if isinstance(item, str) else json.dumps(item)
