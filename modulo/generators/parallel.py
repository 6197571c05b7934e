"""Running blocking requests on daemon threads that an interrupt never has to wait for."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def run_parallel(fn: Callable[[T], R], items: Sequence[T], workers: int, stop: threading.Event) -> list[R]:
    """`fn` of every item on up to `workers` daemon threads, results in order.

    The first exception (or a KeyboardInterrupt in the calling thread) sets `stop` and is raised at once;
    threads still busy are left to finish on their own (they are daemons, so they never hold up exit).
    `fn` should watch `stop` to end early."""
    todo: queue.SimpleQueue[tuple[int, T]] = queue.SimpleQueue()
    for index, item in enumerate(items):
        todo.put((index, item))
    done: queue.SimpleQueue[tuple[int, R | BaseException]] = queue.SimpleQueue()

    def work() -> None:
        while not stop.is_set():
            try:
                index, item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((index, fn(item)))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                done.put((index, exc))

    for _ in range(min(workers, len(items))):
        threading.Thread(target=work, daemon=True).start()
    results: dict[int, R] = {}
    try:
        while len(results) < len(items):
            index, outcome = done.get()
            if isinstance(outcome, BaseException):
                raise outcome
            results[index] = outcome
    except BaseException:
        stop.set()
        raise
    return [results[i] for i in range(len(items))]
