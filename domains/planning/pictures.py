"""Blocksworld states drawn as towers: the initial state, the state the plan reaches, and the goal.

For domains with `on`/`ontable` (Blocksworld, 4 and 3 operators); other PDDL domains get no picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from modulo.verifiers.strips import PlanAction, StripsProblem, execute

Atom = tuple[str, ...]


def towers(atoms: Iterable[Atom], *, table: bool = True) -> list[list[str]] | None:
    """The towers of a state, each listed bottom first, sorted by their bottom block; None when the
    atoms say nothing of stacking. With `table=False` (a goal, which rarely says what is on the table)
    a tower starts at any block that is not on another."""
    atoms = list(atoms)
    on = {a[1]: a[2] for a in atoms if a[0] == "on" and len(a) == 3}
    bases = sorted(a[1] for a in atoms if a[0] == "ontable" and len(a) == 2)
    if not table:
        bases = sorted({*bases, *(b for b in on.values() if b not in on)})
    if not on and not bases:
        return None
    above = {below: top for top, below in on.items()}
    found = []
    for base in bases:
        tower = [base]
        while tower[-1] in above and len(tower) <= len(on):  # a cycle (a bad state) stops here
            tower.append(above[tower[-1]])
        found.append(tower)
    return found


def draw(tower_list: list[list[str]]) -> list[str]:
    """Towers side by side, top row first, on a line for the table."""
    if not tower_list:
        return ["(empty)"]
    width = max(len(block) for tower in tower_list for block in tower) + 2
    lines = [
        " ".join(
            f"[{tower[level]}]".center(width) if level < len(tower) else " " * width for tower in tower_list
        )
        for level in range(max(map(len, tower_list)) - 1, -1, -1)
    ]
    lines.append("─" * len(lines[0]))
    return [line.rstrip() or " " for line in lines]


PICTURE_WIDTH = 76
"""Panels (before, after, goal) are drawn side by side when together they fit this many columns."""


def picture(problem: StripsProblem, plan: Sequence[PlanAction] | None) -> list[str]:
    """Initial state, the state after the plan (or after its executable prefix), and the goal, as towers,
    side by side when they fit `PICTURE_WIDTH` columns, else one under another; nothing for a domain
    without stacking."""
    start = towers(problem.init)
    if start is None:
        return []
    panels = [(f"before{_holding(problem.init)}:", draw(start))]
    if plan is not None:
        done, state = _run(problem, plan)
        reached = towers(state) or []
        label = "after the plan" if done == len(plan) else f"after step {done} (step {done + 1} fails)"
        panels.append((f"{label}{_holding(state)}:", draw(reached)))
    goal = towers((c.atom for c in problem.goal if c.positive), table=False)
    panels.append(("goal:", draw(goal or [])))
    return beside(panels)


def beside(panels: list[tuple[str, list[str]]], gap: int = 4) -> list[str]:
    """Labelled drawings next to each other (labels on the first line, tables aligned on the last) if they
    fit `PICTURE_WIDTH` columns; otherwise one under another with a blank line between."""
    widths = [max(len(label), *map(len, lines)) for label, lines in panels]
    if sum(widths) + gap * (len(panels) - 1) > PICTURE_WIDTH:
        return [
            row for i, (label, lines) in enumerate(panels) for row in ([""] if i else []) + [label, *lines]
        ]
    height = max(len(lines) for _, lines in panels)
    columns = [[label, *[""] * (height - len(lines)), *lines] for label, lines in panels]
    return [
        (" " * gap)
        .join(column[row].ljust(width) for column, width in zip(columns, widths, strict=True))
        .rstrip()
        or " "
        for row in range(height + 1)
    ]


def _run(problem: StripsProblem, plan: Sequence[PlanAction]) -> tuple[int, frozenset[Atom]]:
    """How many steps of the plan apply in turn, and the state they reach."""
    for done in range(len(plan), -1, -1):
        states = execute(problem, plan[:done])
        if states is not None:
            return done, states[-1]
    return 0, problem.init


def _holding(state: Iterable[Atom]) -> str:
    """`, holding a` when the hand holds blocks in `state`; empty otherwise."""
    held = sorted(a[1] for a in state if a[0] == "holding" and len(a) == 2)
    return f", holding {', '.join(held)}" if held else ""
