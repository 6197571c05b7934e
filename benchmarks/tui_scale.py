"""Benchmark: the terminal UI on a 100 000-sample store, first paint and every action, against `report`.

Run `python benchmarks/tui_scale.py [--samples N] [--repeats R] [--store PATH]`. The store is the one
benchmarks/report_scale.py builds (reused when it exists). Each repeat runs, interleaved: the baseline
(`modulo report --json` in a subprocess: what a researcher ran before to see the table) and one headless
session of `modulo tui` (Textual's Pilot at 200×50, each frame also encoded into the escape sequences a
terminal would be sent) timing, from the key press to the last frame it caused (every worker done; the
wall column ends at that frame, the CPU column, of all threads, also holds the benchmark's waiting):

  first paint      app start → the runs list drawn (also: `import modulo.tui.app` in a fresh process)
  dashboard        Enter on the newest run, at once after first paint (report not prefetched yet: the
                   last frame is the report, computed meanwhile) and again once it was
  help             `?` on the dashboard
  palette          ctrl+p on the dashboard
  open samples     `s`: the first page of 100 000 samples; `]` next page; `j` one row down
  sort             `o` the menu, Enter on "first error", `O` reverse
  filter menu      `F`
  quadrant         `f`: valid trace, correct answer (then, untimed, on to invalid trace, correct answer)
  open sample      Enter: the sample screen (steps, spans; the picture comes in a worker after)
  errors           `n` (from the first error, where the sample opens), then `e` (back to the first)
  tab, zoom        `t` the next tab, `z` the steps fill the screen
  back, clear      Escape to the samples, `x` clear the filters (a whole page redrawn)
  search           `/` + a word: the scan over every text, with progress (not an "action": a scan)
  thinking         on DeepSeek-R1's PlanBench answers imported with --verify-reasoning (when
                   ../shared/data is there): the sample with the longest thinking (17 000 characters,
                   286 claims) opened, its thinking tab, `j`, `n`, `G`, the picture tab

It prints median and range per measure over R repeats, and the ratio baseline / first paint. The store's
bytes are checked unchanged at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report_scale import build_store, measure  # noqa: E402
from rich.console import RenderableType  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.app import ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.screen import Screen  # noqa: E402

from modulo.tui.app import ModuloApp  # noqa: E402
from modulo.tui.data import Filters, StoreView  # noqa: E402
from modulo.tui.samples import SamplesScreen  # noqa: E402
from modulo.tui.widgets import KeyBar, TitleBar  # noqa: E402

Timings = dict[str, tuple[float, float]]
"""Measure → (wall seconds, CPU seconds of this process, all threads)."""


class Blank(Screen[None]):
    """An empty screen with the title and key bars every modulo screen has: Textual's own floor."""

    BINDINGS = [Binding("escape", "app.pop_screen", "back")]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield KeyBar()


