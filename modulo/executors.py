"""Where verification runs: in this process, in a local process pool, or as Ray tasks on a cluster.

An executor maps a picklable top-level function over plain items and yields the results in input order,
with a bounded amount of work in flight, so memory stays flat on an input of any length; the caller
stays the only writer of the store. An item whose function raises comes back as a `Failure` (callers
turn it into that item's explicit error verdict). A worker process that dies is retried: the local pool
restarts and runs each item of the lost chunks on its own, Ray retries the task and then runs each of
its items on its own; an item that kills its process twice on its own comes back as a `Failure` naming
the death.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from multiprocessing.context import BaseContext
from typing import Any, Generic, Protocol, TypeVar

from modulo.claims import claim_alive, process_owner, utc_now
from modulo.registry import RegistryError, get_domain

T = TypeVar("T")
R = TypeVar("R")

CHUNK = 16
"""Items per task: enough to hide the cost of shipping a task, few enough to keep the workers even."""

IN_FLIGHT_PER_WORKER = 4
"""Chunks in flight per worker: keeps every worker busy while the caller writes results."""

SMALL_INPUT = 400
"""Inputs with fewer items than this are verified in-process: starting a pool costs more than it saves
(measured in docs/scale-verify.md: 400-700 maze lines, fewer records of costlier domains)."""


class ExecutorError(RuntimeError):
    """An executor that cannot start: a missing extra, an unreachable cluster, a bad worker count."""


@dataclass(frozen=True)
class Failure:
    """An item whose function raised, or whose worker process died twice."""

    reason: str


class Executor(Protocol):
    """Runs `fn` over `items`, results in input order; see the module docstring."""

    name: str
    workers: int

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], count: int | None = None
    ) -> Iterator[R | Failure]:
        """Results of `fn` over `items` in input order; `count`, when known, is how many items come."""
        ...

    def close(self) -> None: ...


def run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R | Failure]:
    """`fn` over a chunk; an exception becomes that item's Failure and never stops the others."""
    results: list[R | Failure] = []
    for item in chunk:
        try:
            results.append(fn(item))
        except Exception as exc:  # noqa: BLE001 - turned into the item's explicit error verdict
            results.append(Failure(f"{type(exc).__name__}: {exc}"))
    return results


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class InProcess:
    """No pool: every item in this process, one after the other (`--workers 1`, small inputs)."""

    name = "local"
    workers = 1

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], count: int | None = None
    ) -> Iterator[R | Failure]:
        for chunk in _chunks(items, CHUNK):
            yield from run_chunk(fn, chunk)

    def close(self) -> None:
        return None


@dataclass
class _Flight(Generic[T]):
    """A chunk in flight: its items, its pending result and the pool generation it was sent to."""

    chunk: list[T]
    result: Any
    generation: int


