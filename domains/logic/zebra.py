"""Zebra (Einstein) puzzles: n houses in a row, each person with one value per characteristic.

The puzzle text follows ZebraLogic's layout (clue kinds as in tuchandra/zebra, which ZebraLogic builds
on), with our own fixed characteristics and phrases:

    There are 4 houses, numbered 1 to 4 from left to right, as seen from across the street. ...
     - Each person has a unique name: `Alice`, `Eric`, `Peter`, `Bob`
     - Each person has a unique favorite drink: `tea`, `milk`, `water`, `coffee`
    ## Clues:
    1. The person who drinks tea is Eric.
    2. The tea drinker is directly left of the person who keeps the dog.

Every value gets an integer house `pos(value)` in 1..n; values of one characteristic are in different
houses. Covered sentences (case-insensitive, trailing period optional, a leading "So,"/"Step 3:" skipped),
A and B being any phrase for a value listed under `CHARACTERISTICS`:

    A is in the second house | A lives in house 2 | A is not in the first house
    A is B | A and B are in the same house | A is not B | A and B are not in the same house
    A lives in the red house | A does not live in the red house | Eric drinks tea | Eric keeps the dog
    A is directly left of B | A is immediately to the right of B
    A is somewhere to the left of B | A is to the right of B
    A and B are next to each other | A is next to B
    There is one house between A and B | There are two houses between A and B

Anything else is a `PuzzleError` with the reason, never a crash.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modulo.domains.logic.puzzle import FILLER, ORDINALS, PuzzleError, fewest_clues, pos
from modulo.verifiers.smt import And, Cmp, Formula, IntRange, Num, Or, SmtChecker


@dataclass(frozen=True)
class Characteristic:
    header: str
    """The line that lists its values: `Each person has a unique favorite drink`."""
    values: tuple[str, ...]
    phrases: tuple[str, ...]
    """How a sentence names the person with value `{}`; the first is what generated clues use."""


CHARACTERISTICS: dict[str, Characteristic] = {
    "name": Characteristic(
        "Each person has a unique name", ("Alice", "Arnold", "Bob", "Carol", "Eric", "Peter"), ("{}",)
    ),
    "drink": Characteristic(
        "Each person has a unique favorite drink",
        ("tea", "coffee", "milk", "water", "juice", "soda"),
        ("the person who drinks {}", "the {} drinker"),
    ),
    "pet": Characteristic(
        "Each person keeps a unique pet",
        ("cat", "dog", "bird", "fish", "horse", "zebra"),
        ("the person who keeps the {}", "the {} owner"),
    ),
    "color": Characteristic(
        "Each house has a unique color",
        ("red", "green", "blue", "white", "yellow", "ivory"),
        ("the person in the {} house", "the person who lives in the {} house", "the {} house"),
    ),
    "nationality": Characteristic(
        "Each person has a unique nationality",
        ("Brit", "Dane", "German", "Norwegian", "Swede", "Spaniard"),
        ("the {}",),
    ),
    "sport": Characteristic(
        "Each person plays a unique sport",
        ("tennis", "golf", "soccer", "hockey", "rugby", "cricket"),
        ("the person who plays {}", "the {} player"),
    ),
}
HOUSES = re.compile(r"There are (\d+) houses", re.IGNORECASE)
LISTING = re.compile(r"^\s*-\s*(?P<header>[^:]+):\s*(?P<values>.+)$")
CLUE = re.compile(r"^\s*\d+\s*[.)]\s*(?P<text>.+)$")
ORDINAL_WORDS = "|".join(ORDINALS)
HOUSE = rf"(?:the (?P<ord>{ORDINAL_WORDS}|last) house|house (?:number )?(?P<num>[0-9]{{1,3}}))"
BE = r"(?:is|lives)"
TEMPLATES: tuple[tuple[str, str], ...] = (
    ("at", "{a} {be} in {house}"),
    ("not_at", "{a} (?:is not|isn't|does not live|doesn't live) in {house}"),
    ("same", "{a} {be} in {b}"),
    ("differ", "{a} (?:is not|isn't|does not live|doesn't live) in {b}"),
    ("same", "{a} and {b} (?:are|live) in the same house"),
    ("differ", "{a} and {b} (?:are not|aren't|do not live|don't live) in the same house"),
    ("left1", "{a} {be} (?:directly|immediately) (?:to the )?left of {b}"),
    ("right1", "{a} {be} (?:directly|immediately) (?:to the )?right of {b}"),
    ("left", "{a} {be} (?:somewhere )?(?:to the )?left of {b}"),
    ("right", "{a} {be} (?:somewhere )?(?:to the )?right of {b}"),
    ("next", "{a} and {b} (?:are|live) next to each other"),
    ("next", "{a} {be} next to {b}"),
    ("gap1", "there is one house between {a} and {b}"),
    ("gap2", "there are two houses between {a} and {b}"),
    ("differ", "{a} is not {b}"),
    ("same", "{a} is {b}"),
    ("same", "{a} {p}"),
)
"""Sentence kinds, most specific first; `{a}` and `{b}` stand for phrases naming values, `{p}` for what
a `the person who ...` phrase says (`Eric drinks tea`)."""


def _compile(a: str, b: str, p: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (kind, re.compile(template.format(a=a, b=b, p=p, be=BE, house=HOUSE))) for kind, template in TEMPLATES
    )


ANY_PHRASE = _compile("(?P<a>.+?)", "(?P<b>.+?)", "(?P<b>.+?)")
LOOSE = frozenset(
    i for i, (_, template) in enumerate(TEMPLATES) if template in ("{a} is {b}", "{a} is not {b}", "{a} {p}")
)
"""Templates that fit almost any sentence: an unknown phrase is only named if the other one is known."""
DIAGNOSED_LENGTH = 300
"""Longer sentences that fit no template are not searched for unknown phrases (that search is quadratic)."""
"""The sentence kinds with any text as phrases: to tell an unknown name from an unknown sentence."""
DISTINCT = "each house holds one value of every characteristic"


def value_id(characteristic: str, value: str) -> str:
    """The individual a value stands for: `drink:tea`."""
    return f"{characteristic}:{value.lower()}"


@dataclass(frozen=True)
class ZebraPuzzle:
    """The houses, the listed values and the readable clues of one zebra puzzle."""

    houses: int
    listed: tuple[tuple[str, tuple[str, ...]], ...]
    """(characteristic, values) in the order the puzzle lists them."""
    sentences: tuple[str, ...]
    constraints: tuple[Formula, ...]
    unparsed: tuple[tuple[str, str], ...]
    distinct_text = DISTINCT

    @property
    def objects(self) -> tuple[str, ...]:
        return tuple(value_id(c, v) for c, values in self.listed for v in values)

    @property
    def premises(self) -> tuple[Formula, ...]:
        """Different houses within each characteristic, then the clues (premise k+1 is clue k)."""
        parts = [
            Cmp("!=", pos(value_id(c, a)), pos(value_id(c, b)))
            for c, values in self.listed
            for i, a in enumerate(values)
            for b in values[i + 1 :]
        ]
        return (And(tuple(parts)), *self.constraints)

    @property
    def ranges(self) -> dict[str, IntRange]:
        return {"pos": IntRange(1, self.houses)}

    def phrase(self, obj: str, *, capital: bool = False) -> str:
        """The generated clues' name for an individual: `the person who drinks tea`, `Eric`."""
        characteristic, _, lowered = obj.partition(":")
        value = next(
            v for c, values in self.listed if c == characteristic for v in values if v.lower() == lowered
        )
        text = CHARACTERISTICS[characteristic].phrases[0].format(value)
        return text[:1].upper() + text[1:] if capital else text

    def claim(self, text: str) -> Formula:
        """Read one sentence of a trace or an option into a formula."""
        sentence = " ".join(FILLER.sub("", text.strip()).rstrip(".!").lower().split())
        for kind, pattern in self._patterns:
            match = pattern.fullmatch(sentence)
            if match is not None:
                a, b = (self._names[match[g]] if g in pattern.groupindex else "" for g in ("a", "b"))
                return (
                    self._at(kind == "at", a, match)
                    if kind in ("at", "not_at")
                    else self._relation(kind, a, b)
                )
        if len(sentence) > DIAGNOSED_LENGTH:
            raise PuzzleError("not a sentence the zebra grammar covers")
        for number, (_, pattern) in enumerate(ANY_PHRASE):  # name an unknown phrase in a covered sentence
            match = pattern.fullmatch(sentence)
            slots = [match[g] for g in pattern.groupindex if g in "ab"] if match else []
            unknown = [slot for slot in slots if slot not in self._names]
            if unknown and (number not in LOOSE or len(unknown) < len(slots)):
                raise PuzzleError(f"{unknown[0]!r} names no value of this puzzle")
        raise PuzzleError("not a sentence the zebra grammar covers")

    def say_at(self, obj: str, house: int) -> str:
        return f"{self.phrase(obj, capital=True)} is in the {ORDINALS[house - 1]} house."

    @cached_property
    def _entities(self) -> dict[str, str]:
        """Every phrase for every value (with and without a leading `the`), lower-case -> individual."""
        phrases = {}
        for c, values in self.listed:
            for v in values:
                for phrase in CHARACTERISTICS[c].phrases:
                    text = phrase.format(v).lower()
                    phrases[text] = phrases[text.removeprefix("the ")] = value_id(c, v)
        return phrases

    @cached_property
    def _predicates(self) -> dict[str, str]:
        """What each `the person who ...` phrase says of its person (`drinks tea`) -> individual."""
        prefix = "the person who "
        return {
            text.removeprefix(prefix): value
            for text, value in self._entities.items()
            if text.startswith(prefix)
        }

    @cached_property
    def _names(self) -> dict[str, str]:
        return {**self._predicates, **self._entities}

    @cached_property
    def _patterns(self) -> tuple[tuple[str, re.Pattern[str]], ...]:
        def alternatives(phrases: dict[str, str]) -> str:
            return "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))

        names = alternatives(self._entities)
        return _compile(f"(?P<a>{names})", f"(?P<b>{names})", f"(?P<b>{alternatives(self._predicates)})")

    def _at(self, positive: bool, a: str, match: re.Match[str]) -> Formula:
        if match["ord"]:
            house = self.houses if match["ord"] == "last" else ORDINALS.index(match["ord"]) + 1
        else:
            house = int(match["num"])
        if not 1 <= house <= self.houses:
            raise PuzzleError(f"there is no {match['ord'] or match['num']} house among {self.houses}")
        return Cmp("==" if positive else "!=", pos(a), Num(house))

    def _relation(self, kind: str, a: str, b: str) -> Formula:
        pa, pb = pos(a), pos(b)
        simple = {"same": "==", "differ": "!=", "left": "<", "right": ">"}
        if kind in simple:
            return Cmp(simple[kind], pa, pb)  # type: ignore[arg-type]
        gaps = {"left1": [1], "right1": [-1], "next": [1, -1], "gap1": [2, -2], "gap2": [3, -3]}[kind]
        return Or(
            tuple(
                And((Cmp("==", pa, Num(i)), Cmp("==", pb, Num(i + gap))))
                for gap in gaps
                for i in range(1, self.houses + 1)
                if 1 <= i + gap <= self.houses
            )
        )


