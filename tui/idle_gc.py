"""Python's full garbage collections, moved from key presses to idle moments.

A full (generation 2) collection scans every tracked object: 40-95 ms here once a 100 000-sample store's
screens have been opened, and it fell inside every other action, on whatever allocation crossed the
threshold (measured with gc.callbacks during benchmarks/tui_scale.py). While an app runs, automatic
collections stop at generation 1 (young objects, 1-2 ms); a timer runs the full collection once it is
due (as often as Python's default policy would run one, counted in generation-1 collections) and the
user has been idle for a second, or, for a user who never pauses, once it has waited `MAX_WAIT_SECONDS`
(drawing leaves cyclic garbage behind each key press: never collecting while keys keep coming grew the
process by 80 MB a minute). The objects that exist once the first app is mounted (modules, classes,
Textual's machinery) live as long as the process and are frozen out of every scan. Python's own policy
comes back when the last running app stops.
"""

from __future__ import annotations

import gc
import time

IDLE_SECONDS = 1.0
"""No key or mouse input for this long counts as idle."""
MAX_WAIT_SECONDS = 2.0
"""A due collection waits for an idle moment at most this long."""
YOUNG_COLLECTIONS = 10
"""Generation-1 collections between full ones: Python's default third threshold."""
NEVER = 1 << 30

_owners = 0
"""Collectors started and not stopped (apps running in this process)."""
_saved: tuple[int, int, int] | None = None
"""The thresholds before the first of them started."""


class IdleCollector:
    """Full collections at idle moments between `start` and `stop` (one per app)."""

    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self._running = False
        self._young_seen = 0
        self._due_since: float | None = None

    def start(self) -> None:
        """Freeze what exists, stop automatic full collections (the first running collector does)."""
        global _owners, _saved
        if self._running:
            return
        self._running = True
        if _owners == 0:
            gc.freeze()
            _saved = gc.get_threshold()
            gen0, gen1, _ = _saved
            gc.set_threshold(gen0, gen1, NEVER)
        _owners += 1
        self._young_seen = _young_collections()

    def stop(self) -> None:
        """Python's own policy again, frozen objects back in the heap (the last running collector does)."""
        global _owners, _saved
        if not self._running:
            return
        self._running = False
        _owners -= 1
        if _owners == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
            gc.unfreeze()

    def touched(self) -> None:
        """The user pressed a key or used the mouse."""
        self.last_input = time.monotonic()

    def tick(self) -> bool:
        """Collect fully when due and the user is idle (or it waited long enough); True when it did."""
        if not self._running:
            return False
        now = time.monotonic()
        if _young_collections() - self._young_seen < YOUNG_COLLECTIONS:
            self._due_since = None
            return False
        if self._due_since is None:
            self._due_since = now
        idle = now - self.last_input >= IDLE_SECONDS
        if not idle and now - self._due_since < MAX_WAIT_SECONDS:
            return False
        gc.collect()
        self._young_seen = _young_collections()
        self._due_since = None
        return True


def _young_collections() -> int:
    return int(gc.get_stats()[1]["collections"])
