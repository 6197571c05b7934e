"""Benchmark: CPU time of `modulo.verify.verify_text` (parsing included) per generated token, per domain.

Run `python benchmarks/verify_per_token.py [--repeat R] [--count N] [--data ../shared/data/planbench]`.

Texts: each built-in domain's oracle variants (exact and corrupted) on N generated instances; for
planning the real PlanBench responses (blocksworld, mystery blocksworld and logistics as `pddl`); for
deduction also PrOntoQA's published gold proof chains (10 N of them, as `modulo import logiclm` reads
them).
Tokens: counted with a real tokenizer when one is installed (tiktoken `cl100k_base`, else the embedded
model's GGUF vocabulary through llama_cpp with `vocab_only=True`); otherwise an estimate, whitespace
words x 1.3, labelled as such in the output.

In each of R rounds, taking turns per domain: the baseline (`re.findall(r"\\w+|\\S", text)` over the
same texts, a stand-in for tokenizing) and `verify_text` over every text; CPU time (process_time) per
token. Per domain it prints the first round apart ("cold": the domains' per-instance caches, e.g.
grounding and parsed contexts, are still empty), then over the later ("warm") rounds the median and
range of us/token, the ratio to the 10 us/token target of issue 15, the median ms per text, and the
ratio verify / baseline (median and range), which is comparable across machines. Other processes on
the machine add noise; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from modulo.model import Instance
from modulo.protocols import Domain, ImportProblem, OracleDomain
from modulo.registry import get_domain
from modulo.verify import verify_text

TARGET_US = 10.0
WORD = re.compile(r"\w+|\S")
Case = tuple[Domain, Instance, str]

GENERATED: dict[str, dict[str, object]] = {
    "maze": {"kind": "searchformer", "width": 10},
    "blocksworld": {"blocks": 5},
    "deduction": {"hops": 5},
    "ordering": {},
    "zebra": {"houses": 4, "characteristics": 3},
}
PLANBENCH = {
    "blocksworld": ("blocksworld__gpt-4_chat__zero_shot.json", "blocksworld.yaml", "blocksworld"),
    "mystery": (
        "mystery_blocksworld__gpt-4_chat__one_shot.json",
        "mystery_blocksworld.yaml",
        "blocksworld/mystery",
    ),
    "logistics": ("logistics__gpt-4_chat__one_shot.json", "logistics.yaml", "logistics"),
}


def token_counter() -> tuple[str, Callable[[str], float]]:
    """The name of the tokenizer used and a function counting a text's tokens."""
    try:
        import tiktoken  # type: ignore[import-not-found]

        enc = tiktoken.get_encoding("cl100k_base")
        return "tiktoken cl100k_base", lambda text: float(len(enc.encode(text)))
    except Exception:  # noqa: BLE001 - any failure means: try the next tokenizer
        pass
    try:
        import llama_cpp  # type: ignore[import-not-found]

        gguf = sorted((Path.home() / ".cache" / "modulo" / "models").glob("*.gguf"))[0]
        model = llama_cpp.Llama(model_path=str(gguf), vocab_only=True, verbose=False)
        return f"llama_cpp vocab of {gguf.name}", lambda text: float(len(model.tokenize(text.encode())))
    except Exception:  # noqa: BLE001
        pass
    return "ESTIMATE: whitespace words x 1.3 (no tokenizer installed)", lambda text: len(text.split()) * 1.3


def oracle_cases(name: str, count: int) -> list[Case]:
    """Every oracle variant's text on `count` generated instances of domain `name`."""
    domain = get_domain(name)
    assert isinstance(domain, OracleDomain)
    cases = []
    for instance in domain.generate(count, 0, **GENERATED[name]):
        for k, variant in enumerate(domain.oracle_variants):
            try:
                cases.append((domain, instance, domain.oracle(instance, variant, k)))
            except Exception:  # noqa: BLE001 - a variant that does not apply to this instance
                continue
    return cases


