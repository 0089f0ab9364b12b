"""`cbi ingest futures --file PATH ...`: daily bars from files a user already has.

- Databento DBN (`.dbn`, `.dbn.zst`), OHLCV 1h or 1d, decoded with the `databento` package; hourly bars are
  aggregated to CME trade dates.
- CSV (optionally gzipped) or Parquet of daily bars with columns root, trade_date, open, high, low, close,
  volume and optionally contract and open_interest; other columns are ignored. Without a contract column the
  rows are a continuous front series (`<root>.c.0`).
- Rows may come in any order (bars are keyed by contract and trade date, so order carries no meaning); a
  duplicate of a (root, contract, trade_date) is quarantined. Bad rows keep their place, so quarantine rows
  name the file line they came from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from ingest.files import check_file, file_problem, read_csv_text, read_text
from ingest.http import SourceError
from ingest.release_times import futures_available_at
from ingest.sources.base import Batch, Loaded, Window
from ingest.sources.futures_bars import (
    RAW_COLUMNS,
    continuous_contract,
    dbn_to_daily_bars,
    normalize_contract,
)

log = logging.getLogger(__name__)

REQUIRED = ("root", "trade_date", "open", "high", "low", "close", "volume")


def read_daily_file(path: Path) -> pd.DataFrame:
    """A CSV/Parquet file of daily bars in the raw contract's shape (bad values are left for the loader).

    CSV rows carry their file line (`_line`); Parquet rows are numbered as data rows."""
    name = path.name.lower()
    source = f"futures file {path.name}"
    if name.endswith(".parquet"):
        check_file(path, source)
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise SourceError(source, f"cannot read {path} as Parquet: {type(exc).__name__}: {exc}") from None
    else:
        frame = read_csv_text(read_text(path, source, "CSV of daily bars"), source, path)
    frame.columns = [str(c).strip().lower() if c != "_line" else c for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise SourceError(source, f"missing field(s) {missing}; found {list(frame.columns)[:12]}")
    frame = frame.reset_index(drop=True)
    frame["root"] = frame["root"].astype("string").str.strip().str.upper()
    trade_dates = pd.to_datetime(frame["trade_date"], errors="coerce")
    if "contract" in frame:
        contracts = []
        for code, root, day in zip(frame["contract"], frame["root"], trade_dates, strict=True):
            parsed = normalize_contract(code, day) if pd.notna(day) and pd.notna(code) else None
            fallback = continuous_contract(root) if pd.notna(root) else None
            contracts.append(parsed[1] if parsed else (code if pd.notna(code) else fallback))
        frame["contract"] = contracts
    else:
        frame["contract"] = [continuous_contract(r) if pd.notna(r) else None for r in frame["root"]]
    # rows keep their order; an unparseable date stays as it is, for the loader to quarantine with its line
    valid = trade_dates.notna()
    out = frame.loc[:, [c for c in RAW_COLUMNS if c in frame.columns and c != "available_at"]].copy()
    if "open_interest" not in out:
        out["open_interest"] = None
    available = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if valid.any():
        available[valid] = futures_available_at(trade_dates[valid].dt.normalize()).to_numpy()
    out["available_at"] = available
    out["trade_date"] = [
        d.date() if ok else raw for d, ok, raw in zip(trade_dates, valid, frame["trade_date"], strict=True)
    ]
    if "_line" in frame:
        out["_line"] = frame["_line"]
    return out.loc[:, [*RAW_COLUMNS, *(["_line"] if "_line" in frame else [])]]


def read_dbn_file(path: Path) -> pd.DataFrame:
    import databento

    check_file(path, f"futures file {path.name}")
    try:
        store = databento.DBNStore.from_file(path)
        return dbn_to_daily_bars(store)
    except Exception as exc:  # the databento decoder raises several types for corrupt input
        raise SourceError(f"futures file {path.name}", f"cannot decode DBN {path}: {exc}") from None


def in_window(frame: pd.DataFrame, window: Window, name: str) -> pd.DataFrame:
    """The bars inside the requested window; a bar dated after today stays (the loader quarantines it with its
    reason: a bar from the future is bad data, not outside the window), and the rows left out are counted."""
    days = pd.to_datetime(frame["trade_date"], errors="coerce")
    keep = days.isna() | (days > pd.Timestamp(date.today()))
    inside = pd.Series(True, index=frame.index)
    if window.start is not None:
        inside &= days >= pd.Timestamp(window.start)
    if window.end is not None:
        inside &= days <= pd.Timestamp(window.end)
    keep |= inside
    if (~keep).any():
        log.warning("%s: %d bar(s) outside --start/--end not loaded", name, int((~keep).sum()))
    return frame.loc[keep]


@dataclass
class FuturesFiles:
    files: list[Path]
    name: str = "file"
    tables: tuple[str, ...] = ("futures_ohlcv_daily",)

    def available(self) -> str | None:
        problems = [p for p in (file_problem(path) for path in self.files) if p]
        return "; ".join(problems) if problems else None

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} ({p.stat().st_size:,} bytes) -> raw.futures_ohlcv_daily" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        for path in self.files:
            is_dbn = path.name.lower().endswith((".dbn", ".dbn.zst"))
            frame = read_dbn_file(path) if is_dbn else read_daily_file(path)
            frame = in_window(frame, window, path.name)
            log.info("%s: %d daily bars for %s", path.name, len(frame), sorted(frame["root"].dropna().unique())[:30])
            yield Batch("futures_ohlcv_daily", frame.reset_index(drop=True), f"futures file {path.name}")
