"""Where the public reference datasets live: `$MODULO_SHARED_DATA`, else `../shared/data` beside the repo.

Tests that need them skip with that path in the reason when the data is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("MODULO_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
