"""Deductive reasoning (PrOntoQA / ProofWriter): is a statement True, False or Unknown given a context?

Output format: one statement per line (a fact or a rule in the datasets' English), then a final
line `Answer: True`, `Answer: False` or `Answer: Unknown`. Steps are judged by Z3 against the
context and the earlier steps (see `steps.py`); the answer against the context alone.
"""

from __future__ import annotations

import random
import re
from typing import Any

from modulo.domains.logic.answers import ambiguous_answer
from modulo.domains.logic.corrupt import corrupt_deduction_step
from modulo.domains.logic.english import EnglishError, parse_sentence
from modulo.domains.logic.ontology import NAMES, answer_options, ontology
from modulo.domains.logic.pictures import picture
from modulo.domains.logic.rules import RulesError, decide_by_rules, rules_steps
from modulo.domains.logic.steps import (
    claim_of,
    critique_text,
    flag_partial,
    generator_settings,
    is_rule,
    json_schema,
    judge_steps,
    proof_path,
    read_trace,
    unread_premises,
)
from modulo.domains.logic.theory import (
    Answer,
    Theory,
    World,
    decide,
    forward_proof,
    negate,
    read_theory,
    render_literal,
)
from modulo.domains.logic.thinking import judge_logic_thinking
from modulo.domains.structured import json_instructions
from modulo.model import (
    AnswerStatus,
    AnswerVerdict,
    ChatMessage,
    Instance,
    Step,
    StepVerdict,
    Trace,
    Verdicts,
)
from modulo.protocols import JSON_STYLE, CorruptedStep
from modulo.verifiers.smt import Atom, Const, Formula, Not, SmtChecker

INSTRUCTIONS = (
    "Reason step by step. Write one statement per line, each a fact or a rule in the same English as the "
    "context (for example 'Max is a dumpus.' or 'Every dumpus is cold.'), stating each rule you use before "
    "the fact it gives. Finish with one line 'Answer: {choices}'."
)
JSON_INSTRUCTIONS = (
    "Reason step by step. Put one statement in each item of `steps`, each a fact or a rule in the same "
    "English as the context (for example 'Max is a dumpus.' or 'Every dumpus is cold.'), stating each rule "
    "you use before the fact it gives. Then give `answer`: {choices}.\n\n"
)
FEW_SHOT = (
    "Context: Every wumpus is a yumpus. Yumpuses are not cold. Rex is a wumpus.\n"
    "Is the following statement {question}? Rex is cold.",
    "Rex is a wumpus.\nEvery wumpus is a yumpus.\nRex is a yumpus.\n"
    "Yumpuses are not cold.\nRex is not cold.\n"
    "Answer: False",
)


SEMANTICS = ("classical", "rules")
"""`classical`: first-order entailment (Z3). `rules`: ProofWriter's own, forward chaining (see `rules.py`)."""


