"""R1-style thinking texts about real PlanBench instances, with false claims planted at known sentences.

An independent reference for the thinking-claims judge (`modulo.domains.planning.thinking`): the PDDL
is read, progressed and searched here with a small STRIPS of its own (nothing from modulo's planning
code), and the texts are written from phrase tables chosen by a seeded RNG, not from the reader's
patterns. Each text is a list of `Segment`s, each one sentence (or list line) whose expected verdicts
are known: all its claims valid, one planted error with its rule, or nothing that may be judged false.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from shared_data import SHARED_DATA

Atom = tuple[str, ...]
State = frozenset[Atom]

# ---------------------------------------------------------------- a small STRIPS of our own


def _sexp(text: str) -> list[Any]:
    """The PDDL text as nested lists of lower-case tokens (comments dropped)."""
    tokens = re.findall(r"\(|\)|[^\s()]+", re.sub(r";[^\n]*", "", text).lower())
    stack: list[list[Any]] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    return stack[0][0]


def _conjuncts(expr: list[Any]) -> list[tuple[bool, list[str]]]:
    if expr and expr[0] == "and":
        return [c for part in expr[1:] for c in _conjuncts(part)]
    if expr and expr[0] == "not":
        return [(False, expr[1])]
    return [(True, expr)] if expr else []


@dataclass(frozen=True)
class Schema:
    name: str
    params: tuple[str, ...]
    pre: tuple[list[str], ...]
    add: tuple[list[str], ...]
    delete: tuple[list[str], ...]


@dataclass(frozen=True)
class Problem:
    objects: tuple[str, ...]
    init: State
    goal: State
    schemas: dict[str, Schema]

    def ground(self, schema: Schema, args: tuple[str, ...], part: tuple[list[str], ...]) -> set[Atom]:
        binding = dict(zip(schema.params, args, strict=True))
        return {(p[0], *(binding.get(x, x) for x in p[1:])) for p in part}

    def applicable(self, state: State, action: Atom) -> bool:
        schema = self.schemas[action[0]]
        return self.ground(schema, action[1:], schema.pre) <= state

    def apply(self, state: State, action: Atom) -> State:
        schema = self.schemas[action[0]]
        args = action[1:]
        return frozenset(
            (state - self.ground(schema, args, schema.delete)) | self.ground(schema, args, schema.add)
        )

    def actions(self, state: State) -> list[Atom]:
        found = []
        for schema in self.schemas.values():
            for args in _tuples(self.objects, len(schema.params)):
                if self.applicable(state, (schema.name, *args)):
                    found.append((schema.name, *args))
        return found

    def plan(self) -> list[Atom]:
        """A shortest plan by breadth-first search."""
        parent: dict[State, tuple[State, Atom] | None] = {self.init: None}
        queue = deque([self.init])
        while queue:
            state = queue.popleft()
            if self.goal <= state:
                steps: list[Atom] = []
                while parent[state] is not None:
                    state, action = parent[state]  # type: ignore[misc]
                    steps.append(action)
                return steps[::-1]
            for action in self.actions(state):
                nxt = self.apply(state, action)
                if nxt not in parent:
                    parent[nxt] = (state, action)
                    queue.append(nxt)
        raise ValueError("no plan")

    def atoms(self) -> set[Atom]:
        """Every ground atom of the domain's predicates over the problem's objects (no self-relations)."""
        arities = {}
        for schema in self.schemas.values():
            for p in (*schema.pre, *schema.add, *schema.delete):
                arities[p[0]] = len(p) - 1
        return {
            (pred, *args)
            for pred, n in arities.items()
            for args in _tuples(self.objects, n)
            if len(set(args)) == len(args)
        }


def _tuples(objects: tuple[str, ...], n: int) -> list[tuple[str, ...]]:
    if n == 0:
        return [()]
    return [(o, *rest) for o in objects for rest in _tuples(objects, n - 1) if o not in rest]


def load_problem(domain_text: str, problem_text: str) -> Problem:
    schemas = {}
    for item in _sexp(domain_text)[2:]:
        if item[0] != ":action":
            continue
        fields = dict(zip(item[2::2], item[3::2], strict=True))
        params = tuple(x for x in fields.get(":parameters", []) if x.startswith("?"))
        pre = tuple(a for pos, a in _conjuncts(fields.get(":precondition", [])) if pos)
        effects = _conjuncts(fields.get(":effect", []))
        schemas[item[1]] = Schema(
            item[1],
            params,
            pre,
            tuple(a for pos, a in effects if pos),
            tuple(a for pos, a in effects if not pos),
        )
    parts = {p[0]: p[1:] for p in _sexp(problem_text)[2:]}
    goal = frozenset(tuple(a) for pos, a in _conjuncts(parts[":goal"][0]) if pos)
    return Problem(tuple(parts[":objects"]), frozenset(tuple(a) for a in parts[":init"]), goal, schemas)


# ---------------------------------------------------------------- phrase tables

BW_POS = {
    "on": ["the {0} block is on top of the {1} block", "{0} is on top of {1}", "{0} is on {1}"],
    "clear": ["the {0} block is clear", "{0} is clear", "{0} is clear"],
    "ontable": ["the {0} block is on the table", "{0} is on the table", "{0} is on the table"],
    "handempty": ["the hand is empty", "my hand is empty", "the hand is empty"],
    "holding": [
        "I'm holding {0}",
        "I'm now holding {0}",
        "the hand is holding the {0} block",
        "the hand is currently holding the {0} block",
        "I am holding the {0} block",
    ],
}
BW_ODD = {
    "on": ["{0} is sitting on {1}", "{0} is stacked on {1}"],
    "clear": ["nothing is on {0}", "{0} has nothing on it"],
    "ontable": ["{0} is sitting on the table"],
    "handempty": ["I'm not holding anything", "my hand is free"],
    "holding": ["I have {0} in my hand"],
}
"""Phrasings off the templates, used now and then in clean claims (coverage is measured with them)."""
ODD_RATE = 0.08
BW_BARE = {
    "on": ["{0} on {1}", "{0} on top of {1}", "the {0} block on top of the {1} block"],
    "clear": ["{0} clear"],
    "ontable": ["{0} on the table", "the {0} block on the table"],
    "handempty": ["hand empty", "the hand empty"],
    "holding": ["holding {0}"],
}
BW_NEG = {
    "on": ["{0} is no longer on {1}", "{0} isn't on top of {1}"],
    "clear": ["{0} is no longer clear", "{0} isn't clear", "the {0} block is not clear"],
    "ontable": ["{0} is no longer on the table", "{0} is not on the table"],
    "handempty": ["the hand is no longer empty", "my hand isn't empty"],
    "holding": ["I'm no longer holding {0}", "I'm not holding {0}"],
}
BW_ACT = {
    "pick-up": ["pick up {0}", "pick up the {0} block", "pick {0} up"],
    "put-down": ["put down {0}", "put {0} down", "put it down", "put the {0} block down"],
    "stack": [
        "stack {0} on {1}",
        "stack {0} on top of {1}",
        "stack it on {1}",
        "stack the {0} block on top of the {1} block",
    ],
    "unstack": [
        "unstack {0} from {1}",
        "unstack {0} from on top of {1}",
        "unstack the {0} block from the {1} block",
    ],
}
BW_GERUND = {
    "pick-up": "picking up {0}",
    "put-down": "putting down {0}",
    "stack": "stacking {0} on {1}",
    "unstack": "unstacking {0} from {1}",
}
MY_POS = {
    "craves": ["object {0} craves object {1}", "Object {0} craves object {1}"],
    "province": ["province object {0}"],
    "planet": ["planet object {0}"],
    "harmony": ["harmony"],
    "pain": ["pain object {0}"],
}
MY_ACT = {
    "attack": ["attack object {0}"],
    "succumb": ["succumb object {0}"],
    "overcome": ["overcome object {0} from object {1}"],
    "feast": ["feast object {0} from object {1}"],
}


@dataclass
class Segment:
    """One sentence of the text and what its claims should get.

    kind: `judged` (every claim valid; `claims` of them expected), `planted` (exactly one non-valid
    verdict, with `rule`), `free` (no claim may be invalid: questions, hypotheticals, claims whose
    context is unknown), `unjudged` (hypotheticals and questions: nothing may be judged at all),
    `retracted` (after a retraction, before a new start: false in the retracted state, never judged
    there), `text` (commentary)."""

    text: str
    kind: str = "text"
    claims: int = 0
    rule: str | None = None
    sep: str = " "
    false: bool = False
    """A claim in it is false where it stands (hypotheticals, claims after a retraction)."""


@dataclass
class Thinking:
    segments: list[Segment] = field(default_factory=list)

    def text(self) -> str:
        return "".join(s.text + s.sep for s in self.segments).rstrip() + "\n"

    def spans(self) -> list[tuple[int, int, Segment]]:
        out, at = [], 0
        for s in self.segments:
            out.append((at, at + len(s.text), s))
            at += len(s.text) + len(s.sep)
        return out


PLANT_RULES = {
    "initial": "thinking.initial_state",
    "goal": "thinking.goal",
    "state": "thinking.state",
    "state-now": "thinking.state",
    "inapplicable": "thinking.inapplicable",
    "can": "thinking.applicability",
}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Writer:
    """Writes one thinking text for one problem, in one phrasing (blocksworld or mystery)."""

    def __init__(self, problem: Problem, names: dict[str, str], mystery: bool, rng: random.Random):
        self.p, self.names, self.mystery, self.rng = problem, names, mystery, rng

    # -- words
    def atom(self, atom: Atom, positive: bool = True, bare: bool | str = False, core: bool = False) -> str:
        """The atom in words; `bare`: without "is" (lists, "to have ..."); `core`: no off-template words."""
        pred, args = atom[0], atom[1:]
        if self.mystery:
            return self.rng.choice(MY_POS[pred]).format(
                *(a.upper() if self.rng.random() < 0.3 else a for a in args)
            )
        if not positive:
            table = BW_NEG[pred]
        elif bare == "only" or (bare and self.rng.random() < 0.5):
            table = BW_BARE[pred]
        elif not core and self.rng.random() < ODD_RATE:
            table = BW_ODD[pred]
        else:
            table = BW_POS[pred]
        phrase = self.rng.choice(table)
        return phrase.format(*(self.names[a] for a in args))

    def action(self, action: Atom, pronoun_ok: bool = True) -> str:
        name, args = action[0], action[1:]
        if self.mystery:
            return self.rng.choice(MY_ACT[name]).format(*args)
        options = [o for o in BW_ACT[name] if pronoun_ok or "it " not in o + " "]
        return self.rng.choice(options).format(*(self.names[a] for a in args))

    def joined(self, parts: list[str]) -> str:
        if len(parts) == 1:
            return parts[0]
        if self.rng.random() < 0.3:
            return "; ".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    # -- pieces of the text
    def restatement(self, plant: bool) -> list[Segment]:
        atoms = sorted(self.p.init)
        self.rng.shuffle(atoms)
        false = None
        if plant:
            candidates = sorted(a for a in self.p.atoms() if a not in self.p.init and a[0] != "holding")
            false = self.rng.choice(candidates)
            atoms.insert(self.rng.randrange(len(atoms) + 1), false)
        chunks: list[list[Atom]] = []
        while atoms:
            k = self.rng.randint(1, 3)
            chunks.append(atoms[:k])
            atoms = atoms[k:]
        style = self.rng.choice(["prose", "prose", "label"])
        out: list[Segment] = []
        if style == "label":
            out.append(Segment("Initial state:", "text", sep="\n"))
            for chunk in chunks:
                kind = "planted" if false in chunk else "judged"
                text = "- " + _cap(self.joined([self.atom(a, bare=True, core=a == false) for a in chunk]))
                out.append(
                    Segment(text, kind, len(chunk), PLANT_RULES["initial"] if false in chunk else None, "\n")
                )
            out[-1].sep = "\n\n"
            return out
        openers = ["Initially, {}.", "So initially {}.", "The problem says {}.", "In the initial state, {}."]
        for i, chunk in enumerate(chunks):
            words = self.joined([self.atom(a, core=a == false) for a in chunk])
            text = self.rng.choice(openers).format(words) if i == 0 else _cap(words) + "."
            if i and self.rng.random() < 0.3:
                text = "Also, " + words + "."
            kind = "planted" if false in chunk else "judged"
            out.append(Segment(text, kind, len(chunk), PLANT_RULES["initial"] if false in chunk else None))
        return out

    def goal(self, plant: bool) -> list[Segment]:
        atoms = sorted(self.p.goal)
        self.rng.shuffle(atoms)
        if plant:
            extra = self.rng.choice(
                sorted(a for a in self.p.atoms() if a not in self.p.goal and a[0] == atoms[0][0])
            )
            atoms.insert(self.rng.randrange(len(atoms) + 1), extra)
        forms = [
            "My goal is to have {}.",
            "The goal is to have {}.",
            "My goal is for the following to be true: {}.",
            "Goal: {}.",
        ]
        form = self.rng.choice(forms if plant else [*forms, "I need to end up with {}."])
        bare = "only" if "have" in form or "end up" in form else True
        words = self.joined([self.atom(a, bare=bare, core=True) for a in atoms])
        kind = "planted" if plant else ("free" if form.startswith("I need") else "judged")
        return [Segment(form.format(words), kind, len(atoms), PLANT_RULES["goal"] if plant else None, "\n\n")]

    def can(self, state: State, truthful: bool, exclude: Atom | None = None) -> Segment | None:
        """An applicability claim about `state`: true, or (not truthful) a wrong "I can"."""
        pool = [a for a in self._candidate_actions() if a != exclude]
        self.rng.shuffle(pool)
        for action in pool:
            ok = self.p.applicable(state, action)
            if truthful:
                text = ("I can " if ok else "I can't ") + self.action(action, pronoun_ok=False)
            elif ok:
                continue
            else:
                text = "I can " + self.action(action, pronoun_ok=False)
            opener = self.rng.choice(["", "Right now ", "At this point "])
            text = opener + (text if opener else _cap(text)) + "."
            return Segment(
                text, "judged" if truthful else "planted", 1, None if truthful else PLANT_RULES["can"]
            )
        return None

    def _candidate_actions(self) -> list[Atom]:
        return [
            (s.name, *args)
            for s in self.p.schemas.values()
            for args in _tuples(self.p.objects, len(s.params))
        ]

    def exploration(self) -> list[Segment]:
        actions = self._candidate_actions()
        out = []
        for _ in range(self.rng.randint(1, 3)):
            a = self.rng.choice(actions)
            atom = self.rng.choice(sorted(self.p.atoms()))
            form = self.rng.choice(
                [
                    "If I {a} first, then {s}.",
                    "Maybe I should {a}.",
                    "What if I {a}?",
                    "Suppose I {a}; then {s}.",
                    "I need to {a} at some point.",
                    "Is it true that {s}?",
                ]
            )
            text = form.format(a=self.action(a, pronoun_ok=False), s=self.atom(atom))
            false = ("{s}" in form and atom not in self.p.init) or not self.p.applicable(self.p.init, a)
            out.append(Segment(text, "unjudged", false=false))
        return out

    def simulation(
        self, start: State, plan: list[Atom], numbered: bool, plants: dict[int, str]
    ) -> tuple[list[Segment], State]:
        """Each action with state claims after it; `plants` maps a step to what is planted after it
        (or, for `inapplicable`, before it)."""
        out: list[Segment] = []
        state = start
        lost = False
        for i, action in enumerate(plan):
            if plants.get(i) == "inapplicable":
                bad = [a for a in self._candidate_actions() if not self.p.applicable(state, a)]
                wrong = self.rng.choice(bad)
                text = self._action_sentence(wrong, i, numbered, pronoun_ok=False)
                out.append(
                    Segment(text, "planted", 1, PLANT_RULES["inapplicable"], "\n" if numbered else " ")
                )
                lost = True
            before, state = state, self.p.apply(state, action)
            held = any(a[0] == "holding" for a in before)
            claims = self._true_claims(before, state)
            text = self._action_sentence(action, i, numbered, pronoun_ok=held)
            out.append(Segment(text, "free" if lost else "judged", 1))
            words = self.joined([self.atom(a, pos) for a, pos in claims])
            if not self.mystery and not numbered and self.rng.random() < 0.2:
                args = [self.names[x] for x in action[1:]]
                text = f"After {BW_GERUND[action[0]].format(*args)}, {words}."
            else:
                form = self.rng.choice(["Now {}.", "{}.", "So {}.", "At this point, {}."])
                text = _cap(form.format(words))
            out.append(Segment(text, "free" if lost else "judged", len(claims)))
            kind = plants.get(i)
            if kind in ("state", "state-now"):
                out.append(self._wrong_state(before, state, kind))
            elif kind == "can":
                seg = self.can(state, truthful=False, exclude=action)
                if seg:
                    out.append(seg)
            elif self.rng.random() < 0.15 and not lost:
                seg = self.can(state, truthful=True, exclude=action)
                if seg:
                    out.append(seg)
            if numbered:
                out[-1].sep = "\n"
        return out, state

    def _action_sentence(self, action: Atom, i: int, numbered: bool, pronoun_ok: bool) -> str:
        words = self.action(action, pronoun_ok)
        if numbered:
            return f"{i + 1}. {_cap(words)}."
        if i == 0:
            return self.rng.choice(["First, {}.", "First I {}.", "First, I {}."]).format(words)
        return self.rng.choice(
            ["Then {}.", "Then I {}.", "Next, {}.", "Next, I {}.", "After that, {}."]
        ).format(words)

    def _true_claims(self, before: State, after: State) -> list[tuple[Atom, bool]]:
        added = sorted(after - before)
        removed = sorted(before - after)
        kept = sorted(after & before)
        claims = [(a, True) for a in added]
        if not self.mystery:
            claims += [(a, False) for a in removed if self.rng.random() < 0.3]
        self.rng.shuffle(claims)
        claims = claims[: self.rng.randint(1, 3)]
        if kept and self.rng.random() < 0.2:
            claims.append((self.rng.choice(kept), True))
        return claims

    def _wrong_state(self, before: State, after: State, kind: str) -> Segment:
        if kind == "state-now":
            pool = sorted(a for a in before - after)
            if pool:
                atom = self.rng.choice(pool)
                return Segment(f"Now {self.atom(atom, core=True)}.", "planted", 1, PLANT_RULES["state"])
        negate = not self.mystery and self.rng.random() < 0.3
        if negate:
            pool = sorted(after & before)
        else:
            pool = sorted(a for a in self.p.atoms() if a not in after and a not in before)
        atom = self.rng.choice(pool)
        text = _cap(self.atom(atom, positive=not negate, core=True)) + "."
        return Segment(text, "planted", 1, PLANT_RULES["state"])

    def wrong_attempt(self) -> tuple[list[Segment], State]:
        """A few applicable actions from the initial state that do not reach the goal, then a retraction."""
        state = self.p.init
        plan = []
        for _ in range(self.rng.randint(1, 3)):
            options = self.p.actions(state)
            action = self.rng.choice(options)
            plan.append(action)
            state = self.p.apply(state, action)
        start = self.rng.choice(["Let me try starting from the initial state.", "Another approach:"])
        segs, end = self.simulation(self.p.init, plan, False, {})
        retract = self.rng.choice(
            ["Wait, that doesn't work.", "Wait, no, that's not right.", "Hmm, wait, no."]
        )
        return [Segment(start), *segs, Segment(retract)], end

    def after_retraction(self, retracted: State) -> list[Segment]:
        """Claims after a retraction and before a new start: false in the retracted state, so never
        judged there (their own start is unknown)."""
        out = []
        moves = [a for a in self.p.actions(self.p.init) if not self.p.applicable(retracted, a)]
        if moves:
            move = self.action(self.rng.choice(moves), pronoun_ok=False)
            out.append(Segment(f"So I {move}.", "retracted", false=True))
        facts = sorted(self.p.init - retracted)
        if facts:
            out.append(
                Segment(_cap(self.atom(self.rng.choice(facts), core=True)) + ".", "retracted", false=True)
            )
        return out


def write(problem: Problem, names: dict[str, str], mystery: bool, seed: int, plants: list[str]) -> Thinking:
    """One thinking text; `plants` names the false claims to plant (see `PLANT_RULES`)."""
    rng = random.Random(seed)
    w = Writer(problem, names, mystery, rng)
    plan = problem.plan()
    t = Thinking()
    t.segments.append(
        Segment(rng.choice(["Okay, let's see.", "Alright, let me work through this.", "Let me think."]))
    )
    t.segments += w.restatement("initial" in plants)
    t.segments[-1].sep = "\n\n"
    t.segments += w.goal("goal" in plants)
    if rng.random() < 0.6:
        seg = w.can(problem.init, truthful=True)
        if seg:
            t.segments.append(seg)
    t.segments += w.exploration()
    attempt, retracted = w.wrong_attempt()
    t.segments += attempt
    t.segments += w.after_retraction(retracted)
    numbered = rng.random() < 0.5
    t.segments.append(
        Segment(
            rng.choice(
                ["Let me retrace.", "Let me start over from the initial state.", "The plan would be:"]
            ),
            sep="\n",
        )
    )
    steps = list(range(len(plan)))
    marks: dict[int, str] = {}
    late = [p for p in plants if p in ("state", "state-now", "can")]
    for kind in late:
        free = [
            s
            for s in steps
            if s not in marks
            and (kind != "state-now" or plan[s][0] in ("pick-up", "unstack", "attack", "feast"))
        ]
        if free:
            marks[rng.choice(free)] = kind
    if "inapplicable" in plants:
        after = [s for s in steps if s > max(marks, default=0)]
        if after:
            marks[rng.choice(after)] = "inapplicable"
    segs, end = w.simulation(problem.init, plan, numbered, marks)
    assert problem.goal <= end
    t.segments += segs
    t.segments.append(Segment("That achieves the goal.", sep="\n"))
    return t


# ---------------------------------------------------------------- the instances

LIB = SHARED_DATA / "planbench" / "llm_planning_analysis"
SETS = {
    "blocksworld_3": (
        "blocksworld/generated_domain.pddl",
        "blocksworld/generated_basic_3",
        "blocksworld_3.yaml",
    ),
    "blocksworld": ("blocksworld/generated_domain.pddl", "blocksworld/generated_basic", "blocksworld.yaml"),
    "mystery": (
        "blocksworld/mystery/generated_domain.pddl",
        "blocksworld/mystery/generated_basic",
        "mystery_blocksworld.yaml",
    ),
}


def instance_texts(lib: Path, kind: str, number: int) -> tuple[str, str, str]:
    domain, folder, config = SETS[kind]
    return (
        (lib / "instances" / domain).read_text(),
        (lib / "instances" / folder / f"instance-{number}.pddl").read_text(),
        (lib / "configs" / config).read_text(),
    )


def object_names(config_text: str, mystery: bool) -> dict[str, str]:
    raw = yaml.safe_load(config_text)
    if mystery:
        return {k: k for k in raw["encoded_objects"]}
    return dict(raw["encoded_objects_compact"])
