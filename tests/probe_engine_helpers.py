"""Helpers for engine tests: a base run made by the oracle, probed by a scripted continuing generator.

`OracleThenScripted` writes the base samples with the oracle (gold deduction traces) and answers probe
requests by script: after a kept trace of fewer than THRESHOLD lines it answers " True", else " False" —
so the forced-answer curve of a gold trace is known by hand. Used in-process and by `probe_child.py`
(the subprocess a kill -9 test kills).
"""

from __future__ import annotations

import time
from pathlib import Path

from modulo.generators.oracle import OracleGenerator
from modulo.model import ChatMessage
from modulo.probes.config import ProbeConfig, load_probe_config
from modulo.probes.engine import ProbeEngine
from modulo.protocols import Generation, GenerationRequest, ScoreRequest, Scores
from modulo.registry import get_domain
from modulo.store import Store

THRESHOLD = 3

CONFIG = """
name = "probe-test"
batch_size = 4

[generator]  # never built: the tests put OracleThenScripted in its place
name = "local"

[[tasks]]
domain = "deduction"
count = {count}
params = {{ hops = 2 }}

[probe]
seed = 0

[[probes]]
name = "early-answering"

[[probes]]
name = "filler"
params = {{ step = 10, max_tokens = 30 }}
"""


def scripted_answer(messages: list[ChatMessage]) -> str:
    """The forced answer after the kept trace (the assistant message before the paper's question)."""
    kept = messages[-3].content
    return " True" if len([line for line in kept.splitlines() if line.strip()]) < THRESHOLD else " False"


class OracleThenScripted:
    """Base samples from the oracle; continuations scripted (optionally slow, optionally failing)."""

    def __init__(self, delay: float = 0.0, fail_lines: int | None = None) -> None:
        self.oracle = OracleGenerator({"variant": "gold"}, get_domain)
        self.name = self.oracle.name
        self.delay = delay
        self.fail_lines = fail_lines
        self.batches: list[int] = []

    def generate(self, requests: list[GenerationRequest]) -> list[Generation]:
        return self.oracle.generate(requests)

    def continue_generation(self, requests: list[GenerationRequest]) -> list[Generation]:
        self.batches.append(len(requests))
        out = []
        for request in requests:
            time.sleep(self.delay)
            kept = request.messages[-3].content
            if self.fail_lines is not None and len(kept.splitlines()) == self.fail_lines:
                raise RuntimeError(f"the server rejected request {request.key}")
            out.append(Generation(key=request.key, text=scripted_answer(request.messages)))
        return out

    def score(self, requests: list[ScoreRequest]) -> list[Scores]:
        raise NotImplementedError


def engine(config: ProbeConfig, store: Store, generator: OracleThenScripted) -> ProbeEngine:
    """An engine whose run generator is `generator` (in place of the oracle the config names)."""
    made = ProbeEngine(config, store)
    made.runner._generators[config.run.generator.model_dump_json()] = generator  # type: ignore[assignment]
    return made


def write_config(path: Path, count: int) -> Path:
    path.write_text(CONFIG.format(count=count), encoding="utf-8")
    return path


def run_config(config_path: Path, store_path: Path, delay: float) -> None:
    """What the child process does: the whole probe run."""
    with Store(store_path) as store:
        engine(load_probe_config(config_path), store, OracleThenScripted(delay=delay)).run()
