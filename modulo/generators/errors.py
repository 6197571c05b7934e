"""The error model generators raise for problems the user must fix (install, configure, reach a server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modulo.protocols import Generation


class GeneratorError(RuntimeError):
    """A generator cannot do its work until the user fixes something; the message says what."""


class BatchFailed(GeneratorError):
    """A batch stopped part-way; `finished` holds the generations that had come back, by request index,
    so that the caller can keep them (the runner stores them before it stops)."""

    def __init__(self, message: str, finished: dict[int, Generation]) -> None:
        super().__init__(message)
        self.finished = finished
