"""Keeping credentials out of everything modulo stores or prints.

Configs are refused when they hold a credential (a key-like field, a URL with `user:pass@` or `?key=`,
a token-shaped value), before anything is written. Texts that may carry one (server error bodies,
error messages, parameter dumps) go through `redact`, which masks token shapes, credential fields,
URL credentials and the values of credential-like environment variables.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

MASK = "***"
SECRET_FIELD = re.compile(
    r"(?i)^(?:x-)?(?:api[-_]?key|apikey|key|token|access[-_]?token|auth[-_]?token|bearer|secret|"
    r"client[-_]?secret|password|passwd|authorization|auth|sig|signature)$"
)
"""Names of fields and URL query parameters holding credentials (not `api_key_env`: it names a variable)."""
SECRET_ENV = re.compile(r"(?i)(?:api[-_]?key|token|secret|password)$")
"""Environment variables whose values are masked wherever they appear."""
TOKEN = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{20,}|hf_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|"
    r"xox[abposr]-[A-Za-z0-9\-]{8,})"
)
"""Widely used API token shapes (OpenAI, Hugging Face, GitHub, AWS, Slack)."""
BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s\"',;}]+")
FIELD_VALUE = re.compile(
    r"(?i)([\"']?(?:x-)?(?:api[-_]?key|apikey|access[-_]?token|auth[-_]?token|token|secret|client[-_]?secret|"
    r"password|passwd|authorization)[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)(?!bearer\b|basic\b)[^\s\"'&,;}]+"
)
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@\"']+@")
QUERY_SECRET = re.compile(
    r"(?i)([?&](?:api[-_]?key|apikey|key|token|access[-_]?token|sig|signature|secret|password)=)[^&\s\"'#]+"
)
MIN_SECRET = 6
"""Environment values shorter than this are not masked (they would mask ordinary words)."""


def env_secrets() -> list[str]:
    """Values of credential-like environment variables (e.g. OPENAI_API_KEY, HF_TOKEN)."""
    return [
        value
        for name, value in os.environ.items()
        if SECRET_ENV.search(name) and len(value) >= MIN_SECRET and not value.isdigit()
    ]


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with credentials masked: the given `secrets`, credential-like environment values, bearer
    tokens, `key: value` credential fields, URL user info and credential query parameters."""
    for secret in sorted({*(s for s in secrets if s), *env_secrets()}, key=len, reverse=True):
        if len(secret) >= MIN_SECRET:
            for form in sorted(_written_forms(secret), key=len, reverse=True):
                text = text.replace(form, MASK)
    text = BEARER.sub(rf"\1\2{MASK}", text)
    text = FIELD_VALUE.sub(rf"\g<1>{MASK}", text)
    text = URL_USERINFO.sub(rf"\g<1>{MASK}@", text)
    text = QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    return TOKEN.sub(MASK, text)


def _written_forms(secret: str) -> set[str]:
    """The ways a server may echo a secret back: as is, JSON-escaped (a key with `"` or `\\`), or
    URL-encoded."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def url_credentials(url: str) -> str | None:
    """What credential a URL carries (`user:pass@`, `?key=`), or None; never the credential itself."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username or parts.password:
        return "user info (user:password@)"
    names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True) if SECRET_FIELD.match(name)]
    return f"query parameter {names[0]!r}" if names else None


def find_secrets(data: Any, where: str = "") -> list[str]:
    """Where in a parsed config (dicts, lists, strings) credentials sit, e.g. `generator.params.api_key`;
    the descriptions never contain the values."""
    found: list[str] = []
    if isinstance(data, dict):
        for name, value in data.items():
            place = f"{where}.{name}" if where else str(name)
            if SECRET_FIELD.match(str(name)) and value not in (None, ""):
                found.append(f"{place} is a credential field")
            else:
                found += find_secrets(value, place)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += find_secrets(value, f"{where}[{index}]")
    elif isinstance(data, str):
        if (kind := url_credentials(data)) is not None:
            found.append(f"{where} is a URL with {kind}")
        elif TOKEN.search(data):
            found.append(f"{where} holds an API token")
    return found
