"""`modulo tui`: the instrument kept open beside runs. Runs → dashboard → samples → sample, and compare.

Read-only: it opens the store read-only (immutable when the file is not writable) and never writes it;
an export writes only the file the user names. Queries run in workers, a page or an aggregate at a time
(`modulo.tui.data`), so a 100 000-sample store opens as fast as a small one. Never imports a domain or a
verifier directly: the sample screen's pictures come through the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from functools import partial
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from modulo.registry import get_domain
from modulo.report import Cell, Report
from modulo.tui.compare import CompareScreen
from modulo.tui.dashboard import DashboardScreen
from modulo.tui.data import QUADRANTS, Filters, StoreView
from modulo.tui.idle_gc import IdleCollector
from modulo.tui.runs import RunsScreen
from modulo.tui.sample import SampleScreen
from modulo.tui.samples import SamplesScreen
from modulo.tui.widgets import ChoiceScreen, HelpScreen, bindings_of

THEMES = ("textual-dark", "textual-light")
PREFETCH_AFTER_SECONDS = 0.5
"""How long after a screen is drawn what it will likely need next starts loading (a worker holding the
GIL slows drawing)."""
IDLE_CHECK_SECONDS = 0.5
"""How often the idle garbage collector looks whether a full collection is due (modulo.tui.idle_gc)."""


class ModuloApp(App[None]):
    """Screens: runs (first), a run's dashboard, its samples, one sample, two runs compared."""

    TITLE = "modulo"
    CSS = """
    /* Dialogs over an undimmed screen: dimming redrew every cell beneath (the palette opened in 200 ms
       instead of 150 on the dashboard of a 100 000-sample run; benchmarks/tui_scale.py). */
    ModalScreen, CommandPalette { background: transparent; }
    """
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        Binding("ctrl+t", "toggle_theme", "light/dark"),
    ]

    def __init__(self, store_path: Path) -> None:
        super().__init__()
        self.view = StoreView(store_path)
        self.reports: dict[str, tuple[object, Report]] = {}
        """Run id → (the store's signature when computed, its report): recomputed once the store changes."""
        self.pending: dict[str, list[Callable[[Report], None]]] = {}
        self.computing: set[str] = set()
        """Runs whose report a worker is computing."""
        self.round_tables: dict[str, dict[int, Cell]] = {}
        """Run id → the table of each LLM-Modulo round, computed with (and as fresh as) its report."""
        self.theme = THEMES[0]
        self.reading_choices: set[str] = set()
        """Runs whose filter values a worker is reading."""
        self.collector = IdleCollector()

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())
        self.collector.start()
        self.set_interval(IDLE_CHECK_SECONDS, self.collector.tick)

    def on_unmount(self) -> None:
        self.collector.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.collector.touched()
        await super().on_event(event)

    # navigation used by every screen and the palette

    def open_run(self, run_id: str) -> None:
        self.push_screen(DashboardScreen(run_id))

    def open_samples(self, run_id: str, filters: Filters) -> None:
        self.push_screen(SamplesScreen(run_id, filters))

    def open_sample(self, sample_id: str, *, replace_current: bool = False) -> None:
        """The sample screen, drawn with the sample in its first frame (reading one sample takes ~1 ms)."""
        screen = SampleScreen(sample_id, self.view.sample(sample_id))
        if replace_current:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def compare(self, a: str, b: str) -> None:
        self.push_screen(CompareScreen(a, b))

    def pick_comparison(self, run_id: str) -> None:
        """Ask which run to compare `run_id` with."""
        options = [
            (run.id, f"{run.config.name}  ({run.id[:8]}, {run.created_at[:16]})")
            for run in reversed(self.view.store.runs())
            if run.id != run_id
        ]
        if not options:
            self.notify("the store holds no other run", severity="warning")
            return
        self.push_screen(
            ChoiceScreen("compare with which run?", options),
            lambda other: None if other is None else self.compare(run_id, other),
        )

    def load_report(self, run_id: str, then: Callable[[Report], None] | None = None) -> None:
        """The run's report (cached for the session), computed once in a worker, handed to `then`.
        Called without `then` it only prefetches (the runs screen does so for the newest run)."""
        cached = self.reports.get(run_id)
        if cached is not None and cached[0] == self.view.signature():
            if then is not None:
                then(cached[1])
            return
        if then is not None:
            self.pending.setdefault(run_id, []).append(then)
        if run_id in self.computing:
            return
        self.computing.add(run_id)

        def work() -> None:
            signature = self.view.signature()
            report = self.view.report(run_id)
            self.round_tables[run_id] = self.view.round_cells(run_id)
            self.call_from_thread(self._report_ready, signature, report)

        self.run_worker(work, thread=True, group=f"report-{run_id}")

    def prefetch(
        self, run_id: str, *, report: bool = False, choices: bool = False, domains: Iterable[str] = ()
    ) -> None:
        """Load soon, in workers, what the screen the user likely opens next needs: the run's report, its
        filter values, the modules of the domains whose pictures the sample screen draws (importing one
        took 0.3 s, in the middle of opening the first sample)."""
        if report:
            self.set_timer(PREFETCH_AFTER_SECONDS, lambda: self.load_report(run_id))
        if choices:
            self.set_timer(PREFETCH_AFTER_SECONDS, lambda: self.load_choices(run_id))
        names = list(domains)
        if names:
            self.set_timer(
                PREFETCH_AFTER_SECONDS, lambda: self.run_worker(partial(_import, names), thread=True)
            )

    def load_choices(self, run_id: str, then: Callable[[dict[str, list[str]]], None] | None = None) -> None:
        """The values each filter can take in the run (0.2 s on 100 000 samples, then cached until the
        store changes), read in a worker and handed to `then` (the filter menu; the palette reads them
        from the cache)."""
        if then is None and (run_id in self.reading_choices or self.view.cached_choices(run_id) is not None):
            return

        def work() -> None:
            try:
                choices = self.view.choices(run_id)
            finally:
                self.reading_choices.discard(run_id)
            if then is not None:
                self.call_from_thread(then, choices)

        self.reading_choices.add(run_id)
        self.run_worker(work, thread=True, group=f"choices-{run_id}")

    def _report_ready(self, signature: object, report: Report) -> None:
        self.reports[report.run_id] = (signature, report)
        self.computing.discard(report.run_id)
        for then in self.pending.pop(report.run_id, []):
            then(report)

    def current_run(self, screen: Screen[object]) -> str | None:
        """The run `screen` shows (None on the runs screen)."""
        if isinstance(screen, DashboardScreen | SamplesScreen):
            return screen.run_id
        if isinstance(screen, SampleScreen) and screen.sample is not None:
            return screen.sample.run_id
        return None

    # actions

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen.sub_title or "modulo", bindings_of(self.screen)))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]


