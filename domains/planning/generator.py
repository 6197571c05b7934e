"""Seeded Blocksworld problems (3-20 blocks) as PDDL problem text."""

from __future__ import annotations

import random

from modulo.verifiers.strips import Atom, fmt_atom

LETTERS = "abcdefghijklmnopqrst"


def random_towers(blocks: list[str], rng: random.Random) -> list[list[str]]:
    """A uniformly shuffled split of the blocks into towers (bottom first)."""
    order = blocks[:]
    rng.shuffle(order)
    cuts = sorted(rng.sample(range(1, len(order)), rng.randint(0, len(order) - 1)))
    return [order[i:j] for i, j in zip([0, *cuts], [*cuts, len(order)], strict=True)]


def tower_atoms(towers: list[list[str]]) -> list[Atom]:
    atoms: list[Atom] = [("handempty",)]
    for tower in towers:
        atoms.append(("ontable", tower[0]))
        atoms += [("on", upper, lower) for lower, upper in zip(tower, tower[1:], strict=False)]
        atoms.append(("clear", tower[-1]))
    return atoms


def tower_plan(init: list[list[str]], goal: list[list[str]]) -> list[tuple[str, ...]]:
    """A valid (not optimal) plan: put every block on the table, then build the goal towers."""
    plan: list[tuple[str, ...]] = []
    for tower in init:
        for lower, upper in reversed(list(zip(tower, tower[1:], strict=False))):
            plan += [("unstack", upper, lower), ("put-down", upper)]
    for tower in goal:
        for lower, upper in zip(tower, tower[1:], strict=False):
            plan += [("pick-up", upper), ("stack", upper, lower)]
    return plan


def blocksworld_problem(blocks: int, rng: random.Random, name: str) -> tuple[str, list[tuple[str, ...]]]:
    """PDDL text and a valid plan: random initial towers; the goal is every `on` fact of other random
    towers (not all true already)."""
    if not 3 <= blocks <= len(LETTERS):
        raise ValueError(f"blocks must be between 3 and {len(LETTERS)}, got {blocks}")
    names = list(LETTERS[:blocks])
    init = random_towers(names, rng)
    initial = set(tower_atoms(init))
    goal: list[Atom] = []
    while not goal or initial.issuperset(goal):
        towers = random_towers(names, rng)
        goal = [a for a in tower_atoms(towers) if a[0] == "on"]
    return "\n".join(
        [
            f"(define (problem {name})",
            "  (:domain blocksworld-4ops)",
            f"  (:objects {' '.join(names)})",
            "  (:init " + " ".join(fmt_atom(a) for a in tower_atoms(init)) + ")",
            "  (:goal (and " + " ".join(fmt_atom(a) for a in sorted(goal)) + ")))",
            "",
        ]
    ), tower_plan(init, towers)