def read_zebra(context: str) -> ZebraPuzzle:
    """The puzzle's houses, listed values and clues; clues outside the grammar are kept as `unparsed`."""
    houses = HOUSES.search(context)
    if houses is None:
        raise PuzzleError("no 'There are N houses' sentence")
    by_header = {c.header.lower(): name for name, c in CHARACTERISTICS.items()}
    listed: list[tuple[str, tuple[str, ...]]] = []
    clues: list[str] = []
    for line in context.splitlines():
        listing, clue = LISTING.match(line), CLUE.match(line)
        if listing:
            name = by_header.get(listing["header"].strip().lower())
            if name is None:
                raise PuzzleError(f"unknown characteristic {listing['header'].strip()!r}")
            values = tuple(v.strip() for v in re.findall(r"`([^`]+)`", listing["values"]))
            listed.append((name, values))
        elif clue:
            clues.append(clue["text"].strip())
    count = int(houses.group(1))
    if not 2 <= count <= len(ORDINALS):
        raise PuzzleError(f"{count} houses: puzzles have 2 to {len(ORDINALS)}")
    wrong = [name for name, values in listed if len(values) != count]
    if not listed or wrong:
        raise PuzzleError(
            f"every characteristic must list {count} values ({', '.join(wrong) or 'none listed'})"
        )
    puzzle = ZebraPuzzle(count, tuple(listed), (), (), ())
    sentences, constraints, unparsed = [], [], []
    for sentence in clues:
        try:
            constraints.append(puzzle.claim(sentence))
            sentences.append(sentence)
        except PuzzleError as error:
            unparsed.append((sentence, str(error)))
    return ZebraPuzzle(count, tuple(listed), tuple(sentences), tuple(constraints), tuple(unparsed))


