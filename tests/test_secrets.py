"""Credentials never reach the store or the terminal: refused in configs before anything is written,
masked in every message."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from modulo.redact import find_secrets, redact
from modulo.registry import RegistryError, get_generator
from modulo.runner import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-SECRET123"
SUITE = """name = "t"
[generator]
name = "openai"
params = {{ model = "m", base_url = "{url}"{extra} }}
[[tasks]]
domain = "maze"
count = 1
"""


def run_suite(tmp_path: Path, url: str, extra: str = "") -> tuple[subprocess.CompletedProcess[str], Path]:
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE.format(url=url, extra=extra), encoding="utf-8")
    store = tmp_path / "runs.sqlite"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "MODULO_OPENAI_API_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "modulo", "run", str(suite), "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
    )
    return done, store


@pytest.mark.parametrize(
    ("url", "extra", "secret"),
    [
        ("http://127.0.0.1:1/v1", f', api_key = "{SECRET}"', SECRET),
        ("http://user:hunter2pass@127.0.0.1:1/v1", "", "hunter2pass"),
        ("http://127.0.0.1:1/v1?key=AIzaSyFAKEFAKE", "", "AIzaSyFAKEFAKE"),
        ("http://127.0.0.1:1/v1?api-version=1&api_key=abcdef123456", "", "abcdef123456"),
    ],
)
def test_a_suite_with_credentials_is_refused_before_the_store_exists(
    tmp_path: Path, url: str, extra: str, secret: str
) -> None:
    done, store = run_suite(tmp_path, url, extra)
    assert done.returncode == 2
    assert "holds credentials" in done.stderr and "Traceback" not in done.stderr
    assert secret not in done.stderr + done.stdout
    assert not store.exists()


def test_load_config_names_the_field_not_the_value(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SUITE.format(url="http://h/v1", extra=f', api_key = "{SECRET}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "generator.params.api_key" in str(caught.value) and SECRET not in str(caught.value)


def test_shipped_suites_hold_no_credentials() -> None:
    suites = [*ROOT.glob("benchmarks/**/*.toml"), *ROOT.glob("examples/**/*.toml")]
    assert suites
    assert {str(p): find_secrets(tomllib.loads(p.read_text(encoding="utf-8"))) for p in suites} == {
        str(p): [] for p in suites
    }


def test_api_key_env_names_a_variable_and_is_allowed() -> None:
    assert find_secrets({"generator": {"params": {"api_key_env": "MY_KEY", "base_url": "http://h/v1"}}}) == []


def test_redact_masks_what_servers_echo_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-0123456789")
    body = (
        '{"error": "bad request", "headers": {"Host": "127.0.0.1:1", "Authorization": "Bearer abc.def-ghi", '
        '"X-Api-Key": "zzz999zzz", "Cookie": "a=b"}} at https://bob:pw123456@example.org/v1?token=t0k3n&x=1 '
        "with sk-proj-ABCDEFGH12345678 and tok-0123456789"
    )
    masked = redact(body, ["unused-secret"])
    for secret in (
        "abc.def-ghi",
        "zzz999zzz",
        "pw123456",
        "t0k3n",
        "sk-proj-ABCDEFGH12345678",
        "tok-0123456789",
    ):
        assert secret not in masked
    assert '"Host": "127.0.0.1:1"' in masked and "x=1" in masked and "bad request" in masked


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "plan: (1, 2) (1, 3)\ncreate (0, 0) g=0 h=4\nThe key insight is that the goal is reachable."
    assert redact(text) == text


def test_a_generator_refusing_its_params_does_not_quote_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("httpx")
    with pytest.raises(RegistryError) as caught:
        get_generator("openai", {"model": "m", "base_url": "http://bob:p4ssw0rd-xyz@127.0.0.1:1/v1"})
    assert "must not carry credentials" in str(caught.value) and "p4ssw0rd-xyz" not in str(caught.value)


def test_prose_about_keys_is_not_a_credential() -> None:
    config = {"name": "t", "description": "Bearer auth via OPENAI_API_KEY; uses sk-learn style splits"}
    assert find_secrets(config) == []


def test_a_key_with_quotes_and_backslashes_is_masked_as_servers_echo_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server echoing headers as JSON writes `"` and `\\` escaped: the escaped form is masked too."""
    import json as _json

    from modulo.redact import redact

    key = 'Ab"Qu0te\\BackSl4sh'
    monkeypatch.setenv("MYCRED_API_KEY", key)
    echoed = _json.dumps({"Authorization": f"Bearer {key}", "url": "/v1?x=" + "Ab%22Qu0te%5CBackSl4sh"})
    masked = redact(echoed)
    for fragment in ("Qu0te", "BackSl4sh"):
        assert fragment not in masked, masked
