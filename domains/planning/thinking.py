"""Judging a reasoning model's thinking claim by claim (the claims are read by `thinking_reader`).

Context, sentence by sentence:

- Before any simulation, and in sentences that name the initial state ("initially", "the problem says"),
  state claims are restatements, judged against the initial state (`thinking.initial_state`). Sentences
  about the goal are judged against the goal (`thinking.goal`: a stated goal the problem does not have).
- A simulation is a run of action claims with state claims between them. The first one starts from the
  initial state; later ones start over from it at an item numbered 1, or after "Let me retrace", "The
  plan would be", "Another approach", a mention of the initial state. A simulation that starts without
  such words (after a retraction, "So stack red on orange", "So first, put down orange" in the middle of
  the thinking) has an unknown start: its claims are `unknown` until the next explicit start. Each
  action is judged where the trace's own earlier actions put it (`thinking.inapplicable`). After an
  action that was not applicable the simulation's state is unknown (does the thinking go on as if it
  happened?), so one error never makes later claims false: they are `unknown` until the next start. A
  sentence that names a step number other than the simulation's next ("Then step 3, …") or an earlier
  action the simulation does not hold ("After unstacking blue, …") loses the state the same way. A
  retraction marks the simulation's errors as retracted by the thinking (they stay errors).
- A state claim in a simulation holds in the current state (valid) or fails there and in the state
  before the last action too (`thinking.state`). When it fails now but held before the last action it is
  `unknown` (it may justify that action: "3. Unstack orange from blue. Now orange is clear, so unstacking
  is allowed"), even after "now".
  Past-tense claims ("was on red") are judged against every earlier state of the simulation.
- "I can pick up red" / "I can't unstack blue" are judged against the applicability of the action
  (`thinking.applicability`), in the state before that action when it is the one just taken.
- A retraction ("Wait, no", "that doesn't work") ends the simulation; a hypothetical or an unread clause
  that mentions an action makes its state unknown (later claims `unknown`, `thinking.context`) until the
  next start. Hypotheticals, questions and plans are never judged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from modulo.model import Step, StepStatus, StepVerdict
from modulo.verifiers.strips import PlanAction, State, StripsProblem, apply, fmt_atom, ground, unmet

from .templates import Templates
from .thinking_reader import Claim, Sentence, ThinkingReader


@dataclass
class Simulation:
    """A run of the trace's own actions from a start state; `known` is False once its state is lost."""

    number: int
    states: list[State] = field(default_factory=list)
    actions: list[PlanAction] = field(default_factory=list)
    known: bool = True
    steps: list[int] = field(default_factory=list)
    """The trace steps (claims) judged in this simulation."""

    def where(self) -> str:
        if not self.actions:
            return f"simulation {self.number}, in the initial state"
        last = fmt_atom(self.actions[-1])
        return f"simulation {self.number}, after {len(self.actions)} action(s), the last {last}"


@dataclass
class ThinkingJudgement:
    """The claims of a thinking text as trace steps, their verdicts, and what was read."""

    steps: list[Step]
    verdicts: list[StepVerdict]
    info: dict[str, Any]


