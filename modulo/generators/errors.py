"""The error model generators raise for problems the user must fix (install, configure, reach a server)."""

from __future__ import annotations


class GeneratorError(RuntimeError):
    """A generator cannot do its work until the user fixes something; the message says what."""
