"""Spreading requests over several server endpoints: least in-flight first, a bounded number of requests
per endpoint, and an endpoint that keeps failing set aside for a cool-down while the others go on."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

WAIT_STEP = 0.1
"""How often a request waiting for a free endpoint looks at the stop flag (seconds)."""


@dataclass
class Endpoint:
    """One server: its URL, the requests it serves now, until when it is set aside and why."""

    url: str
    in_flight: int = 0
    dead_until: float = 0.0
    problem: str = ""

    def alive(self, now: float) -> bool:
        return now >= self.dead_until


@dataclass
class Pool:
    """The endpoints of one `generate` call, shared by its worker threads."""

    urls: tuple[str, ...]
    concurrency: int
    """Requests in flight at once on one endpoint."""
    cooldown: float
    """Seconds a failed endpoint is set aside before requests may try it again."""
    endpoints: list[Endpoint] = field(init=False)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        self.endpoints = [Endpoint(url) for url in self.urls]

    def acquire(self, tried: set[str], stop: threading.Event) -> Endpoint | None:
        """The alive endpoint not in `tried` with the fewest requests in flight, waiting while all of
        them are full; None when none is left (every one tried by this request or set aside)."""
        with self.changed:
            while not stop.is_set():
                now = time.monotonic()
                left = [e for e in self.endpoints if e.url not in tried and e.alive(now)]
                if not left:
                    return None
                free = [e for e in left if e.in_flight < self.concurrency]
                if free:
                    chosen = min(free, key=lambda e: e.in_flight)
                    chosen.in_flight += 1
                    return chosen
                self.changed.wait(WAIT_STEP)
        return None

    def release(self, endpoint: Endpoint) -> None:
        """The request is done with `endpoint`."""
        with self.changed:
            endpoint.in_flight -= 1
            self.changed.notify_all()

    def fail(self, endpoint: Endpoint, problem: str) -> None:
        """Set `endpoint` aside for the cool-down: a request failed there after all its retries."""
        with self.changed:
            endpoint.dead_until = time.monotonic() + self.cooldown
            endpoint.problem = problem
            self.changed.notify_all()

    def is_set_aside(self, endpoint: Endpoint) -> bool:
        with self.changed:
            return not endpoint.alive(time.monotonic())

    def problems(self) -> str:
        """Each endpoint's last problem, for the error that ends a batch."""
        with self.changed:
            return "; ".join(f"{e.url}: {e.problem or 'no problem seen'}" for e in self.endpoints)
