"""A formal validator for A* search traces over any networkx graph.

`validate_astar` replays a trace of `SearchEvent`s (create = put on open, close = expand) and
judges every step against the graph, the heuristic and the open and closed lists *as the trace
itself claims them* (local validity): a step after an error is judged against the claimed state,
so one error does not make every later step invalid. A wrong-g create still puts the node on open
with its claimed g; a close that breaks a rule still makes its node the parent of the creates
that follow, with the g the close claims.

Nodes are closed by A*: the trace alternates one close with the creates of that node's children.
Edges are read from `graph.adj` (successors for a DiGraph) with attribute `weight`, default 1.
Floats (g, h, f) are compared with an absolute tolerance (default 1e-6). `start` must be a node
of the graph.

Speed: `_valid_prefix`, a lean pass with the rules for valid steps only, runs first and stops at
the first step it cannot pass. A trace valid throughout (the goal closed last) is done there. Else
the replay takes on the state of the valid prefix and judges the rest: there too valid steps take
an inline fast path, and a step that leaves it is judged rule by rule, which names the rule and
writes the message. A fast path may hand a valid step to the slow path (e.g. strict mode's tie
between equal tie keys) but must never pass a step the rules fault: tests/test_astar_validator.py
checks that validate_astar agrees with the replay from the start on every trace it draws.

Rules (stable ids; each step gets at most one verdict, the first rule it breaks in this order):

| rule id                     | step   | invalid when                                                      |
|-----------------------------|--------|-------------------------------------------------------------------|
| `astar.parse`               | any    | the step could not be read (event is None, its kind is neither    |
|                             |        | create nor close, or f = g + h is NaN: g or h NaN, or both        |
|                             |        | infinite with opposite signs); status `unparsed`.                 |
| `astar.start`               | 0      | start_mode "create": step 0 is not `create start`; "close": it is |
|                             |        | not `close start` (no create before it); or g != 0, h != h(start).|
| `astar.after_goal`          | any    | the goal was already closed: A* stops there, nothing may follow.  |
| `astar.out_of_bounds`,      | any    | the node is not in the graph and `node_problem(node)` names the   |
| `astar.wall`                |        | rule (the maze tells cells off the grid from wall cells).         |
| `astar.unknown_node`        | any    | the node is not in the graph and `node_problem` gives nothing.    |
| `astar.not_neighbour`       | create | no node was closed yet, or the node is not a successor of the     |
|                             |        | node closed most recently (its parent).                           |
| `astar.wrong_g`             | create | g != claimed g of the parent + edge cost.                         |
|                             | close  | g != the g the node is on open with.                              |
| `astar.wrong_h`             | create | h != heuristic(node).                                             |
|                             | close  | h != the h the node is on open with.                              |
| `astar.recreate_not_better` | create | the node is already open or closed with a g <= the new g (A*      |
|                             |        | creates a known node again only for a strictly lower g).          |
| `astar.missing_create`      | close  | the previous expansion left out a child A* must create: a         |
|                             |        | successor of the parent that is unknown, or whose new g is        |
|                             |        | strictly lower than the g it is open or closed with.              |
| `astar.close_not_open`      | close  | the node is not on open (never created, or already closed).       |
| `astar.min_f`               | close  | an open node has a strictly lower f = g + h (claimed values).     |
| `astar.tie_break`           | close  | strict mode only (`tie_key` given): the node ties for minimum f   |
|                             |        | but is not first in the order (f rounded to 9 decimals,           |
|                             |        | tie_key(node)).                                                   |
| `astar.goal_not_closed`     | trace  | the trace ends without closing the goal (index len(events)).      |

State updates, so that later steps are judged against the trace's claims:

- A create (valid or not, except for nodes absent from the graph) puts the node on open with its
  claimed g and h if the node is unknown or the claimed g is strictly lower than the g it is open
  or closed with; otherwise the state is unchanged. A strictly better g re-opens a closed node:
  A* with an inconsistent heuristic must do so, and with a consistent one it can only happen after
  an earlier error, which is already flagged.
- A close (valid or not, except for nodes absent from the graph) moves the node to closed with the
  g the close claims and makes it the parent of the following creates. Closing the goal ends the
  search.
- If step 0 is unreadable or not the required start event, it is flagged and the replay goes on as
  if the required start event (g=0, h=h(start)) had been written.
- A goal the search can never reach is out of scope: every trace that does not close the goal
  is flagged `astar.goal_not_closed`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from heapq import heapify, heappop, heappush
from typing import Any, Literal, cast

import networkx as nx

from modulo.model import StepStatus, StepVerdict
from modulo.verifiers.search_events import SearchEvent

StartMode = Literal["create", "close"]
"""How a trace begins: Searchformer writes `create start`; Beyond Semantics starts at `close start`."""

Heuristic = Callable[[Any], float]
TieKey = Callable[[Any], Any]
NodeProblem = Callable[[Any], tuple[str, str] | None]
"""Classifies a node absent from the graph: (rule id, message), or None for `astar.unknown_node`."""

Adjacency = dict[Hashable, dict[Hashable, dict[str, Any]]]
"""A graph's own adjacency dicts (`graph._adj`): node -> successor -> edge attributes."""

