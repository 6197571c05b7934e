"""The `modulo` command line: run suites, verify foreign traces, report, list domains, export."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from modulo.assisted import AssistedReport
from modulo.executors import SMALL_INPUT, Executor, ExecutorError, make_executor
from modulo.generators.errors import GeneratorError
from modulo.importing import read_records, store_records
from modulo.inputs import read_text
from modulo.model import TraceSource
from modulo.probes.config import load_probe_config
from modulo.probes.engine import ProbeEngine
from modulo.protocols import ImportedItem, SequenceDomain
from modulo.redact import redact
from modulo.registry import (
    RegistryError,
    domain_names,
    generator_names,
    get_domain,
    get_importer,
    importer_names,
)
from modulo.render import print_assisted, print_report
from modulo.report import as_json
from modulo.report_sql import report_from_store
from modulo.reverify import reverify as reverify_run
from modulo.runner import ConfigError, Runner, load_config
from modulo.store import Store, StoreError
from modulo.verify import InputError, TraceRecord, VerdictRecord, VerifySummary
from modulo.verify_stream import LineReader, verify_file

app = typer.Typer(
    help="LLM-Modulo generate-and-verify with formal, per-step verdicts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True, emoji=False)  # ids hold `:zebra:`-like runs, never emoji
out = Console(emoji=False)

DEFAULT_STORE = Path("modulo-runs.sqlite")
StoreOption = Annotated[
    Path, typer.Option("--store", envvar="MODULO_STORE", help="SQLite run store (created if missing).")
]
VerifyReasoningOption = Annotated[
    bool,
    typer.Option(
        "--verify-reasoning",
        help="Judge the model's thinking claim by claim as the trace (its `reasoning` / "
        "`reasoning_content` / <think> text); the answer is still judged from the response.",
    ),
]

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes (or Ray CPUs) that verify; default: every core (every CPU of the Ray cluster). "
        f"Fewer than {SMALL_INPUT} items are verified in this process. Results are the same for any number.",
    ),
]
ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where verification runs: local (a process pool here) or ray (Ray tasks on the cluster at "
        "--ray-address or RAY_ADDRESS; pip install 'modulo[ray]'). This process stays the only writer.",
    ),
]
RayAddressOption = Annotated[
    str | None,
    typer.Option("--ray-address", help="--executor ray: the cluster's address (default: RAY_ADDRESS)."),
]


def _source(verify_reasoning: bool) -> TraceSource:
    return "reasoning" if verify_reasoning else "response"


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(redact(message))}", highlight=False)  # e.g. `modulo[ray]` kept
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one clear line and exit status 2."""
    try:
        yield
    except KeyboardInterrupt:
        fail("interrupted; everything generated so far is stored — run the same command again to resume")
    except RecursionError:
        fail("the input is nested too deeply to read; is it the right file?")
    except OSError as exc:
        fail(f"{exc.filename or 'a file'}: {exc.strerror or exc}; check the path")
    except KeyError as exc:
        fail(f"missing key {exc.args[0]!r}; if the input has it, please report this as a bug")
    except (
        ConfigError,
        RegistryError,
        StoreError,
        ExecutorError,
        InputError,
        GeneratorError,
        LookupError,
        ValueError,
    ) as exc:
        fail(str(exc))


