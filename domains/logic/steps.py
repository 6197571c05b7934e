"""Reading logic traces (free text through `reading.py`, or the `json` style) and judging their steps
with Z3.

A derived step must follow from the premises and the trace's earlier (non-invalid) steps. With
`strict` (the default) it must also use at most one rule — a universal or conditional sentence,
stated in the trace or only in the premises — so that a step which silently chains several rules
("skips a hop") is `unsupported` under rule `logic.hop` rather than valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modulo.domains.logic.answers import Choices
from modulo.domains.logic.english import EnglishError, parse_sentence
from modulo.domains.logic.reading import read_response, words_read
from modulo.domains.logic.theory import split_sentences
from modulo.domains.structured import item_text, json_object
from modulo.model import AnswerVerdict, Model, Step, StepVerdict, Trace, Verdicts
from modulo.reading import separate_reasoning
from modulo.verifiers.smt import And, Atom, Formula, Judgement, Not, SmtChecker, judge_trace


class LogicJson(Model):
    """A logic trace as JSON (prompt style `json`)."""

    steps: list[str]
    """The reasoning, one statement per item, in the same English as the problem."""
    answer: str
    """The final answer."""


def generator_settings(domain: str, params: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """`known` (name -> default) overridden by `params`; an unknown name is a ValueError listing them."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"unknown {domain} params {unknown}; known: {', '.join(known)}")
    return {**known, **params}


def json_schema(choices: Sequence[str]) -> dict[str, Any]:
    """The `json` style's schema, its answer one of `choices`."""
    schema = LogicJson.model_json_schema()
    schema["properties"]["answer"]["enum"] = list(choices)
    return schema


def read_english(sentence: str) -> Formula | str:
    """A sentence of the PrOntoQA / ProofWriter grammar as a formula, or the reason it is not one."""
    try:
        return parse_sentence(sentence).formula
    except EnglishError as error:
        return str(error)


def answer_word(text: str) -> str:
    """`(B).` -> `b`, `True` -> `true`: the lower-case answer token of an answer line."""
    return re.sub(r"[\s.)]+$", "", text.strip().lower()).strip("() ")


def read_trace(
    text: str,
    answer_of: dict[str, str],
    read_step: Callable[[str], Formula | str] = read_english,
    word_of: Callable[[str], str] = answer_word,
    options: Mapping[str, str] | None = None,
    statement: str | None = None,
) -> Trace:
    """A free-text answer read by `reading.read_response` (claims with spans, commentary, the answer chosen
    among the answer statements); `answer_of` maps an answer's word or letter to answers, `options` each
    answer to its option sentence. A response holding a `json` style object is read from its `steps` and
    `answer` instead (`word_of` gives the answer's word)."""
    separated = separate_reasoning(text)
    data = json_object(separated.response, LogicJson.model_fields)
    if data is not None:
        return _json_trace(data, answer_of, read_step, word_of, separated.source)
    return read_response(text, Choices(answer_of, options or {}, statement), read_step)


def step_of(index: int, text: str, read_step: Callable[[str], Formula | str]) -> Step:
    """A step of a `json` style item: `parsed` holds the words `read` and the `claim` (or the `error` saying
    why none), as a text step's does; no span (the item is not raw text)."""
    said = words_read(text)
    read = read_step(said)
    parsed: dict[str, Any] = {"read": said}
    parsed.update({"error": read} if isinstance(read, str) else {"claim": read})
    return Step(index=index, text=text, parsed=parsed)


def claim_of(step: Step) -> Formula | None:
    """The claim a step states, or None if it could not be read."""
    parsed = step.parsed
    claim = parsed.get("claim") if isinstance(parsed, dict) else None
    return None if claim is None or isinstance(claim, str | dict) else claim


def unread_reason(step: Step) -> str:
    """Why a step could not be read."""
    parsed = step.parsed
    return (
        str(parsed.get("error") or "could not be read") if isinstance(parsed, dict) else "could not be read"
    )


