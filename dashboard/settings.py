"""Every setting of the dashboard, in one place."""

from __future__ import annotations

from pathlib import Path

DEFAULT_OUT = Path("site")  # where `cbi dashboard build` writes (relative to the working directory); --out
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765  # `cbi dashboard serve` listens on localhost only by default
HISTORY_DAYS = 730  # the forecast and drivers pages chart the last two years
COVERAGE_WINDOW = 126  # forecasts in the rolling coverage window of the record page
FIGURE_HEIGHT = 420  # pixels per chart (responsive width)
