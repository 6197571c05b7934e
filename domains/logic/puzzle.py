"""Ordering puzzles (BIG-Bench logical_deduction) read into Z3 position constraints with a lark grammar.

Objects get integer positions 1..n along the puzzle's scale, 1 being its start: leftmost (shelf,
branch), first (golf), oldest (cars), cheapest (fruit). Covered sentences (case-insensitive, `-` as
space, object names as listed, with or without `the`):

    The owl is the leftmost | the third from the right | not the second from the left.
    The robin is (not) to the left of the raven.   Eve finished above Amy | first | second-to-last.
    The bus is older than the truck | the second-newest.   The kiwis are less expensive than the pears.
    The kiwis are the cheapest | the third-most expensive.   Dan did not finish last.
    The order from left to right is: the owl, the robin, the raven.

Anything else is an `PuzzleError` with the reason, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from modulo.verifiers.smt import And, Cmp, CmpOp, Const, Fn, Formula, IntRange, Not, Num

if TYPE_CHECKING:
    import lark

Scale = Literal["lr", "finish", "age", "price"]
SCALE_NAMES: dict[Scale, str] = {
    "lr": "left to right",
    "finish": "finishing order",
    "age": "age",
    "price": "price",
}
SETTINGS: dict[str, Scale] = {"shelf": "lr", "branch": "lr", "golf": "finish", "car": "age", "fruit": "price"}
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
NUMBERS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}

GRAMMAR = r"""
start: claim | order

claim: OBJ copula relation OBJ       -> relative
     | OBJ copula rank               -> ranked
copula: ("is" | "are") NOT?
      | "finished" | "finishes"
      | "did" NOT "finish" | "does" NOT "finish"

relation: "to" "the" "left" "of"             -> lr_before
        | "left" "of"                          -> lr_before
        | "to" "the" "right" "of"            -> lr_after
        | "right" "of"                         -> lr_after
        | "above"                              -> finish_before
        | "ahead" "of"                         -> finish_before
        | "before"                             -> finish_before
        | "below"                              -> finish_after
        | "behind"                             -> finish_after
        | "after"                              -> finish_after
        | "older" "than"                       -> age_before
        | "newer" "than"                       -> age_after
        | "younger" "than"                     -> age_after
        | "cheaper" "than"                     -> price_before
        | "less" "expensive" "than"            -> price_before
        | "more" "expensive" "than"            -> price_after
        | "pricier" "than"                     -> price_after

rank: "the"? "leftmost"                         -> lr_start
    | "the"? "rightmost"                        -> lr_end
    | "the"? ORD "from" "the" "left"            -> lr_start
    | "the"? ORD "from" "the" "right"           -> lr_end
    | "in"? "the"? ORD "place"?                 -> finish_start
    | "in"? "the"? "last" "place"?              -> finish_end
    | "in"? "the"? ORD "to" "last" "place"?     -> finish_end
    | "the"? "oldest"                           -> age_start
    | "the"? "newest"                           -> age_end
    | "the"? ORD "oldest"                       -> age_start
    | "the"? ORD "newest"                       -> age_end
    | "the"? "cheapest"                         -> price_start
    | "the"? "least" "expensive"                -> price_start
    | "the"? ORD "cheapest"                     -> price_start
    | "the"? "most" "expensive"                 -> price_end
    | "the"? ORD "most" "expensive"             -> price_end

order: "the"? "order" direction? "is"? ":"? objects
     | direction ","? ("the" "order" "is")? ":"? objects
direction: "from" "the"? end "to" "the"? end
end: "left" -> left
   | "right" -> right
   | "first" -> first
   | "last" -> last
   | "oldest" -> oldest
   | "newest" -> newest
   | "cheapest" -> cheapest
   | "least" "expensive" -> cheapest
   | "most" "expensive" -> most_expensive
objects: OBJ (","? "and"? OBJ)+

NOT: "not"
OBJ: /o[0-9]+/
ORD: /first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|[1-9](st|nd|rd|th)/

