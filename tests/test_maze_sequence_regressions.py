"""Regressions found in review of reading published maze sequence files: bad input is reported per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modulo.domains.maze import sequences
from modulo.domains.maze.domain import MazeDomain
from modulo.verify import InputError, sequence_items

TEXT = "start 0 0 goal 2 2 plan 0 0"


@pytest.mark.parametrize("cols", ["[3]", '{"n": 3}', "1e400", "NaN"])
def test_bad_cols_field_is_reported_not_raised(tmp_path: Path, cols: str) -> None:
    """`int(options["cols"])` raises TypeError (list/dict), OverflowError (inf from 1e400) or ValueError
    (nan): only ValueError is caught, so one bad record aborts the whole `modulo verify --format` run."""
    path = tmp_path / "bad.jsonl"
    line = f'{{"text": "{TEXT}", "cols": {cols}, "rows": 3}}'
    path.write_text(line + "\n", encoding="utf-8")
    items = list(sequence_items(path, MazeDomain(), "searchformer", {}))
    assert len(items) == 1 and isinstance(items[0], InputError)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("start 0 0 goal 1 0 wall 999999999 5 plan 0 0 plan 1 0", {}),  # inferred side 10^9
        ("start 0 0 goal 1 0 plan 0 0 plan 1 0", {"size": "1000000"}),
        ("start 0 0 goal 1 0 plan 0 0 plan 1 0", {"cols": 100000, "rows": 100000}),
    ],
)
def test_huge_grid_is_refused_before_building_it(
    monkeypatch: pytest.MonkeyPatch, text: str, options: dict[str, object]
) -> None:
    """Nothing bounds the grid size: one line naming cell 999999999 (or a huge --size / cols) makes
    Maze enumerate width*height cells -> MemoryError / OOM of the whole run. The stub below stands in
    for Maze so the test does not allocate: it fails if a maze of more than 10^6 cells is built."""
    real = sequences.Maze

    def guarded(**kwargs: object) -> object:
        width, height = int(kwargs["width"]), int(kwargs["height"])  # type: ignore[call-overload]
        assert width * height <= 10**6, f"built a {width}x{height} maze"
        return real(**kwargs)

    monkeypatch.setattr(sequences, "Maze", guarded)
    with pytest.raises(ValueError):
        sequences.read_sequence_maze(text, "searchformer", options)


def test_null_id_falls_back_to_line_number(tmp_path: Path) -> None:
    """`{"id": null}` gives the id "None" (cosmetic): `record.get("id", ...)` only falls back when the key
    is missing."""
    path = tmp_path / "ids.jsonl"
    path.write_text(json.dumps({"text": TEXT, "id": None}) + "\n", encoding="utf-8")
    [item] = list(sequence_items(path, MazeDomain(), "searchformer", {}))
    assert not isinstance(item, InputError) and item.id == "1"


def test_string_false_strict_ties_is_not_true() -> None:
    """A record field `"strict_ties": "false"` turns strict tie-breaking ON (bool("false") is True)."""
    instance, _ = MazeDomain().read_sequence(TEXT, "searchformer", {"strict_ties": "false"})
    assert instance.payload["strict_ties"] is False


def test_a_line_that_is_not_utf8_is_reported_alone(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(
        b"start 0 0 goal 1 0 plan 0 0 plan 1 0\n"
        b"start 0 0 \xff goal 1 0\n"
        b"start 0 0 goal 0 1 plan 0 0 plan 0 1\n"
    )
    items = list(sequence_items(path, MazeDomain(), "searchformer", {"size": "2"}))
    assert [type(i).__name__ for i in items] == ["VerifyItem", "InputError", "VerifyItem"]
    assert ":2: not UTF-8" in str(items[1])
