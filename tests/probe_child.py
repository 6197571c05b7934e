"""The subprocess of the kill -9 test: `python probe_child.py CONFIG STORE DELAY` runs a probe config."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe_engine_helpers import run_config  # noqa: E402

if __name__ == "__main__":
    run_config(Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3]))