@contextmanager
def _executor(
    name: str, workers: int | None, ray_address: str | None, domains: list[str]
) -> Iterator[Executor]:
    """The executor the flags ask for, shut down on the way out."""
    executor = make_executor(name, workers, ray_address=ray_address, domains=domains)
    try:
        yield executor
    finally:
        executor.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="Benchmark suite (TOML).")],
    store: StoreOption = DEFAULT_STORE,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many instances per task.")] = None,
    report: Annotated[bool, typer.Option(help="Print the report when done.")] = True,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try the run's failed generations again.")
    ] = False,
    reuse: Annotated[
        str,
        typer.Option(
            help="Reuse stored texts with the same generator, params and prompt: auto (only for "
            "deterministic sampling: temperature 0, oracle, replay), always, never."
        ),
    ] = "auto",
    workers: WorkersOption = None,
    executor_name: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Generate, verify and store a benchmark suite; re-running the same config resumes it.

    Several `modulo run` of one config on one store split the work between them."""
    with user_errors():
        if reuse not in ("auto", "always", "never"):
            fail(f"--reuse must be auto, always or never, not {reuse!r}")
        read_text(config, "suite")  # a folder, a missing file or non-UTF-8 text: one line naming it
        try:
            suite = load_config(config)
        except RecursionError:
            fail(f"suite {config} is nested too deeply to read; is it the right file?")
        domains = [task.domain for task in suite.tasks]
        with _executor(executor_name, workers, ray_address, domains) as executor, Store(store) as db:
            options = {"limit": limit, "retry_failed": retry_failed, "reuse": reuse, "executor": executor}
            runner = Runner(suite, db, **options)  # type: ignore[arg-type]
            with _progress() as bar:
                task = bar.add_task(f"{suite.name}", total=None)

                def advance(phase: str, n: int) -> None:
                    bar.update(task, advance=n, description=f"{suite.name} · {phase}")

                def planned(n: int) -> None:  # each round's pending samples join the total (and the ETA)
                    bar.update(task, total=(bar.tasks[task].total or 0) + n)

                summary = runner.run(progress=advance, planned=planned)
            err.print(
                f"run [bold]{summary.run.id}[/]: {summary.generated} generated "
                f"({summary.cached} from the cache), {summary.verified} verified, "
                f"{summary.skipped} already stored · store {store}",
                highlight=False,
            )
            if summary.assisted:
                err.print(
                    f"{summary.assisted} model-assisted reading(s) stored beside the samples "
                    "(`modulo report` compares them with modulo's own reading)",
                    highlight=False,
                )
            if summary.failed:
                err.print(
                    f"[yellow]note:[/] {summary.failed} generation(s) failed and are stored as such; "
                    "`modulo run --retry-failed` tries them again",
                    highlight=False,
                )
            if summary.elsewhere:
                err.print(
                    f"[yellow]note:[/] {summary.elsewhere} sample(s) were being produced by another process "
                    "on this store; run the config again after it ends to see them all",
                    highlight=False,
                )
            if summary.stale:
                err.print(
                    f"[yellow]warning:[/] {summary.stale} stored verdict(s) of this run were made by other "
                    f"code versions; `modulo reverify {summary.run.id} --check --store {store}` lists what "
                    "the installed code judges differently",
                    highlight=False,
                )
            if report and db.get_run(summary.run.id):
                print_report(out, report_from_store(db, summary.run))


@app.command()
def probe(
    config: Annotated[
        Path, typer.Argument(help="Probe config (TOML): a run suite plus `probes` tables (docs/probes.md).")
    ],
    store: StoreOption = DEFAULT_STORE,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many instances per task.")] = None,
    report: Annotated[bool, typer.Option(help="Print the report when done.")] = True,
    workers: WorkersOption = None,
    executor_name: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Run faithfulness probes on a run's samples (the run first, if the store lacks it); re-running the
    same config resumes both, item by item. docs/probes.md lists the probes."""
    with user_errors():
        read_text(config, "probe config")
        suite = load_probe_config(config)
        domains = [task.domain for task in suite.run.tasks]
        with _executor(executor_name, workers, ray_address, domains) as executor, Store(store) as db:
            engine = ProbeEngine(suite, db, limit=limit, executor=executor)
            with _progress() as bar:
                task = bar.add_task(suite.run.name, total=None)

                def advance(phase: str, n: int) -> None:
                    bar.update(task, advance=n, description=f"{suite.run.name} · {phase}")

                def planned(n: int) -> None:
                    bar.update(task, total=(bar.tasks[task].total or 0) + n)

                summary = engine.run(progress=advance, planned=planned)
            stored = ", ".join(f"{n} {name}" for name, n in summary.stored.items()) or "none new"
            err.print(
                f"run [bold]{summary.base.run.id}[/]: {summary.probed_samples} sample(s) probed; "
                f"items stored: {stored} · store {store}",
                highlight=False,
            )
            for name, n in summary.errors.items():
                err.print(
                    f"[yellow]note:[/] {n} {name} request(s) failed and are stored as failed items "
                    "(never counted as agreement)",
                    highlight=False,
                )
            for name, n in summary.skipped.items():
                err.print(
                    f"[yellow]note:[/] {name} had nothing to probe in {n} sample(s) (see docs/probes.md)",
                    highlight=False,
                )
            if report and db.get_run(summary.base.run.id):
                print_report(out, report_from_store(db, summary.base.run))