class DeductionDomain:
    """Fictional-ontology and rule-base deduction with per-step Z3 entailment checks."""

    name = "deduction"
    description = "PrOntoQA / ProofWriter deduction: every step checked for entailment by Z3"
    oracle_variants = ("gold", "skip-hop", "negated", "wrong-individual")

    def __init__(self, timeout_ms: int = 2000) -> None:
        self.timeout_ms = timeout_ms

    def generate(self, count: int, seed: int, **params: Any) -> list[Instance]:
        known = {"hops": 3, "distractors": 1, "negation": True, "world": "closed", "semantics": "classical"}
        settings = generator_settings(self.name, params, known)
        hops, world, semantics = int(settings["hops"]), str(settings["world"]), str(settings["semantics"])
        if not 1 <= hops <= 5 or world not in ("open", "closed"):
            raise ValueError("hops must be 1..5 and world 'open' or 'closed'")
        if semantics not in SEMANTICS:
            raise ValueError(f"semantics must be one of {', '.join(SEMANTICS)}, not {semantics!r}")
        rng = random.Random(seed)
        out = []
        for k in range(count):
            payload = ontology(rng, hops, int(settings["distractors"]), bool(settings["negation"]), world)
            if semantics != "classical":
                payload["semantics"] = semantics
            out.append(
                Instance(
                    domain=self.name,
                    id=f"deduction-{world}-h{hops}-{seed}-{k}",
                    seed=seed,
                    difficulty={"hops": hops, "world": world},
                    payload={"dataset": "generated", **payload},
                )
            )
        return out

    def prompt(self, instance: Instance, style: str = "zero-shot") -> list[ChatMessage]:
        choices = answer_options(instance.payload.get("world", "open"))
        question = "true, false, or unknown" if "Unknown" in choices else "true or false"
        system = INSTRUCTIONS.format(choices="|".join(choices))
        if style == JSON_STYLE:
            schema = json_instructions(self.output_schema(instance))
            system = JSON_INSTRUCTIONS.format(choices=", ".join(choices)) + schema
        user = (
            f"Context: {instance.payload['context']}\nIs the following statement {question}? "
            f"{instance.payload['statement']}"
        )
        messages = [ChatMessage(role="system", content=system)]
        if style == "few-shot":
            example, answer = FEW_SHOT
            messages += [
                ChatMessage(role="user", content=example.format(question=question)),
                ChatMessage(role="assistant", content=answer),
            ]
        elif style not in ("zero-shot", JSON_STYLE):
            raise ValueError(f"unknown prompt style {style!r}; known: zero-shot, few-shot, {JSON_STYLE}")
        return [*messages, ChatMessage(role="user", content=user)]

    def answer_options(self, instance: Instance) -> list[tuple[str, str]]:
        """(answer, how it is said) of every answer the question allows: True, False (and Unknown in the
        open world), for probes that point a cue at one of them."""
        return [(a, a) for a in answer_options(instance.payload.get("world", "open"))]

    def output_schema(self, instance: Instance) -> dict[str, Any]:
        """JSON schema of the `json` style: `{"steps": ["Wren is a lempus.", ...], "answer": "True"}`."""
        return json_schema(answer_options(instance.payload.get("world", "open")))

    def parse(self, text: str, instance: Instance) -> Trace:
        words: dict[str, str] = {a.lower(): a for a in answer_options(instance.payload.get("world", "open"))}
        letters = option_letters(instance.payload.get("options"), words)
        return read_trace(text, {**words, **letters}, statement=str(instance.payload.get("statement", "")))

    def judge_thinking(
        self, instance: Instance, reasoning: str
    ) -> tuple[list[Step], list[StepVerdict], dict[str, Any]]:
        """The thinking's claims, each checked like a response step; claims under a supposition are
        `unknown` (see `modulo.domains.logic.thinking`)."""
        return judge_logic_thinking(self, instance, reasoning)

    def check(self, instance: Instance, trace: Trace) -> Verdicts:
        theory = read_theory(instance.payload["context"])
        checker = theory.checker(timeout_ms=self.timeout_ms)
        strict = bool(instance.payload.get("strict", True))
        answer = self._answer(instance, theory, checker, trace)
        judged = judge_steps(checker, theory.formulas, trace, strict=strict)
        if instance.payload.get("semantics") == "rules":
            claims = [claim_of(s) for s in trace.steps]
            world: World = "closed" if instance.payload.get("world") == "closed" else "open"
            judged.verdicts[:] = rules_steps(judged.verdicts, claims, theory.formulas, world)
        if theory.unparsed:
            judged.verdicts[:] = flag_partial(judged.verdicts, len(theory.formulas), len(theory.unparsed))
        off_path = self._off_path(instance, trace, judged.verdicts, judged.judgements)
        if off_path is not None:
            answer.extras["valid_steps_off_path"] = len(off_path)
            for index in off_path:
                verdict = judged.verdicts[index]
                judged.verdicts[index] = verdict.model_copy(
                    update={"message": verdict.message + "; not on the path to the conclusion"}
                )
        return Verdicts(steps=judged.verdicts, answer=answer)

    def _answer(self, instance: Instance, theory: Theory, checker: SmtChecker, trace: Trace) -> AnswerVerdict:
        """Judged against the premises alone (the checker has no trace steps yet)."""
        world = instance.payload.get("world", "open")
        extras: dict[str, Any] = {"dataset_answer": instance.payload.get("answer")}
        if theory.unparsed:
            extras["unparsed_premises"] = len(theory.unparsed)
            return unread_premises(theory.unparsed, extras)
        try:
            statement = parse_sentence(instance.payload["statement"]).formula
        except EnglishError as error:
            return AnswerVerdict(
                status="unknown", detail="statement-unparsed", message=str(error), extras=extras
            )
        semantics = instance.payload.get("semantics", "classical")
        extras["semantics"] = str(semantics)
        if semantics not in SEMANTICS:
            message = f"semantics {semantics!r} is none of {', '.join(SEMANTICS)}"
            return AnswerVerdict(status="unknown", detail="unknown-semantics", message=message, extras=extras)
        if semantics == "rules":
            return self._judged(trace, _by_rules(theory, statement, world), extras)
        if checker.premises_consistent() is False:
            return AnswerVerdict(
                status="unknown",
                detail="inconsistent-premises",
                extras=extras,
                message="the premises contradict each other, so every statement follows",
            )
        expected = decide(statement, checker, world)
        if expected is None:
            return AnswerVerdict(
                status="unknown", detail="timeout", message="the solver timed out", extras=extras
            )
        return self._judged(trace, expected, extras)

    @staticmethod
    def _judged(trace: Trace, expected: Answer | AnswerVerdict, extras: dict[str, Any]) -> AnswerVerdict:
        """The given answer against the expected one (or the verdict saying why there is none)."""
        if isinstance(expected, AnswerVerdict):
            return expected.model_copy(update={"extras": {**extras, **expected.extras}})
        extras["expected"] = expected
        ambiguous = ambiguous_answer(trace, lambda given: DeductionDomain._given(given, expected, extras))
        if ambiguous is not None:
            return ambiguous
        if trace.answer is None:
            return AnswerVerdict(
                status="unparsed",
                detail=f"expected {expected}",
                extras=extras,
                message="no 'Answer: True|False|Unknown' line",
            )
        return DeductionDomain._given(trace.answer, expected, extras)

    @staticmethod
    def _given(given: str, expected: Answer, extras: dict[str, Any]) -> AnswerVerdict:
        status: AnswerStatus = "correct" if given == expected else "incorrect"
        message = "" if status == "correct" else f"the statement is {expected}, not {given}"
        return AnswerVerdict(
            status=status, detail=f"expected {expected}, given {given}", message=message, extras=dict(extras)
        )

    @staticmethod
    def _off_path(
        instance: Instance, trace: Trace, verdicts: list[StepVerdict], judgements: list[Any]
    ) -> set[int] | None:
        """Valid steps the conclusion does not rest on, if the trace concludes the statement (or not)."""
        try:
            statement = parse_sentence(instance.payload["statement"]).formula
        except EnglishError:
            return None
        targets = {statement, negate(statement)}
        concluding = [
            s.index for s in trace.steps if claim_of(s) in targets and verdicts[s.index].status == "valid"
        ]
        if not concluding:
            return None
        path = proof_path(judgements, concluding[-1])
        return {v.index for v in verdicts if v.status == "valid" and v.index not in path}

    def render(self, instance: Instance, trace: Trace | None = None) -> str:
        question = [f"statement: {instance.payload['statement']}"]
        answer = "–" if trace is None or trace.answer is None else str(trace.answer)
        return picture(instance.payload["context"], question, trace, answer)

    def critique(self, verdicts: Verdicts) -> str:
        return critique_text(verdicts)

    def corrupt_step(self, instance: Instance, trace: Trace, index: int, seed: int) -> CorruptedStep | None:
        """Step `index` replaced by a claim Z3 refutes or that does not follow (see `corrupt.py`)."""
        return corrupt_deduction_step(self, instance, trace, index, seed)

    def oracle(self, instance: Instance, variant: str, seed: int) -> str:
        if variant not in self.oracle_variants:
            raise ValueError(f"unknown variant {variant!r}; known: {', '.join(self.oracle_variants)}")
        theory = read_theory(instance.payload["context"])
        statement = parse_sentence(instance.payload["statement"]).formula
        checker = theory.checker(timeout_ms=self.timeout_ms, minimize=False)
        world = instance.payload.get("world", "open")
        answer = decide(statement, checker, world) or "Unknown"
        if instance.payload.get("semantics") == "rules":
            by_rules = _by_rules(theory, statement, world)
            answer = by_rules if isinstance(by_rules, str) else answer
        lines = gold_lines(instance, theory, statement, answer)
        if variant != "gold":
            lines = mutate(lines, variant, theory, random.Random(seed))
        return "\n".join([*lines, f"Answer: {answer}"])


