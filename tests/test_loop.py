"""The LLM-Modulo loop policy: format critic first, then all hard critics or only the first error."""

from __future__ import annotations

from modulo.loop import critic_view, first_critic, needs_retry
from modulo.model import AnswerVerdict, StepVerdict, Verdicts


def _verdicts(*steps: tuple[str, str | None], answer: str = "incorrect") -> Verdicts:
    return Verdicts(
        steps=[StepVerdict(index=i, status=s, rule=r) for i, (s, r) in enumerate(steps)],  # type: ignore[arg-type]
        answer=AnswerVerdict(status=answer),  # type: ignore[arg-type]
    )


def test_format_critic_speaks_first_and_alone() -> None:
    v = _verdicts(("invalid", "x.rule"), ("unparsed", "x.parse"), ("invalid", "x.other"))
    view = critic_view(v, "all")
    assert [s.rule for s in view.steps] == ["x.parse"]


def test_hard_critics_all_or_first() -> None:
    v = _verdicts(("valid", None), ("invalid", "x.a"), ("invalid", "x.b"))
    assert [s.rule for s in critic_view(v, "all").steps] == ["x.a", "x.b"]
    assert [s.rule for s in critic_view(v, "first-error").steps] == ["x.a"]
    assert first_critic(v) == "x.a"


def test_retry_triggers() -> None:
    valid_wrong = _verdicts(("valid", None), answer="incorrect")
    invalid_right = _verdicts(("invalid", "x.a"), answer="correct")
    assert needs_retry(valid_wrong, "answer") and not needs_retry(valid_wrong, "trace")
    assert needs_retry(invalid_right, "trace") and not needs_retry(invalid_right, "answer")
    assert needs_retry(invalid_right, "either") and needs_retry(valid_wrong, "either")
    assert first_critic(valid_wrong) == "answer.incorrect"
