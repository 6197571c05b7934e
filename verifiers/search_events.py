"""The events of a best-first search trace, as the A* validator and the maze domain share them."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Literal, NamedTuple

EventKind = Literal["create", "close"]


class SearchEvent(NamedTuple):
    """One claimed search step: a node put on the open list (`create`) or expanded (`close`).

    A named tuple: a trace holds hundreds, and building one costs half of a frozen dataclass.

    `g` is the claimed cost from the start, `h` the claimed heuristic value, as the trace wrote them.
    """

    kind: EventKind
    node: Hashable
    g: float
    h: float
