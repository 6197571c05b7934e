"""Large texts stored compressed: a store column holds either the text itself or its zlib bytes.

A value of at least PACK_MIN characters is stored as zlib-compressed UTF-8 (a BLOB) when that is smaller;
anything else stays TEXT, and stores written before schema 6 hold TEXT only, so `unpack` reads both.
"""

from __future__ import annotations

import zlib

PACK_MIN = 256
"""Shorter texts are stored as they are (compression would save next to nothing)."""


def pack(text: str | None) -> str | bytes | None:
    """The stored form of a text: its zlib bytes when it is long and they are smaller, else the text."""
    if text is None or len(text) < PACK_MIN:
        return text
    packed = zlib.compress(text.encode(), 6)
    return packed if len(packed) < len(text.encode()) else text


def unpack(value: str | bytes | None) -> str | None:
    """The text a stored value holds (TEXT as it is, a BLOB decompressed)."""
    if isinstance(value, bytes):
        return zlib.decompress(value).decode()
    return value
