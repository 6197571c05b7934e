"""English templates for a PDDL domain: render atoms and actions, read plans and states back.

A template set is the information PlanBench configs carry (`actions`, `predicates`,
`encoded_objects`, optionally `domain_intro`): each action and predicate maps to a pattern with one
`{}` per argument, each object to a name. Nothing here knows any particular domain, so an
obfuscated domain (Mystery Blocksworld) works from its templates alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from modulo.verifiers.strips import Atom, PlanAction, fmt_atom

ARTICLES = ("the", "a", "an")
PDDL_ACTION = re.compile(r"\(\s*([^()\s]+)((?:\s+[^()\s]+)*)\s*\)")


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


class Templates:
    """Rendering and reading for one template config and one problem's objects."""

    def __init__(self, config: dict[str, Any], objects: list[str]) -> None:
        self.actions: dict[str, str] = {str(k).lower(): str(v) for k, v in config["actions"].items()}
        self.predicates: dict[str, str] = {
            str(k).lower(): str(v) for k, v in config.get("predicates", {}).items()
        }
        encoded = {str(k).lower(): str(v) for k, v in (config.get("encoded_objects") or {}).items()}
        self.names: dict[str, str] = {o: encoded.get(o, o) for o in objects}
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
        texts = [self.atom(a) for a in atoms]
        return ", ".join(texts[:-1]) + f" and {texts[-1]}" if len(texts) > 1 else "".join(texts)

    # reading ---------------------------------------------------------------------------------

    @cached_property
    def _object_pattern(self) -> str:
        names = sorted({n.lower() for n in self.names.values()}, key=len, reverse=True)
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
        return re.compile(r"(?<![\w-])" + body + r"(?![\w-])")

    @cached_property
    def _action_regexes(self) -> dict[str, re.Pattern[str]]:
        return {name: self._regex(p) for name, p in self.actions.items()}

    @cached_property
    def _predicate_regexes(self) -> dict[str, re.Pattern[str]]:
        return {name: self._regex(p) for name, p in self.predicates.items()}

    @cached_property
    def _keywords(self) -> dict[str, re.Pattern[str]]:
        """Each action's leading words (its template before the first `{}`, articles dropped)."""
        out = {}
        for name, pattern in self.actions.items():
            words = pattern.split("{}")[0].lower().split()
            while words and words[-1] in ARTICLES:
                words.pop()
            words = words or name.replace("-", " ").split()
            out[name] = re.compile(r"(?<![\w-])" + r"[\s-]+".join(map(re.escape, words)) + r"(?![\w-])")
        return out

    def read_action(self, line: str) -> ReadAction:
        """The action a line states: the full template if it matches, else the action whose leading
        words come first with the objects in order of first mention (PlanBench's reading)."""
        text = " ".join(line.lower().split())
        pddl = PDDL_ACTION.search(text)
        if pddl and pddl.group(1) in self.actions:
            return ReadAction((pddl.group(1), *pddl.group(2).split()), True)
        exact = [
            (m.start(), -(m.end() - m.start()), name, m)
            for name, r in self._action_regexes.items()
            if (m := r.search(text))
        ]
        if exact:
            _, _, name, match = min(exact, key=lambda t: t[:3])
            return ReadAction((name, *(self._by_name[g] for g in match.groups())), True)
        keyed = [(m.start(), name) for name, r in self._keywords.items() if (m := r.search(text))]
        if not keyed:
            return ReadAction(None, False)
        start, name = min(keyed)
        firsts: dict[str, int] = {}
        for m in re.finditer(self._object_pattern, text):
            firsts.setdefault(m.group(1), m.start())
        return ReadAction((name, *(self._by_name[n] for n in sorted(firsts, key=firsts.__getitem__))), False)

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