TOLERANCE = 1e-6
_TIE_DIGITS = 9


class AStarRule(StrEnum):
    """Stable rule ids of the A* validator (see the module docstring for their semantics)."""

    PARSE = "astar.parse"
    START = "astar.start"
    AFTER_GOAL = "astar.after_goal"
    OUT_OF_BOUNDS = "astar.out_of_bounds"
    WALL = "astar.wall"
    UNKNOWN_NODE = "astar.unknown_node"
    NOT_NEIGHBOUR = "astar.not_neighbour"
    WRONG_G = "astar.wrong_g"
    WRONG_H = "astar.wrong_h"
    RECREATE_NOT_BETTER = "astar.recreate_not_better"
    MISSING_CREATE = "astar.missing_create"
    CLOSE_NOT_OPEN = "astar.close_not_open"
    MIN_F = "astar.min_f"
    TIE_BREAK = "astar.tie_break"
    GOAL_NOT_CLOSED = "astar.goal_not_closed"


_VALID_KEPT = 1 << 14
_valid: list[StepVerdict] = []
"""`StepVerdict(index=i, status="valid")` for i = 0, 1, ...: verdicts are frozen, so every trace shares
these. The list is only ever replaced by a longer one with the same prefix, never changed in place."""


def _valid_steps(n: int) -> list[StepVerdict]:
    """`valid` verdicts for indices 0 .. n-1, in a new list."""
    global _valid
    shared = _valid
    if len(shared) >= n:
        return shared[:n]
    more = [StepVerdict(index=i, status="valid") for i in range(len(shared), n)]
    if n <= _VALID_KEPT:
        _valid = [*shared, *more]
    return [*shared, *more]


Issue = tuple[str, str]
"""A broken rule: (rule id, message)."""


@dataclass(frozen=True)
class AStarVerdicts:
    """The validator's judgement: failing verdicts are kept; valid ones are shared (frozen) instances."""

    n_steps: int
    errors: list[StepVerdict]
    """Non-valid step verdicts, in index order."""
    trace_checks: list[StepVerdict]
    """Failing whole-trace checks, at index `n_steps`."""
    goal_g: float | None
    """The g the trace claimed when it closed the goal (its claimed plan cost), if it did."""

    @cached_property
    def steps(self) -> list[StepVerdict]:
        """One verdict per event, same indices, in a list of its own."""
        verdicts = _valid_steps(self.n_steps)
        for verdict in self.errors:
            verdicts[verdict.index] = verdict
        return verdicts

    @property
    def trace_valid(self) -> bool:
        return self.n_steps > 0 and not self.errors and not self.trace_checks

    @property
    def first_invalid(self) -> StepVerdict | None:
        """The first non-valid verdict (a whole-trace check if every step is valid)."""
        return next(iter([*self.errors, *self.trace_checks]), None)

    @property
    def valid_prefix(self) -> int:
        return self.errors[0].index if self.errors else self.n_steps


