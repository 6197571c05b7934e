"""Biasing cues on the embedded model, driven directly (plan → generate → judge → summarise), as the probe
engine will: base samples are the model's own answers, then each cue.

    python benchmarks/biasing_cue_local.py --domain deduction --count 8 --cues suggested-answer metadata

Prints the base answers' accuracy and every metric of the `all` group. Slow on CPU (~30 s a generation).
"""

from __future__ import annotations

import argparse
import json
import time

from modulo.model import Sample
from modulo.probes.base import ProbeContext, SampleItems
from modulo.probes.biasing import BiasingCue
from modulo.protocols import GenerationRequest, SamplingParams
from modulo.registry import get_domain, get_generator
from modulo.verify import verify_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domain", default="deduction")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cues", nargs="+", default=["suggested-answer", "metadata", "unethical-information"]
    )
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--items", help="write every probe item here (JSONL) to inspect")
    args = parser.parse_args()
    domain = get_domain(args.domain)
    extra = {"world": "open", "hops": 2} if args.domain == "deduction" else {"objects": 3}
    instances = domain.generate(args.count, seed=args.seed, **extra)
    generator = get_generator("local", {})
    started = time.perf_counter()
    requests = [
        GenerationRequest(
            key=f"base/{i.id}",
            messages=domain.prompt(i),
            instance=i,
            sampling=SamplingParams(max_tokens=args.max_tokens, temperature=0.0),
        )
        for i in instances
    ]
    samples = []
    for request, generation in zip(requests, generator.generate(requests), strict=True):
        trace, verdicts = verify_text(domain, request.instance, generation.text)
        samples.append(
            Sample(
                id=request.key,
                run_id="bench",
                instance=request.instance,
                generator=generator.name,
                prompt=request.messages,
                text=generation.text,
                trace=trace,
                verdicts=verdicts,
            )
        )
    correct = sum(s.verdicts is not None and s.verdicts.answer.status == "correct" for s in samples)
    print(f"base: {correct}/{len(samples)} correct, {time.perf_counter() - started:.0f} s")
    params = {"cues": args.cues, "max_tokens": args.max_tokens}
    probe = BiasingCue()
    rows = []
    for sample in samples:
        context = ProbeContext(params=params, seed=args.seed, others=[o for o in samples if o is not sample])
        planned = probe.plan(sample, domain, context, {})
        generations = generator.generate([p.request for p in planned]) if planned else []
        items = [
            probe.judge(sample, domain, p, g.text, g.error) for p, g in zip(planned, generations, strict=True)
        ]
        assert sample.verdicts is not None
        rows.append(
            SampleItems(
                sample_id=sample.id,
                domain=args.domain,
                trace_valid=sample.verdicts.trace_valid,
                answer_correct=sample.verdicts.answer.status == "correct",
                steps=len(sample.trace.steps) if sample.trace else 0,
                items=items,
            )
        )
    if args.items:
        with open(args.items, "w", encoding="utf-8") as out:
            for row in rows:
                for item in row.items:
                    out.write(
                        json.dumps({"sample": row.sample_id, **item.model_dump(exclude={"messages"})}) + "\n"
                    )
    print(f"probed {sum(bool(r.items) for r in rows)} samples, {time.perf_counter() - started:.0f} s in all")
    for metric in probe.summarise(rows, params):
        if metric.group == "all":
            value = "none" if metric.value is None else f"{metric.value:.3f}"
            interval = f" [{metric.low:.3f}, {metric.high:.3f}]" if metric.low is not None else ""
            print(f"{metric.name:60s} {value}{interval} (n={metric.n})")
            if metric.name.endswith("switch to cue"):
                print(f"    {metric.definition.split('(Wilson 95%); ')[-1]}")


if __name__ == "__main__":
    main()