def zebra_puzzle(rng: random.Random, houses: int, characteristics: int) -> dict[str, Any]:
    """A payload `{context, question, options, answer}`: clues drawn at random from true statements until
    Z3 finds one solution, then those the others imply dropped; the question asks who is in one house."""
    chosen = ["name", *rng.sample(sorted(set(CHARACTERISTICS) - {"name"}), characteristics - 1)]
    listed = tuple((c, tuple(sorted(rng.sample(CHARACTERISTICS[c].values, houses)))) for c in chosen)
    head = _head(houses, listed)
    puzzle = ZebraPuzzle(houses, listed, (), (), ())
    where = {value_id(c, v): i + 1 for c, values in listed for i, v in enumerate(rng.sample(values, houses))}
    candidates = _true_clues(puzzle, where, rng)
    clues = fewest_clues(candidates, lambda chosen: _unique(head, chosen))
    target = rng.randrange(1, houses + 1)
    names = [value_id("name", v) for v in listed[0][1]]
    letters = "ABCDEFGHI"
    return {
        "context": head + "\n".join(f"{i}. {clue}" for i, clue in enumerate(clues, start=1)),
        "question": f"Who lives in the {ORDINALS[target - 1]} house?",
        "options": [f"{letters[i]}) {puzzle.say_at(o, target)}" for i, o in enumerate(names)],
        "answer": letters[next(i for i, o in enumerate(names) if where[o] == target)],
    }