def _json_trace(
    data: dict[str, Any],
    answer_of: dict[str, str],
    read_step: Callable[[str], Formula | str],
    word_of: Callable[[str], str],
    source: str,
) -> Trace:
    """Like the text: each item of `steps` split into sentences; an item that is not a string is one
    unparsed step."""
    steps: list[Step] = []
    errors: list[str] = []
    items = data.get("steps", [])
    if not isinstance(items, list):
        errors.append("'steps' is not a list of statements")
        items = []
    for item in items:
        if not isinstance(item, str):
            error = "not a statement (a JSON string)"
            steps.append(Step(index=len(steps), text=item_text(item), parsed={"error": error}))
            continue
        for sentence in split_sentences(item):
            steps.append(step_of(len(steps), sentence, read_step))
    answer, answer_text = None, None
    if "answer" in data:
        answer_text = item_text(data["answer"])
        answer = answer_of.get(word_of(answer_text))
        if answer is None:
            errors.append(f"answer {answer_text!r} is none of {sorted(set(answer_of.values()))}")
    reading = {
        "status": "read" if answer is not None else "unreadable",
        "reason": "read the JSON object's steps and answer"
        if answer is not None
        else "the JSON object has no readable answer",
        "block": None,
        "alternatives": [],
        "answers": [answer] if answer is not None else [],
        "commentary": [],
        "reasoning_source": source,
    }
    return Trace(steps=steps, answer=answer, answer_text=answer_text, parse_errors=errors, reading=reading)


def is_rule(formula: Formula) -> bool:
    """A universal or conditional sentence: anything but a fact (a literal, or a conjunction of them)."""
    if isinstance(formula, And):
        return any(is_rule(part) for part in formula.parts)
    return not isinstance(formula, Atom | Not)


@dataclass(frozen=True)
class StepJudgements:
    verdicts: list[StepVerdict]
    judgements: list[Judgement | None]


def judge_steps(
    checker: SmtChecker, premises: tuple[Formula, ...], trace: Trace, strict: bool = True
) -> StepJudgements:
    """One verdict per step; rules `logic.parse`, `logic.entailment`, `logic.hop`, `logic.contradiction`,
    `logic.timeout`."""
    claims = [claim_of(s) for s in trace.steps]
    judgements = judge_trace(checker, claims)
    if strict:
        judgements = [
            _fewest_rules(checker, index, premises, claims, judgements) for index in range(len(claims))
        ]
    verdicts = []
    for step, claim, judgement in zip(trace.steps, claims, judgements, strict=True):
        verdicts.append(_verdict(step, claim, judgement, premises, claims, strict))
    return StepJudgements(verdicts, judgements)


def _rules_used(judgement: Judgement, premises: Sequence[Formula], claims: Sequence[Formula | None]) -> int:
    rules = [premises[p] for p in judgement.premises] + [claims[s] for s in judgement.steps]
    return sum(1 for r in rules if r is not None and is_rule(r))


def _fewest_rules(
    checker: SmtChecker,
    index: int,
    premises: Sequence[Formula],
    claims: Sequence[Formula | None],
    judgements: Sequence[Judgement | None],
) -> Judgement | None:
    """Step `index`'s judgement, its support replaced by one with at most one rule when such a support exists.

    The minimised support depends on the order of the premises (deletion can keep two rules where one
    would do), so when it holds several rules, each rule is tried on its own with every fact: the
    premises' and the earlier accepted steps'. `unknown` if no such support was found and a check gave up.
    """
    judgement, claim = judgements[index], claims[index]
    if judgement is None or claim is None or judgement.status != "valid":
        return judgement
    if _rules_used(judgement, premises, claims) <= 1:
        return judgement
    earlier = [
        s for s in range(index) if (j := judgements[s]) is not None and j.status in ("valid", "unsupported")
    ]
    facts = [p for p, f in enumerate(premises) if not is_rule(f)]
    fact_steps = [s for s in earlier if (c := claims[s]) is not None and not is_rule(c)]
    candidates: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
        ((p,), ()) for p, f in enumerate(premises) if is_rule(f)
    ]
    candidates += [((), (s,)) for s in earlier if s not in fact_steps]
    gave_up = False
    for rule_premise, rule_step in candidates:
        found = checker.entailed_by(claim, [*facts, *rule_premise], [*fact_steps, *rule_step])
        if found.status == "valid":
            return found
        gave_up |= found.status == "unknown"
    return Judgement("unknown") if gave_up else judgement