def _num(x: float) -> str:
    return f"{x:g}"


class _Replay:
    """The open and closed lists a trace claims, replayed event by event."""

    def __init__(
        self,
        graph: nx.Graph,
        goal: Hashable,
        heuristic: Heuristic,
        tie_key: TieKey | None,
        node_problem: NodeProblem | None,
        tol: float,
    ) -> None:
        self.adj: dict[Hashable, dict[Hashable, dict[str, Any]]] = graph._adj  # type: ignore[attr-defined]
        """The graph's own adjacency dicts, as networkx's algorithms read them: views cost too much here."""
        self.goal = goal
        self.heuristic = heuristic
        self.tie_key = tie_key
        self.node_problem = node_problem
        self.tol = tol
        self.open: dict[Hashable, tuple[float, float, int]] = {}
        """node -> (claimed g, claimed h, index of the create that set them)."""
        self.closed: dict[Hashable, float] = {}
        self.heap: list[tuple[float, Any, int, Hashable]] = []
        """(f, tie key, create index, node), f rounded in strict mode; stale create indices are skipped."""
        self.parent: Hashable | None = None
        self.parent_g = 0.0
        self.parent_adj: dict[Hashable, dict[str, Any]] | None = None
        self.pending: dict[Hashable, tuple[float, float | None]] = {}
        """Children the current expansion still has to create: (expected g, g they are known with)."""
        self.goal_g: float | None = None

    # --- state updates ----------------------------------------------------------------------

    def known_g(self, node: Hashable) -> float | None:
        """The g the node is open or closed with, None if the trace never created or closed it."""
        entry = self.open.get(node)
        return entry[0] if entry is not None else self.closed.get(node)

    def put_open(self, index: int, node: Hashable, g: float, h: float) -> None:
        self.closed.pop(node, None)
        self.open[node] = (g, h, index)
        if self.tie_key is None:
            heappush(self.heap, (g + h, 0, index, node))
        else:
            heappush(self.heap, (round(g + h, _TIE_DIGITS), self.tie_key(node), index, node))

    def put_closed(self, node: Hashable, g: float) -> None:
        """Close `node` with g; its successors that A* must create become pending."""
        entry = self.open.pop(node, None)
        if entry is not None and self.heap[0][2] == entry[2]:
            heappop(self.heap)  # the usual case: drop the live top entry now, not lazily later
        self.closed[node] = g
        self.expand(node, g)

    def expand(self, node: Hashable, g: float) -> None:
        """Make the closed `node` the parent; its successors that A* must create become pending."""
        open_, closed, tol = self.open, self.closed, self.tol
        self.parent, self.parent_g, self.parent_adj = node, g, self.adj[node]
        pending: dict[Hashable, tuple[float, float | None]] = {}
        self.pending = pending
        if node == self.goal:
            self.goal_g = g
            return
        for child, data in self.parent_adj.items():
            child_g = g + data.get("weight", 1)
            entry = open_.get(child)
            known = entry[0] if entry is not None else closed.get(child)
            if known is None or child_g < known - tol:
                pending[child] = child_g, known

    def take_on(self, events: Sequence[SearchEvent | None], valid: int) -> None:
        """Set the state to what `events[:valid]` claim, every one of them a valid step (start included)."""
        open_, closed = self.open, self.closed
        last_close = None
        created_since: list[Hashable] = []
        """Nodes created after the last close."""
        for index in range(valid):
            event = cast(SearchEvent, events[index])
            if event.kind == "create":
                closed.pop(event.node, None)
                open_[event.node] = (event.g, event.h, index)
                created_since.append(event.node)
            else:
                open_.pop(event.node, None)
                closed[event.node] = event.g
                last_close = index
                created_since.clear()
        tie_key = self.tie_key
        self.heap[:] = [
            (g + h, 0, index, node)
            if tie_key is None
            else (round(g + h, _TIE_DIGITS), tie_key(node), index, node)
            for node, (g, h, index) in open_.items()
        ]
        heapify(self.heap)
        if last_close is not None:
            # Pending as that close left it (the scan sees the other children as it did then), less
            # the children created since, each of which took its pending entry off as it passed.
            parent = cast(SearchEvent, events[last_close])
            self.expand(parent.node, parent.g)
            for node in created_since:
                self.pending.pop(node, None)

    def open_min(self) -> tuple[Hashable, tuple[float, float, int]]:
        """The first live heap entry: the open node of minimum (f, tie key, create index)."""
        heap, open_ = self.heap, self.open
        while True:
            node, index = heap[0][3], heap[0][2]
            entry = open_.get(node)
            if entry is not None and entry[2] == index:
                return node, entry
            heappop(heap)

    # --- the replay: an inline fast path for valid steps, `step` for everything else ---------

    def run(self, events: Sequence[SearchEvent | None], first: int) -> list[StepVerdict]:
        """Replay the events from index `first` (>= 1); return the verdicts of the steps that break a rule."""
        errors: list[StepVerdict] = []
        open_, heap, tol, heuristic = self.open, self.heap, self.tol, self.heuristic
        any_tie = self.tie_key is None
        for index in range(first, len(events)):
            event = events[index]
            if event is not None and self.goal_g is None:
                node, g, h = event.node, event.g, event.h
                if event.kind == "create":
                    due = self.pending.get(node)  # a pending child is in the graph and unchanged since
                    if (
                        due is not None
                        and -tol <= g - due[0] <= tol
                        and (due[1] is None or g < due[1] - tol)
                        and -tol <= h - heuristic(node) <= tol
                    ):
                        del self.pending[node]
                        self.put_open(index, node, g, h)
                        continue
                elif event.kind == "close":
                    entry = open_.get(node)
                    if (
                        not self.pending
                        and entry is not None
                        and -tol <= g - entry[0] <= tol
                        and -tol <= h - entry[1] <= tol
                        and (
                            heap[0][2] == entry[2]  # the node's live entry is the first open one
                            or (any_tie and entry[0] + entry[1] == heap[0][0])  # or ties with it exactly
                        )
                    ):
                        self.put_closed(node, g)
                        continue
            issue = self.step(index, event)
            if issue is not None:
                errors.append(_verdict(index, issue))
        return errors

    def step(self, index: int, event: SearchEvent | None) -> Issue | None:
        """Judge one event after the start by the rules in order, then record what it claims."""
        if event is None:
            return AStarRule.PARSE, "step could not be read"
        unreadable = _unreadable(event)
        if unreadable is not None:
            return unreadable
        if self.goal_g is not None:
            return AStarRule.AFTER_GOAL, f"{event.kind} {event.node}: the goal {self.goal} is already closed"
        node, g, h = event.node, event.g, event.h
        if node not in self.adj:
            return _absent(node, self.node_problem)
        if event.kind == "close":
            issue = self.judge_close(node, g, h)
            self.put_closed(node, g)
            return issue
        known = self.known_g(node)
        better = known is None or g < known - self.tol
        issue = self.judge_create(node, g, h, known, better)
        self.pending.pop(node, None)
        if better:
            self.put_open(index, node, g, h)
        return issue

    def judge_create(
        self, node: Hashable, g: float, h: float, known: float | None, better: bool
    ) -> Issue | None:
        if self.parent_adj is None:
            return AStarRule.NOT_NEIGHBOUR, f"create {node}: no node has been closed yet, so it has no parent"
        edge = self.parent_adj.get(node)
        if edge is None:
            return (
                AStarRule.NOT_NEIGHBOUR,
                f"create {node}: not a neighbour of {self.parent}, the node last closed",
            )
        cost = edge.get("weight", 1)
        expected = self.parent_g + cost
        if abs(g - expected) > self.tol:
            return AStarRule.WRONG_G, (
                f"create {node}: claimed g={_num(g)}, expected {_num(expected)} "
                f"(g={_num(self.parent_g)} of parent {self.parent} + edge cost {_num(cost)})"
            )
        true_h = self.heuristic(node)
        if abs(h - true_h) > self.tol:
            return AStarRule.WRONG_H, f"create {node}: claimed h={_num(h)}, expected h={_num(true_h)}"
        if not better:
            where = "open" if node in self.open else "closed"
            return AStarRule.RECREATE_NOT_BETTER, (
                f"create {node} with g={_num(g)}: already {where} with g={_num(known or 0.0)}, "
                "a new g must be strictly lower"
            )
        return None

    def judge_close(self, node: Hashable, g: float, h: float) -> Issue | None:
        if self.pending:
            missing = ", ".join(f"{child} (g={_num(cg)})" for child, (cg, _) in self.pending.items())
            return (
                AStarRule.MISSING_CREATE,
                f"close {node}: the expansion of {self.parent} never created {missing}",
            )
        entry = self.open.get(node)
        if entry is None:
            state = "already closed" if node in self.closed else "never created"
            return AStarRule.CLOSE_NOT_OPEN, f"close {node}: not on open ({state})"
        open_g, open_h, _ = entry
        best, (best_g, best_h, _) = self.open_min()
        if best != node:
            issue = self.judge_order(node, open_g + open_h, best, best_g + best_h)
            if issue is not None:
                return issue
        if abs(g - open_g) > self.tol:
            return (
                AStarRule.WRONG_G,
                f"close {node}: claimed g={_num(g)}, but it is on open with g={_num(open_g)}",
            )
        if abs(h - open_h) > self.tol:
            return (
                AStarRule.WRONG_H,
                f"close {node}: claimed h={_num(h)}, but it is on open with h={_num(open_h)}",
            )
        return None

    def judge_order(self, node: Hashable, f: float, best: Hashable, best_f: float) -> Issue | None:
        """Is closing `node` (open with f) instead of `best`, the first open node, a rule break?"""
        if f > best_f + self.tol:
            return (
                AStarRule.MIN_F,
                f"close {node} with f={_num(f)}: {best} is open with lower f={_num(best_f)}",
            )
        if self.tie_key is None or self.tie_key(node) == self.tie_key(best):
            return None
        return AStarRule.TIE_BREAK, (
            f"close {node} with f={_num(f)}: the tie-break closes {best} (f={_num(best_f)}) first"
        )