%ignore " "
"""
ENDS: dict[str, tuple[Scale, bool]] = {
    "left": ("lr", True),
    "right": ("lr", False),
    "first": ("finish", True),
    "last": ("finish", False),
    "oldest": ("age", True),
    "newest": ("age", False),
    "cheapest": ("price", True),
    "most_expensive": ("price", False),
}
FILLER = re.compile(
    r"^(?:(?:step\s*)?\d+\s*[.):]\s*|(?:so|thus|hence|therefore|then|now|this means|which means|"
    r"we know|it follows|that means)\b(?:\s+that\b)?\s*,?\s*)+",
    re.IGNORECASE,
)


class PositionPuzzle(Protocol):
    """What the puzzle domains need of a read puzzle: individuals with integer positions `pos(x)`, the
    premises over them, the sentences they came from, and English for one position."""

    @property
    def objects(self) -> tuple[str, ...]: ...
    @property
    def sentences(self) -> tuple[str, ...]:
        """The constraint sentences that parsed: premise k+1 is sentence k."""
        ...

    @property
    def unparsed(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def premises(self) -> tuple[Formula, ...]: ...
    @property
    def ranges(self) -> dict[str, IntRange]: ...
    @property
    def distinct_text(self) -> str:
        """What premise 0 (the positions that must differ) says, for verdict messages."""
        ...

    def claim(self, text: str) -> Formula: ...
    def say_at(self, obj: str, where: int) -> str: ...


class PuzzleError(ValueError):
    """A puzzle sentence outside the grammar (or about unknown objects); the message says why."""


def pos(name: str) -> Fn:
    """The position term of an object."""
    return Fn("pos", (Const(name),))


@dataclass(frozen=True)
class Claim:
    """A parsed sentence: its formula and the scale its words belong to."""

    formula: Formula
    scale: Scale


@dataclass(frozen=True)
class Puzzle:
    """The objects of an ordering puzzle, its scale and its readable constraints."""

    objects: tuple[str, ...]
    """Object names as listed, lower-case (`blue jay`, `apples`, `ada`)."""
    labels: tuple[str, ...]
    """How sentences name each object (`the blue jay`, `Ada`)."""
    scale: Scale
    sentences: tuple[str, ...]
    """The constraint sentences that parsed, aligned with `constraints`."""
    constraints: tuple[Formula, ...]
    unparsed: tuple[tuple[str, str], ...]
    """(sentence, reason) for each constraint sentence outside the grammar."""

    @property
    def premises(self) -> tuple[Formula, ...]:
        """All objects at distinct positions, then the constraints (premise k+1 is sentence k)."""
        return (distinct(self.objects), *self.constraints)

    @property
    def ranges(self) -> dict[str, IntRange]:
        return {"pos": IntRange(1, len(self.objects))}

    distinct_text = "all positions differ"
    """What premise 0 says, for verdict messages."""

    def say_at(self, obj: str, where: int) -> str:
        """The sentence that puts `obj` at position `where` of the scale."""
        label = self.labels[self.objects.index(obj)]
        return say(self.scale, label, rank_phrase(self.scale, where, len(self.objects)))

    def claim(self, text: str) -> Formula:
        """Read one sentence of a trace or an option into a formula on this puzzle's scale."""
        parsed = parse_claim(text, self.objects)
        if parsed.scale != self.scale:
            raise PuzzleError(
                f"speaks of {SCALE_NAMES[parsed.scale]}, but this puzzle orders by {SCALE_NAMES[self.scale]}"
            )
        return parsed.formula


def say(scale: Scale, subject: str, phrase: str, other: str | None = None) -> str:
    """One sentence from object labels; price puzzles sell plural fruit (`are`)."""
    if scale == "price":
        phrase = phrase.replace("is ", "are ", 1)
    tail = f" {other}" if other else ""
    return f"{subject[:1].upper()}{subject[1:]} {phrase}{tail}."


