"""Python's full garbage collections, moved from key presses to idle moments.

A full (generation 2) collection scans every tracked object: 40-95 ms here once a 100 000-sample store's
screens have been opened, and it fell inside every other action, on whatever allocation crossed the
threshold (measured with gc.callbacks during benchmarks/tui_scale.py). While the app runs, automatic
collections stop at generation 1 (young objects, 1-2 ms); a timer runs the full collection once the user
has been idle for a second and enough has been allocated since the last one (as often as Python's default
policy would, counted in generation-1 collections). The objects that exist once the app is mounted
(modules, classes, Textual's machinery) live as long as the process and are frozen out of every scan.
Everything is restored when the app stops.
"""

from __future__ import annotations

import gc
import time

IDLE_SECONDS = 1.0
"""No key or mouse input for this long counts as idle."""
YOUNG_COLLECTIONS = 10
"""Generation-1 collections between full ones: Python's default third threshold."""
NEVER = 1 << 30


class IdleCollector:
    """Owns the process's collector thresholds between `start` and `stop`."""

    def __init__(self) -> None:
        self.last_input = time.monotonic()
        self._thresholds: tuple[int, int, int] | None = None
        self._young_seen = 0

    def start(self) -> None:
        """Freeze what exists, stop automatic full collections."""
        if self._thresholds is not None:
            return
        gc.freeze()
        self._thresholds = gc.get_threshold()
        gen0, gen1, _ = self._thresholds
        gc.set_threshold(gen0, gen1, NEVER)
        self._young_seen = _young_collections()

    def stop(self) -> None:
        """Python's own policy again, frozen objects back in the heap."""
        if self._thresholds is None:
            return
        gc.set_threshold(*self._thresholds)
        self._thresholds = None
        gc.unfreeze()

    def touched(self) -> None:
        """The user pressed a key or used the mouse."""
        self.last_input = time.monotonic()

    def tick(self) -> bool:
        """Collect fully when idle and due; True when it did."""
        if self._thresholds is None or time.monotonic() - self.last_input < IDLE_SECONDS:
            return False
        young = _young_collections()
        if young - self._young_seen < YOUNG_COLLECTIONS:
            return False
        gc.collect()
        self._young_seen = _young_collections()
        return True


def _young_collections() -> int:
    return int(gc.get_stats()[1]["collections"])
