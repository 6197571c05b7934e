"""A lark grammar for the templated English of PrOntoQA and ProofWriter, read into `smt` formulas.

Covered sentence forms (case-insensitive, final full stop optional):

    Max is a yumpus.   Max is not sour.   The bear is big and red.   Max is a dumpus and cold.
    The bear visits the cat.   The bald eagle does not like the mouse.
    Every / Each yumpus is (not) a dumpus | (not) sour.
    Yumpuses are (not) dumpuses.   All quiet things are rough.   Red, cold people are not round.
    If something is quiet and cold then it is smart.
    If someone likes the cat and they do not see the dog then they need the mouse.
    If Dave is smart and Dave is kind then Dave is quiet.   If something visits the cat then the cat eats it.

Nouns and adjectives are both unary predicates (plural nouns singularised); verbs are binary
predicates named by their base form; `something`/`someone`/`it`/`they` are one universally
quantified variable. Anything else is an `EnglishError` with the reason, never a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from modulo.verifiers.smt import And, Atom, Const, ForAll, Formula, Implies, Not, Var

if TYPE_CHECKING:
    import lark

KEYWORDS = [
    "if",
    "then",
    "and",
    "not",
    "is",
    "are",
    "a",
    "an",
    "the",
    "every",
    "each",
    "all",
    "does",
    "do",
    "something",
    "someone",
    "everything",
    "it",
    "they",
    "them",
    "things",
    "people",
]

GRAMMAR = r"""
start: fact | every | kinds | plural | rule

fact: ind pred_sg
every: QUANT WORD "is" comp
kinds: "all"? adjs KIND "are" adjs
plural: "all"? WORD "are" adjs
rule: "if" conds "then" conds

conds: cond ("and" cond)*
cond: subj_sg pred_sg | subj_pl pred_pl
subj_sg: ind | VAR_SG
subj_pl: VAR_PL

pred_sg: "is" comp                  -> copula
       | WORD obj                   -> verb
       | "does" "not" WORD obj      -> neg_verb
pred_pl: "are" adjs                 -> copula_pl
       | WORD obj                   -> verb
       | "do" "not" WORD obj        -> neg_verb

comp: item ("and" item)*
item: NOT? ART WORD                 -> noun
    | NOT? WORD                     -> adj
adjs: adj_item (("," | "and") adj_item)*
adj_item: NOT? WORD

ind: WORD | THE WORD | THE WORD WORD
obj: ind | VAR_SG | VAR_PL

QUANT: "every" | "each"
KIND: "things" | "people"
ART: "a" | "an"
NOT: "not"
THE: "the"
VAR_SG: "something" | "someone" | "everything" | "it"
VAR_PL: "they" | "them"
WORD: /(?!(KEYWORDS)\b)[a-z][a-z-]*/

