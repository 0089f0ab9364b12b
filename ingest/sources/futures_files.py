"""`cbi ingest futures --file PATH ...`: daily bars from files a user already has.

- Databento DBN (`.dbn`, `.dbn.zst`), OHLCV 1h or 1d, decoded with the `databento` package; hourly bars are
  aggregated to CME trade dates.
- CSV (optionally gzipped) or Parquet of daily bars with columns root, trade_date, open, high, low, close,
  volume and optionally contract and open_interest; other columns are ignored. Without a contract column the
  rows are a continuous front series (`<root>.c.0`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ingest.http import SourceError
from ingest.sources.base import Batch, Window
from ingest.sources.futures_bars import (
    RAW_COLUMNS,
    continuous_contract,
    dbn_to_daily_bars,
    finish_daily,
    normalize_contract,
)

log = logging.getLogger(__name__)

REQUIRED = ("root", "trade_date", "open", "high", "low", "close", "volume")


def read_daily_file(path: Path) -> pd.DataFrame:
    """A CSV/Parquet file of daily bars in the raw contract's shape (bad values are left for the loader)."""
    name = path.name.lower()
    source = f"futures file {path.name}"
    try:
        if name.endswith(".parquet"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise SourceError(source, f"cannot read {path}: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if len(frame.columns) and frame.columns[0].startswith(("<!doctype", "<html")):
        raise SourceError(source, "is an HTML page, not a CSV of daily bars")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise SourceError(source, f"missing field(s) {missing}; found {list(frame.columns)[:12]}")
    frame["root"] = frame["root"].astype(str).str.strip().str.upper()
    trade_dates = pd.to_datetime(frame["trade_date"], errors="coerce")
    if "contract" in frame:
        contracts = []
        for code, root, day in zip(frame["contract"], frame["root"], trade_dates, strict=True):
            parsed = normalize_contract(code, day) if pd.notna(day) and pd.notna(code) else None
            contracts.append(parsed[1] if parsed else (code if pd.notna(code) else continuous_contract(root)))
        frame["contract"] = contracts
    else:
        frame["contract"] = frame["root"].map(continuous_contract)
    # keep unparseable dates as they are: the loader quarantines them with the row number
    valid_dates = trade_dates.notna()
    out = finish_daily(frame.loc[valid_dates, [c for c in frame.columns if c in RAW_COLUMNS and c != "available_at"]])
    bad = frame.loc[~valid_dates, [c for c in RAW_COLUMNS if c in frame.columns]].assign(available_at=pd.NaT)
    return pd.concat([out, bad], ignore_index=True) if len(bad) else out


def read_dbn_file(path: Path) -> pd.DataFrame:
    import databento

    try:
        store = databento.DBNStore.from_file(path)
        return dbn_to_daily_bars(store)
    except Exception as exc:  # the databento decoder raises several types for corrupt input
        raise SourceError(f"futures file {path.name}", f"cannot decode DBN {path}: {exc}") from None


@dataclass
class FuturesFiles:
    files: list[Path]
    name: str = "futures"
    tables: tuple[str, ...] = ("futures_ohlcv_daily",)

    def available(self) -> str | None:
        absent = [str(p) for p in self.files if not p.is_file()]
        return f"file(s) not found: {absent}" if absent else None

    def plan(self, con: duckdb.DuckDBPyConnection, window: Window) -> list[str]:
        return [f"read {p} ({p.stat().st_size:,} bytes) -> raw.futures_ohlcv_daily" for p in self.files]

    def batches(self, con: duckdb.DuckDBPyConnection, window: Window) -> Iterator[Batch]:
        for path in self.files:
            is_dbn = path.name.lower().endswith((".dbn", ".dbn.zst"))
            frame = read_dbn_file(path) if is_dbn else read_daily_file(path)
            days = pd.to_datetime(frame["trade_date"], errors="coerce")
            keep = pd.Series(True, index=frame.index)
            if window.start is not None:
                keep &= days.isna() | (days >= pd.Timestamp(window.start))
            if window.end is not None:
                keep &= days.isna() | (days <= pd.Timestamp(window.end))
            frame = frame.loc[keep]
            log.info("%s: %d daily bars for %s", path.name, len(frame), sorted(frame["root"].dropna().unique())[:30])
            yield Batch("futures_ohlcv_daily", frame.reset_index(drop=True), f"futures file {path.name}")