class LocalPool:
    """A `ProcessPoolExecutor` of `workers` processes, started on the first item. Workers are forked from
    a forkserver (safe beside the threads and the model a `modulo run` process may hold) that imports
    `preload` (e.g. the domains' modules) once, so each worker starts without importing them again.
    A map of fewer than `small` items (when its count is known) runs in this process."""

    name = "local"

    def __init__(
        self, workers: int, chunk: int = CHUNK, preload: Iterable[str] = (), small: int = SMALL_INPUT
    ) -> None:
        if workers < 1:
            raise ExecutorError(f"--workers must be at least 1, not {workers}")
        self.workers = workers
        self.chunk = chunk
        self.small = small
        self.preload = ["modulo.runner", "modulo.verify_stream", *preload]
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0

    def _fresh_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context: BaseContext = multiprocessing.get_context("spawn")
            if "forkserver" in multiprocessing.get_all_start_methods():
                forkserver = multiprocessing.get_context("forkserver")
                forkserver.set_forkserver_preload(self.preload)
                context = forkserver
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=watch_driver, initargs=(process_owner(),)
            )
        return self._pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._generation += 1

    def _submit(self, fn: Callable[[T], R], chunk: list[T]) -> Future[list[R | Failure]]:
        try:
            return self._fresh_pool().submit(run_chunk, fn, chunk)
        except BrokenProcessPool:
            self._restart()
            return self._fresh_pool().submit(run_chunk, fn, chunk)

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], count: int | None = None
    ) -> Iterator[R | Failure]:
        if count is not None and count < self.small:
            yield from InProcess().map(fn, items)
            return
        flights: deque[_Flight[T]] = deque()
        for chunk in _chunks(items, self.chunk):
            flights.append(_Flight(chunk, self._submit(fn, chunk), self._generation))
            if len(flights) >= self.workers * IN_FLIGHT_PER_WORKER:
                yield from self._collect(fn, flights.popleft())
        while flights:
            yield from self._collect(fn, flights.popleft())

    def _collect(self, fn: Callable[[T], R], flight: _Flight[T]) -> list[R | Failure]:
        try:
            results: list[R | Failure] = flight.result.result()
            return results
        except BrokenProcessPool:
            if flight.generation == self._generation:
                self._restart()
            return [self._retry(fn, item) for item in flight.chunk]

    def _retry(self, fn: Callable[[T], R], item: T) -> R | Failure:
        """One item alone in a fresh pool, twice if it dies: a death alone is that item's own, and a second
        one is reported (a chunk's death may have been another item's, so it does not count)."""
        for _ in range(2):
            try:
                [result] = self._submit(fn, [item]).result()
                return result
            except BrokenProcessPool:
                self._restart()
        return Failure("the worker process verifying it died twice (killed, or out of memory?)")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class RayCluster:
    """Ray tasks on the cluster at `address` (else RAY_ADDRESS, else a running local instance or a new
    one): each chunk a task retried once if its worker dies (then each item alone, retried once), at most
    `workers` x IN_FLIGHT_PER_WORKER chunks in flight (`workers` defaults to the cluster's CPUs)."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, chunk: int = CHUNK) -> None:
        self._ray = import_ray()
        self.chunk = chunk
        target = address or os.environ.get("RAY_ADDRESS") or None
        if not self._ray.is_initialized():
            if target and (refused := unreachable(target)):
                raise ExecutorError(f"cannot reach a Ray cluster at {target}: {refused}")
            try:
                self._ray.init(address=target, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                where = f"at {target}" if target else "(none given, so a new local one)"
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ExecutorError(f"cannot reach a Ray cluster {where}: {first}") from exc
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, workers or cpus)
        self._task = self._ray.remote(max_retries=1, retry_exceptions=False)(run_chunk)
        errors = self._ray.exceptions
        lost = ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OutOfMemoryError")
        self._lost = tuple(getattr(errors, name) for name in lost if hasattr(errors, name))

    def map(
        self, fn: Callable[[T], R], items: Iterable[T], count: int | None = None
    ) -> Iterator[R | Failure]:
        ray = self._ray
        fn_ref = ray.put(fn)
        flights: deque[_Flight[T]] = deque()
        for chunk in _chunks(items, self.chunk):
            flights.append(_Flight(chunk, self._task.remote(fn_ref, chunk), 0))
            if len(flights) >= self.workers * IN_FLIGHT_PER_WORKER:
                yield from self._collect(fn_ref, flights.popleft())
        while flights:
            yield from self._collect(fn_ref, flights.popleft())

    def _collect(self, fn_ref: Any, flight: _Flight[T]) -> list[Any]:
        """The chunk's results in order; if its worker died twice, each item on its own (twice at most)."""
        try:
            results: list[Any] = self._ray.get(flight.result)
            return results
        except self._lost:
            retries = [self._task.remote(fn_ref, [item]) for item in flight.chunk]
            out: list[Any] = []
            for ref in retries:
                try:
                    out.extend(self._ray.get(ref))
                except self._lost:
                    out.append(Failure("the Ray worker verifying it died twice (killed, or out of memory?)"))
            return out

    def close(self) -> None:
        return None


DRIVER_CHECK_SECONDS = 1.0


def watch_driver(owner: str) -> None:
    """In a pool worker: end the process soon after the driver (`owner`, a claims owner) is gone, e.g.
    killed with -9, instead of waiting on its queue forever."""

    def watch() -> None:
        while claim_alive(owner, utc_now()):
            time.sleep(DRIVER_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="modulo-driver-watch", daemon=True).start()


def unreachable(address: str, seconds: float = 5.0) -> str | None:
    """Why nothing answers at a `host:port` Ray address (None if something does, or if the address is
    not of that form, e.g. `auto` or `ray://`): Ray itself would retry for a minute or more."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return None
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def import_ray() -> Any:
    """The `ray` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError(
            "--executor ray needs Ray: pip install 'modulo[ray]' (on every node of the cluster)"
        ) from exc
    return ray


def make_executor(
    name: str,
    workers: int | None,
    *,
    ray_address: str | None = None,
    domains: Iterable[str] = (),
) -> Executor:
    """The executor the flags ask for. `workers` None means every core (local) or every cluster CPU (ray).
    `domains` (names) are imported once by the local pool's forkserver."""
    if name == "ray":
        return RayCluster(workers, ray_address)
    if name != "local":
        raise ExecutorError(f"--executor must be local or ray, not {name!r}")
    if ray_address is not None:
        raise ExecutorError("--ray-address goes with --executor ray")
    count = cores() if workers is None else workers
    if count < 1:
        raise ExecutorError(f"--workers must be at least 1, not {count}")
    if count == 1:
        return InProcess()
    return LocalPool(count, preload=domain_modules(domains))


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else `os.cpu_count()`)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def domain_modules(names: Iterable[str]) -> list[str]:
    """The modules that define these domains (unknown names are left to fail where they are used)."""
    modules = []
    for name in names:
        try:
            modules.append(type(get_domain(name)).__module__)
        except RegistryError:
            continue
    return sorted(set(modules))
