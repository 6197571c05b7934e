"""Who holds a claim on a sample: a process named by host, pid and start time, and whether it still lives.

Several `modulo run` processes on one store split the work by claiming samples (`Store.claim`); a claim
whose owner died is taken over. On the same host liveness is checked through the pid and the process's
start time (a reused pid differs); a claim from another host lapses after `CLAIM_LEASE_SECONDS`.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

CLAIM_LEASE_SECONDS = 3600
"""A claim by a process on another host (whose liveness cannot be checked) lapses after this long."""


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (how the store writes times)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def process_owner() -> str:
    """This process as a claim owner: host, pid and the process's start time (so a reused pid differs)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or '' where /proc is missing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def claim_alive(owner: str, claimed_at: str) -> bool:
    """Whether the process that made a claim may still be working on it."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        age = datetime.now(UTC) - datetime.fromisoformat(claimed_at)
        return age.total_seconds() < CLAIM_LEASE_SECONDS
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(pid) == started