@app.command()
def verify(
    traces: Annotated[
        Path,
        typer.Argument(
            help='JSONL: {"id", "domain", "instance", "text"} per line; with --format, one published '
            "token sequence per line (plain, or JSONL with `text`)."
        ),
    ],
    domain: Annotated[
        str | None, typer.Option(help="Domain for every record (default: each record's own).")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Published sequence format of --domain, e.g. maze: searchformer, beyond-semantics. "
            "The instance is read from each line's query part.",
        ),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="--format maze: grid size N or WxH (default: the record's cols/rows, else inferred)."
        ),
    ] = None,
    strict_ties: Annotated[
        bool,
        typer.Option("--strict-ties", help="--format maze: also require Searchformer's tie-break order."),
    ] = False,
    out_path: Annotated[Path | None, typer.Option("--out", help="Verdicts JSONL (default: stdout).")] = None,
    verify_reasoning: VerifyReasoningOption = False,
    workers: WorkersOption = None,
    executor_name: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
    json_summary: Annotated[
        bool,
        typer.Option(
            "--json-summary",
            help="Print counts (2×2 table, rule counts, unreadable lines) as JSON: to stdout with --out, "
            "else to stderr.",
        ),
    ] = False,
) -> None:
    """Verify traces produced elsewhere; writes one verdict record per readable input line."""
    with user_errors():
        reader = _line_reader(traces, domain, fmt, {"size": size, "strict_ties": strict_ties or None})
        reader = replace(reader, trace_source=_source(verify_reasoning))
        total = _count_lines(traces)
        summary = VerifySummary()
        sink = _open_out(out_path) if out_path else sys.stdout
        domains = [domain] if domain else []
        try:
            with _progress() as bar, _executor(executor_name, workers, ray_address, domains) as executor:
                task = bar.add_task(f"verify {traces.name}", total=total)
                for outcome in verify_file(traces, reader, executor, total):
                    bar.advance(task)
                    if outcome.record is None:
                        problem = str(outcome.problem)
                        summary.skip(problem)
                        bar.console.print(f"[yellow]skipped[/] {escape(problem)}", highlight=False)
                        continue
                    summary.count(outcome.state, outcome.correct, outcome.rules, outcome.size_inferred)
                    sink.write(outcome.record + "\n")
        finally:
            if out_path:
                sink.close()
        if summary.size_inferred:
            err.print(
                f"[yellow]note:[/] the grid size of {summary.size_inferred} record(s) was inferred from the "
                "query; pass --size if the grids are larger",
                highlight=False,
            )
        if json_summary:
            (out if out_path else err).print_json(data=summary.as_json())
        if not summary.verified and not summary.unreadable:
            fail(f"{traces} holds no records to verify; is it the right file?")
        if summary.unreadable:
            fail(
                f"{summary.unreadable} line(s) of {traces} could not be read (see above); "
                "the others were verified"
            )


def _open_out(path: Path) -> TextIO:
    """The `--out` file opened for writing, or a one-line error saying why it cannot be."""
    if not path.parent.is_dir():
        fail(f"--out {path}: the folder {path.parent} does not exist; create it first")
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"--out {path}: cannot write it ({exc.strerror or exc})")


def _count_lines(path: Path) -> int | None:
    """Non-blank lines of a file, for the progress bar (None if it cannot be read; reading says why)."""
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError:
        return None


