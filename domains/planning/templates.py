"""English templates for a PDDL domain: render atoms and actions, read plans and states back.

A template set is the information PlanBench configs carry (`actions`, `predicates`,
`encoded_objects`, optionally `domain_intro`): each action and predicate maps to a pattern with one
`{}` per argument, each object to a name. Nothing here knows any particular domain, so an
obfuscated domain (Mystery Blocksworld) works from its templates alone.

Three generic rules cover what PlanBench's code special-cases for Logistics:
- an `encoded_objects` value with `{}` names every object of the key's prefix followed by numbers,
  the numbers filling the `{}` in order (`l: "location_{}_{}"` names `l0-1` "location_0_1");
- a predicate with an empty template is never said (types written as predicates: `truck ?t`);
- actions may share a template (`load-truck`, `load-airplane`: "load {} into {} at {}"): a reading
  then carries the alternatives, and the caller picks the one the problem's objects fit.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modulo.verifiers.strips import Atom, PlanAction, fmt_atom

ARTICLES = ("the", "a", "an")
PDDL_ACTION = re.compile(r"\(\s*([^()\s]+)((?:\s+[^()\s]+)*)\s*\)")
NUMBERS = re.compile(r"\d+(?:[-_.]\d+)*")
BEFORE, AFTER = r"(?<![\w-])", r"(?![\w-])"


def load_config(text: str) -> dict[str, Any]:
    """A PlanBench-style YAML config (safe_load), reduced to the template keys."""
    import yaml

    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("actions"), dict):
        raise ValueError("template config needs an 'actions' mapping (action name -> English pattern)")
    keys = (
        "domain_name",
        "actions",
        "predicates",
        "encoded_objects",
        "domain_intro",
        "domain_intro_state_tracking",
    )
    return {k: data[k] for k in keys if k in data}


@dataclass(frozen=True)
class ReadAction:
    """An action read from a line: `action` is None when the line names none."""

    action: PlanAction | None
    exact: bool
    """True when the whole template matched; False for a keyword-and-objects reading."""
    alternatives: tuple[PlanAction, ...] = ()
    """Other actions the same words state (their templates are the same)."""


class Templates:
    """Rendering and reading for one template config and one problem's objects."""

    def __init__(self, config: dict[str, Any], objects: list[str]) -> None:
        self.actions: dict[str, str] = {str(k).lower(): str(v) for k, v in config["actions"].items()}
        self.predicates: dict[str, str] = {
            str(k).lower(): str(v) for k, v in config.get("predicates", {}).items()
        }
        encoded = {str(k).lower(): str(v) for k, v in (config.get("encoded_objects") or {}).items()}
        self.names: dict[str, str] = _object_names(objects, encoded)
        self.silent: frozenset[str] = frozenset(n for n, p in self.predicates.items() if not p.strip())
        """Predicates whose template is empty: never said, never read."""
        self.intro: str = str(config.get("domain_intro", "")).strip()
        self.intro_state_tracking: str = str(config.get("domain_intro_state_tracking", "")).strip()

    # rendering -------------------------------------------------------------------------------

    def action(self, action: PlanAction) -> str:
        name, *args = action
        pattern = self.actions.get(name)
        return pattern.format(*(self.names.get(a, a) for a in args)) if pattern else fmt_atom(action)

    def atom(self, atom: Atom) -> str:
        name, *args = atom
        pattern = self.predicates.get(name)
        return pattern.format(*(self.names.get(a, a) for a in args)) if pattern else fmt_atom(atom)

    def facts(self, atoms: list[Atom]) -> str:
        """PlanBench's list style: 'x, y and z'."""
        texts = [self.atom(a) for a in atoms if a[0] not in self.silent]
        return ", ".join(texts[:-1]) + f" and {texts[-1]}" if len(texts) > 1 else "".join(texts)

    # reading ---------------------------------------------------------------------------------

    @cached_property
    def _object_pattern(self) -> str:
        names = sorted({n.lower() for n in self.names.values()}, key=lambda n: (-len(n), n))
        return "(?:(?:the|a|an)\\s+)?(" + "|".join(re.escape(n) for n in names) + ")" if names else "(?!)"

    @cached_property
    def _by_name(self) -> dict[str, str]:
        return {n.lower(): o for o, n in self.names.items()}

    def _regex(self, pattern: str) -> re.Pattern[str]:
        parts = [
            "".join(r"\s+" if t.isspace() else re.escape(t) for t in re.split(r"(\s+)", p.lower()))
            for p in pattern.split("{}")
        ]
        body = self._object_pattern.join(parts)
        return re.compile(BEFORE + body + AFTER)

    @cached_property
    def _action_regexes(self) -> dict[str, re.Pattern[str]]:
        return {name: self._regex(p) for name, p in self.actions.items()}

    @cached_property
    def _predicate_regexes(self) -> dict[str, re.Pattern[str]]:
        return {name: self._regex(p) for name, p in self.predicates.items() if name not in self.silent}

    @cached_property
    def _keywords(self) -> dict[str, re.Pattern[str]]:
        """Each action's leading words (its template before the first `{}`, articles dropped)."""
        out = {}
        for name, pattern in self.actions.items():
            words = pattern.split("{}")[0].lower().split()
            while words and words[-1] in ARTICLES:
                words.pop()
            words = words or name.replace("-", " ").split()
            out[name] = re.compile(BEFORE + r"[\s-]+".join(map(re.escape, words)) + AFTER)
        return out

    def read_action(self, line: str) -> ReadAction:
        """The action a line states: the full template if it matches, else the action whose leading
        words come first with the objects in order of first mention (PlanBench's reading)."""
        text = " ".join(line.lower().split())
        pddl = PDDL_ACTION.search(text)
        if pddl and pddl.group(1) in self.actions:
            return ReadAction((pddl.group(1), *pddl.group(2).split()), True)
        exact = sorted(
            (m.start(), m.start() - m.end(), name, tuple(self._by_name[g] for g in m.groups()))
            for name, r in self._action_regexes.items()
            if (m := r.search(text))
        )
        keyed = sorted(
            (m.start(), m.start() - m.end(), name, ())
            for name, r in self._keywords.items()
            if (m := r.search(text))
        )
        found = exact or keyed
        if not found:
            return ReadAction(None, False)
        objects = () if exact else self._objects_in_order(text)
        first = found[0][:2]
        readings = [(name, *(args or objects)) for start, size, name, args in found if (start, size) == first]
        return ReadAction(readings[0], bool(exact), tuple(readings[1:]))

    def _objects_in_order(self, text: str) -> tuple[str, ...]:
        firsts: dict[str, int] = {}
        for m in re.finditer(BEFORE + self._object_pattern + AFTER, text):
            firsts.setdefault(m.group(1), m.start())
        return tuple(self._by_name[n] for n in sorted(firsts, key=firsts.__getitem__))

    def read_state(self, text: str) -> tuple[frozenset[Atom], list[str]]:
        """The atoms a state description states, and the fragments that could not be read."""
        text = " ".join(text.lower().split())
        found = []
        for name, regex in self._predicate_regexes.items():
            for m in regex.finditer(text):
                found.append((m.start(), m.end(), (name, *(self._by_name[g] for g in m.groups()))))
        found.sort(key=lambda f: (f[0], -f[1]))
        atoms, spans, end = set(), [], 0
        for start, stop, atom in found:
            if start >= end:
                atoms.add(atom)
                spans.append((start, stop))
                end = stop
        leftovers, pos = [], 0
        for start, stop in [*spans, (len(text), len(text))]:
            gap = re.sub(r"\b(and|also)\b|[,.;:]", " ", text[pos:start]).strip()
            if gap:
                leftovers.append(gap)
            pos = stop
        return frozenset(atoms), leftovers


def _object_names(objects: list[str], encoded: dict[str, str]) -> dict[str, str]:
    """Each object's name. Names shared by several objects would be ambiguous to read back, so those
    objects keep their own names."""
    names = {o: _object_name(o, encoded) for o in objects}
    counts = Counter(n.lower() for n in names.values())
    return {o: n if counts[n.lower()] == 1 else o for o, n in names.items()}


def _object_name(obj: str, encoded: dict[str, str]) -> str:
    """The object's own entry, else the longest `{}` pattern whose key prefixes it and whose `{}` count
    equals the numbers after the prefix (filled in order), else the object itself."""
    own = encoded.get(obj)
    if own is not None and "{}" not in own:
        return own
    for key in sorted(encoded, key=len, reverse=True):
        pattern, rest = encoded[key], obj[len(key) :]
        if obj.startswith(key) and "{}" in pattern and NUMBERS.fullmatch(rest):
            numbers = re.findall(r"\d+", rest)
            if len(numbers) == pattern.count("{}"):
                return pattern.format(*numbers)
    return obj
