"""The panel walk-forward on the real futures: pooled and per-root tables, every calibration method side by side.

Loads `../shared/data/real` into a scratch warehouse with the real-files loader (`cbi ingest real-files`) when the
warehouse has no futures yet, builds `int_futures__continuous` (as `cbi panel` does), walks every member over every
root once (cached in a parquet file: the walk is the slow part) and prints, per calibration method
(`cbi_ml.panel.choice.CALIBRATIONS`), the pooled summary, ZL's own rows and every member's pooled skill.

    .venv/bin/python bench/panel.py --db /tmp/panel/real.duckdb --cache /tmp/panel/walk.parquet
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cbi_ml.members.registry import daily_members
from cbi_ml.panel.choice import CALIBRATIONS
from cbi_ml.panel.command import price_frames, read_bars
from cbi_ml.panel.members import PANEL_MEMBERS, registry
from cbi_ml.panel.runner import PanelSettings, evaluate
from cbi_ml.panel.walk import walk_panel
from cbi_ml.project import project_config

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def load_real(db: str, folder: Path) -> None:
    """`cbi ingest real-files` into `db` unless it already holds futures bars."""
    import duckdb

    if Path(db).exists():
        with duckdb.connect(db, read_only=True) as con:
            held = con.execute(
                "select count(*) from information_schema.tables where table_name = 'futures_ohlcv_daily'"
            ).fetchone()
        if held and held[0]:
            return
    entry = "from cbi.cli import app; app()" if _has_cbi_cli() else "from ingest.cli import app; app()"
    subprocess.run([sys.executable, "-c", entry, "ingest", "real-files", str(folder), "--db", db], check=True)


def _has_cbi_cli() -> bool:
    try:
        import cbi.cli  # noqa: F401
    except ImportError:
        return False
    return True


def walked(db: str, settings: PanelSettings, members: list[str], cache: Path | None) -> pd.DataFrame:
    """Every member's walk-forward rows on every root (from `cache` when it holds the same run)."""
    key = f"{settings.walk_start}|{settings.end}|{settings.refit_every}|{','.join(members)}"
    if cache and cache.is_file():
        frame = pd.read_parquet(cache)
        if (frame["key"] == key).all():
            return frame.drop(columns="key")
    cfg = project_config()
    frames = price_frames(read_bars(db, None), cfg.horizons, cfg.ewma_lambda, settings.start)
    every = registry()
    started = time.perf_counter()
    wide = walk_panel(frames, {m: every[m] for m in members}, cfg.horizons, settings.walk_start, settings.end,
                      settings.refit_every)  # fmt: skip
    print(f"walk: {len(frames)} roots, {len(members)} members, {time.perf_counter() - started:.0f} s")
    if cache:
        wide.assign(key=key).to_parquet(cache, index=False)
    return wide


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/cbi-panel/real.duckdb")
    parser.add_argument("--real", type=Path, default=REAL)
    parser.add_argument("--start", default="2017-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--refit", type=int, default=252)
    parser.add_argument("--members", default=",".join(PANEL_MEMBERS))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--calibrations", default=",".join(CALIBRATIONS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    load_real(args.db, args.real)
    serving = tuple(m for m in daily_members(project_config().buckets) if m in PANEL_MEMBERS)  # what ZL's pipeline runs
    settings = PanelSettings(args.start, args.end, refit_every=args.refit, candidates=serving)
    members = args.members.split(",")
    wide = walked(args.db, settings, members, args.cache)
    horizons = dict(wide.groupby("horizon", sort=False)["days"].first())
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 200)
    for method in args.calibrations.split(","):
        started = time.perf_counter()
        result = evaluate(wide, members, horizons, replace(settings, calibration=method))
        print(f"\n=== calibration {method} (layers {time.perf_counter() - started:.1f} s) ===")
        print(result.summary.round(4).to_string(index=False))
        print(result.metrics[result.metrics["root"] == "ZL"].round(4).to_string(index=False))
        print(result.evidence.drop(columns=["first_date", "forecast_rows"]).to_string(index=False))
        if method == args.calibrations.split(",")[0]:
            print(result.members.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
