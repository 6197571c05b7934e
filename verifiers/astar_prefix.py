"""The fast path of the A* validator: how many leading steps of a trace are valid (see `valid_prefix`)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from heapq import heappop, heappush
from typing import Any, cast

from modulo.verifiers.astar_rules import TIE_DIGITS, Adjacency, Heuristic, StartMode, TieKey
from modulo.verifiers.search_events import SearchEvent


def valid_prefix(
    adj: Adjacency,
    start: Hashable,
    goal: Hashable,
    heuristic: Heuristic,
    events: Sequence[SearchEvent | None],
    start_mode: StartMode,
    tie_key: TieKey | None,
    tol: float,
) -> tuple[int, float | None]:
    """(How many leading steps are valid, the g of the goal if one of them closes it).

    The fast path: the replay's rules and state updates for valid steps only, with lean state. It
    stops at the first step it cannot pass and never writes a message; it must never pass a step
    the replay would fault. Besides rule breaks it stops at rare valid cases, left to the replay:
    closing a node that is not first in strict order but has the same tie key as the first;
    creating a child A* need not create, with a g lower than the known one by more than the tolerance
    only because it is within tolerance below the expected g. The open list is a count
    per exact f, the least two kept apart (ties allowed, `_prefix_any_tie`), or a heap in the
    replay's order (strict, `_prefix_strict`).
    """
    first = events[0] if events else None
    if first is None or first.kind != start_mode or first.node != start:
        return 0, None
    g, h = first.g, first.h
    true_h = heuristic(start)
    if not (-tol <= g <= tol and -tol <= h - true_h <= tol):
        return 0, None
    begin = 1 if start_mode == "create" else 0  # "create": step 0 put the start on open; "close": it is next
    if tie_key is None:
        return _prefix_any_tie(adj, start, goal, heuristic, events, begin, g, h, tol)
    return _prefix_strict(adj, start, goal, heuristic, events, begin, g, h, tie_key, tol)


def _prefix_any_tie(
    adj: Adjacency,
    start: Hashable,
    goal: Hashable,
    heuristic: Heuristic,
    events: Sequence[SearchEvent | None],
    begin: int,
    g: float,
    h: float,
    tol: float,
) -> tuple[int, float | None]:
    """`_valid_prefix` with ties allowed, from step `begin` on, the start open with claimed g and h."""
    ntol = -tol
    known: dict[Hashable, list[Any]] = {start: [g, h]}
    """node -> [claimed g, claimed h if the node is open, else None]."""
    low, at_low = g + h, 1
    """The least exact f of an open node (inf if none) and how many open nodes have it."""
    nxt, at_nxt = math.inf, 0
    """The next greater f of an open node (inf if none) and how many open nodes have it."""
    above: dict[float, int] = {}
    """Every f of an open node greater than `nxt` -> how many open nodes have it. `f_heap` holds the
    keys, lazily: an entry whose key is gone is skipped."""
    f_heap: list[float] = []
    pending: dict[Hashable, float] = {}
    """Children the current expansion still has to create -> expected g."""
    improving: dict[Hashable, float] = {}
    """Pending children that are already known -> the g they are known with."""
    pending_pop, known_get = pending.pop, known.get
    steps = enumerate(events)
    if begin:
        next(steps)
    for index, event in steps:
        if event is None:
            return index, None
        node, g, kind = event.node, event.g, event.kind
        if kind == "create":
            expected = pending_pop(node, None)
            if expected is None or (g != expected and not ntol <= g - expected <= tol):
                return index, None
            h = event.h
            true_h = heuristic(node)
            if h != true_h and not ntol <= h - true_h <= tol:
                return index, None
            if improving and node in improving:
                was = improving.pop(node)
                if not g < was - tol:
                    return index, None
                old = known[node]
                if old[1] is not None:
                    low, at_low, nxt, at_nxt = _drop_f(
                        old[0] + old[1], low, at_low, nxt, at_nxt, above, f_heap
                    )
            known[node] = [g, h]
            f = g + h
            if f == low:
                at_low += 1
            elif f == nxt:
                at_nxt += 1
            elif low < f < nxt:
                if at_nxt:
                    _count_above(nxt, at_nxt, above, f_heap)
                nxt, at_nxt = f, 1
            elif f > nxt:
                _count_above(f, 1, above, f_heap)
            elif f < low:
                if at_nxt:
                    _count_above(nxt, at_nxt, above, f_heap)
                nxt, at_nxt, low, at_low = low, at_low, f, 1
            else:
                return index, None  # f is NaN
        elif kind == "close":
            if pending:
                return index, None
            entry = known_get(node)
            if entry is None:
                return index, None
            open_g, open_h = entry
            if open_h is None:
                return index, None
            if g != open_g and not ntol <= g - open_g <= tol:
                return index, None
            h = event.h
            if h != open_h and not ntol <= h - open_h <= tol:
                return index, None
            f = open_g + open_h
            if f == low:
                at_low -= 1
                if not at_low:
                    low, at_low = nxt, at_nxt
                    nxt, at_nxt = _least_above(above, f_heap)
            elif f > low + tol:
                return index, None
            else:
                low, at_low, nxt, at_nxt = _drop_f(f, low, at_low, nxt, at_nxt, above, f_heap)
            entry[1] = None
            if g != open_g:
                entry[0] = g
            children = adj[node]
            if node == goal:
                return index + 1, g
            for child, data in children.items():
                child_g = g + data.get("weight", 1)
                child_entry = known_get(child)
                if child_entry is None:
                    pending[child] = child_g
                elif child_g < child_entry[0] - tol:
                    pending[child] = child_g
                    improving[child] = child_entry[0]
        else:
            return index, None
    return len(events), None


def _count_above(f: float, n: int, above: dict[float, int], f_heap: list[float]) -> None:
    """Count n more open nodes with f in `_prefix_any_tie`'s `above`."""
    was = above.get(f)
    if was is None:
        above[f] = n
        heappush(f_heap, f)
    else:
        above[f] = was + n


