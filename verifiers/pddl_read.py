"""A reader of the STRIPS subset of PDDL: text to `StripsProblem`, with one-line errors.

Supported: `:strips`, `:typing` (type hierarchies, typed parameters, constants and objects),
`:negative-preconditions`, `:equality`; preconditions and goals are conjunctions of literals and
equalities, effects conjunctions of atoms and negated atoms. Requirements need not be declared. Any other
PDDL feature (`either` types, `or`, `forall`, `when`, numeric fluents, `:metric`, ...) raises
`UnsupportedPddl` naming it; text that is not PDDL, or names an undeclared type, object, predicate or
variable, or gives a predicate the wrong number of arguments, raises `PddlSyntaxError` with its line and
column. PDDL is case-insensitive: every name is lower-cased.

Objects, actions and predicates are listed in name order (so search, grounding and messages never depend
on the order of a file), types in declaration order, conditions and effects as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modulo.verifiers.strips import ActionSchema, Atom, Condition, StripsProblem

SUPPORTED = frozenset({":strips", ":typing", ":negative-preconditions", ":equality"})
KNOWN_REQUIREMENTS = SUPPORTED | {
    ":disjunctive-preconditions",
    ":existential-preconditions",
    ":universal-preconditions",
    ":quantified-preconditions",
    ":conditional-effects",
    ":fluents",
    ":numeric-fluents",
    ":object-fluents",
    ":adl",
    ":durative-actions",
    ":duration-inequalities",
    ":continuous-effects",
    ":derived-predicates",
    ":timed-initial-literals",
    ":preferences",
    ":constraints",
    ":action-costs",
    ":non-deterministic",
}
# formula heads beyond the subset, and what to call them in a message
UNSUPPORTED_HEADS = {
    "or": "disjunction (or ...)",
    "imply": "implication (imply ...)",
    "exists": "existential quantification (exists ...)",
    "forall": "universal quantification (forall ...)",
    "when": "conditional effects (when ...)",
    "preference": "preferences (preference ...)",
    **{op: f"numeric fluents ({op} ...)" for op in ("<", ">", "<=", ">=", "+", "-", "*", "/")},
    **{
        op: f"numeric fluents ({op} ...)"
        for op in ("increase", "decrease", "assign", "scale-up", "scale-down")
    },
}
UNSUPPORTED_SECTIONS = {
    ":functions": "numeric fluents (:functions)",
    ":derived": "derived predicates (:derived)",
    ":durative-action": "durative actions (:durative-action)",
    ":constraints": "constraints (:constraints)",
    ":metric": "plan metrics (:metric)",
    ":length": "plan length bounds (:length)",
}
_TOKEN = re.compile(r";[^\n]*|([()]|[^\s();]+)")


class UnsupportedPddl(ValueError):
    """The PDDL uses a feature beyond STRIPS with typing, negative preconditions and equality."""


class PddlSyntaxError(ValueError):
    """The text is not PDDL of the subset: malformed, or naming something it does not declare."""


class Sym(str):
    """A name or keyword (lower-cased), with its offset in the text."""

    pos: int


class Group(list["Sym | Group"]):
    """A parenthesised list, with the offset of its `(`."""

    pos: int


Expr = Sym | Group


@dataclass
class Domain:
    """A domain as read: what problems are checked against."""

    name: str
    parents: dict[str, str]
    """Type -> its supertype, in declaration order (a supertype never declared itself, as PDDL allows,
    follows with `object` as its supertype)."""
    constants: dict[str, str]
    predicates: dict[str, int]
    actions: dict[str, ActionSchema]


class _Source:
    """A text being read: where errors point."""

    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind

    def error(self, pos: int, message: str) -> PddlSyntaxError:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return PddlSyntaxError(f"PDDL {self.kind}, line {line}, column {column}: {message}")

    def unsupported(self, pos: int, what: str) -> UnsupportedPddl:
        line = self.text.count("\n", 0, pos) + 1
        return UnsupportedPddl(
            f"PDDL {self.kind}, line {line}: {what} is not supported; "
            f"supported: {', '.join(sorted(SUPPORTED))} with conjunctive conditions"
        )


def read_expr(source: _Source) -> Group:
    """The one top-level parenthesised expression of the text."""
    stack: list[Group] = []
    top: Group | None = None
    for match in _TOKEN.finditer(source.text.lower()):
        token = match.group(1)
        if token is None:  # a comment
            continue
        pos = match.start()
        if top is not None:
            raise source.error(pos, f"{token!r} after the end of the {source.kind} (too many ')'?)")
        if token == "(":
            group = Group()
            group.pos = pos
            if stack:
                stack[-1].append(group)
            stack.append(group)
        elif token == ")":
            if not stack:
                raise source.error(pos, "')' without a matching '('")
            closed = stack.pop()
            if not stack:
                top = closed
        elif not stack:
            raise source.error(pos, f"{token!r} outside parentheses")
        else:
            sym = Sym(token)
            sym.pos = pos
            stack[-1].append(sym)
    if stack:
        raise source.error(stack[-1].pos, "this '(' is never closed (unbalanced parentheses)")
    if top is None:
        raise PddlSyntaxError(f"PDDL {source.kind}: the text is empty")
    return top


def read_domain(text: str) -> Domain:
    """A domain from its text; raises `PddlSyntaxError` or `UnsupportedPddl`."""
    source = _Source(text, "domain")
    name, sections = _define(source, read_expr(source), "domain")
    parents: dict[str, str] = {}
    constants: dict[str, str] = {}
    predicates: dict[str, int] = {}
    actions: list[Group] = []
    where = {":types": 0, ":constants": 0}  # the sections' offsets, for errors found after reading them
    for section in sections:
        key = section[0]
        if key == ":requirements":
            _requirements(source, section, name)
        elif key == ":types":
            where[key] = section.pos
            for type_name, parent in _typed_list(source, section[1:], False, "type"):
                if type_name == "object":
                    continue
                if type_name in parents and parents[type_name] != parent:
                    raise source.error(section.pos, f"type {type_name} is declared twice")
                parents[type_name] = parent
        elif key == ":constants":
            where[key] = section.pos
            constants.update(_declare(source, section, constants, "constant"))
        elif key == ":predicates":
            for atom in section[1:]:
                if not isinstance(atom, Group) or not atom or isinstance(atom[0], Group):
                    raise source.error(_pos(atom), "a predicate declaration must be (name ?arg ...)")
                if atom[0] in predicates:
                    raise source.error(atom.pos, f"predicate {atom[0]} is declared twice")
                predicates[atom[0]] = len(_typed_list(source, atom[1:], True, "predicate argument"))
        elif key == ":action":
            actions.append(section)
        elif key in UNSUPPORTED_SECTIONS:
            raise source.unsupported(section.pos, UNSUPPORTED_SECTIONS[key])
        else:
            raise source.error(section.pos, f"unknown domain section {key!r}")
    for parent in list(parents.values()):
        if parent != "object" and parent not in parents:
            parents[parent] = "object"
    _check_types(source, parents, where[":types"])
    known = {*parents, "object"}
    for obj, type_name in constants.items():
        _check_type(source, type_name, known, f"constant {obj}", where[":constants"])
    domain = Domain(name, parents, constants, dict(sorted(predicates.items())), {})
    for section in actions:
        action = _action(source, section, domain)
        if action.name in domain.actions:
            raise source.error(section.pos, f"action {action.name} is declared twice")
        domain.actions[action.name] = action
    domain.actions = dict(sorted(domain.actions.items()))
    return domain


def read_problem(domain: Domain, text: str) -> StripsProblem:
    """A problem from its text, checked against `domain`; raises `PddlSyntaxError` or `UnsupportedPddl`."""
    source = _Source(text, "problem")
    name, sections = _define(source, read_expr(source), "problem")
    objects = dict(domain.constants)
    known = {*domain.parents, "object"}
    init: Group | None = None
    goal: Group | None = None
    for section in sections:
        key = section[0]
        if key == ":domain":
            if len(section) != 2 or isinstance(section[1], Group):
                raise source.error(section.pos, "(:domain NAME) needs exactly one name")
        elif key == ":requirements":
            _requirements(source, section, name)
        elif key == ":objects":
            for obj, type_name in _declare(source, section, objects, "object").items():
                _check_type(source, type_name, known, f"object {obj}", section.pos)
                objects[obj] = type_name
        elif key in (":init", ":goal"):
            if (init if key == ":init" else goal) is not None:
                raise source.error(section.pos, f"{key} is given twice")
            if key == ":init":
                init = section
            else:
                goal = section
        elif key in UNSUPPORTED_SECTIONS:
            raise source.unsupported(section.pos, UNSUPPORTED_SECTIONS[key])
        else:
            raise source.error(section.pos, f"unknown problem section {key!r}")
    if init is None or goal is None:
        raise source.error(0, f"the problem has no {':init' if init is None else ':goal'} section")
    if len(goal) != 2:
        raise source.error(goal.pos, "(:goal ...) needs exactly one formula")
    scope = _Scope(domain.predicates, objects, {})
    return StripsProblem(
        domain_name=domain.name,
        name=name,
        actions=dict(domain.actions),
        objects=dict(sorted(objects.items())),
        ancestors={t: _ancestors(t, domain.parents) for t in [*domain.parents, "object"]},
        init=_init(source, init, scope),
        goal=tuple(_conditions(source, goal[1], scope, "goal")),
        predicates=dict(domain.predicates),
    )


def _define(source: _Source, top: Group, kind: str) -> tuple[str, list[Group]]:
    """The name and sections of `(define (kind NAME) sections...)`."""
    if len(top) < 2 or top[0] != "define":
        raise source.error(top.pos, f"a PDDL {kind} starts with (define ({kind} NAME) ...)")
    head = top[1]
    if not isinstance(head, Group) or len(head) != 2 or head[0] != kind or isinstance(head[1], Group):
        other = "problem" if kind == "domain" else "domain"
        if isinstance(head, Group) and head and head[0] == other:
            raise source.error(head.pos, f"this is a PDDL {other}, not a {kind}")
        raise source.error(_pos(head), f"expected ({kind} NAME)")
    sections: list[Group] = []
    for section in top[2:]:
        if not isinstance(section, Group) or not section or isinstance(section[0], Group):
            raise source.error(_pos(section), "expected a section such as (:keyword ...)")
        sections.append(section)
    return head[1], sections


def _requirements(source: _Source, section: Group, name: str) -> set[str]:
    found = {str(r) for r in section[1:] if isinstance(r, Sym)}
    if len(found) != len(section) - 1:
        raise source.error(section.pos, "requirements are keywords such as :strips")
    unknown = sorted(found - KNOWN_REQUIREMENTS)
    if unknown:
        raise source.error(section.pos, f"unknown requirement {', '.join(unknown)}")
    unsupported = sorted(found - SUPPORTED)
    if unsupported:
        raise UnsupportedPddl(
            f"{source.kind} {name} requires {', '.join(unsupported)}; "
            f"supported: {', '.join(sorted(SUPPORTED))}"
        )
    return found


def _typed_list(source: _Source, items: list[Expr], variables: bool, what: str) -> list[tuple[str, str]]:
    """`a b - t c` as [(a, t), (b, t), (c, object)]; names start with `?` exactly when `variables`."""
    out: list[tuple[str, str]] = []
    pending: list[Sym] = []
    k = 0
    while k < len(items):
        item = items[k]
        if isinstance(item, Group):
            raise source.error(item.pos, f"expected a {what} name, not a parenthesised list")
        if item == "-":
            if k + 1 >= len(items) or not pending:
                raise source.error(item.pos, f"'-' must stand between {what} names and their type")
            type_expr = items[k + 1]
            if isinstance(type_expr, Group):
                if type_expr and type_expr[0] == "either":
                    raise source.unsupported(type_expr.pos, "(either ...) types")
                raise source.error(type_expr.pos, "expected a type name after '-'")
            out.extend((str(p), str(type_expr)) for p in pending)
            pending = []
            k += 2
            continue
        if variables != item.startswith("?"):
            expected = "a variable ?name" if variables else "a name (no '?')"
            raise source.error(item.pos, f"expected {expected} as {what}, not {item!r}")
        pending.append(item)
        k += 1
    out.extend((str(p), "object") for p in pending)
    return out


def _declare(source: _Source, section: Group, earlier: dict[str, str], what: str) -> dict[str, str]:
    """The objects or constants a section declares; the same name with two types is an error."""
    out: dict[str, str] = {}
    for obj, type_name in _typed_list(source, section[1:], False, what):
        if earlier.get(obj, type_name) != type_name or out.get(obj, type_name) != type_name:
            raise source.error(section.pos, f"{what} {obj} is declared twice with different types")
        out[obj] = type_name
    return out


def _check_types(source: _Source, parents: dict[str, str], pos: int) -> None:
    for type_name, parent in parents.items():
        seen = {type_name}
        while parent in parents:
            if parent in seen:
                raise source.error(pos, f"the type hierarchy has a cycle through {type_name}")
            seen.add(parent)
            parent = parents[parent]


def _check_type(source: _Source, type_name: str, known: set[str], what: str, pos: int) -> None:
    if type_name not in known:
        raise source.error(pos, f"{what} has the undeclared type {type_name}")


def _ancestors(type_name: str, parents: dict[str, str]) -> frozenset[str]:
    seen = {type_name, "object"}
    while type_name in parents:
        type_name = parents[type_name]
        seen.add(type_name)
    return frozenset(seen)


@dataclass
class _Scope:
    """What a formula may name: predicates (with arities), objects, and variables."""

    predicates: dict[str, int]
    objects: dict[str, str]
    variables: dict[str, str]


def _action(source: _Source, section: Group, domain: Domain) -> ActionSchema:
    if len(section) < 2 or isinstance(section[1], Group):
        raise source.error(section.pos, "expected (:action NAME :parameters (...) ...)")
    name = str(section[1])
    fields: dict[str, Expr] = {}
    for k in range(2, len(section), 2):
        key = section[k]
        if key not in (":parameters", ":precondition", ":effect") or k + 1 >= len(section):
            raise source.error(_pos(key), f"action {name}: unexpected {_show(key)}")
        if key in fields:
            raise source.error(_pos(key), f"action {name}: {key} is given twice")
        fields[str(key)] = section[k + 1]
    params_expr = fields.get(":parameters", Group())
    if not isinstance(params_expr, Group):
        raise source.error(params_expr.pos, f"action {name}: :parameters needs a list (?x - type ...)")
    params = _typed_list(source, list(params_expr), True, f"parameter of action {name}")
    known = {*domain.parents, "object"}
    for var, type_name in params:
        _check_type(source, type_name, known, f"parameter {var} of action {name}", params_expr.pos)
    variables = dict(params)
    if len(variables) != len(params):
        raise source.error(params_expr.pos, f"action {name}: a parameter is named twice")
    scope = _Scope(domain.predicates, domain.constants, variables)
    where = f"action {name}"
    pre = _conditions(source, fields.get(":precondition", Group()), scope, where)
    add: list[Atom] = []
    delete: list[Atom] = []
    for positive, atom in _effects(source, fields.get(":effect", Group()), scope, where):
        (add if positive else delete).append(atom)
    return ActionSchema(
        name=name,
        params=tuple(v for v, _ in params),
        types=tuple(t for _, t in params),
        pre=tuple(pre),
        add=tuple(add),
        delete=tuple(delete),
    )


def _conjuncts(source: _Source, expr: Expr, where: str) -> list[Group]:
    """The parts of a conjunction (nested `and`s flattened; `()` is empty), each a non-empty list."""
    if not isinstance(expr, Group):
        raise source.error(expr.pos, f"{where}: expected a parenthesised formula, not {expr!r}")
    if not expr:
        return []
    if expr[0] != "and":
        return [expr]
    return [part for item in expr[1:] for part in _conjuncts(source, item, where)]


def _conditions(source: _Source, expr: Expr, scope: _Scope, where: str) -> list[Condition]:
    out = []
    for part in _conjuncts(source, expr, where):
        if part[0] == "not":
            if len(part) != 2 or not isinstance(part[1], Group) or not part[1]:
                raise source.error(part.pos, f"{where}: (not ...) needs exactly one formula")
            inner = part[1]
            if inner[0] in ("and", "not"):
                raise source.unsupported(inner.pos, f"{where}: a negated formula (not {_show(inner)})")
            out.append(Condition(_atom(source, inner, scope, where), False))
        else:
            out.append(Condition(_atom(source, part, scope, where), True))
    return out


def _effects(source: _Source, expr: Expr, scope: _Scope, where: str) -> list[tuple[bool, Atom]]:
    out = []
    for part in _conjuncts(source, expr, where):
        positive = part[0] != "not"
        if not positive:
            if len(part) != 2 or not isinstance(part[1], Group) or not part[1]:
                raise source.error(part.pos, f"{where}: (not ...) needs exactly one atom")
            part = part[1]
        if part[0] == "=":
            raise UnsupportedPddl(f"{where}: equality in an effect is not STRIPS")
        out.append((positive, _atom(source, part, scope, f"{where} effect")))
    return out


def _init(source: _Source, section: Group, scope: _Scope) -> frozenset[Atom]:
    """The initial state; `(not atom)` is allowed (closed world: it only repeats that the atom is false)."""
    true: set[Atom] = set()
    false: set[Atom] = set()
    for item in section[1:]:
        if not isinstance(item, Group) or not item:
            raise source.error(_pos(item), "init: expected a ground atom such as (on a b)")
        if item[0] == "=":
            raise source.unsupported(item.pos, "init: (= ...) (numeric fluents or object equality)")
        if item[0] == "not":
            if len(item) != 2 or not isinstance(item[1], Group) or not item[1]:
                raise source.error(item.pos, "init: (not ...) needs exactly one atom")
            false.add(_atom(source, item[1], scope, "init"))
        else:
            true.add(_atom(source, item, scope, "init"))
    both = sorted(true & false)
    if both:
        raise source.error(section.pos, f"init states ({' '.join(both[0])}) both true and false")
    return frozenset(true)


def _atom(source: _Source, expr: Group, scope: _Scope, where: str) -> Atom:
    """A literal's atom `(pred term ...)` or `(= a b)`, every name checked against the scope."""
    head = expr[0]
    if isinstance(head, Group):
        raise source.error(head.pos, f"{where}: expected a predicate name, not a parenthesised list")
    args = expr[1:]
    if head in scope.predicates:
        arity = scope.predicates[head]
    elif head == "=":
        arity = 2
    elif head in UNSUPPORTED_HEADS:
        raise source.unsupported(expr.pos, f"{where}: {UNSUPPORTED_HEADS[head]}")
    elif head in ("and", "not"):
        raise source.error(expr.pos, f"{where}: ({head} ...) is not allowed here")
    else:
        raise source.error(expr.pos, f"{where}: undeclared predicate {head}")
    if len(args) != arity:
        raise source.error(expr.pos, f"{where}: {head} takes {arity} arguments, not {len(args)}")
    terms = [str(head)]
    for arg in args:
        if isinstance(arg, Group):
            raise source.unsupported(arg.pos, f"{where}: function terms ({_show(arg[0] if arg else '')} ...)")
        if arg.startswith("?"):
            if arg not in scope.variables:
                raise source.error(arg.pos, f"{where}: undeclared variable {arg}")
        elif arg not in scope.objects:
            raise source.error(arg.pos, f"{where}: undeclared object {arg}")
        terms.append(str(arg))
    return tuple(terms)


def _pos(expr: Expr) -> int:
    return expr.pos


def _show(expr: Expr | str) -> str:
    return f"({expr[0]} ...)" if isinstance(expr, Group) and expr else repr(str(expr))
