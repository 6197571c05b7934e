"""Seeded BIG-Bench-style ordering puzzles whose solution Z3 proves unique, and English for positions.

A puzzle is a random order of n objects of one theme; true constraints are sampled until Z3 finds
exactly one order, then constraints the others already imply are dropped. The question asks which
object holds one position, with one option per object.
"""

from __future__ import annotations

import random
from typing import Any

from modulo.domains.logic.puzzle import NUMBERS, Scale, fewest_clues, pos, rank_phrase, read_puzzle, say
from modulo.verifiers.smt import SmtChecker

PREAMBLE = (
    "The following paragraphs each describe a set of {count} objects arranged in a fixed order. "
    "The statements are logically consistent within each paragraph."
)
THEMES: dict[str, tuple[str, Scale, list[str]]] = {
    "books": (
        "On a shelf, there are {count} books",
        "lr",
        ["red", "blue", "green", "white", "black", "gray", "brown", "orange", "purple", "yellow"],
    ),
    "birds": (
        "On a branch, there are {count} birds",
        "lr",
        ["owl", "robin", "raven", "crow", "hawk", "quail", "falcon", "cardinal", "blue jay", "hummingbird"],
    ),
    "golfers": (
        "In a golf tournament, there were {count} golfers",
        "finish",
        ["Ada", "Amy", "Ana", "Dan", "Eli", "Eve", "Joe", "Mel", "Mya", "Rob"],
    ),
    "vehicles": (
        "In an antique car show, there are {count} vehicles",
        "age",
        [
            "bus",
            "truck",
            "sedan",
            "tractor",
            "minivan",
            "hatchback",
            "limousine",
            "convertible",
            "station wagon",
        ],
    ),
    "fruits": (
        "A fruit stand sells {count} fruits",
        "price",
        ["apples", "pears", "plums", "kiwis", "mangoes", "peaches", "oranges", "loquats", "watermelons"],
    ),
}
LETTERS = "ABCDEFGHI"


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def listing(theme: str, objects: list[str]) -> str:
    """The sentence that introduces the objects."""
    intro, _, _ = THEMES[theme]
    count = next(w for w, n in NUMBERS.items() if n == len(objects))
    if theme == "books":
        items = [f"a {o} book" for o in objects]
    elif theme in ("birds", "vehicles"):
        items = [f"{article(o)} {o}" for o in objects]
    else:
        items = list(objects)
    return f"{intro.format(count=count)}: {', '.join(items[:-1])}, and {items[-1]}."


def label(theme: str, name: str) -> str:
    """How sentences name an object: `the red book`, `the owl`, `Ada`."""
    if theme == "golfers":
        return name
    return f"the {name} book" if theme == "books" else f"the {name}"


def relation_phrase(scale: Scale, before: bool) -> str:
    return {
        "lr": ("is to the left of", "is to the right of"),
        "finish": ("finished above", "finished below"),
        "age": ("is older than", "is newer than"),
        "price": ("is less expensive than", "is more expensive than"),
    }[scale][0 if before else 1]


def puzzle(rng: random.Random, n: int, theme: str) -> dict[str, Any]:
    """A payload `{context, question, options, answer}` in Logic-LM's LogicalDeduction format."""
    _, scale, pool = THEMES[theme]
    objects = rng.sample(pool, n)
    order = rng.sample(objects, n)  # order[i] is at position i + 1
    where = {o: i + 1 for i, o in enumerate(order)}
    name = {o: label(theme, o) for o in objects}
    candidates = [say(scale, name[o], rank_phrase(scale, where[o], n)) for o in objects]
    candidates += [
        say(scale, name[a], relation_phrase(scale, where[a] < where[b]), name[b])
        for a in objects
        for b in objects
        if a != b and rng.random() < 0.5
    ]
    rng.shuffle(candidates)
    head = [PREAMBLE.format(count=next(w for w, k in NUMBERS.items() if k == n)), listing(theme, objects)]
    chosen = fewest_clues(candidates, lambda clues: _unique(head, clues))
    stated = set(chosen)
    asked = [
        p for p in range(1, n + 1) if say(scale, name[order[p - 1]], rank_phrase(scale, p, n)) not in stated
    ]
    target = rng.choice(asked or list(range(1, n + 1)))
    options = [
        f"{LETTERS[i]}) {say(scale, name[o], rank_phrase(scale, target, n))}" for i, o in enumerate(objects)
    ]
    return {
        "context": f"{head[0]}\n\n{head[1]} {' '.join(chosen)}",
        "question": "Which of the following is true?",
        "options": options,
        "answer": LETTERS[objects.index(order[target - 1])],
        "order": order,
    }


def _unique(head: list[str], constraints: list[str]) -> bool:
    """Whether the constraints pin down exactly one order (checked with Z3)."""
    read = read_puzzle(f"{head[0]}\n\n{head[1]} {' '.join(constraints)}")
    checker = SmtChecker(read.premises, read.objects, generic=0, ranges=read.ranges, cores=False)
    found = checker.models([pos(o) for o in read.objects], limit=2)
    return found is not None and len(found) == 1
