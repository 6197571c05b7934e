"""A third-party domain package is discovered through its entry point, with no change to modulo."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modulo.registry import RegistryError, domain_names, get_domain, get_generator
from modulo.verify import verify_text


def test_plugin_absent_until_installed() -> None:
    assert "sums" not in domain_names()


def test_plugin_registered_and_usable(with_plugin: dict[str, str]) -> None:
    assert "sums" in domain_names()
    domain = get_domain("sums")
    [instance] = domain.generate(1, seed=3)
    text = "Step 1: 5 + 2 = 7\nStep 2: 7 + 1 = 9\nAnswer: 9"
    instance = instance.model_copy(update={"payload": {"numbers": [5, 2, 1]}})
    trace, verdicts = verify_text(domain, instance, text)
    assert [v.status for v in verdicts.steps] == ["valid", "invalid"]
    assert verdicts.steps[1].rule == "sums.arithmetic"
    assert verdicts.answer.status == "incorrect"
    assert verdicts.first_error == 1 and verdicts.valid_prefix == 1 and not verdicts.trace_valid


def test_cli_lists_plugin(with_plugin: dict[str, str]) -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "modulo", "domains"],
        env=with_plugin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sums" in listing and "maze" in listing


def test_unknown_domain_lists_installed(with_plugin: dict[str, str]) -> None:
    with pytest.raises(RegistryError, match=r"unknown domain 'nope'; installed domains: .*sums"):
        get_domain("nope")


def test_oracle_rejects_unknown_variant(with_plugin: dict[str, str]) -> None:
    oracle = get_generator("oracle", {"variant": "telepathy"})
    from modulo.protocols import GenerationRequest

    [instance] = get_domain("sums").generate(1, seed=0)
    with pytest.raises(ValueError, match="arithmetic-slip"):
        oracle.generate([GenerationRequest(key="k", messages=[], instance=instance)])