def _line_reader(path: Path, domain: str | None, fmt: str | None, options: dict[str, object]) -> LineReader:
    """How to read the lines of a traces-in file, or with `fmt` of a published sequence file of `domain`;
    an unknown domain or format is one error, not one per line."""
    if fmt is None:
        if domain is not None:
            get_domain(domain)
        return LineReader(str(path), domain)
    if domain is None:
        raise InputError("--format needs --domain (e.g. --domain maze --format searchformer)")
    chosen = get_domain(domain)
    if not isinstance(chosen, SequenceDomain):
        raise InputError(f"domain {domain!r} reads no published sequence formats")
    if fmt not in chosen.sequence_formats:
        formats = ", ".join(chosen.sequence_formats)
        raise InputError(f"domain {domain!r} has no format {fmt!r}; formats: {formats}")
    return LineReader(str(path), domain, fmt, options)


@app.command("report")
def report_cmd(
    run_ref: Annotated[
        str | None, typer.Argument(metavar="[RUN]", help="Run id, prefix or name (default: newest).")
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    as_json_flag: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Summarise a run: 2×2 trace-valid × answer-correct table, Wilson intervals, breakdowns."""
    with user_errors():
        with Store(store, readonly=True) as db:
            chosen = db.find_run(run_ref)
            result = report_from_store(db, chosen)
        if as_json_flag:
            print(json.dumps(as_json(result), indent=2))
        else:
            print_report(out, result)


@app.command()
def export(
    run_ref: Annotated[
        str | None, typer.Argument(metavar="[RUN]", help="Run id, prefix or name (default: newest).")
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    out_path: Annotated[Path | None, typer.Option("--out", help="JSONL file (default: stdout).")] = None,
    traces: Annotated[
        bool, typer.Option("--traces", help="Write traces-in records (prompt, instance, text) instead.")
    ] = False,
) -> None:
    """Export a run as verdicts JSONL, or with --traces as traces JSONL (a dataset; replayable)."""
    with user_errors():
        with Store(store, readonly=True) as db:
            samples = db.samples(db.find_run(run_ref).id, verified=None if traces else True)
        failed = [s for s in samples if s.generation_error is not None]
        if failed:  # no text to replay or train on; `run --retry-failed` tries them again
            samples = [s for s in samples if s.generation_error is None]
            err.print(f"[yellow]note:[/] left out {len(failed)} failed generation(s)", highlight=False)
        records = [TraceRecord.from_sample(s) if traces else VerdictRecord.from_sample(s) for s in samples]
        lines = [record.model_dump_json() + "\n" for record in records]
        if out_path:
            with _open_out(out_path) as sink:
                sink.writelines(lines)
            err.print(f"wrote {len(lines)} records to {out_path}")
        else:
            sys.stdout.writelines(lines)


@app.command(
    "import",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def import_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Importer, e.g. planbench or logiclm (see `modulo domains`).")],
    path: Annotated[Path, typer.Argument(help="The results or dataset file.")],
    store: StoreOption = DEFAULT_STORE,
    as_json_flag: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    verify_reasoning: VerifyReasoningOption = False,
    workers: WorkersOption = None,
    executor_name: ExecutorOption = "local",
    ray_address: RayAddressOption = None,
) -> None:
    """Import a published results file, re-verify every record, and report agreement.

    Importer options follow as `--name value` (e.g. `--dataset prontoqa`)."""
    with user_errors():
        importer = get_importer(name)
        options = _options(ctx.args)
        if not path.exists():
            fail(f"{path} does not exist")
        records = read_records(importer, path, options)  # a bad file creates no store
        domains = sorted({r.instance.domain for r in records if isinstance(r, ImportedItem)})
        with (
            _executor(executor_name, workers, ray_address, domains) as executor,
            Store(store) as db,
            _progress() as bar,
        ):
            task = bar.add_task(f"import {name}", total=len(records))
            run, summary = store_records(
                importer,
                path,
                options,
                records,
                db,
                lambda _, n: bar.update(task, advance=n),
                _source(verify_reasoning),
                executor,
            )
        problems = summary.get("problems", [])
        if as_json_flag:
            print(json.dumps(summary, indent=2, default=str))
        else:
            for key, value in summary.items():
                if not isinstance(value, list) and key != "assisted":
                    out.print(f"{key}: {value}", highlight=False)
            if summary.get("assisted"):
                print_assisted(out, AssistedReport.model_validate(summary["assisted"]))
            for title, most in (("disagreements", 50), ("differences", 5), ("problems", 50)):
                entries = summary.get(title, [])
                if entries:
                    out.print(f"{title}:", highlight=False)
                for entry in entries[:most]:
                    line = entry.get("summary", entry) if isinstance(entry, dict) else entry
                    out.print(f"  {line}", highlight=False)
                if len(entries) > most:
                    out.print(f"  ... {len(entries) - most} more (--json lists every one)", highlight=False)
        if run is None:
            err.print(f"nothing from {path} could be stored, so no run was created")
        else:
            err.print(f"stored as run {run.id} in {store}; `modulo report {run.id}` summarises it")
        if problems:
            fail(
                f"{len(problems)} of {summary.get('total', '?')} record(s) of {path} could not be judged "
                "(listed under `problems`); the rest were verified and are counted above"
            )


def _options(args: list[str]) -> dict[str, str]:
    """`--key value` pairs after the positional arguments."""
    options: dict[str, str] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if not flag.startswith("--") or not rest or rest[0].startswith("--"):
            raise ValueError(f"expected `--option value` pairs after the file, got {flag!r}")
        options[flag[2:].replace("_", "-")] = rest.pop(0)
    return options


@app.command()
def reverify(
    run_ref: Annotated[
        str | None, typer.Argument(metavar="[RUN]", help="Run id, prefix or name (default: newest).")
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    check: Annotated[
        bool, typer.Option("--check", help="Only list differences (exit 1 if any); write nothing.")
    ] = False,
) -> None:
    """Recompute a run's verdicts from its stored texts with the installed code.

    Without --check the new verdicts (and the code versions that made them) replace the stored ones."""
    with user_errors():
        with Store(store, readonly=check) as db, _progress() as bar:
            chosen = db.find_run(run_ref)
            task = bar.add_task(f"reverify {chosen.config.name}", total=db.sample_count(chosen.id))
            result = reverify_run(db, chosen.id, check=check, progress=lambda _, n: bar.advance(task, n))
        for difference in result.differences[:200]:
            out.print(f"{difference.sample_id}  {difference.what}", highlight=False)
        if len(result.differences) > 200:
            out.print(f"… and {len(result.differences) - 200} more", highlight=False)
        verb = "differ" if check else "changed"
        err.print(
            f"run {chosen.id}: {result.checked} verdicts recomputed, {len(result.differences)} {verb}"
            + (f", {result.unverified} stored text(s) had no verdicts yet" if result.unverified else "")
            + ("" if check else f"; {result.rewritten} rewritten"),
            highlight=False,
        )
        if check and result.differences:
            raise typer.Exit(1)


@app.command()
def tui(store: StoreOption = DEFAULT_STORE) -> None:
    """Browse a store in the terminal (read-only): runs, a run's dashboard, its samples, each step's
    verdict on the raw text, two runs compared. Keys: `?` on any screen; docs/tui.md."""
    with user_errors():
        Store(store, readonly=True).close()  # fails early, with one line, on a missing or unusable store
    from modulo.tui.app import ModuloApp  # textual is heavy: import only when the UI starts

    ModuloApp(store).run()


@app.command()
def domains() -> None:
    """List the installed domains and generators (a plugin that fails to load is shown, not hidden)."""
    broken = 0
    for name in domain_names():
        try:
            out.print(f"[bold]{name}[/]  {get_domain(name).description}", highlight=False)
        except RegistryError as exc:
            broken += 1
            out.print(f"[bold red]{name}[/]  {exc}", highlight=False)
    out.print(f"generators: {', '.join(generator_names())}", highlight=False)
    out.print(f"importers: {', '.join(importer_names()) or 'none'}", highlight=False)
    if broken:
        raise typer.Exit(1)
