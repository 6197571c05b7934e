"""Driving a probe by hand, as the engine will: plan, send each request by its kind, judge, plan again with
what is done, until the probe plans nothing. Also base samples verified from a domain's oracle texts."""

from __future__ import annotations

from typing import Any

from modulo.model import Sample
from modulo.probes.base import Intervention, Probe, ProbeContext, ProbeItem
from modulo.protocols import ContinuingGenerator, Domain, GenerationRequest, ScoreRequest
from modulo.registry import get_domain
from modulo.verify import verify_text


def verified_sample(
    domain: Domain, instance_index: int = 0, text: str | None = None, seed: int = 0
) -> Sample:
    """A verified base sample of `domain`: the oracle's gold text for instance `instance_index`, or `text`."""
    instance = domain.generate(instance_index + 1, seed)[instance_index]
    raw = text if text is not None else domain.oracle(instance, "gold", 0)  # type: ignore[attr-defined]
    trace, verdicts = verify_text(domain, instance, raw)
    return Sample(
        id=f"{domain.name}-{instance_index}",
        run_id="run",
        instance=instance,
        generator="oracle:gold",
        prompt=domain.prompt(instance),
        text=raw,
        trace=trace,
        verdicts=verdicts,
    )


def deduction_sample(**kwargs: Any) -> tuple[Sample, Domain]:
    domain = get_domain("deduction")
    return verified_sample(domain, **kwargs), domain


def send(generator: ContinuingGenerator, intervention: Intervention) -> str | dict[str, float]:
    """The output of one intervention's request, as the engine hands it to `judge`."""
    request = intervention.request
    if intervention.kind == "score":
        assert isinstance(request, ScoreRequest)
        [scores] = generator.score([request])
        return {o.option: o.logprob for o in scores.options}
    assert isinstance(request, GenerationRequest)
    send_one = generator.continue_generation if intervention.kind == "continue" else generator.generate
    [generation] = send_one([request])
    return generation.text


def drive(
    probe: Probe,
    sample: Sample,
    domain: Domain,
    generator: ContinuingGenerator,
    params: dict[str, Any] | None = None,
    rounds: int = 5,
) -> tuple[dict[str, ProbeItem], list[list[str]]]:
    """Every item of `sample` for `probe`, and the keys planned in each round."""
    context = ProbeContext(params=params or {})
    done: dict[str, ProbeItem] = {}
    planned_keys: list[list[str]] = []
    for _ in range(rounds):
        planned = probe.plan(sample, domain, context, done)
        if not planned:
            return done, planned_keys
        planned_keys.append([i.key for i in planned])
        for intervention in planned:
            done[intervention.key] = probe.judge(
                sample, domain, intervention, send(generator, intervention), None
            )
    raise AssertionError(f"{probe.name} still plans after {rounds} rounds")
