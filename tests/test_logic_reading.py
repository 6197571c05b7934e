"""Verbose chat answers to logic problems, read as a careful human would: an adversarial corpus per domain.

The answers are written the way chat models answer PrOntoQA / ProofWriter / BIG-Bench logical_deduction /
zebra questions (chains "X is a Y, so X is a Z", numbered markdown steps with citations, "**Answer:**",
"The correct option is: B", `\\boxed{}`, thinking, retractions). Each case asserts the verdict a careful
reader gives, or `ambiguous`; never a reading that picks one of two answers silently.
"""

from __future__ import annotations

import re

import pytest

from modulo.domains.logic.deduction import DeductionDomain
from modulo.domains.logic.ordering import OrderingDomain
from modulo.domains.logic.zebra_domain import ZebraDomain
from modulo.model import Instance, Trace, Verdicts

DEDUCTION = DeductionDomain()
CONTEXT = "Every wumpus is a yumpus. Yumpuses are not cold. Every wumpus is red. Rex is a wumpus."
REX = Instance(
    domain="deduction", id="rex", payload={"context": CONTEXT, "statement": "Rex is cold.", "world": "open"}
)
REX_LISTED = Instance(
    domain="deduction",
    id="rex-listed",
    payload={**REX.payload, "options": ["A) True", "B) False", "C) Unknown"]},
)
"""REX as imported Logic-LM records ask it: with lettered options."""
SHY = Instance(
    domain="deduction", id="shy", payload={"context": CONTEXT, "statement": "Rex is shy.", "world": "open"}
)
CLOSED = Instance(
    domain="deduction",
    id="closed",
    payload={"context": CONTEXT, "statement": "Rex is cold.", "world": "closed"},
)


def judged(domain: object, instance: Instance, text: str) -> tuple[Trace, Verdicts]:
    trace = domain.parse(text, instance)  # type: ignore[attr-defined]
    verdicts = domain.check(instance, trace)  # type: ignore[attr-defined]
    for step in trace.steps:  # every step's span is the raw text it was read from ("must be" read "is")
        if "span" not in step.parsed:  # a `json` style item
            continue
        start, end = step.parsed["span"]
        said = set(re.findall(r"[a-z]+", text[start:end].lower()))
        read = step.parsed["read"]
        assert set(re.findall(r"[a-z]+", read.lower())) - {"is"} <= said, (read, text[start:end])
    for comment in trace.reading["commentary"]:
        start, end = comment["span"]
        assert comment["text"].split()[0].strip(".,:") in text[start:end]
    if trace.reading["status"] == "ambiguous":  # unknown is never counted as right
        assert verdicts.answer.status != "correct"
    return trace, verdicts


# --- deduction ---------------------------------------------------------------------------------------


