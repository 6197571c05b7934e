"""The events of a best-first search trace, as the A* validator and the maze domain share them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["create", "close"]


@dataclass(frozen=True)
class SearchEvent:
    """One claimed search step: a node put on the open list (`create`) or expanded (`close`).

    `g` is the claimed cost from the start, `h` the claimed heuristic value, as the trace wrote them.
    """

    kind: EventKind
    node: Hashable
    g: float
    h: float
