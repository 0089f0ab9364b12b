"""Shared futures parsing: contract codes, CME trade dates, hourly-to-daily aggregation, DBN decoding.

Roll and back-adjustment rules are not here: they live in one place, the dbt model `int_futures__continuous`.
Connectors only deliver per-contract daily bars in exchange units.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from cbi_core.calendar import roll_forward
from ingest.release_times import futures_available_at

MONTH_CODES = "FGHJKMNQUVXZ"
_OUTRIGHT = re.compile(r"^(?P<root>[A-Z0-9]{1,3}?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})$")
_CONTINUOUS = re.compile(r"^(?P<root>[A-Z0-9]{1,3})(?:\.[A-Z]\.\d+|=F)$")

RAW_COLUMNS = [
    "root",
    "contract",
    "trade_date",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "open_interest",
    "available_at",
]


def continuous_contract(root: str) -> str:
    """The contract code CBI uses for a continuous front series whose contract months are unknown."""
    return f"{root}.c.0"


def normalize_contract(code: str, trade_date: date) -> tuple[str, str] | None:
    """(root, contract with a two-digit year) for an outright code such as ZLH5 or ZLH25.

    A one-digit year is resolved to the decade that puts the contract nearest after `trade_date` (a contract
    trades at most a few years before it expires and never after). Continuous symbols (ZL.v.0, ZL.c.0, ZL=F)
    map to the root's continuous code; anything else (spreads, options) returns None.
    """
    code = str(code).strip().upper() if code is not None else ""
    cont = _CONTINUOUS.match(code)
    if cont:
        root = cont.group("root").upper()
        return root, continuous_contract(root)
    match = _OUTRIGHT.match(code)
    if not match:
        return None
    root, month, year = match.group("root"), match.group("month"), match.group("year")
    trade_year = pd.Timestamp(trade_date).year
    if len(year) == 1:
        full = trade_year - trade_year % 10 + int(year)
        if full < trade_year - 1:
            full += 10
    else:
        full = 2000 + int(year)
        if full > trade_year + 10:  # a two-digit year of the last century
            full -= 100
    return root, f"{root}{month}{full % 100:02d}"


def cme_trade_date(ts_utc: pd.Series) -> pd.Series:
    """CME Globex trade date of bars opening at `ts_utc`: Chicago time + 7 h (the 17:00 CT session belongs to
    the next day), rolled forward past weekends and exchange holidays (`cbi_core.calendar`)."""
    ts = pd.to_datetime(ts_utc, utc=True).dt.tz_convert("America/Chicago")
    local_date = (ts + pd.Timedelta(hours=7)).dt.tz_localize(None).dt.normalize()
    return pd.Series(pd.to_datetime(roll_forward(local_date)), index=local_date.index)


def aggregate_to_daily(bars: pd.DataFrame) -> pd.DataFrame:
    """Intraday bars (root, contract, ts_event, open, high, low, close, volume) to daily bars per contract."""
    if bars.empty:
        return pd.DataFrame(columns=RAW_COLUMNS)
    frame = bars.assign(trade_date=cme_trade_date(bars["ts_event"])).sort_values("ts_event")
    daily = frame.groupby(["root", "contract", "trade_date"], as_index=False).agg(
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
    )
    return finish_daily(daily)


def finish_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Add the columns a daily-bar source may lack (open interest, available_at) in contract order."""
    out = daily.copy()
    if "open_interest" not in out:
        out["open_interest"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["trade_date"] = pd.to_datetime(out["trade_date"])
    out["available_at"] = futures_available_at(out["trade_date"]).to_numpy()
    out["trade_date"] = out["trade_date"].dt.date
    return out.loc[:, RAW_COLUMNS].reset_index(drop=True)


def dbn_to_daily_bars(store) -> pd.DataFrame:
    """Daily bars from a Databento `DBNStore` of OHLCV records (1h or 1d), per contract."""
    schema = str(store.schema)
    frame = store.to_df(price_type="float", map_symbols=True).reset_index()
    if frame.empty:
        return pd.DataFrame(columns=RAW_COLUMNS)
    if "symbol" not in frame:
        raise ValueError("DBN data has no symbol mapping: request it with map_symbols (stype_out instrument_id)")
    first_ts = pd.to_datetime(frame["ts_event"], utc=True)
    parsed = [normalize_contract(s, d) for s, d in zip(frame["symbol"], first_ts.dt.date, strict=True)]
    keep = np.array([p is not None for p in parsed])
    frame = frame.loc[keep].copy()
    frame["root"] = [p[0] for p in parsed if p is not None]
    frame["contract"] = [p[1] for p in parsed if p is not None]
    frame = frame[["root", "contract", "ts_event", "open", "high", "low", "close", "volume"]]
    if schema.endswith("1d"):
        daily = frame.assign(trade_date=pd.to_datetime(frame["ts_event"], utc=True).dt.tz_localize(None).dt.normalize())
        return finish_daily(daily.drop(columns="ts_event"))
    if not schema.startswith("ohlcv"):
        raise ValueError(f"DBN schema {schema} is not an OHLCV schema")
    return aggregate_to_daily(frame)