def test_prontoqa_chain_with_a_bare_label() -> None:
    text = (
        "Rex is a wumpus. Every wumpus is a yumpus. Rex is a yumpus. Yumpuses are not cold. "
        "Rex is not cold.\n"
        "False"
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert [s.parsed["read"] for s in trace.steps][-1] == "Rex is not cold"
    assert verdicts.trace_valid and verdicts.answer.status == "correct"


def test_markdown_numbered_steps_with_citations_and_commentary() -> None:
    text = (
        "Let me think step by step. We need to determine whether Rex is cold.\n\n"
        "1. **Rex is a wumpus** (given).\n"
        "2. Since Rex is a wumpus and every wumpus is a yumpus, Rex is a yumpus.\n"
        "3. Yumpuses are not cold, so Rex is not cold.\n\n"
        'Therefore, the statement "Rex is cold" is **False**.\n\n'
        "**Answer:** False"
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    texts = [s.parsed["read"] for s in trace.steps]
    assert texts == [
        "Rex is a wumpus",
        "Rex is a wumpus",
        "every wumpus is a yumpus",
        "Rex is a yumpus",
        "Yumpuses are not cold",
        "Rex is not cold",
    ]
    assert trace.steps[3].parsed["rests_on"] == [1, 2] and trace.steps[5].parsed["rests_on"] == [4]
    assert [c["why"] for c in trace.reading["commentary"]] == ["commentary", "commentary"]
    assert trace.reading["status"] == "read" and "restate" in trace.reading["reason"]
    assert verdicts.trace_valid and verdicts.answer.status == "correct"


def test_thinking_is_never_the_answer() -> None:
    text = (
        "<think>Rex is a wumpus so Rex is cold. Answer: True</think>\nRex is not cold.\nFinal answer: False"
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.reading["reasoning_source"] == "tag" and [s.parsed["read"] for s in trace.steps] == [
        "Rex is not cold"
    ]
    assert verdicts.answer.status == "correct"


def test_a_retracted_answer_is_set_aside() -> None:
    text = (
        "Rex is a wumpus. So Rex is a yumpus.\nThe answer is True.\n"
        "Wait, that's wrong: yumpuses are not cold. The answer is False."
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.reading["status"] == "read" and "retracted" in trace.reading["reason"]
    assert len(trace.reading["alternatives"]) == 1 and verdicts.answer.status == "correct"
    assert "yumpuses are not cold" in [s.parsed["read"] for s in trace.steps]


@pytest.mark.parametrize(
    "text",
    [
        "Rex is a wumpus, so Rex is a yumpus.\nAnswer: True\nRex is not cold.\nFinal Answer: False",
        "Answer: True or False",
        "So the statement is true.\n\n**Answer:** False",
    ],
)
def test_two_unretracted_answers_that_differ_are_ambiguous(text: str) -> None:
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.reading["status"] == "ambiguous" and trace.reading["answers"] == ["False", "True"]
    assert trace.answer is None
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "ambiguous-reading")
    assert "False -> correct" in verdicts.answer.message and "True -> incorrect" in verdicts.answer.message


def test_answers_that_differ_but_are_all_wrong_are_wrong() -> None:
    trace, verdicts = judged(DEDUCTION, REX, "Answer: True\nFinal answer: Unknown")
    assert trace.reading["status"] == "ambiguous"
    assert verdicts.answer.status == "incorrect" and "every one is incorrect" in verdicts.answer.message


def test_an_answer_taken_back_with_nothing_after_it_stands_for_no_answer() -> None:
    trace, verdicts = judged(
        DEDUCTION, REX, "Rex is not cold.\nAnswer: False\nWait, no. That answer is wrong."
    )
    assert trace.reading["status"] == "ambiguous" and trace.answer is None
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "ambiguous-reading")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rex is a wumpus. Rex is not cold.\nThe correct option is: B", "False"),
        ("The answer is (B).", "False"),
        ("\\boxed{False}", "False"),
        ("### Final Answer\n**False**", "False"),
        ('Rex is a yumpus, and yumpuses are not cold. Therefore, "Rex is cold" is false.', "False"),
        ("Answer: **False** - Rex is a yumpus, and no yumpus is cold.", "False"),
    ],
)
def test_answer_forms(text: str, expected: str) -> None:
    instance = REX_LISTED if re.search(r"\bB\b", text) else REX
    trace, verdicts = judged(DEDUCTION, instance, text)
    assert trace.reading["status"] == "read" and trace.answer == expected
    assert verdicts.answer.status == "correct"


@pytest.mark.parametrize("text", ["The correct option is: B", "The answer is (B).", "Answer: (A)"])
def test_a_letter_is_no_answer_when_the_question_listed_no_options(text: str) -> None:
    """A generated question asks "true or false?" without lettered options: a letter is not guessed."""
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.answer is None and trace.reading["status"] == "unreadable"
    assert verdicts.answer.status == "unparsed"


def test_an_unlisted_letter_before_a_word_leaves_the_word() -> None:
    trace, verdicts = judged(DEDUCTION, REX, "Rex is not cold.\nB) False")
    assert trace.answer == "False" and verdicts.answer.status == "correct"


def test_uncertain_is_unknown_where_unknown_is_a_choice() -> None:
    trace, verdicts = judged(DEDUCTION, SHY, "Nothing says whether Rex is shy.\nAnswer: Uncertain")
    assert trace.answer == "Unknown" and verdicts.answer.status == "correct"
    assert [c["text"] for c in trace.reading["commentary"]] == ["Nothing says whether Rex is shy."]
    closed, verdicts = judged(DEDUCTION, CLOSED, "Answer: Uncertain")
    assert closed.answer is None and verdicts.answer.status == "unparsed" and closed.parse_errors


