"""The planning reader's object-mention regex finds exactly what the plain alternation finds.

The reference below is the definition: every form, longest first, each optionally after an article
(`_form_pattern`). The reader's regex is a faster arrangement of it (`_mention_regex`); both are run on
every line of real PlanBench responses and on random texts built from the forms.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from shared_data import SHARED_DATA

from modulo.domains.planning.reading import STOPWORDS, _aliases, _form_pattern, _Objects

NAMES = {
    "blocksworld": {"a": "red block", "b": "blue block", "c": "orange block", "d": "yellow block"},
    "mystery": {"a": "object a", "b": "object b", "c": "object c", "i": "object i"},
    "logistics": {
        "p0": "package_0",
        "p1": "package_1",
        "a0": "airplane_0",
        "a1": "airplane_1",
        "t0": "truck_0",
        "t1": "truck_1",
        "l0-0": "location_0_0",
        "l1-0": "location_1_0",
        "c0": "city_0",
        "c1": "city_1",
    },
    "article-led": {"x": "a box", "y": "box", "z": "the lid"},
}


def reference(names: dict[str, str]) -> tuple[re.Pattern[str], list[str]]:
    pairs = sorted(((f, o) for o, fs in _aliases(names).items() for f in fs), key=lambda p: -len(p[0]))
    body = "|".join(f"(?P<o{k}>{_form_pattern(f)})" for k, (f, _) in enumerate(pairs))
    return re.compile(r"(?<![\w-])(?:" + body + r")(?![\w-])", re.I), [o for _, o in pairs]


def found(pattern: re.Pattern[str], order: list[str], text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), order[int(m.lastgroup[1:])]) for m in pattern.finditer(text) if m.lastgroup]


def random_text(names: dict[str, str], rng: random.Random) -> str:
    forms = [f for fs in _aliases(names).values() for f in fs]
    vocab = [
        *forms,
        *(f.upper() for f in forms),
        *STOPWORDS,
        "block",
        "the",
        "A",
        "An",
        ",",
        ".",
        "-",
        "then",
    ]
    return " ".join(rng.choice(vocab) for _ in range(rng.randrange(1, 14)))


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_mentions_equal_the_plain_alternation_on_random_texts(kind: str) -> None:
    names = NAMES[kind]
    objects, (pattern, order) = _Objects(names), reference(names)
    rng = random.Random(kind)
    for _ in range(3000):
        text = random_text(names, rng)
        assert objects.finditer(text) == found(pattern, order, text), text


@pytest.mark.parametrize(
    "results",
    [
        "blocksworld__gpt-4_chat__zero_shot.json",
        "mystery_blocksworld__gpt-4_chat__one_shot.json",
        "logistics__gpt-4_chat__one_shot.json",
    ],
)
def test_mentions_equal_the_plain_alternation_on_planbench_responses(results: str) -> None:
    path = SHARED_DATA / "planbench" / "results" / results
    if not path.exists():
        pytest.skip(f"no PlanBench results at {path}")
    names = NAMES["logistics" if results.startswith("logistics") else "blocksworld"]
    if results.startswith("mystery"):
        names = NAMES["mystery"]
    objects, (pattern, order) = _Objects(names), reference(names)
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        line
        for record in data["instances"][:200]
        for line in str(record.get("llm_raw_response") or "").splitlines()
    ]
    assert len(lines) > 300
    assert sum(bool(objects.finditer(line)) for line in lines) > 100  # mentions do occur
    for line in lines:
        assert objects.finditer(line) == found(pattern, order, line), line