%ignore " "
""".replace("KEYWORDS", "|".join(KEYWORDS))

X = Var("x")


class EnglishError(ValueError):
    """A sentence outside the grammar (or meaningless within it); the message says why."""


@dataclass(frozen=True)
class Sentence:
    """A parsed sentence: its formula and the predicates it used as nouns (for rendering back)."""

    formula: Formula
    nouns: frozenset[str]


def singular(word: str) -> str:
    """Regular English singular of a plural noun: yumpuses -> yumpus, cats -> cat, wolves stays."""
    if word.endswith(("uses", "sses", "ches", "shes", "xes", "zes")):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


def lemma(verb: str) -> str:
    """Base form of a verb in the third person singular: chases -> chase, watches -> watch."""
    if verb.endswith(("sses", "ches", "shes", "xes", "zes")):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb


def normalise(text: str) -> str:
    """Lower-case words and commas separated by single spaces; list numbering and final stop removed."""
    text = re.sub(r"^\s*(?:step\s*)?\d+\s*[.):]\s*", "", text.strip(), flags=re.IGNORECASE)
    text = text.strip().rstrip(".!").strip()
    return " ".join(re.findall(r"[a-z][a-z-]*|,", text.lower()))


@cache
def _parsers() -> tuple[lark.Lark, lark.Lark]:
    """A fast LALR parser for the sentences without two-word names, and Earley for the full grammar.

    LALR resolves `and` greedily (continuing a list of adjectives); a sentence where that is wrong
    ("is green and it likes the cat") fails there and is read by Earley.
    """
    import lark

    fast = lark.Lark(GRAMMAR.replace(" | THE WORD WORD", ""), parser="lalr")
    return fast, lark.Lark(GRAMMAR, parser="earley", lexer="basic", ambiguity="resolve")


def parse_sentence(text: str) -> Sentence:
    """Read one sentence into a formula; raises `EnglishError` (only) when it is outside the grammar."""
    return _parse_words(normalise(text))


@lru_cache(maxsize=65536)
def _parse_words(words: str) -> Sentence:
    """Parse a normalised sentence (cached: the datasets repeat their templated sentences a lot)."""
    import lark

    if not words:
        raise EnglishError("empty sentence")
    fast, full = _parsers()
    try:
        tree = fast.parse(words)
    except lark.exceptions.LarkError:
        tree = None
    try:
        tree = tree or full.parse(words)
    except lark.exceptions.LarkError as error:
        raise EnglishError(f"not a sentence of the grammar: {_short(error)}") from None
    return _Reader().sentence(tree)


def _short(error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return first[:120]


def individual(node: Any) -> Const:
    """`max` for a name, `the bald eagle` for a definite description."""
    return Const(" ".join(str(t) for t in node.children).lower())


class _Reader:
    """Walks a parse tree into a formula, collecting noun predicates and whether a variable occurs."""

    def __init__(self) -> None:
        self.nouns: set[str] = set()
        self.bound = False

    def sentence(self, tree: Any) -> Sentence:
        node = tree.children[0]
        formula = getattr(self, node.data)(node)
        return Sentence(formula, frozenset(self.nouns))

    def fact(self, node: Any) -> Formula:
        ind, pred = node.children
        return self._pred(pred, individual(ind))

    def every(self, node: Any) -> Formula:
        _, noun, comp = node.children
        self.nouns.add(str(noun))
        return ForAll(X, Implies(Atom(str(noun), (X,)), self._comp(comp, X)))

    def kinds(self, node: Any) -> Formula:
        subject, _, complement = [c for c in node.children if c is not None]
        return ForAll(
            X, Implies(self._adjs(subject, X, plural=False), self._adjs(complement, X, plural=True))
        )

    def plural(self, node: Any) -> Formula:
        noun, complement = [c for c in node.children if c is not None]
        name = singular(str(noun))
        self.nouns.add(name)
        return ForAll(X, Implies(Atom(name, (X,)), self._adjs(complement, X, plural=True)))

    def rule(self, node: Any) -> Formula:
        condition, conclusion = (self._conds(c) for c in node.children)
        body = Implies(condition, conclusion)
        return ForAll(X, body) if self.bound else body

    def _conds(self, node: Any) -> Formula:
        parts = []
        for cond in node.children:
            subject, pred = cond.children
            parts.append(self._pred(pred, self._subject(subject)))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _subject(self, node: Any) -> Const | Var:
        child = node.children[0]
        if not hasattr(child, "data"):
            self.bound = True
            return X
        return individual(child)

    def _object(self, node: Any) -> Const | Var:
        child = node.children[0]
        if not hasattr(child, "data"):
            self.bound = True
            return X
        return individual(child)

    def _pred(self, node: Any, subject: Const | Var) -> Formula:
        if node.data == "copula":
            return self._comp(node.children[0], subject)
        if node.data == "copula_pl":
            return self._adjs(node.children[0], subject, plural=True)
        verb, obj = node.children
        atom = Atom(lemma(str(verb)) if node.data == "verb" else str(verb), (subject, self._object(obj)))
        return Not(atom) if node.data == "neg_verb" else atom

    def _comp(self, node: Any, subject: Const | Var) -> Formula:
        parts: list[Formula] = []
        for item in node.children:
            tokens = [t for t in item.children if t is not None]
            negated = tokens[0].type == "NOT"
            name = str(tokens[-1])
            if item.data == "noun":
                self.nouns.add(name)
            atom = Atom(name, (subject,))
            parts.append(Not(atom) if negated else atom)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _adjs(self, node: Any, subject: Const | Var, *, plural: bool) -> Formula:
        parts: list[Formula] = []
        for item in node.children:
            tokens = [t for t in item.children if t is not None]
            name = singular(str(tokens[-1])) if plural else str(tokens[-1])
            if name != str(tokens[-1]):
                self.nouns.add(name)
            atom = Atom(name, (subject,))
            parts.append(Not(atom) if tokens[0].type == "NOT" else atom)
        return parts[0] if len(parts) == 1 else And(tuple(parts))