@pytest.mark.parametrize(
    "text",
    [
        "I am not sure about this one.",
        'So "Rex is red" is true.',  # about another sentence than the statement asked about
        "We need to determine whether the statement is true.",
        "Is the answer True?",
        "Maybe the answer is True.",
    ],
)
def test_no_answer_is_unparsed(text: str) -> None:
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.answer is None and trace.reading["status"] == "unreadable"
    assert verdicts.answer.status == "unparsed"


def test_hypotheticals_questions_and_hedges_are_commentary_not_claims() -> None:
    text = (
        "Is Rex cold? If Rex were a dumpus, Rex would be cold. Suppose Rex is cold. Rex might be cold.\n"
        "Rex is not necessarily cold.\nAnswer: False"
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert trace.steps == [] and verdicts.answer.status == "correct"
    assert [c["why"] for c in trace.reading["commentary"]] == [
        "question",
        "hypothetical or hedged",
        "hypothetical or hedged",
        "hypothetical or hedged",
        "hypothetical or hedged",
    ]


def test_a_wrong_claim_beside_commentary_is_still_judged() -> None:
    text = "Rex is cold, which contradicts nothing. Rex is cold because Rex is a yumpus.\nAnswer: True"
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert [s.parsed["read"] for s in trace.steps] == ["Rex is cold", "Rex is a yumpus", "Rex is cold"]
    assert trace.steps[2].parsed["rests_on"] == [1]
    assert [v.status for v in verdicts.steps][0] == "invalid" and not verdicts.trace_valid
    assert verdicts.answer.status == "incorrect"


def test_an_unreadable_claim_is_an_unparsed_step_not_commentary() -> None:
    trace, verdicts = judged(DEDUCTION, REX, "Rex, famously, is cold.\nAnswer: False")
    assert [v.status for v in verdicts.steps] == ["unparsed"] and not verdicts.trace_valid


def test_json_style_reports_a_reading() -> None:
    trace, verdicts = judged(DEDUCTION, REX, '{"steps": ["Rex is a wumpus."], "answer": "False"}')
    assert trace.reading["status"] == "read" and verdicts.answer.status == "correct"


# --- ordering ----------------------------------------------------------------------------------------

ORDERING = OrderingDomain()
GOLF = ORDERING.generate(1, seed=0, objects=3)[0]  # Joe, Ada, Eli; Ada below Eli; Joe last; (B) Ada second


def test_generated_golf_puzzle_is_the_one_described() -> None:
    assert GOLF.payload["options"][1] == "B) Ada finished second." and GOLF.payload["answer"] == "B"


@pytest.mark.parametrize(
    "text",
    [
        "Let's analyze the clues. Joe finished last, so Joe is third.\n\n"
        "**Answer: (B) Ada finished second.**",
        "Joe finished last.\nAnswer: Ada finished second.",
        "Joe finished last.\nAnswer: Ada",
        "Answer: B) Ada finished second.",
        "Joe finished last, therefore Ada finished second.\nAnswer: (C)\nHmm, let me reconsider.\n"
        "Answer: (B)",
    ],
)
def test_ordering_answers_read(text: str) -> None:
    trace, verdicts = judged(ORDERING, GOLF, text)
    assert trace.reading["status"] == "read" and trace.answer == "B"
    assert verdicts.answer.status == "correct"


def test_ordering_letter_and_option_text_that_disagree_are_ambiguous() -> None:
    trace, verdicts = judged(ORDERING, GOLF, "Joe finished last.\nThe answer is (A) Ada finished second.")
    assert trace.reading["answers"] == ["A", "B"]
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "ambiguous-reading")


def test_ordering_chained_deductions_rest_on_their_reasons() -> None:
    text = "Joe finished last. Eli finished first, so Ada finished second.\nAnswer: (B)"
    trace, verdicts = judged(ORDERING, GOLF, text)
    assert [s.parsed["read"] for s in trace.steps] == [
        "Joe finished last",
        "Eli finished first",
        "Ada finished second",
    ]
    assert trace.steps[2].parsed["rests_on"] == [1] and verdicts.trace_valid


def test_ordering_a_later_correction_is_read_as_a_claim() -> None:
    text = "Ada finished second.\nAnswer: (B)\nActually, Eli finished second.\nAnswer: (C)"
    trace, verdicts = judged(ORDERING, GOLF, text)
    assert trace.answer == "C" and verdicts.answer.status == "incorrect"
    assert [v.status for v in verdicts.steps] == ["valid", "invalid"]