def rank_phrase(scale: Scale, where: int, n: int) -> str:
    """`is the second from the left`, `finished last`, `is the third-newest` for position `where` of n."""
    from_end = where > (n + 1) // 2
    k = n + 1 - where if from_end else where
    ordinal = ORDINALS[k - 1]
    if scale == "finish":
        return "finished " + (
            "last" if from_end and k == 1 else f"{ordinal}-to-last" if from_end else ordinal
        )
    if scale == "lr":
        if k == 1:
            return "is the " + ("rightmost" if from_end else "leftmost")
        return f"is the {ordinal} from the {'right' if from_end else 'left'}"
    start, end = ("oldest", "newest") if scale == "age" else ("cheapest", "most expensive")
    word = end if from_end else start
    return f"is the {word}" if k == 1 else f"is the {ordinal}-{word}"


def fewest_clues(candidates: list[str], unique: Callable[[list[str]], bool]) -> list[str]:
    """Candidates taken in order until `unique` holds, then each one the others already imply dropped (in
    the order they were drawn): the clues of a generated puzzle with exactly one solution."""
    chosen: list[str] = []
    for candidate in candidates:
        chosen.append(candidate)
        if unique(chosen):
            break
    for candidate in list(chosen):
        trial = [c for c in chosen if c != candidate]
        if unique(trial):
            chosen = trial
    return chosen


def distinct(objects: tuple[str, ...]) -> Formula:
    pairs = [Cmp("!=", pos(a), pos(b)) for i, a in enumerate(objects) for b in objects[i + 1 :]]
    return And(tuple(pairs))


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def read_objects(sentence: str) -> tuple[tuple[str, ...], tuple[str, ...], Scale | None]:
    """'On a shelf, there are three books: a red book, ... and a green book.' -> names, labels, scale."""
    match = re.match(
        r"^(?P<setting>.*?)\b(?:there (?:are|were)|sells)\s+(?P<count>\w+)\s+\w+:\s*(?P<items>.+?)\.?$",
        sentence.strip(),
        re.IGNORECASE,
    )
    if not match:
        raise PuzzleError("the first sentence must list the objects: '..., there are N things: a X, a Y'")
    items = [i.strip() for i in re.split(r",\s*(?:and\s+)?|\s+and\s+", match["items"]) if i.strip()]
    count = NUMBERS.get(match["count"].lower(), int(match["count"]) if match["count"].isdigit() else -1)
    if count != len(items) or len(items) < 2:
        raise PuzzleError(f"says {match['count']} objects but lists {len(items)}")
    names, labels = [], []
    for item in items:
        bare = re.sub(r"^(?:an?|the)\s+", "", item, flags=re.IGNORECASE)
        names.append(bare.lower())
        labels.append(bare if bare[:1].isupper() and bare == item else f"the {bare}")
    if len(set(names)) != len(names):
        raise PuzzleError("an object is listed twice")
    setting = match["setting"].lower()
    scale = next((s for word, s in SETTINGS.items() if word in setting), None)
    return tuple(names), tuple(labels), scale