def _head(houses: int, listed: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    lines = [
        f"There are {houses} houses, numbered 1 to {houses} from left to right, as seen from across the "
        "street. Each house is occupied by a different person. Each house has a unique attribute for each "
        "of the following characteristics:",
        *(f" - {CHARACTERISTICS[c].header}: {', '.join(f'`{v}`' for v in values)}" for c, values in listed),
        "",
        "## Clues:",
    ]
    return "\n".join(lines) + "\n"


def _true_clues(puzzle: ZebraPuzzle, where: dict[str, int], rng: random.Random) -> list[str]:
    """Statements true of the solution, of every clue kind, shuffled."""
    objects = list(where)
    out = [puzzle.say_at(o, where[o]) for o in objects]
    out += [
        f"{puzzle.phrase(o, capital=True)} is not in the {ORDINALS[h - 1]} house."
        for o in objects
        for h in range(1, puzzle.houses + 1)
        if h != where[o] and rng.random() < 0.3
    ]
    for a in objects:
        for b in objects:
            if a.partition(":")[0] == b.partition(":")[0] or rng.random() > 0.25:
                continue
            first, second, gap = puzzle.phrase(a, capital=True), puzzle.phrase(b), where[b] - where[a]
            if gap == 0:
                out.append(f"{first} is {second}.")
            elif gap == 1:
                out.append(f"{first} is directly left of {second}.")
            elif gap > 1:
                out.append(f"{first} is somewhere to the left of {second}.")
            if abs(gap) == 1:
                out.append(f"{first} and {second} are next to each other.")
            if abs(gap) in (2, 3):
                between = "is one house" if abs(gap) == 2 else "are two houses"
                out.append(f"There {between} between {puzzle.phrase(a)} and {second}.")
    rng.shuffle(out)
    return out


def _unique(head: str, clues: list[str]) -> bool:
    """Whether the clues pin down exactly one assignment (checked with Z3)."""
    read = read_zebra(head + "\n".join(f"{i}. {c}" for i, c in enumerate(clues, start=1)))
    checker = SmtChecker(read.premises, read.objects, generic=0, ranges=read.ranges, cores=False)
    found = checker.models([pos(o) for o in read.objects], limit=2)
    return found is not None and len(found) == 1