def _seed_start(replay: _Replay, start: Hashable, h: float, start_mode: StartMode) -> None:
    if start_mode == "create":
        replay.put_open(0, start, 0.0, h)
    else:
        replay.put_closed(start, 0.0)


def _judge_start(
    replay: _Replay, start: Hashable, event: SearchEvent | None, start_mode: StartMode
) -> Issue | None:
    """Step 0 must be `<start_mode> start` with g=0, h=h(start); otherwise assume it was."""
    h = replay.heuristic(start)
    if event is None:
        _seed_start(replay, start, h, start_mode)
        return AStarRule.PARSE, "step could not be read"
    unreadable = _unreadable(event)
    if unreadable is not None:
        _seed_start(replay, start, h, start_mode)
        return unreadable
    if event.kind != start_mode or event.node != start:
        _seed_start(replay, start, h, start_mode)
        return AStarRule.START, (
            f"the trace must begin with `{start_mode} {start}` (g=0, h={_num(h)}), "
            f"not `{event.kind} {event.node}`"
        )
    if start_mode == "create":
        replay.put_open(0, start, event.g, event.h)
    else:
        replay.put_closed(start, event.g)
    if abs(event.g) > replay.tol or abs(event.h - h) > replay.tol:
        return AStarRule.START, (
            f"{start_mode} {start}: claimed g={_num(event.g)}, h={_num(event.h)}, expected g=0, h={_num(h)}"
        )
    return None


