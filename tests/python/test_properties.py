"""Property-based tests (hypothesis) of every file loader and the sync pull: arbitrary rows (values, blanks,
unicode, duplicates, dates far off) into a warehouse that holds known good rows. Afterwards, whatever the rows:

- no known row is gone and no known value is NULL, non-finite or outside its field's plausible range;
- every rejected row is in ops.quarantine with its reason (a run's quarantine rows = its `rows_rejected`);
- every run has a finished run row (status success, partial or failed; none left `running`).

Bounded and deterministic (profile `cbi`: few examples, derandomized, no deadline), so the suite stays fast.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.contracts import RAW_TABLES
from ingest.http import SourceError
from ingest.load import LoadError
from ingest.runner import fetch_then_load
from ingest.sources.base import Window
from ingest.sources.epa import Epa
from ingest.sources.file_importers import EiaFiles, FredFiles, NewsFiles
from ingest.sources.futures_files import FuturesFiles
from ingest.sync import SyncError
from ingest.sync_pull import pull

settings.register_profile(
    "cbi",
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = settings.get_profile("cbi")

GOOD_FILES = {
    "bars.csv": "root,contract,trade_date,open,high,low,close,volume\n"
    "ZL,ZLN24,2024-06-03,45.1,46.0,44.9,45.5,1000\nZL,ZLN24,2024-06-04,45.5,46.2,45.0,46.0,1200\n",
    "rin.csv": "week ending,D4,D6\n2024-06-07,0.5591,0.4412\n2024-06-14,0.61,0.45\n",
    "fred_DGS10.csv": "observation_date,DGS10\n2024-06-03,4.41\n2024-06-04,4.33\n",
    "eia_WCESTUS1.csv": "period,WCESTUS1\n2024-05-31,455000\n2024-06-07,459000\n",
    "news_reuters.csv": "date,source,headline\n2024-06-03,reuters,Soybean oil rallies\n",
}
CONNECTORS: dict[str, Callable[[Path], object]] = {
    "bars.csv": lambda p: FuturesFiles([p]),
    "rin.csv": lambda p: Epa(file=p),
    "fred_DGS10.csv": lambda p: FredFiles([p]),
    "eia_WCESTUS1.csv": lambda p: EiaFiles([p]),
    "news_reuters.csv": lambda p: NewsFiles([p]),
}
ALL = Window(None, None)

# Cells a hostile file holds: good values, blanks and markers, non-numbers, unicode, extremes, dates far off.
CELLS = st.one_of(
    st.sampled_from(["", " ", ".", "NA", "nan", "-nan", "inf", "-Infinity", "1e308", "-5", "0", "45.5", "0.5591"]),
    st.sampled_from(["2024-06-03", "2024-06-04", "2024-06-07", "1900-01-01", "1899-12-31", "2046-06-04"]),
    st.sampled_from(["2099-06-05", "9999-12-31", "2024-06-01", "ZL", "ZLN24", "ZSF27", "zl", "D4", "D6"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=12),
)


def rows_for(width: int) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=0, max_size=8)


def csv_text(header: str, rows: list[list[str]], known: str) -> str:
    """The header, then arbitrary rows with the known good rows among them (duplicates of keys included)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    body = known.splitlines()[1:]
    return "\n".join([header, *body[:1], *out.getvalue().splitlines(), *body[1:]]) + "\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the known good rows of every loader."""
    folder = tmp_path_factory.mktemp("known")
    db = folder / "cbi.duckdb"
    for name, text in GOOD_FILES.items():
        path = folder / name
        path.write_text(text)
        fetch_then_load(db, CONNECTORS[name](path), ALL)  # type: ignore[arg-type]
    return db