class ModuloCommands(Provider):
    """Command palette entries: open a run, compare, filter (by quadrant, rule, domain…), export, theme."""

    def _entries(self, by_value: bool = True) -> Iterable[tuple[str, Callable[[], object], str]]:
        """Every entry; without `by_value`, one hint instead of a filter per value (a long run has a
        hundred: the palette lists them once the user types, and opens faster without them)."""
        app = self.app
        assert isinstance(app, ModuloApp)
        for run in reversed(app.view.store.runs()):
            yield f"open run {run.config.name} ({run.id[:8]})", partial(app.open_run, run.id), "dashboard"
        run_id = app.current_run(self.screen)
        yield "toggle light/dark theme", app.action_toggle_theme, "theme"
        yield "help: every key of this screen", app.action_help, "help"
        if run_id is None:
            return
        yield "compare this run with…", partial(app.pick_comparison, run_id), "two runs side by side"
        yield "all samples of this run", partial(app.open_samples, run_id, Filters()), "samples"
        for key, (label, _) in QUADRANTS.items():
            filters = Filters(quadrant=key, round=0 if key in _TABLE else None)
            yield f"filter: {label}", partial(app.open_samples, run_id, filters), "samples"
        if not by_value:
            hint = partial(app.notify, "type `filter by` and a domain, generator, rule, reading, …")
            yield "filter by domain, generator, rule, reading, difficulty, round…", hint, "type `filter by`"
        choices = app.view.cached_choices(run_id) if by_value else {}
        if choices is None:  # the store changed since they were read: read them again, off this thread
            app.load_choices(run_id)
            wait = partial(app.notify, "the run's filter values are being read: open the palette again")
            yield "filter by value: reading the run's values…", wait, "in a moment"
            choices = {}
        for name, values in choices.items():
            for value in values:
                filters = Filters(**{name: int(value) if name == "round" else value})  # type: ignore[arg-type]
                yield f"filter by {name} {value}", partial(app.open_samples, run_id, filters), "samples"
        screen = self.screen  # the screen the palette was opened on
        if isinstance(screen, SamplesScreen):
            yield "export filtered samples to JSONL…", screen.action_export, "writes the file you name"
            yield "search the raw text…", screen.action_search, "scan with progress"

    async def discover(self) -> Hits:
        for name, action, help_text in self._entries(by_value=False):
            yield DiscoveryHit(name, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), action, help=help_text)


def _import(domains: list[str]) -> None:
    """Import the domains' modules (a domain that cannot load says so when its picture is drawn)."""
    for name in domains:
        with suppress(Exception):  # only a warm-up: drawing the picture reports the error
            get_domain(name)


_TABLE = {"valid-correct", "valid-wrong", "invalid-correct", "invalid-wrong", "no-trace", "not-judged"}

ModuloApp.COMMANDS = App.COMMANDS | {ModuloCommands}