def planbench_cases(data: Path, key: str) -> list[Case]:
    """The real responses of one PlanBench results file, with their instances."""
    from modulo.domains.planning.importer import PlanBenchImporter

    results, config, folder = PLANBENCH[key]
    lib = data / "llm_planning_analysis"
    options = {
        "domain-file": str(lib / "instances" / folder / "generated_domain.pddl"),
        "instances": str(lib / "instances" / folder / "generated_basic"),
        "config": str(lib / "configs" / config),
        "plan-source": "both",
    }
    cases = []
    for read in PlanBenchImporter().read(data / "results" / results, options):
        if not isinstance(read, ImportProblem) and read.text:
            cases.append((get_domain(read.instance.domain), read.instance, read.text))
    return cases


def prontoqa_cases(logic: Path, count: int) -> list[Case]:
    """The first `count` of PrOntoQA's published gold proof chains (Logic-LM's copy), as imported."""
    from modulo.domains.logic.importer import LogicLMImporter

    path = logic / "ProntoQA" / "dev_part1.json"
    reads = LogicLMImporter().read(path, {"dataset": "prontoqa"})
    items = [r for r in reads if not isinstance(r, ImportProblem)][:count]
    return [(get_domain(r.instance.domain), r.instance, r.text) for r in items]


def cpu(run: Callable[[], None]) -> float:
    """CPU seconds of one call."""
    start = time.process_time()
    run()
    return time.process_time() - start


def measure(cases: list[Case], tokens: float) -> tuple[float, float]:
    """One round: verify CPU us/token, and verify CPU / baseline CPU on the same texts."""

    def baseline() -> None:
        for _, _, text in cases:
            WORD.findall(text)

    def verify() -> None:
        for domain, instance, text in cases:
            verify_text(domain, instance, text)

    base = cpu(baseline)
    spent = cpu(verify)
    return spent / tokens * 1e6, spent / max(base, 1e-9)


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):9.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "planbench"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=6, help="rounds (>= 2; the first is cold)")
    parser.add_argument("--count", type=int, default=5, help="generated instances per domain")
    parser.add_argument("--data", type=Path, default=default, help="PlanBench folder; logic/ is beside it")
    args = parser.parse_args()
    if args.repeat < 2:
        parser.error("--repeat must be at least 2 (the first round is reported apart, cold)")
    tokenizer, count_tokens = token_counter()
    suites: dict[str, list[Case]] = {f"{n} (oracle)": oracle_cases(n, args.count) for n in GENERATED}
    for key in PLANBENCH:
        suites[f"{key} (PlanBench)"] = planbench_cases(args.data, key)
    suites["deduction (PrOntoQA gold)"] = prontoqa_cases(args.data.parent / "logic", 10 * args.count)
    print(f"tokens: {tokenizer}; load average {os.getloadavg()[0]:.2f}; {args.repeat} rounds")
    print(
        f"{'domain':26} {'texts':>5} {'tokens':>7} {'cold us/tok':>11} {'warm us/tok median [range]':>28} "
        f"{'/10us':>5} {'ms/text':>7} {'verify/baseline warm':>24}"
    )
    # Interleave: every round visits every domain, so load changes hit all domains alike.
    totals = {name: sum(count_tokens(t) for _, _, t in cases) for name, cases in suites.items()}
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in suites}
    for _ in range(args.repeat):
        for name, cases in suites.items():
            rounds[name].append(measure(cases, totals[name]))
    for name, measured in rounds.items():
        per_token = [us for us, _ in measured[1:]]
        ratios = [ratio for _, ratio in measured[1:]]
        print(
            f"{name:26} {len(suites[name]):5} {totals[name]:7.0f} {measured[0][0]:11.1f} "
            f"{spread(per_token):>28} {statistics.median(per_token) / TARGET_US:5.1f} "
            f"{statistics.median(per_token) * totals[name] / len(suites[name]) / 1e3:7.2f} "
            f"{spread(ratios):>24}"
        )


if __name__ == "__main__":
    main()
