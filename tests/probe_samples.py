"""Base samples for probe tests: an instance, a text, and the verdicts `verify_text` gives it."""

from __future__ import annotations

from modulo.model import Instance, Sample
from modulo.protocols import Domain
from modulo.verify import verify_text


def sample_of(domain: Domain, instance: Instance, text: str, sample_id: str | None = None) -> Sample:
    """A verified round-0 sample of `text` for `instance`, prompted as the domain prompts."""
    trace, verdicts = verify_text(domain, instance, text)
    return Sample(
        id=sample_id or f"s-{instance.id}",
        run_id="run",
        instance=instance,
        generator="test",
        prompt=domain.prompt(instance),
        text=text,
        trace=trace,
        verdicts=verdicts,
    )
