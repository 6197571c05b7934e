"""The diagnostic replay of the A* validator: every step judged rule by rule, with a message for each
failing one (see `astar.py` for the rules). It takes over where the fast path (`astar_prefix`) stops."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from heapq import heapify, heappop, heappush
from typing import Any, cast

from modulo.model import StepStatus, StepVerdict
from modulo.verifiers.astar_rules import (
    TIE_DIGITS,
    Adjacency,
    AStarRule,
    AStarVerdicts,
    Heuristic,
    Issue,
    NodeProblem,
    StartMode,
    TieKey,
)
from modulo.verifiers.search_events import SearchEvent


def _num(x: float) -> str:
    return f"{x:g}"


class _Replay:
    """The open and closed lists a trace claims, replayed event by event."""

    def __init__(
        self,
        adj: Adjacency,
        goal: Hashable,
        heuristic: Heuristic,
        tie_key: TieKey | None,
        node_problem: NodeProblem | None,
        tol: float,
    ) -> None:
        self.adj = adj
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
        self.parent_adj: Mapping[Hashable, Mapping[str, Any]] | None = None
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
            heappush(self.heap, (round(g + h, TIE_DIGITS), self.tie_key(node), index, node))

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
            else (round(g + h, TIE_DIGITS), tie_key(node), index, node)
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
                errors.append(verdict_of(index, issue))
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


def verdict_of(index: int, issue: Issue) -> StepVerdict:
    status: StepStatus = "unparsed" if issue[0] == AStarRule.PARSE else "invalid"
    return StepVerdict(index=index, status=status, rule=str(issue[0]), message=issue[1])


def replay_trace(
    adj: Adjacency,
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
    replay = _Replay(adj, goal, heuristic, tie_key, node_problem, tolerance)
    errors: list[StepVerdict] = []
    if valid:
        replay.take_on(events, valid)
    elif events:
        issue = _judge_start(replay, start, events[0], start_mode)
        if issue is not None:
            errors.append(verdict_of(0, issue))
    errors.extend(replay.run(events, max(valid, 1)))
    checks = []
    if replay.goal_g is None:
        checks.append(
            verdict_of(len(events), (AStarRule.GOAL_NOT_CLOSED, f"the search never closes the goal {goal}"))
        )
    return AStarVerdicts(n_steps=len(events), errors=errors, trace_checks=checks, goal_g=replay.goal_g)