# --- zebra -------------------------------------------------------------------------------------------

ZEBRA = ZebraDomain()
HOUSES = ZEBRA.generate(1, seed=0, houses=3, characteristics=2)[0]  # Bob in the first house: (C)


def test_generated_zebra_puzzle_is_the_one_described() -> None:
    assert HOUSES.payload["options"][2] == "C) Bob is in the first house." and HOUSES.payload["answer"] == "C"


def test_zebra_verbose_chain_with_clue_citations() -> None:
    text = (
        "From clue 2, the person in the green house is in the third house. Alice is not in the first house "
        "(clue 3), so Alice must be in the second house. That means Bob is in the first house.\n\n"
        "Final answer: (C) Bob is in the first house."
    )
    trace, verdicts = judged(ZEBRA, HOUSES, text)
    assert [s.parsed["read"] for s in trace.steps][2] == "Alice is in the second house"
    assert verdicts.trace_valid and verdicts.answer.status == "correct"


def test_zebra_hedges_are_commentary_and_a_name_is_an_answer() -> None:
    text = "Arnold could be in the first house. Bob is in the first house.\nAnswer: Bob"
    trace, verdicts = judged(ZEBRA, HOUSES, text)
    assert [c["why"] for c in trace.reading["commentary"]] == ["hypothetical or hedged"]
    assert verdicts.trace_valid and verdicts.answer.status == "correct"


def test_zebra_answer_in_the_thinking_only_is_unparsed() -> None:
    trace, verdicts = judged(ZEBRA, HOUSES, "<think>Bob is in the first house. Answer: (C)</think>")
    assert trace.reading["status"] == "unreadable" and verdicts.answer.status == "unparsed"


def test_arrows_chain_claims_and_back_references_are_commentary() -> None:
    text = (
        "Rex is a wumpus → Rex is a yumpus → Rex is not cold.\n"
        "This is true because Rex is a yumpus. This shows that Rex is not cold.\nAnswer: False"
    )
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert [s.parsed["read"] for s in trace.steps] == [
        "Rex is a wumpus",
        "Rex is a yumpus",
        "Rex is not cold",
        "Rex is a yumpus",
        "Rex is not cold",
    ]
    assert [c["why"] for c in trace.reading["commentary"]] == ["refers back to earlier text"]
    assert verdicts.answer.status == "correct"


def test_the_instructions_answer_template_copied_is_ambiguous() -> None:
    trace, verdicts = judged(DEDUCTION, REX, "Answer: True|False|Unknown")
    assert (verdicts.answer.status, verdicts.answer.detail) == ("unknown", "ambiguous-reading")


def test_a_claim_after_an_opener_is_read_and_a_question_is_not() -> None:
    text = "Let me see, Rex is cold. Is it true that: Rex is cold? Okay, Rex is a yumpus.\nAnswer: False"
    trace, verdicts = judged(DEDUCTION, REX, text)
    assert [s.parsed["read"] for s in trace.steps] == ["Rex is cold", "Rex is a yumpus"]
    assert [v.status for v in verdicts.steps] == ["invalid", "valid"]
    assert [c["why"] for c in trace.reading["commentary"]] == ["commentary, beside a claim", "question"]


def test_restated_question_and_options_are_commentary_and_a_lone_option_line_answers() -> None:
    text = (
        "Question: Is the following statement true or false? Rex is cold.\n"
        "Options:\nA) True\nB) False\n"
        "The statement to evaluate is: Rex is cold. Known facts: Rex is a wumpus.\n"
        "**B) False**"
    )
    trace, verdicts = judged(DEDUCTION, REX_LISTED, text)
    assert [s.parsed["read"] for s in trace.steps] == ["Rex is a wumpus"]  # "Rex is cold" is never claimed
    whys = [c["why"] for c in trace.reading["commentary"]]
    assert whys.count("restates the question") == 2 and whys.count("restates the options") == 2
    assert trace.answer == "False" and verdicts.answer.status == "correct"


def test_an_option_letter_and_word_that_disagree_are_ambiguous() -> None:
    trace, verdicts = judged(DEDUCTION, REX_LISTED, "Rex is not cold.\nB) True")
    assert trace.reading["answers"] == ["False", "True"] and verdicts.answer.status == "unknown"
