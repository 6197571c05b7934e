"""A formal validator for A* search traces over any networkx graph or adjacency mapping.

`validate_astar` replays a trace of `SearchEvent`s (create = put on open, close = expand) and
judges every step against the graph, the heuristic and the open and closed lists *as the trace
itself claims them* (local validity): a step after an error is judged against the claimed state,
so one error does not make every later step invalid. A wrong-g create still puts the node on open
with its claimed g; a close that breaks a rule still makes its node the parent of the creates
that follow, with the g the close claims.

Nodes are closed by A*: the trace alternates one close with the creates of that node's children.
Edges are read from the graph's adjacency (successors for a DiGraph) with attribute `weight`,
default 1; instead of a graph, any mapping node -> successor -> edge data that reads the same may be
given (`Adjacency`; the maze domain passes a lazy grid adjacency and builds no graph).
Floats (g, h, f) are compared with an absolute tolerance (default 1e-6). `start` must be a node
of the graph.

Speed: `valid_prefix` (astar_prefix.py), a lean pass with the rules for valid steps only, runs first and
stops at the first step it cannot pass. A trace valid throughout (the goal closed last) is done there.
Else the replay takes on the state of the valid prefix and judges the rest: there too valid steps take
an inline fast path, and a step that leaves it is judged rule by rule, which names the rule and writes
the message. A fast path may hand a valid step to the slow path (e.g. strict mode's tie between equal
tie keys) but must never pass a step the rules fault: tests/test_astar_validator.py checks that
validate_astar agrees with the replay from the start on every trace it draws.

Modules: `astar_rules` (rule ids, verdicts, shared types), `astar_prefix` (the fast path),
`astar_replay` (the diagnostic replay); this module joins them.

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
from collections.abc import Hashable, Sequence

import networkx as nx

from modulo.verifiers.astar_prefix import valid_prefix
from modulo.verifiers.astar_replay import replay_trace
from modulo.verifiers.astar_rules import (
    TOLERANCE,
    Adjacency,
    AStarRule,
    AStarVerdicts,
    Heuristic,
    NodeProblem,
    StartMode,
    TieKey,
    adjacency_of,
)
from modulo.verifiers.search_events import SearchEvent

__all__ = [
    "TOLERANCE",
    "Adjacency",
    "AStarRule",
    "AStarVerdicts",
    "Heuristic",
    "NodeProblem",
    "StartMode",
    "TieKey",
    "validate_astar",
]


def validate_astar(
    graph: nx.Graph | Adjacency,
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
    adj = adjacency_of(graph)
    valid, goal_g = valid_prefix(adj, start, goal, heuristic, events, start_mode, tie_key, tolerance)
    if valid == len(events) and goal_g is not None:
        return AStarVerdicts(n_steps=len(events), errors=[], trace_checks=[], goal_g=goal_g)
    return replay_trace(
        adj, start, goal, heuristic, events, start_mode, tie_key, node_problem, tolerance, valid
    )
