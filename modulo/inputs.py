"""Reading user files (results, datasets, configs, domain files): every failure is a one-line ValueError
that names the file, the line where there is one, and what to do — never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_text(path: Path, what: str = "file") -> str:
    """The UTF-8 text of `path`; `what` says in the error which option or argument named it."""
    try:
        return path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ValueError(f"{what} {path} is a folder; give the file itself") from None
    except FileNotFoundError:
        raise ValueError(f"{what} {path} does not exist; check the path") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{what} {path}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def parse_json(text: str, where: str) -> Any:
    """JSON from `text`; `where` (file, or file:line) names the source in the error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply to read; is this the right file?") from None


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON content of `path`, with one-line errors."""
    return parse_json(read_text(path, what), str(path))


def parse_yaml(text: str, where: str) -> Any:
    """YAML through `safe_load` only (no `!!python` tags); errors name `where` and the line."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise ValueError(
            f"{where}{line}: {exc.problem}; only plain YAML is read (no tags such as !!python)"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "unreadable"
        raise ValueError(f"{where}{line}: not valid YAML ({problem})") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ValueError(f"{where}: not valid YAML ({type(exc).__name__})") from None


def read_yaml(path: Path, what: str = "file") -> Any:
    """The YAML content of `path`, with one-line errors."""
    return parse_yaml(read_text(path, what), f"{what} {path}")