def known_rows(db: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {name: con.execute(f"select * from raw.{name}").df() for name in RAW_TABLES}


def check_invariants(db: Path, known: dict[str, pd.DataFrame]) -> None:
    """The three promises of the module docstring."""
    with duckdb.connect(str(db), read_only=True) as con:
        for name, before in known.items():
            table = RAW_TABLES[name]
            now = con.execute(f"select * from raw.{name}").df().set_index(list(table.key))
            for _, row in before.iterrows():
                key = tuple(row[k] for k in table.key)
                assert key in now.index, f"raw.{name}: known row {key} is gone"
                after = now.loc[key]
                for col in table.value_columns:
                    if pd.isna(row[col]):
                        continue
                    value = after[col]
                    assert not pd.isna(value), f"raw.{name} {key}: {col} {row[col]!r} became NULL"
                    if col in table.ranges:
                        low, high = table.ranges[col]
                        assert math.isfinite(float(value)) and low <= float(value) <= high, (name, key, col, value)
                    if col in table.positive:
                        assert float(value) > 0, (name, key, col, value)
        runs = con.execute("select run_id, parent_run_id, status, finished_at, rows_rejected from ops.ingest_runs").df()
        assert runs["finished_at"].notna().all(), runs[runs["finished_at"].isna()]
        assert set(runs["status"]) <= {"success", "partial", "failed"}
        quarantined = con.execute(
            "select run_id, count(*) n, min(length(reason)) r from ops.quarantine group by 1"
        ).df()
    assert (quarantined["r"] > 0).all()
    leaves = ~runs["run_id"].isin(runs["parent_run_id"].dropna())  # a source's run sums its batches' loads
    loads = runs[leaves & (runs["status"] != "failed")].set_index("run_id")["rows_rejected"]
    counts = quarantined.set_index("run_id")["n"]
    for run_id, rejected in loads.items():
        assert counts.get(run_id, 0) == rejected, f"run {run_id}: {rejected} rejected, {counts.get(run_id, 0)} kept"


def load_hostile_file(template: Path, folder: Path, name: str, text: str) -> None:
    db = folder / "cbi.duckdb"
    shutil.copy(template, db)
    known = known_rows(db)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    with contextlib.suppress(SourceError, LoadError):  # a file rejected whole: a failed run, checked below
        fetch_then_load(db, CONNECTORS[name](path), ALL)  # type: ignore[arg-type]
    check_invariants(db, known)


@pytest.mark.parametrize("name", list(GOOD_FILES))
def test_a_hostile_file_never_loses_or_spoils_a_known_value(name: str, template: Path, tmp_path: Path) -> None:
    header = GOOD_FILES[name].splitlines()[0]
    width = len(header.split(","))
    counter = iter(range(10**6))

    @settings(PROFILE)
    @given(rows=rows_for(width))
    def check(rows: list[list[str]]) -> None:
        folder = tmp_path / str(next(counter))
        folder.mkdir()
        load_hostile_file(template, folder, name, csv_text(header, rows, GOOD_FILES[name]))

    check()


FLOATS = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([45.5, 46.0, -5.0, 0.0, 1e308])
)
BAR = st.tuples(
    st.sampled_from(["ZL", "ZS", "zl", ""]),
    st.sampled_from(["ZLN24", "ZSF27", "ZL.c.0", "ΖLN24"]),
    st.dates(min_value=pd.Timestamp("1800-01-01").date(), max_value=pd.Timestamp("2200-12-31").date())
    | st.sampled_from([pd.Timestamp("2024-06-03").date(), pd.Timestamp("2024-06-04").date()]),
    FLOATS,
    FLOATS,
    FLOATS,
    FLOATS,
    st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62)),
)


def test_a_hostile_remote_never_loses_or_spoils_a_known_value(template: Path, tmp_path: Path) -> None:
    counter = iter(range(10**6))

    @settings(PROFILE)
    @given(bars=st.lists(BAR, max_size=8), keep_known=st.booleans(), allow=st.booleans())
    def check(bars: list[tuple], keep_known: bool, allow: bool) -> None:
        folder = tmp_path / str(next(counter))
        folder.mkdir()
        local, remote = folder / "cbi.duckdb", folder / "shared.duckdb"
        shutil.copy(template, local)
        shutil.copy(template, remote)
        known = known_rows(local)
        with duckdb.connect(str(remote)) as con:
            if not keep_known:
                con.execute("delete from raw.futures_ohlcv_daily")
            for bar in bars:
                con.execute(
                    "insert or replace into raw.futures_ohlcv_daily"
                    " (root, contract, trade_date, open, high, low, close, volume) values (?, ?, ?, ?, ?, ?, ?, ?)",
                    list(bar),
                )
        with contextlib.suppress(SyncError):  # refused: recorded as a failed run, checked below
            pull(str(local), str(remote), allow_deletes=allow)
        if allow:  # deletions were asked for: every deleted known row is kept in the history
            with duckdb.connect(str(local), read_only=True) as con:
                rows = con.execute("select count(*) from raw.futures_ohlcv_daily").fetchone()[0]
                kept = con.execute("select count(*) from raw.futures_ohlcv_daily_history").fetchone()[0]
            assert rows + kept >= len(known["futures_ohlcv_daily"])
            known = {k: v for k, v in known.items() if k != "futures_ohlcv_daily"}
        check_invariants(local, known)

    check()