def _by_rules(theory: Theory, statement: Formula, world: str) -> Answer | AnswerVerdict:
    """The answer under ProofWriter's rule semantics, or an `unknown` verdict saying why it gives none."""
    try:
        return decide_by_rules(theory.formulas, statement, "closed" if world == "closed" else "open")
    except RulesError as error:
        return AnswerVerdict(status="unknown", detail="outside-rules-semantics", message=str(error))


def gold_lines(instance: Instance, theory: Theory, statement: Formula, answer: str) -> list[str]:
    """The dataset's explanation chain when it has one, else a forward-chaining proof in the same style."""
    if instance.payload.get("explanation"):
        return list(instance.payload["explanation"])
    goal = statement if answer == "True" else negate(statement) if answer == "False" else None
    proof = forward_proof(theory, goal) if goal is not None else None
    if proof is None:
        facts = [
            s for s, f in zip(theory.sentences, theory.formulas, strict=True) if isinstance(f, Atom | Not)
        ]
        return facts[:1]
    return [theory.sentences[i] if i is not None else render_literal(f, theory.nouns) for i, f in proof]


def mutate(lines: list[str], variant: str, theory: Theory, rng: random.Random) -> list[str]:
    """Corrupt a gold chain: negate the last derived fact, move it to a stranger, or drop a hop."""
    parsed = [_formula(line) for line in lines]
    premises = set(theory.formulas)
    derived = [i for i, f in enumerate(parsed) if isinstance(f, Atom | Not) and f not in premises]
    if not derived:
        return lines
    out = list(lines)
    last = derived[-1]
    literal = parsed[last]
    assert literal is not None
    if variant == "negated":
        out[last] = render_literal(negate(literal), theory.nouns)
    elif variant == "wrong-individual":
        names = set(theory.constants)
        stranger = next(n for n in rng.sample(NAMES + ["Zed"], len(NAMES) + 1) if n.lower() not in names)
        out[last] = render_literal(_rename(literal, stranger.lower()), theory.nouns)
    else:  # skip-hop: drop a rule and the fact it gives, when a later derived fact needs them
        droppable = [
            i for i in derived[:-1] if i > 0 and (rule := parsed[i - 1]) is not None and is_rule(rule)
        ]
        if droppable:
            drop = rng.choice(droppable)
            del out[drop - 1 : drop + 1]
    return out


def _formula(line: str) -> Formula | None:
    try:
        return parse_sentence(line).formula
    except EnglishError:
        return None


def _rename(literal: Formula, name: str) -> Formula:
    if isinstance(literal, Not):
        return Not(_rename(literal.body, name))
    assert isinstance(literal, Atom)
    return Atom(literal.pred, (Const(name), *literal.args[1:]))


def option_letters(options: object, words: dict[str, str]) -> dict[str, str]:
    """Letter -> answer for the options the question listed (`A) True`, as imported Logic-LM records have);
    none for a question that lists no options, so an answer `(A)` to it is not read as any answer."""
    letters: dict[str, str] = {}
    for option in options if isinstance(options, list) else []:
        found = re.match(r"^\s*\(?([A-Ia-i])\)\s*(\w+)", str(option))
        if found and found.group(2).lower() in words:
            letters[found.group(1).lower()] = words[found.group(2).lower()]
    return letters