def _least_above(above: dict[float, int], f_heap: list[float]) -> tuple[float, int]:
    """The least f in `above` and its count, taken out of `above`; (inf, 0) if it is empty."""
    while f_heap:
        f = heappop(f_heap)
        n = above.pop(f, 0)
        if n:
            return f, n
    return math.inf, 0


def _drop_f(
    f: float, low: float, at_low: int, nxt: float, at_nxt: int, above: dict[float, int], f_heap: list[float]
) -> tuple[float, int, float, int]:
    """Take one open node with f off `_prefix_any_tie`'s counts; return the new (low, at_low, nxt, at_nxt)."""
    if f == low:
        if at_low > 1:
            return low, at_low - 1, nxt, at_nxt
        return (nxt, at_nxt, *_least_above(above, f_heap))
    if f == nxt:
        if at_nxt > 1:
            return low, at_low, nxt, at_nxt - 1
        return (low, at_low, *_least_above(above, f_heap))
    n = above[f]
    if n > 1:
        above[f] = n - 1
    else:
        del above[f]  # its entry in `f_heap` goes stale
    return low, at_low, nxt, at_nxt


def _prefix_strict(
    adj: Adjacency,
    start: Hashable,
    goal: Hashable,
    heuristic: Heuristic,
    events: Sequence[SearchEvent | None],
    begin: int,
    g: float,
    h: float,
    tie_key: TieKey,
    tol: float,
) -> tuple[int, float | None]:
    """`_valid_prefix` in strict order, from step `begin` on, the start open with claimed g and h.

    Its create checks and its expansion of a closed node repeat `_prefix_any_tie`'s line for line, on
    purpose: shared as one function call per close they made the fast path ~4% slower (measured with
    benchmarks/astar_validator.py), more than its margin over running the search. Change both alike;
    tests/test_astar_validator.py compares each against the replay.
    """
    ntol = -tol
    known: dict[Hashable, list[Any]] = {start: [g, h, 0]}
    """node -> [claimed g, claimed h if the node is open, else None, index of the create behind its
    live `order` entry]."""
    order = [(round(g + h, TIE_DIGITS), tie_key(start), 0)]
    """A heap in the replay's order: (f rounded, tie key, create index), whose node is that of the
    event at the index; stale entries are skipped."""
    pending: dict[Hashable, float] = {}
    """Children the current expansion still has to create -> expected g."""
    improving: dict[Hashable, float] = {}
    """Pending children that are already known -> the g they are known with."""
    pending_pop, known_get = pending.pop, known.get
    steps = enumerate(events)
    if begin:
        next(steps)
    for index, event in steps:
        if event is None:
            return index, None
        node, g, kind = event.node, event.g, event.kind
        if kind == "create":
            expected = pending_pop(node, None)
            if expected is None or (g != expected and not ntol <= g - expected <= tol):
                return index, None
            h = event.h
            true_h = heuristic(node)
            if h != true_h and not ntol <= h - true_h <= tol:
                return index, None
            if improving and node in improving and not g < improving.pop(node) - tol:
                return index, None
            known[node] = [g, h, index]
            f = g + h
            if f.__class__ is not int:  # round() leaves an int as it is, at a cost
                if f != f:
                    return index, None  # f is NaN
                f = round(f, TIE_DIGITS)
            heappush(order, (f, tie_key(node), index))
        elif kind == "close":
            if pending:
                return index, None
            entry = known_get(node)
            if entry is None:
                return index, None
            open_g, open_h, created = entry
            if open_h is None:
                return index, None
            if g != open_g and not ntol <= g - open_g <= tol:
                return index, None
            h = event.h
            if h != open_h and not ntol <= h - open_h <= tol:
                return index, None
            entry[1] = None
            if order[0][2] == created:
                heappop(order)
            elif not _pop_first(order, known, events, created):
                return index, None
            if g != open_g:
                entry[0] = g
            children = adj[node]
            if node == goal:
                return index + 1, g
            for child, data in children.items():
                child_g = g + data.get("weight", 1)
                child_entry = known_get(child)
                if child_entry is None:
                    pending[child] = child_g
                elif child_g < child_entry[0] - tol:
                    pending[child] = child_g
                    improving[child] = child_entry[0]
        else:
            return index, None
    return len(events), None


def _pop_first(
    order: list[tuple[float, Any, int]],
    known: dict[Hashable, list[Any]],
    events: Sequence[SearchEvent | None],
    created: int,
) -> bool:
    """Pop entry `created` (its node was just closed) off the strict open list; False if a live entry
    comes before it."""
    while order[0][2] != created:
        index = order[0][2]
        entry = known[cast(SearchEvent, events[index]).node]
        if entry[1] is not None and entry[2] == index:
            return False
        heappop(order)  # a stale entry: its node was closed or created again since
    heappop(order)
    return True