def read_puzzle(context: str) -> Puzzle:
    """Objects from the listing sentence, then every other sentence as a constraint (unreadable ones kept
    aside).

    A leading paragraph that does not list objects ('The following paragraphs each describe ...') is
    the preamble.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", context.strip()) if p.strip()]
    sentences = split_sentences(paragraphs[-1] if paragraphs else "")
    if not sentences:
        raise PuzzleError("empty puzzle")
    objects, labels, scale = read_objects(sentences[0])
    read: list[tuple[str, Claim]] = []
    unparsed: list[tuple[str, str]] = []
    for sentence in sentences[1:]:
        try:
            read.append((sentence, parse_claim(sentence, objects)))
        except PuzzleError as error:
            unparsed.append((sentence, str(error)))
    scale = scale or (read[0][1].scale if read else "lr")
    kept = []
    for sentence, claim in read:
        if claim.scale == scale:
            kept.append((sentence, claim.formula))
        else:
            unparsed.append((sentence, f"speaks of {SCALE_NAMES[claim.scale]}, not {SCALE_NAMES[scale]}"))
    return Puzzle(
        objects,
        labels,
        scale,
        tuple(s for s, _ in kept),
        tuple(f for _, f in kept),
        tuple(unparsed),
    )


def normalise(text: str, objects: tuple[str, ...]) -> str:
    """Lower-case tokens with each object name (and its article) replaced by `o<index>`."""
    text = FILLER.sub("", text.strip()).strip().rstrip(".!").strip()
    names = sorted(range(len(objects)), key=lambda i: -len(objects[i]))
    pattern = "|".join(re.escape(objects[i]) for i in names)
    index = {objects[i]: i for i in names}
    text = re.sub(
        rf"\b(?:(?:the|a|an)\s+)?({pattern})\b",
        lambda m: f" o{index[m.group(1).lower()]} ",
        text,
        flags=re.IGNORECASE,
    )
    return " ".join(re.findall(r"o[0-9]+|[a-z0-9]+|[,:]", text.lower().replace("-", " ")))


def parse_claim(text: str, objects: tuple[str, ...]) -> Claim:
    """One sentence about the objects as a formula over their positions; raises `PuzzleError` only."""
    words = normalise(text, objects)
    if not words:
        raise PuzzleError("empty sentence")
    tree = _parse_words(words)
    return _Reader(len(objects)).claim(tree, objects)


@cache
def _parser() -> lark.Lark:
    import lark

    return lark.Lark(GRAMMAR, parser="lalr")


@lru_cache(maxsize=16384)
def _parse_words(words: str) -> Any:
    """The parse tree of a normalised sentence (cached: puzzles repeat their templates)."""
    import lark

    try:
        return _parser().parse(words)
    except lark.exceptions.LarkError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PuzzleError(f"not a sentence of the ordering grammar: {first[:120]}") from None


class _Reader:
    """Turns a parse tree into a position formula for a puzzle of `n` objects."""

    def __init__(self, n: int) -> None:
        self.n = n

    def claim(self, tree: Any, objects: tuple[str, ...]) -> Claim:
        node = tree.children[0]
        name = lambda token: objects[int(str(token)[1:])]  # noqa: E731
        if node.data == "order":
            return self._order(node, name)
        subject, copula = node.children[0], node.children[1]
        negated = any(getattr(t, "type", "") == "NOT" for t in copula.children)
        if node.data == "relative":
            scale, side = str(node.children[2].data).split("_")
            op: CmpOp = "<" if side == "before" else ">"
            formula: Formula = Cmp(op, pos(name(subject)), pos(name(node.children[3])))
        else:
            scale, side = str(node.children[2].data).split("_")
            ords = [t for t in node.children[2].children if getattr(t, "type", "") == "ORD"]
            k = ordinal(str(ords[0])) if ords else 1
            where = k if side == "start" else self.n + 1 - k
            formula = Cmp("==", pos(name(subject)), Num(where))
        return Claim(Not(formula) if negated else formula, scale)  # type: ignore[arg-type]

    def _order(self, node: Any, name: Any) -> Claim:
        direction = next((c for c in node.children if getattr(c, "data", "") == "direction"), None)
        listed = next(c for c in node.children if getattr(c, "data", "") == "objects")
        if direction is None:
            raise PuzzleError("an order must say its direction, e.g. 'from left to right'")
        (scale, forward), (scale_to, forward_to) = (ENDS[str(e.data)] for e in direction.children)
        if scale != scale_to or forward == forward_to:
            raise PuzzleError("an order must run between the two ends of one scale")
        names = [name(t) for t in listed.children]
        if len(set(names)) != len(names):
            raise PuzzleError("an order names an object twice")
        if not forward:
            names.reverse()
        if len(names) == self.n:
            parts = [Cmp("==", pos(a), Num(i + 1)) for i, a in enumerate(names)]
        else:
            parts = [Cmp("<", pos(a), pos(b)) for a, b in zip(names, names[1:], strict=False)]
        return Claim(And(tuple(parts)), scale)


def ordinal(word: str) -> int:
    return ORDINALS.index(word) + 1 if word in ORDINALS else int(word[:-2])
