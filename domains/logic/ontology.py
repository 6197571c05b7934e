"""Seeded PrOntoQA-style fictional ontologies: a chain of concepts, properties, distractors, a question.

`world="closed"` asks true/false questions (PrOntoQA); `world="open"` also asks about properties
nothing decides, whose answer is Unknown (ProofWriter's open world).
"""

from __future__ import annotations

import random
from typing import Any

from modulo.domains.logic.theory import Answer

CONCEPTS = [
    "wumpus",
    "yumpus",
    "zumpus",
    "dumpus",
    "rompus",
    "numpus",
    "tumpus",
    "vumpus",
    "impus",
    "jompus",
    "gorpus",
    "shumpus",
    "lempus",
    "sterpus",
    "grimpus",
    "lorpus",
    "brimpus",
]
PROPERTIES = [
    "red",
    "blue",
    "small",
    "large",
    "cold",
    "hot",
    "bright",
    "dull",
    "wooden",
    "metallic",
    "opaque",
    "transparent",
    "happy",
    "sad",
    "aggressive",
    "kind",
    "fruity",
    "spicy",
    "nervous",
    "feisty",
    "sour",
    "sweet",
]
NAMES = ["Max", "Alex", "Sam", "Polly", "Wren", "Rex", "Fae", "Sally", "Stella"]


def plural(noun: str) -> str:
    return noun + "es" if noun.endswith(("s", "sh", "ch", "x", "z")) else noun + "s"


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def _is_a(rng: random.Random, sub: str, sup: str) -> str:
    return rng.choice(
        [
            f"Every {sub} is {_article(sup)} {sup}.",
            f"Each {sub} is {_article(sup)} {sup}.",
            f"{plural(sub).capitalize()} are {plural(sup)}.",
        ]
    )


def _has(rng: random.Random, concept: str, prop: str, negated: bool) -> str:
    neg = " not" if negated else ""
    return rng.choice(
        [
            f"Every {concept} is{neg} {prop}.",
            f"Each {concept} is{neg} {prop}.",
            f"{plural(concept).capitalize()} are{neg} {prop}.",
        ]
    )


def ontology(rng: random.Random, hops: int, distractors: int, negation: bool, world: str) -> dict[str, Any]:
    """One problem: context, statement, gold answer and gold explanation chain."""
    concepts = rng.sample(CONCEPTS, hops + 1 + distractors)
    chain, spare = concepts[: hops + 1], concepts[hops + 1 :]
    props = rng.sample(PROPERTIES, hops + 2 + distractors)
    name = rng.choice(NAMES)
    target, unrelated = props[0], props[1]
    target_negated = negation and rng.random() < 0.5
    sentences = [f"{name} is {_article(chain[0])} {chain[0]}."]
    explanation = [sentences[0]]
    for sub, sup in zip(chain, chain[1:], strict=False):
        rule = _is_a(rng, sub, sup)
        sentences.append(rule)
        explanation += [rule, f"{name} is {_article(sup)} {sup}."]
    for concept, prop in zip(chain[:-1], props[2:], strict=False):
        sentences.append(_has(rng, concept, prop, negation and rng.random() < 0.3))
    final = _has(rng, chain[-1], target, target_negated)
    sentences.append(final)
    explanation += [final, f"{name} is{' not' if target_negated else ''} {target}."]
    for k, concept in enumerate(spare):
        sentences.append(_is_a(rng, concept, rng.choice(chain)))
        prop = target if k == 0 else props[hops + 2 + k - 1]
        sentences.append(_has(rng, concept, prop, not target_negated if k == 0 else rng.random() < 0.5))
    rng.shuffle(sentences)
    unknown = world == "open" and rng.random() < 1 / 3
    if unknown:
        statement, answer, explanation = f"{name} is {unrelated}.", "Unknown", []
    else:
        asked_negated = negation and rng.random() < 0.5
        statement = f"{name} is{' not' if asked_negated else ''} {target}."
        answer = "True" if asked_negated == target_negated else "False"
    return {
        "context": " ".join(sentences),
        "statement": statement,
        "answer": answer,
        "explanation": explanation,
        "world": world,
    }


def answer_options(world: str) -> list[Answer]:
    return ["True", "False", "Unknown"] if world == "open" else ["True", "False"]
