"""Published maze files (`modulo verify --domain maze --format ...`) and the maze oracle suite's report."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modulo.domains.maze.domain import MazeDomain
from modulo.domains.maze.formats import Dialect, format_output, format_prompt
from modulo.domains.maze.generators import MAZE_KINDS, make_maze
from modulo.domains.maze.grid import Maze
from modulo.domains.maze.oracle import CORRUPTIONS, astar_trace
from modulo.verify import verify_text

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = MazeDomain()
FORMATS: dict[str, Dialect] = {"searchformer": "searchformer", "beyond-semantics": "beyond_semantics"}
OPENING = {"searchformer": "create", "beyond_semantics": "close"}


def sequence(maze: Maze, dialect: Dialect, output: str | None = None) -> str:
    """One published example: the query, then the output (the exact A* search and plan by default)."""
    if output is None:
        exact = astar_trace(maze, OPENING[dialect])  # type: ignore[arg-type]
        output = format_output(exact.events, exact.plan, dialect)
    return f"{format_prompt(maze, dialect)} {output}"


def modulo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modulo", *args], env=dict(os.environ), capture_output=True, text=True
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", MAZE_KINDS)
def test_exact_sequences_read_back_to_the_same_maze_and_verify(fmt: str, kind: str) -> None:
    dialect = FORMATS[fmt]
    maze = make_maze(kind, 11, 11, random.Random(f"published:{kind}"))
    instance, output = DOMAIN.read_sequence(sequence(maze, dialect), fmt, {"size": "11"})
    assert Maze.model_validate(instance.payload["maze"]) == maze
    assert instance.payload["dialect"] == dialect and not instance.payload["size_inferred"]
    _, verdicts = verify_text(DOMAIN, instance, output)
    assert verdicts.trace_valid and verdicts.answer.detail == "valid-optimal"


@pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
def test_corruptions_in_a_published_line_are_caught_with_their_rule(corruption: str) -> None:
    maze = make_maze("searchformer", 12, 12, random.Random("published:corrupt"))
    rng = random.Random(0)
    exact = astar_trace(maze, "create")
    broken = CORRUPTIONS[corruption](exact.events, maze, rng)
    line = sequence(maze, "searchformer", format_output(broken.events, exact.plan, "searchformer"))
    instance, output = DOMAIN.read_sequence(line, "searchformer", {"size": 12})
    _, verdicts = verify_text(DOMAIN, instance, output)
    failing = [v for v in [*verdicts.steps, *verdicts.trace_checks] if v.status != "valid"]
    assert failing[0].index == broken.index and failing[0].rule == broken.rule
    assert verdicts.answer.status == "correct"


def test_size_comes_from_the_user_then_the_record_then_inference() -> None:
    maze = Maze(width=6, height=6, walls=frozenset({(2, 2)}), start=(0, 0), goal=(3, 3))
    line = sequence(maze, "searchformer")
    given, _ = DOMAIN.read_sequence(line, "searchformer", {"size": "8x7", "cols": 9, "rows": 9})
    recorded, _ = DOMAIN.read_sequence(line, "searchformer", {"cols": 9, "rows": 5})
    inferred, _ = DOMAIN.read_sequence(line, "searchformer", {})
    sizes = [(i.payload["maze"]["width"], i.payload["maze"]["height"]) for i in (given, recorded, inferred)]
    assert sizes == [(8, 7), (9, 5), (4, 4)]
    assert [i.payload["size_inferred"] for i in (given, recorded, inferred)] == [False, False, True]


@pytest.mark.parametrize(
    ("line", "options", "message"),
    [
        ("start 0 0 goal 3 x wall 1 1 create 0 0 c0 c6", {}, "query token 4"),
        ("start 0 0 wall 1 1 create 0 0 c0 c6", {}, "0 goal cells"),
        ("start 0 0 start 1 0 goal 2 2", {}, "2 start cells"),
        ("start 0 0 goal 3 3 wall 5 1", {"size": "4"}, "outside the 4x4 grid"),
        ("start 0 0 goal 3 3 wall 3 3", {}, r"goal \(3, 3\) is a wall"),
        ("start 0 0 goal 2 0 wall 1 0 wall 0 1", {"size": "3"}, "cannot be reached"),
        ("start 0 0 goal 2 2", {"size": "3y3"}, "expected N or WxH"),
    ],
)
def test_a_broken_query_is_a_clear_error(line: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DOMAIN.read_sequence(line, "searchformer", options)


def test_cli_verifies_a_beyond_semantics_jsonl_file(tmp_path: Path) -> None:
    """Records as the Beyond Semantics generator writes them (`idx`, `text`, `rows`, `cols`), one broken
    query and one swapped trace: ids come back, the bad line is named, the summary counts."""
    mazes = [make_maze("wilson", 9, 9, random.Random(f"bs:{k}")) for k in range(4)]
    texts = [sequence(m, "beyond_semantics") for m in mazes]
    other, own = astar_trace(mazes[3], "close"), astar_trace(mazes[2], "close")
    texts[2] = sequence(
        mazes[2], "beyond_semantics", format_output(other.events, own.plan, "beyond_semantics")
    )
    records = [json.dumps({"idx": 10 + k, "text": t, "rows": 9, "cols": 9}) for k, t in enumerate(texts)]
    records.insert(1, json.dumps({"idx": 99, "text": "query start 0 0 goal"}))
    path = tmp_path / "bs.jsonl"
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    out = tmp_path / "verdicts.jsonl"
    done = modulo(
        "verify",
        str(path),
        "--domain",
        "maze",
        "--format",
        "beyond-semantics",
        "--out",
        str(out),
        "--json-summary",
    )
    assert done.returncode == 2 and f"{path}:2:" in done.stderr
    summary = json.loads(done.stdout)
    assert (summary["lines"], summary["verified"], summary["unreadable"]) == (5, 4, 1)
    assert summary["table"] == {
        "valid_correct": 3,
        "valid_incorrect": 0,
        "invalid_correct": 1,
        "invalid_incorrect": 0,
        "total": 4,
    }
    verdicts = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(verdicts) == ["10", "11", "12", "13"]
    assert not verdicts["12"]["trace_valid"] and verdicts["12"]["answer_correct"]


def test_cli_verifies_plain_searchformer_lines_and_says_the_size_was_inferred(tmp_path: Path) -> None:
    mazes = [make_maze("searchformer", 10, 10, random.Random(f"sf:{k}")) for k in range(3)]
    path = tmp_path / "sf.txt"
    path.write_text(
        "\n".join(f"bos {sequence(m, 'searchformer')} eos" for m in mazes) + "\n", encoding="utf-8"
    )
    done = modulo("verify", str(path), "--domain", "maze", "--format", "searchformer", "--size", "10")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in records] == ["1", "2", "3"] and all(r["trace_valid"] for r in records)
    inferred = modulo("verify", str(path), "--domain", "maze", "--format", "searchformer")
    assert inferred.returncode == 0 and "inferred" in inferred.stderr
    wrong = modulo("verify", str(path), "--domain", "maze", "--format", "beyond_semantics")
    assert wrong.returncode == 2 and "searchformer, beyond-semantics" in wrong.stderr


def test_maze_oracle_suite_shows_the_expected_table(tmp_path: Path) -> None:
    """benchmarks/maze-oracle.toml: exact traces valid and correct, swapped and corrupted traces invalid
    with correct plans, exact searches with a broken plan valid and incorrect. Its traces, exported as
    interchange JSONL, verify to the same table through `modulo verify --domain maze`."""
    store = tmp_path / "runs.sqlite"
    done = modulo("run", str(ROOT / "benchmarks" / "maze-oracle.toml"), "--store", str(store), "--no-report")
    assert done.returncode == 0, done.stderr
    report = json.loads(modulo("report", "--json", "--store", str(store)).stdout)
    expected = {"exact": "valid_correct", "exact-random": "valid_correct", "plan-skip": "valid_incorrect"}
    for key, group in report["by_generator"].items():
        variant = key.removeprefix("oracle:")
        quadrant = expected.get(variant, "invalid_correct")
        assert group["table"][quadrant] == group["samples"] > 0, key
    assert report["by_generator"]["oracle:swapped"]["samples"] >= 20
    assert len(report["by_generator"]) == 4 + len(CORRUPTIONS)
    traces = tmp_path / "traces.jsonl"
    assert modulo("export", "--traces", "--store", str(store), "--out", str(traces)).returncode == 0
    again = modulo(
        "verify", str(traces), "--domain", "maze", "--out", str(tmp_path / "v.jsonl"), "--json-summary"
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["table"] == report["overall"]["table"]
