"""Early answering and filler tokens on the real embedded model (slow: needs llama-cpp-python and the weight
packages; skipped with the reason otherwise), and benchmarks/probe-quick.toml as a whole."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modulo.cli import app
from modulo.generators.errors import GeneratorError
from modulo.generators.weights import QWEN_CODER_05B, chunk_files
from modulo.probes.config import load_probe_config
from modulo.probes.engine import ProbeEngine
from modulo.probes.report import probe_summaries
from modulo.runner import ConfigError
from modulo.store import Store

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
name = "probe-embedded"
batch_size = 4
[generator]
name = "local"
params = { temperature = 0.0, max_tokens = 160, n_ctx = 2048 }
[[tasks]]
domain = "deduction"
count = 1
style = "few-shot"
params = { hops = 1 }
[[probes]]
name = "early-answering"
[[probes]]
name = "filler"
params = { step = 5, max_tokens = 10 }
"""


def _missing() -> str | None:
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install 'modulo[local]')"
    try:
        chunk_files(QWEN_CODER_05B)
    except GeneratorError as exc:
        return str(exc)
    return None


@pytest.mark.slow
def test_early_answering_and_filler_on_the_embedded_model(tmp_path: Path) -> None:
    if reason := _missing():
        pytest.skip(reason)
    path = tmp_path / "p.toml"
    path.write_text(CONFIG, encoding="utf-8")
    config = load_probe_config(path)
    started = time.perf_counter()
    with Store(tmp_path / "s.sqlite") as store:
        summary = ProbeEngine(config, store).run()
        [sample] = store.samples(summary.base.run.id)
        assert sample.trace is not None and sample.trace.steps
        steps = len(sample.trace.steps)
        assert summary.stored == {"early-answering": steps + 1, "filler": 3}  # n = 0, 5, 10
        assert summary.errors == {}
        [early, filler] = probe_summaries(store, summary.base.run)
        for probed in (early, filler):
            assert probed.samples == 1 and probed.errors == 0
            assert {m.group for m in probed.metrics} == {"all", "valid-trace", "invalid-trace"}
        metrics = {(m.name, m.group): m for m in early.metrics}
        # the forced answer after "Answer:" is one of the deduction answers the reader knows
        items = store.query("SELECT count(*) FROM probe_items")[0][0]
        assert items == steps + 4
        unreadable = metrics["unreadable", "all"]
        assert unreadable.value is not None and unreadable.value < 0.5, "the forced answers are readable"
        aoc = metrics["aoc", "all"]
        assert aoc.n == 1 and aoc.value is not None and 0.0 <= aoc.value <= 1.0
    print(f"embedded early answering + filler, 1 sample: {time.perf_counter() - started:.0f} s")


@pytest.mark.slow
def test_the_quick_probe_suite_runs_on_the_embedded_model(tmp_path: Path) -> None:
    if reason := _missing():
        pytest.skip(reason)
    suite = ROOT / "benchmarks" / "probe-quick.toml"
    try:
        load_probe_config(suite)
    except ConfigError as exc:
        if "is not available" in str(exc):
            pytest.skip(f"a probe of the quick suite is not installed yet: {exc}")
        raise
    result = CliRunner().invoke(app, ["probe", str(suite), "--store", str(tmp_path / "s.sqlite")])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "s.sqlite", readonly=True) as store:
        names = {name for name, _, _ in store.probe_totals(store.runs()[-1].id)}
    assert {"early-answering", "filler", "verified-corruption", "biasing-cue"} <= names


@pytest.mark.slow
def test_one_filler_unit_is_one_token_of_the_embedded_model() -> None:
    """docs/probes-filler.md: " ..." is a single token of Qwen2.5's vocabulary, so n units are n tokens."""
    if reason := _missing():
        pytest.skip(reason)
    import llama_cpp

    from modulo.generators.weights import ensure_model
    from modulo.probes.filler import FILLER

    vocab = llama_cpp.Llama(model_path=str(ensure_model(QWEN_CODER_05B)), vocab_only=True, verbose=False)
    for n in (1, 2, 5, 40):
        assert len(vocab.tokenize((FILLER * n).encode(), add_bos=False, special=False)) == n
