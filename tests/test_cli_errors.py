"""Every malformed input a user can hand the CLI gives exit status 2 and one clear `error:` line naming the
file — never a traceback (a small fuzz over the commands that read files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_data import SHARED_DATA
from typer.testing import CliRunner

from modulo.cli import app

LIB = SHARED_DATA / "planbench" / "llm_planning_analysis"
DOMAIN = LIB / "instances/blocksworld/generated_domain.pddl"
CONFIG = LIB / "configs/blocksworld.yaml"
INSTANCES = LIB / "instances/blocksworld/generated_basic"
needs_data = pytest.mark.skipif(not LIB.is_dir(), reason=f"PlanBench data not found at {LIB}")

BAD: dict[str, str | bytes] = {
    "empty": "",
    "not-utf8": b'{"instances": [\xff\xfe]}',
    "deep-json": "[" * 100_000,
    "deep-object": '{"a":' * 50_000,
    "not-json": "{not json",
    "zero": "0",
    "string-zero": '"0"',
    "null": "null",
    "empty-list": "[]",
    "empty-object": "{}",
    "instances-null": '{"instances": null}',
    "instances-object": '{"instances": {"0": 1}}',
    "yaml-syntax": "actions: [unclosed\n",
    "yaml-python": "!!python/object/apply:os.system ['echo hacked']\n",
    "toml-deep": "a = " + "[" * 100_000,
}


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
        f"{args}: {result.exception!r}"
    )
    return result.exit_code, result.stderr


def one_line_error(code: int, stderr: str, name: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert len(errors) == 1, stderr
    assert name in errors[0], errors[0]


def _bad_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.input"
    content = BAD[kind]
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", sorted(BAD))
def test_logiclm_import_of_a_malformed_file(kind: str, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, kind)
    code, stderr = invoke("import", "logiclm", path, "--dataset", "proofwriter", "--store", tmp_path / "s.db")
    one_line_error(code, stderr, path.name)
    if kind not in ("instances-null", "instances-object"):  # read as PrOntoQA objects: one bad record each
        assert not (tmp_path / "s.db").exists()


@needs_data
@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("role", ["results", "--domain-file", "--config"])
def test_planbench_import_of_a_malformed_file(kind: str, role: str, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, kind)
    files = {"results": tmp_path / "r.json", "--domain-file": DOMAIN, "--config": CONFIG}
    files["results"].write_text('{"instances": [{"instance_id": 1, "correct": true}]}', encoding="utf-8")
    files[role] = path
    options = ["--domain-file", files["--domain-file"], "--config", files["--config"]]
    code, stderr = invoke(
        "import", "planbench", files["results"], *options, "--instances", INSTANCES, "--store", tmp_path / "s"
    )
    if role == "--domain-file" and kind not in ("not-utf8",):
        # any text is read; a domain the PDDL parser rejects makes every record a listed problem
        assert code == 2 and "Traceback" not in stderr and "could not be judged" in stderr
        return
    one_line_error(code, stderr, path.name)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_verify_of_a_malformed_file(kind: str, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, kind)
    code, stderr = invoke("verify", path, "--out", tmp_path / "out.jsonl")
    one_line_error(code, stderr, path.name)


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("fmt", ["searchformer", "beyond-semantics"])
def test_verify_of_a_malformed_published_file(kind: str, fmt: str, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, kind)
    code, stderr = invoke("verify", path, "--domain", "maze", "--format", fmt, "--out", tmp_path / "o.jsonl")
    one_line_error(code, stderr, path.name)


@pytest.mark.parametrize("kind", sorted(BAD))
def test_run_of_a_malformed_suite(kind: str, tmp_path: Path) -> None:
    path = _bad_file(tmp_path, kind)
    code, stderr = invoke("run", path, "--store", tmp_path / "s.db")
    one_line_error(code, stderr, path.name)


def test_paths_that_are_not_files(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    missing = tmp_path / "missing.json"
    store = ["--store", str(tmp_path / "s.db")]
    for path in (folder, missing):
        one_line_error(*invoke("run", path, *store), path.name)
        one_line_error(*invoke("verify", path), path.name)
        one_line_error(*invoke("import", "logiclm", path, "--dataset", "proofwriter", *store), path.name)


def test_out_into_a_missing_folder(tmp_path: Path) -> None:
    traces = tmp_path / "t.jsonl"
    traces.write_text('{"id": "a", "domain": "maze", "instance": {}, "text": "x"}\n', encoding="utf-8")
    out = tmp_path / "no" / "such" / "folder" / "v.jsonl"
    one_line_error(*invoke("verify", traces, "--out", out), "folder")
    suite = tmp_path / "suite.toml"
    suite.write_text(
        'name = "s"\n[[tasks]]\ndomain = "maze"\ncount = 1\nparams = { kind = "prim", width = 5 }\n',
        encoding="utf-8",
    )
    store = tmp_path / "s.db"
    assert invoke("run", suite, "--store", store, "--no-report")[0] == 0
    one_line_error(*invoke("export", "--store", store, "--out", out), "folder")


def test_export_from_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "typo.sqlite"
    one_line_error(*invoke("export", "--store", typo), typo.name)
    assert not typo.exists()


def test_a_store_that_is_a_folder(tmp_path: Path) -> None:
    one_line_error(*invoke("report", "--store", tmp_path), tmp_path.name)
    one_line_error(*invoke("export", "--store", tmp_path), tmp_path.name)


@needs_data
@pytest.mark.parametrize("template", ["{'0}", "{0[0]}", "instance.pddl"])
def test_an_instances_template_without_a_slot(template: str, tmp_path: Path) -> None:
    """Formatting the template with the id gave `error: "'0"` or `error: 0`; only `{}` is a slot."""
    config = tmp_path / "config.yaml"
    text = CONFIG.read_text(encoding="utf-8")
    config.write_text(text.replace("instance-{}.pddl", json.dumps(template)), encoding="utf-8")
    results = tmp_path / "r.json"
    results.write_text('{"instances": [{"instance_id": {"0": 1}, "correct": true}]}', encoding="utf-8")
    code, stderr = invoke(
        "import",
        "planbench",
        results,
        "--domain-file",
        DOMAIN,
        "--config",
        config,
        "--instances",
        INSTANCES,
        "--store",
        tmp_path / "s.sqlite",
    )
    one_line_error(code, stderr, config.name)
    assert not (tmp_path / "s.sqlite").exists()
    assert "instances_template" in stderr


@needs_data
@pytest.mark.parametrize("kind", ["yaml-syntax", "yaml-python", "not-utf8", "empty-list"])
def test_run_with_a_malformed_pddl_config(kind: str, tmp_path: Path) -> None:
    config = _bad_file(tmp_path, kind)
    suite = tmp_path / "suite.toml"
    problem = INSTANCES / "instance-1.pddl"
    suite.write_text(
        f'name = "p"\n[[tasks]]\ndomain = "pddl"\ncount = 1\n[tasks.params]\ndomain_file = "{DOMAIN}"\n'
        f'problem_files = ["{problem}"]\nconfig = "{config}"\n',
        encoding="utf-8",
    )
    one_line_error(*invoke("run", suite, "--store", tmp_path / "s.sqlite"), config.name)
