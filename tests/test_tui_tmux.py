"""The real `modulo tui` in a real terminal (tmux): keys sent, the screen read back as text."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tui_store import build

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Terminal:
    """One tmux session running a command at a fixed size."""

    def __init__(self, command: list[str], width: int, height: int) -> None:
        self.name = f"modulo-tui-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                " ".join(command),
            ],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True, check=True
        ).stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.2)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.25)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_tui_in_a_real_terminal(tmp_path: Path) -> None:
    store = build(tmp_path / "s.sqlite")
    report = json.loads(
        subprocess.run(
            [sys.executable, "-m", "modulo", "report", "tui-fixture", "--json", "--store", str(store)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    table = report["overall"]["table"]
    term = Terminal([sys.executable, "-m", "modulo", "tui", "--store", str(store)], 200, 50)
    try:
        runs = term.wait_for("run(s) in s.sqlite")
        assert "tui-fixture" in runs and "tui-other" in runs and "None" not in runs
        term.keys("Enter")
        dashboard = term.wait_for("P(correct | invalid trace)")
        valid_line = next(line for line in dashboard.splitlines() if line.strip().startswith("trace valid  "))
        invalid_line = next(
            line for line in dashboard.splitlines() if line.strip().startswith("trace invalid")
        )
        assert valid_line.split()[2:5:2] == [str(table["valid_correct"]), str(table["valid_incorrect"])]
        assert invalid_line.split()[2:5:2] == [str(table["invalid_correct"]), str(table["invalid_incorrect"])]
        term.keys("s")
        term.wait_for("all samples · 16 sample(s)")
        term.keys("/")
        term.wait_for("search the raw text")
        term.keys("rompus", "Enter")
        samples = term.wait_for("text contains 'rompus'")
        assert "deduction" in samples and "drunkards_walk" not in samples
        term.keys("Enter")
        sample = term.wait_for("first error at step")
        assert "None" not in sample
        term.keys("?")
        assert "next error" in term.wait_for("sample: keys")
        term.keys("Escape", "q")
    finally:
        term.close()