def _support(judgement: Judgement) -> str:
    parts = [f"premise {p + 1}" for p in judgement.premises] + [f"step {s + 1}" for s in judgement.steps]
    return ", ".join(parts) or "nothing"


def _verdict(
    step: Step,
    claim: Formula | None,
    judgement: Judgement | None,
    premises: tuple[Formula, ...],
    claims: list[Formula | None],
    strict: bool,
) -> StepVerdict:
    index = step.index
    if claim is None or judgement is None:
        return StepVerdict(index=index, status="unparsed", rule="logic.parse", message=unread_reason(step))
    failed = failed_verdict(
        index, step.text, judgement.status, "logic", "the premises", lambda: _support(judgement)
    )
    if failed is not None:
        return failed
    used = _rules_used(judgement, premises, claims)
    if strict and used > 1:
        return StepVerdict(
            index=index,
            status="unsupported",
            rule="logic.hop",
            message=f"{step.text!r} follows only by chaining {used} rules ({_support(judgement)}); "
            "state the intermediate steps",
        )
    return StepVerdict(index=index, status="valid", message=f"follows from {_support(judgement)}")


def proof_path(judgements: list[Judgement | None], conclusion: int) -> set[int]:
    """The steps the conclusion step rests on, transitively (itself included)."""
    path, todo = set(), [conclusion]
    while todo:
        index = todo.pop()
        if index in path:
            continue
        path.add(index)
        judgement = judgements[index]
        todo += list(judgement.steps) if judgement else []
    return path


def failed_verdict(
    index: int, text: str, status: str, family: str, basis: str, support: Callable[[], str]
) -> StepVerdict | None:
    """The verdict of a claim Z3 could not decide, found contradicted or found unsupported; None if valid.

    `family` names the contradiction and entailment rules (`logic.*`, `ordering.*`); `support()` names
    what a contradicted claim contradicts.
    """
    if status == "unknown":
        message = "the solver timed out before deciding this step"
        return StepVerdict(index=index, status="unknown", rule="logic.timeout", message=message)
    if status == "invalid":
        message = f"{text!r} contradicts {support()}"
        return StepVerdict(index=index, status="invalid", rule=f"{family}.contradiction", message=message)
    if status == "unsupported":
        message = f"{text!r} does not follow from {basis} and earlier steps"
        return StepVerdict(index=index, status="unsupported", rule=f"{family}.entailment", message=message)
    return None


def unread_premises(unparsed: Sequence[tuple[str, str]], extras: dict[str, Any]) -> AnswerVerdict:
    """The answer's verdict when some premises could not be read: `unknown` (detail `unread-premises`), since
    the answer depends on every premise; the message lists each unread premise and why."""
    listed = "; ".join(f"{sentence!r} ({reason})" for sentence, reason in unparsed)
    return AnswerVerdict(
        status="unknown",
        detail="unread-premises",
        message=f"{len(unparsed)} premise(s) could not be read, so the answer is not judged: {listed}",
        extras=extras,
    )


def flag_partial(verdicts: list[StepVerdict], read: int, unread: int) -> list[StepVerdict]:
    """Step verdicts judged against only the premises that were read, saying so in their messages."""
    note = f"; judged against the {read} premises that were read, not the {unread} that could not be"
    return [
        v if v.status == "unparsed" else v.model_copy(update={"message": v.message.lstrip("; ") + note})
        for v in verdicts
    ]


def critique_text(verdicts: Verdicts) -> str:
    """The back-prompt of both logic domains: every failing step and the answer's problem."""
    wrong = [f"Step {v.index + 1}: {v.message}" for v in verdicts.steps if v.status != "valid"]
    if verdicts.answer.status != "correct" and verdicts.answer.message:
        wrong.append(f"Answer: {verdicts.answer.message}")
    return "Your reasoning has problems:\n" + "\n".join(wrong or ["none found"]) + "\nTry again."
