"""The futures file importer: DBN (hourly to CME trade dates), CSV and Parquet, and what it rejects."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from ingest.http import SourceError
from ingest.runner import run_connector
from ingest.sources.base import Window
from ingest.sources.futures_bars import cme_trade_date, normalize_contract
from ingest.sources.futures_files import FuturesFiles

ALL = Window(None, date(2030, 1, 1))


def write_dbn(path: Path, bars: list[tuple[str, int, str, float, float, float, float, int]]) -> None:
    """A real DBN file (OHLCV-1h) encoded with databento-dbn: (symbol, instrument_id, ts UTC, o, h, l, c, v)."""
    from databento_dbn import Metadata, OHLCVMsg, Schema, SType

    stamps = [pd.Timestamp(b[2], tz="UTC") for b in bars]
    start, end = min(stamps), max(stamps) + pd.Timedelta(days=1)
    mappings = {}
    for symbol, instrument, *_ in bars:
        mappings.setdefault(
            symbol,
            SimpleNamespace(
                raw_symbol=symbol,
                intervals=[SimpleNamespace(start_date=start.date(), end_date=end.date(), symbol=str(instrument))],
            ),
        )
    metadata = Metadata(
        dataset="GLBX.MDP3",
        schema=Schema.OHLCV_1H,
        start=start.value,
        end=end.value,
        stype_in=SType.RAW_SYMBOL,
        stype_out=SType.INSTRUMENT_ID,
        symbols=list(mappings),
        partial=[],
        not_found=[],
        mappings=list(mappings.values()),
    )
    payload = bytes(metadata.encode())
    for (_, instrument, _, o, h, lo, c, v), ts in zip(bars, stamps, strict=True):
        payload += bytes(
            OHLCVMsg(0x22, 1, instrument, ts.value, int(o * 1e9), int(h * 1e9), int(lo * 1e9), int(c * 1e9), v)
        )
    path.write_bytes(payload)


def test_hourly_dbn_bars_become_cme_trade_dates(tmp_path):
    path = tmp_path / "glbx-mdp3-20240104.ohlcv-1h.dbn"
    write_dbn(
        path,
        [
            ("ZLH4", 11, "2024-01-04 20:00", 48.0, 48.5, 47.8, 48.2, 100),  # Thursday 14:00 CT -> Thursday
            ("ZLH4", 11, "2024-01-05 23:00", 48.3, 48.9, 48.1, 48.6, 50),  # Friday 17:00 CT -> Monday
            ("ZLH4", 11, "2024-01-08 15:00", 48.6, 49.2, 48.0, 49.0, 70),  # Monday 09:00 CT -> Monday
            ("ZLH4-ZLK4", 12, "2024-01-08 15:00", 0.1, 0.2, 0.05, 0.1, 5),  # a spread: not a daily bar
        ],
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        run_connector(con, FuturesFiles([path]), ALL)
        bars = con.sql(
            "select contract, trade_date, open, high, low, close, volume from raw.futures_ohlcv_daily "
            "order by trade_date"
        ).df()
    assert bars["contract"].unique().tolist() == ["ZLH24"]
    assert [d.isoformat() for d in bars["trade_date"].dt.date] == ["2024-01-04", "2024-01-08"]
    monday = bars.iloc[1]
    assert (monday.open, monday.high, monday.low, monday.close, monday.volume) == (48.3, 49.2, 48.0, 49.0, 120)


def test_hourly_dbn_sessions_around_a_saturday_new_year_keep_their_own_trade_dates(tmp_path):
    # New Year's Day 2022 fell on a Saturday: CBOT traded Monday 2022-01-03 (ZL 27,767 lots), so Sunday evening's
    # session and Monday's day session belong to 2022-01-03, not to Tuesday's trade date
    path = tmp_path / "glbx-mdp3-20220102.ohlcv-1h.dbn"
    write_dbn(
        path,
        [
            ("ZLH2", 11, "2021-12-31 15:00", 56.0, 56.5, 55.8, 56.2, 300),  # Friday 09:00 CT -> Friday
            ("ZLH2", 11, "2022-01-03 01:00", 56.3, 56.9, 56.1, 56.6, 40),  # Sunday 19:00 CT -> Monday
            ("ZLH2", 11, "2022-01-03 15:00", 56.6, 57.1, 56.0, 57.0, 500),  # Monday 09:00 CT -> Monday
            ("ZLH2", 11, "2022-01-04 01:00", 57.0, 57.4, 56.8, 57.2, 30),  # Monday 19:00 CT -> Tuesday
        ],
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        run_connector(con, FuturesFiles([path]), ALL)
        bars = con.sql("select trade_date, open, close, volume from raw.futures_ohlcv_daily order by trade_date").df()
    assert [d.isoformat() for d in bars["trade_date"].dt.date] == ["2021-12-31", "2022-01-03", "2022-01-04"]
    monday = bars.iloc[1]
    assert (monday.open, monday.close, monday.volume) == (56.3, 57.0, 540)


def test_trade_date_rule_skips_holidays():
    # Wednesday 2024-07-03 17:00 CT opens the session of Friday 2024-07-05 (July 4th is closed)
    assert cme_trade_date(pd.Series([pd.Timestamp("2024-07-03 22:00", tz="UTC")])).iloc[0] == pd.Timestamp("2024-07-05")


@pytest.mark.parametrize(
    ("code", "day", "expected"),
    [
        ("ZLH5", date(2024, 12, 2), ("ZL", "ZLH25")),
        ("ZLZ9", date(2019, 11, 1), ("ZL", "ZLZ19")),
        ("ZLF0", date(2019, 12, 20), ("ZL", "ZLF20")),
        ("6LK25", date(2025, 1, 2), ("6L", "6LK25")),
        ("ZL.v.0", date(2024, 1, 2), ("ZL", "ZL.c.0")),
        ("ZLF95", date(1994, 11, 1), ("ZL", "ZLF95")),
        ("ZLH5-ZLK5", date(2025, 1, 2), None),
    ],
)
def test_contract_codes_are_normalised(code, day, expected):
    assert normalize_contract(code, day) == expected


def test_csv_and_parquet_daily_bars(tmp_path):
    csv = tmp_path / "bars.csv"
    csv.write_text(
        "root,contract,trade_date,open,high,low,close,volume,open_interest,extra\n"
        "ZL,ZLN4,2024-06-03,45,46,44,45.5,1000,200000,x\n"
        "ZL,ZLN4,2024-06-04,45.5,46,45,0,1000,200000,x\n"
        "zl,ZLN4,2024-06-05,45.5,46,45,45.8,abc,200000,x\n"
    )
    pd.DataFrame(
        {
            "root": ["HO"],
            "trade_date": ["2024-06-03"],
            "open": [2.4],
            "high": [2.5],
            "low": [2.3],
            "close": [2.45],
            "volume": [5000],
        }
    ).to_parquet(tmp_path / "ho.parquet")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        results = run_connector(con, FuturesFiles([csv, tmp_path / "ho.parquet"]), ALL)
        bars = con.sql("select root, contract, trade_date, close from raw.futures_ohlcv_daily order by 1").df()
        quarantine = con.sql("select row_number, field from ops.quarantine order by 1").df()
    assert [r.rows_inserted for r in results] == [1, 1]
    assert bars.values.tolist()[0][:2] == ["HO", "HO.c.0"]  # no contract column: a continuous series
    assert quarantine.values.tolist() == [[3, "close"], [4, "volume"]]  # file lines: zero price, non-numeric volume


def test_files_that_are_not_daily_bars_are_rejected(tmp_path):
    html = tmp_path / "download.csv"
    html.write_text("<!DOCTYPE html><html><body>Sign in</body></html>\n")
    partial = tmp_path / "partial.csv"
    partial.write_text("root,trade_date,close\nZL,2024-06-03,45\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        with pytest.raises(SourceError, match="HTML page"):
            run_connector(con, FuturesFiles([html]), ALL)
        with pytest.raises(SourceError, match=r"missing field\(s\) \['open', 'high', 'low', 'volume'\]"):
            run_connector(con, FuturesFiles([partial]), ALL)
        with pytest.raises(SourceError, match="not found"):
            run_connector(con, FuturesFiles([tmp_path / "nope.csv"]), ALL)