class TerminalApp(ModuloApp):
    """The app as a terminal runs it: each frame is also encoded as the escape sequences a terminal would
    be sent (headless Textual skips that), and the time each frame was done is kept."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.frames: list[float] = []

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if isinstance(renderable, CompositorUpdate):
            renderable.render_segments(self.console)
            self.frames.append(time.perf_counter())


class Recorder:
    """Times actions in one session of a TerminalApp."""

    def __init__(self, app: TerminalApp, pilot: Pilot[None]) -> None:
        self.app, self.pilot = app, pilot
        self.times: Timings = {}

    async def settle(self) -> None:
        """Until every worker is done and its result drawn."""
        for _ in range(3):
            await self.app.workers.wait_for_complete()
            await self.pilot.pause()

    async def timed(self, name: str, action: Callable[[], Awaitable[object]]) -> None:
        """Wall: from the key press to the last frame it caused (the benchmark's own waiting for workers
        after that is left out); CPU: of the whole, waiting included."""
        at, cpu = time.perf_counter(), time.process_time()
        await action()
        await self.settle()
        cpu_used = time.process_time() - cpu
        drawn = [frame for frame in self.app.frames if frame > at]
        self.times[name] = ((drawn[-1] if drawn else time.perf_counter()) - at, cpu_used)

    async def key(self, name: str, *keys: str) -> None:
        """Time pressing `keys`."""
        await self.timed(name, lambda: self.pilot.press(*keys))

    async def untimed(self, *keys: str) -> None:
        await self.pilot.press(*keys)
        await self.settle()


async def session(path: Path) -> Timings:
    """One UI session on the store: seconds per measure."""
    started, cpu_started = time.perf_counter(), time.process_time()
    app = TerminalApp(path)
    async with app.run_test(size=(200, 50)) as pilot:
        record = Recorder(app, pilot)
        times = record.times
        await pilot.pause()
        while not app.screen.query("#runs") or not app.screen.query_one("#runs").row_count:
            await pilot.pause(0.005)
        times["first paint"] = (time.perf_counter() - started, time.process_time() - cpu_started)
        await record.settle()
        key, untimed = record.key, record.untimed
        await record.timed("floor: push a blank screen (Textual)", lambda: app.push_screen(Blank()))
        await untimed("escape")
        await key("dashboard (cold)", "enter")
        await untimed("escape")
        await key("dashboard (prefetched)", "enter")
        await key("help (?)", "question_mark")
        await untimed("escape")
        await pilot.pause(1.0)  # the filter values' prefetch
        await record.settle()
        await key("palette (ctrl+p)", "ctrl+p")
        await untimed("escape")
        await key("open samples", "s")
        await key("next page", "right_square_bracket")
        await key("move down (j)", "j")
        await key("sort menu (o)", "o")
        await untimed("down")
        await key("sort by first error (enter)", "enter")
        await key("reverse order (O)", "O")
        await key("filter menu (F)", "F")
        await untimed("escape")
        await key("quadrant filter (f)", "f")
        await untimed("f", "f")  # invalid trace, correct answer: a sample with errors to jump between
        await key("open sample", "enter")
        await key("next error (n)", "n")
        await key("first error (e)", "e")
        await key("next tab (t)", "t")
        await key("zoom (z)", "z")
        await untimed("z")
        await key("back", "escape")
        await key("clear filters (x)", "x")

        async def search() -> None:
            await pilot.press("slash")
            await pilot.pause()
            await pilot.press(*"polly", "enter")

        await record.timed("search (scan of every text)", search)
        screen = app.screen
        assert isinstance(screen, SamplesScreen) and screen.filters.search == "polly", screen
        times["search matches"] = (float(screen.page_data.total), 0.0)
    return times


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "planbench"
R1_RESULTS = SHARED / "results" / "blocksworld_3__deepseek-r1-api__zero_shot.json"


def thinking_store(workdir: Path) -> Path | None:
    """DeepSeek-R1 on PlanBench Blocksworld, its thinking judged claim by claim (`modulo import planbench
    --verify-reasoning`, as a user imports it): 100 samples whose thinking runs to 17 000 characters.
    None when the shared data is not there."""
    if not R1_RESULTS.exists():
        return None
    path = workdir / "thinking-r1.sqlite"
    if not path.exists():
        base = SHARED / "llm_planning_analysis"
        subprocess.run(
            [
                sys.executable, "-m", "modulo", "import", "planbench", str(R1_RESULTS), "--verify-reasoning",
                "--store", str(path), "--json",
                "--domain-file", str(base / "instances/blocksworld/generated_domain.pddl"),
                "--instances", str(base / "instances/blocksworld/generated_basic_3"),
                "--config", str(base / "configs/blocksworld_3.yaml"),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return path


async def thinking_session(path: Path) -> Timings:
    """The sample with the longest thinking: open it, its thinking tab, moves through its claims."""
    view = StoreView(path)
    [(longest,)] = view.rows("SELECT id FROM samples ORDER BY length(reasoning) DESC LIMIT 1")
    app = TerminalApp(path)
    async with app.run_test(size=(200, 50)) as pilot:
        record = Recorder(app, pilot)
        await pilot.pause(1.0)  # the runs list and its prefetches
        await record.settle()

        async def open_longest() -> None:
            app.open_sample(longest)  # what Enter on its row calls

        await record.timed("thinking: open the sample", open_longest)
        await record.key("thinking: its tab (t)", "t")
        await record.key("thinking: next claim (j)", "j")
        await record.key("thinking: next error (n)", "n")
        await record.key("thinking: last claim (G)", "G")
        await record.key("thinking: picture tab (t)", "t")
    return record.times


def queries(path: Path) -> dict[str, float]:
    """The data layer alone (no drawing): seconds per query behind each action, on a fresh connection."""
    view = StoreView(path)
    run_id = view.store.find_run(None).id
    total = view.count(run_id, Filters())
    first = view.page(run_id, Filters(), total=total).rows[0].id
    sample = view.sample(first)
    assert sample is not None
    steps: dict[str, Callable[[], object]] = {
        "runs list": view.runs,
        "report (dashboard)": lambda: view.report(run_id),
        "count": lambda: view.count(run_id, Filters()),
        "first page": lambda: view.page(run_id, Filters(), total=total),
        "page at 50 000": lambda: view.page(run_id, Filters(), offset=50_000, total=total),
        "sort by first error, at 50 000": lambda: view.page(
            run_id, Filters(), "first error", descending=True, offset=50_000, total=total
        ),
        "quadrant filter (page + count)": lambda: view.page(
            run_id, Filters(quadrant="invalid-correct", round=0)
        ),
        "rule filter (page + count)": lambda: view.page(run_id, Filters(rule="astar.wrong_g")),
        "difficulty filter (page + count)": lambda: view.page(run_id, Filters(difficulty="size=9x9")),
        "filter choices": lambda: view._read_choices(run_id),
        "one sample": lambda: view.sample(first),
        "its next rounds (chain)": lambda: view.children(sample),
    }
    times = {}
    for name, step in steps.items():
        at = time.perf_counter()
        step()
        times[name] = time.perf_counter() - at
    return times


def summary(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} [{min(values) * 1000:.0f}-{max(values) * 1000:.0f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=None, help="default: report_scale.py's store")
    args = parser.parse_args()
    workdir = Path(tempfile.gettempdir()) / "modulo-report-scale"
    workdir.mkdir(exist_ok=True)
    path = args.store or workdir / f"store-{args.samples}.sqlite"
    build_store(path, args.samples, workdir)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    load = os.getloadavg()[0]
    baseline: list[tuple[float, float]] = []
    imports: list[float] = []
    sessions: list[Timings] = []
    data: list[dict[str, float]] = []
    thinking = thinking_store(workdir)
    for _ in range(args.repeats):  # interleaved: baseline, import, session, baseline, ...
        wall, cpu, _, _ = measure([sys.executable, "-m", "modulo", "report", "--json", "--store", str(path)])
        baseline.append((wall, cpu))
        at = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import modulo.tui.app"], check=True)
        imports.append(time.perf_counter() - at)
        sessions.append(asyncio.run(session(path)))
        if thinking is not None:
            sessions[-1].update(asyncio.run(thinking_session(thinking)))
        data.append(queries(path))
    if hashlib.sha256(path.read_bytes()).hexdigest() != before:
        raise SystemExit("the store's bytes changed during the sessions")
    print(
        f"store: {path} ({args.samples} samples); {args.repeats} interleaved repeats; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; cores {os.cpu_count()}"
    )
    print(f"{'ms, median [range]':44} {'wall (to last frame)':>22} {'CPU':>22}")
    print(
        f"{'baseline: modulo report --json (subprocess)':44} {summary([b[0] for b in baseline]):>22} "
        f"{summary([b[1] for b in baseline]):>22}"
    )
    print(f"{'import modulo.tui.app (fresh process)':44} {summary(imports):>22}")
    for name in sessions[0]:
        walls = [s[name][0] for s in sessions]
        if name == "search matches":
            print(f"{name:44} {statistics.median(walls):22.0f}")
            continue
        cpus = [s[name][1] for s in sessions]
        print(f"{name:44} {summary(walls):>22} {summary(cpus):>22}")
    print("data layer alone (modulo.tui.data, no drawing), wall ms:")
    for name in data[0]:
        print(f"  {name:42} {summary([d[name] for d in data]):>22}")
    ratios = [b[0] / s["first paint"][0] for b, s in zip(baseline, sessions, strict=True)]
    print(
        f"{'ratio baseline / first paint (wall)':44} {statistics.median(ratios):7.1f} "
        f"[{min(ratios):.1f}-{max(ratios):.1f}]"
    )


if __name__ == "__main__":
    main()