def _unreadable(event: SearchEvent) -> Issue | None:
    """An event that cannot be judged: a kind other than create or close, or no f (g + h is NaN)."""
    if event.kind not in ("create", "close"):
        return AStarRule.PARSE, f"{event.kind!r} is neither create nor close"
    f = event.g + event.h
    if f != f:  # NaN g or h, or infinite g and h of opposite signs
        return AStarRule.PARSE, f"{event.kind} {event.node}: g={event.g}, h={event.h} give no f = g + h"
    return None


def _absent(node: Hashable, node_problem: NodeProblem | None) -> Issue:
    problem = node_problem(node) if node_problem is not None else None
    return problem if problem is not None else (AStarRule.UNKNOWN_NODE, f"{node} is not a node of the graph")


def _verdict(index: int, issue: Issue) -> StepVerdict:
    status: StepStatus = "unparsed" if issue[0] == AStarRule.PARSE else "invalid"
    return StepVerdict(index=index, status=status, rule=str(issue[0]), message=issue[1])


def _valid_prefix(
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
    order = [(round(g + h, _TIE_DIGITS), tie_key(start), 0)]
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
                f = round(f, _TIE_DIGITS)
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


def validate_astar(
    graph: nx.Graph,
    start: Hashable,
    goal: Hashable,
    heuristic: Heuristic,
    events: Sequence[SearchEvent | None],
    *,
    start_mode: StartMode = "create",
    tie_key: TieKey | None = None,
    node_problem: NodeProblem | None = None,
    tolerance: float = TOLERANCE,
) -> AStarVerdicts:
    """Judge every event of an A* trace from `start` to `goal`; None events are unparsed steps.

    `tie_key=None` accepts closing any open node of minimum f; with a key, the closed node must also
    be the one of smallest `tie_key(node)` among those (rule `astar.tie_break`). The fast path
    judges the valid prefix; the replay, with messages, only the steps from where it stopped.
    """
    if not 0 <= tolerance < math.inf:
        raise ValueError(f"tolerance must be a finite number >= 0, not {tolerance}")
    adj = graph._adj  # type: ignore[attr-defined]
    valid, goal_g = _valid_prefix(adj, start, goal, heuristic, events, start_mode, tie_key, tolerance)
    if valid == len(events) and goal_g is not None:
        return AStarVerdicts(n_steps=len(events), errors=[], trace_checks=[], goal_g=goal_g)
    return _replay_trace(
        graph, start, goal, heuristic, events, start_mode, tie_key, node_problem, tolerance, valid
    )


def _replay_trace(
    graph: nx.Graph,
    start: Hashable,
    goal: Hashable,
    heuristic: Heuristic,
    events: Sequence[SearchEvent | None],
    start_mode: StartMode,
    tie_key: TieKey | None,
    node_problem: NodeProblem | None,
    tolerance: float,
    valid: int = 0,
) -> AStarVerdicts:
    """The diagnostic replay: every step judged rule by rule, with a message for each failing one.

    The first `valid` steps are known to be valid (the fast path passed them): their state is taken
    on without judging them again.
    """
    replay = _Replay(graph, goal, heuristic, tie_key, node_problem, tolerance)
    errors: list[StepVerdict] = []
    if valid:
        replay.take_on(events, valid)
    elif events:
        issue = _judge_start(replay, start, events[0], start_mode)
        if issue is not None:
            errors.append(_verdict(0, issue))
    errors.extend(replay.run(events, max(valid, 1)))
    checks = []
    if replay.goal_g is None:
        checks.append(
            _verdict(len(events), (AStarRule.GOAL_NOT_CLOSED, f"the search never closes the goal {goal}"))
        )
    return AStarVerdicts(n_steps=len(events), errors=errors, trace_checks=checks, goal_g=replay.goal_g)