class _Judge:
    def __init__(self, problem: StripsProblem) -> None:
        self.problem = problem
        self.sim: Simulation | None = None
        self.simulations = 0
        self.restating = True
        self.restart = False
        self.unsettled = False
        """An action was mentioned in words we do not read before any simulation: the first one's start is
        no longer the initial state by default."""
        self.steps: list[Step] = []
        self.verdicts: list[StepVerdict] = []

    # sentences ---------------------------------------------------------------------------------

    def sentence(self, s: Sentence) -> int:
        """Judge one sentence's claims; returns how many got a verdict other than unknown."""
        if s.retracts:
            self._retract(s.text)
            self.sim, self.restating = None, False
        if s.restart:
            self.restart = True
        if s.back_to_start:  # "Wait, initial conditions: …": restating the problem again
            self.sim, self.restating, self.restart = None, True, True
        state_override: State | None = None
        rewound = False
        """The sentence goes back to an earlier action of the simulation: what comes after it may go on
        from there."""
        if s.steps_back:
            self._lose()  # "After step 4, …": a point of some simulation we do not place
        lost_here = s.steps_back or self._elsewhere(s)
        judged = 0
        first_action = True
        for claim in s.claims:
            if claim.after_unread and not lost_here:
                self._lose()  # "move blue onto orange, then pick up red": after a step we could not read
                lost_here = True
            if claim.then and state_override is not None:
                lost_here = True  # "after stacking blue on orange, then red on blue": later than we know
            if claim.kind == "action" and claim.reference and self._reference(claim) is not None:
                state_override = self._reference(claim)
                rewound = rewound or not self._is_last(claim)
                continue
            if claim.kind == "action" and not self._starts(s, first_action) and self._repeats(claim):
                continue  # "Stack red on orange. So stack red on orange.": the same step said again
            if claim.kind == "action" and claim.reference and not (s.numbered_one and first_action):
                lost_here = True  # names an action as done that no live simulation holds: somewhere
                self._lose()  # in a simulation we cannot place
                continue
            if claim.kind == "action":
                verdict = self._action(claim, s, first_action, lost_here)
                first_action = False
            elif claim.kind == "applicability":
                verdict = self._applicability(claim, state_override, lost_here)
                if claim.can and (s.continues or claim.then):
                    self._lose()  # "Then, I can put blue down": did the thinking do it? cannot be told
            else:
                verdict = self._state(claim, state_override, lost_here)
            judged += verdict.status != "unknown"
            self._add(claim, verdict)
        if (s.lost or rewound) and self.sim is not None:
            self.sim.known = False
        self.unsettled = self.unsettled or (s.lost and self.sim is None)
        self.restating = self.restating and not s.lost
        if s.lost:
            self.restart = False  # an action we could not read came between the cue and the next start
        return judged

    def _elsewhere(self, s: Sentence) -> bool:
        """The sentence gives itself a step number that is not the live simulation's next step ("Then
        step 3, pick up orange" after four actions): which state it speaks of is not tracked."""
        sim = self.sim
        if s.number is None or s.numbered_one or sim is None or s.number == len(sim.actions) + 1:
            return False
        self._lose()
        return True

    def _lose(self) -> None:
        """From here the simulation's state is unknown, until the next explicit start."""
        if self.sim is None:
            self.simulations += 1
            self.sim = Simulation(self.simulations, [self.problem.init], known=False)
        self.sim.known = False
        self.restart = False

    def _retract(self, words: str) -> None:
        """The thinking rejects its current simulation: its errors are marked as retracted by the thinking
        itself (still errors: the claims were made)."""
        if self.sim is None:
            return
        for k in self.sim.steps:
            verdict = self.verdicts[k]
            if verdict.status in ("invalid", "unsupported"):
                note = f" (the thinking retracts it: {words.strip()[:80]!r})"
                self.verdicts[k] = verdict.model_copy(update={"message": verdict.message + note})
                parsed = self.steps[k].parsed
                if isinstance(parsed, dict):
                    parsed["retracted"] = True

    def _is_last(self, claim: Claim) -> bool:
        sim = self.sim
        return sim is not None and bool(sim.actions) and sim.actions[-1] == claim.action

    def _repeats(self, claim: Claim) -> bool:
        sim = self.sim
        return (
            sim is not None and bool(sim.actions) and sim.actions[-1] == claim.action and not claim.reference
        )

    def _starts(self, s: Sentence, first_action: bool) -> bool:
        return self.sim is None or self.restart or ((s.first or s.numbered_one) and first_action)

    def _reference(self, claim: Claim) -> State | None:
        """The state right after an action the sentence names as done, if the live simulation holds it."""
        sim = self.sim
        if sim is None or not sim.known or claim.action is None:
            return None
        for k in range(len(sim.actions) - 1, -1, -1):
            if sim.actions[k] == claim.action:
                return sim.states[k] if claim.before else sim.states[k + 1]
        return None

    # claims ------------------------------------------------------------------------------------

    def _action(self, claim: Claim, s: Sentence, first_action: bool, lost: bool) -> StepVerdict:
        assert claim.action is not None
        if self._starts(s, first_action):
            self.simulations += 1
            opening = self.simulations == 1 and not self.unsettled
            said_next = s.continues or claim.then
            explicit = not lost and (s.numbered_one or (not said_next and (self.restart or opening)))
            self.sim = Simulation(self.simulations, [self.problem.init], known=explicit)
            self.restart, self.restating = False, False
        sim = self.sim
        assert sim is not None
        written = fmt_atom(claim.action)
        if not sim.known:
            sim.actions.append(claim.action)
            return self._unknown(f"{written}: the state this simulation is in cannot be told")
        state = sim.states[-1]
        where = sim.where()
        action = ground(self.problem, claim.action)
        sim.actions.append(claim.action)
        if isinstance(action, tuple):
            sim.known = False
            return self._error("thinking.malformed", action[1])
        sim.states.append(apply(action, state))
        missing = unmet(action.pre, state)
        if missing:
            sim.known = False  # whether the thinking goes on as if it happened cannot be told
            why = f"{', '.join(missing)} do(es) not hold"
            return self._error("thinking.inapplicable", f"{written} is not applicable ({where}): {why}")
        return self._valid(f"{written} applicable ({where})")

    def _applicability(self, claim: Claim, override: State | None, lost: bool) -> StepVerdict:
        assert claim.action is not None
        state, where = self._state_for(override, lost, initial=claim.frame == "initial", restating=False)
        sim = self.sim
        if (
            sim is not None
            and sim.known
            and sim.actions
            and sim.actions[-1] == claim.action
            and override is None
        ):
            state, where = sim.states[-2], f"simulation {sim.number}, before {fmt_atom(claim.action)}"
        said = f"{'can' if claim.can else 'cannot'} {fmt_atom(claim.action)}"
        if state is None:
            return self._unknown(f"{said}: {where}")
        action = ground(self.problem, claim.action)
        if isinstance(action, tuple):
            return self._error("thinking.malformed", action[1])
        missing = unmet(action.pre, state)
        if (not missing) == claim.can:
            return self._valid(f"{said} ({where})")
        why = f"{', '.join(missing)} do(es) not hold" if missing else "every precondition holds"
        return self._error("thinking.applicability", f"claims it {said} ({where}), but {why}")

    def _state(self, claim: Claim, override: State | None, lost: bool) -> StepVerdict:
        assert claim.atom is not None
        said = ("" if claim.positive else "not ") + fmt_atom(claim.atom)
        if claim.frame == "goal":
            return self._goal(claim, said)
        restating = self.sim is None and self.restating and override is None
        if lost:
            return self._unknown(f"{said}: the sentence speaks of a point of the thinking we do not place")
        if claim.frame == "initial" or restating:
            ok = (claim.atom in self.problem.init) == claim.positive
            if ok:
                return self._valid(f"{said} (initial state)")
            if claim.frame != "initial":  # before any simulation, but not said to be the initial state
                return self._unknown(
                    f"{said} does not hold in the initial state, and the sentence does not say "
                    "it speaks of the initial state (a goal, a plan?)"
                )
            return self._error(
                "thinking.initial_state",
                f"{said} does not hold in the initial state: the problem says otherwise",
            )
        state, where = self._state_for(override, lost)
        sim = self.sim
        before = claim.frame == "before" and override is None
        if before and state is not None and sim is not None and len(sim.states) > 1:
            state, where = sim.states[-2], f"simulation {sim.number}, before {fmt_atom(sim.actions[-1])}"
        if state is None:
            return self._unknown(f"{said}: {where}")
        ok = (claim.atom in state) == claim.positive
        if ok:
            return self._valid(f"{said} ({where})")
        earlier = [self.problem.init, *sim.states] if sim is not None else []
        if claim.frame == "past" and any((claim.atom in e) == claim.positive for e in earlier):
            return self._valid(f"{said} held earlier in simulation {sim.number if sim else 0}")
        after_action = (
            override is None and claim.frame in ("current", "now") and sim is not None and len(sim.states) > 1
        )
        if after_action and sim is not None and (claim.atom in sim.states[-2]) == claim.positive:
            return self._unknown(
                f"{said} held before {fmt_atom(sim.actions[-1])} and not after it: which of the two "
                "states the sentence speaks of cannot be told"
            )
        return self._error("thinking.state", f"{said} does not hold ({where})")

    def _goal(self, claim: Claim, said: str) -> StepVerdict:
        assert claim.atom is not None
        goals = {(c.atom, c.positive) for c in self.problem.goal}
        if (claim.atom, claim.positive) in goals:
            return self._valid(f"{said} is a goal")
        if (claim.atom, not claim.positive) in goals:
            status: StepStatus = "invalid"
        else:
            status = "unsupported"
        stated = ", ".join(("" if p else "not ") + fmt_atom(a) for a, p in sorted(goals))
        message = f"{said} is not a goal of the problem (the goal: {stated})"
        return self._error("thinking.goal", message, status)

    def _state_for(
        self, override: State | None, lost: bool, *, initial: bool = False, restating: bool = True
    ) -> tuple[State | None, str]:
        """The state a claim is judged in, or None with why it cannot be told. `restating`: before any
        simulation a claim is taken to restate the initial state (state claims, not "I can …")."""
        if lost:
            return None, "the sentence names an earlier action this simulation does not hold"
        if override is not None:
            return override, "the state at the action the sentence names"
        sim = self.sim
        if initial:
            return self.problem.init, "initial state"
        if sim is None:
            if self.restating and restating:
                return self.problem.init, "initial state"
            return None, "no simulation is under way here: which state the sentence speaks of cannot be told"
        if not sim.known:
            return None, "the state of this simulation was lost to an action we could not read"
        return sim.states[-1], sim.where()

    # verdicts ----------------------------------------------------------------------------------

    def _valid(self, message: str) -> StepVerdict:
        return StepVerdict(index=len(self.steps), status="valid", message=message)

    def _error(self, rule: str, message: str, status: StepStatus = "invalid") -> StepVerdict:
        return StepVerdict(index=len(self.steps), status=status, rule=rule, message=message)

    def _unknown(self, message: str) -> StepVerdict:
        return StepVerdict(index=len(self.steps), status="unknown", rule="thinking.context", message=message)

    def _add(self, claim: Claim, verdict: StepVerdict) -> None:
        parsed: dict[str, Any] = {"kind": claim.kind, "span": list(claim.span), "source": "reasoning"}
        if claim.atom is not None:
            parsed.update(atom=list(claim.atom), positive=claim.positive, frame=claim.frame)
        if claim.action is not None:
            parsed["action"] = list(claim.action)
        if claim.kind == "applicability":
            parsed["can"] = claim.can
        if claim.note:
            parsed["note"] = claim.note
            verdict = verdict.model_copy(update={"message": f"{verdict.message}; {claim.note}"})
        if self.sim is not None:
            self.sim.steps.append(len(self.steps))
        self.steps.append(Step(index=len(self.steps), text=claim.text, parsed=parsed))
        self.verdicts.append(verdict)


def judge_thinking(problem: StripsProblem, templates: Templates, reasoning: str) -> ThinkingJudgement:
    """Every claim of the thinking judged in its context; `info` says what was read: sentence counts by
    kind, coverage (sentences with a judged claim / all sentences), simulations, and each sentence's span
    and kind (commentary and hypotheticals are kept, judged by nothing)."""
    sentences = ThinkingReader(templates, problem).read(reasoning)
    judge = _Judge(problem)
    judged_sentences = sum(judge.sentence(s) > 0 for s in sentences)
    kinds = Counter(s.kind for s in sentences)
    info: dict[str, Any] = {
        "source": "reasoning",
        "sentences": len(sentences),
        "judged_sentences": judged_sentences,
        "coverage": round(judged_sentences / len(sentences), 4) if sentences else 0.0,
        "claims": dict(Counter(str(s.parsed["kind"]) for s in judge.steps if s.parsed)),
        "simulations": judge.simulations,
        "sentence_kinds": dict(kinds),
        "spans": [[s.span[0], s.span[1], s.kind] for s in sentences],
    }
    return ThinkingJudgement(judge.steps, judge.verdicts, info)
