"""Hostile input, part 1: injection through every entry point, poisoned numbers, FRED's "." marker, bad files.

Everything runs against files the tests write and a local HTTP server on 127.0.0.1 (`server` fixture).
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fake_server import Reply
from typer.testing import CliRunner

from cbi.cli import app
from cbi_core.warehouse import WarehouseError, execute
from ingest.contracts import RAW_TABLES
from ingest.http import SourceError
from ingest.load import upsert, validate_frame
from ingest.runner import fetch_then_load
from ingest.sample import generate_sample
from ingest.sources.base import Window
from ingest.sources.epa import Epa
from ingest.sources.fred import Fred
from ingest.sources.futures_files import FuturesFiles
from ingest.sources.news import News

cli = CliRunner()
ALL = Window(date(2000, 1, 1), date(2030, 1, 1))
INJECTIONS = [
    "X'; DROP TABLE RAW.FUTURES_OHLCV_DAILY; --",
    "ZL' OR TRUE; DELETE FROM raw.futures_ohlcv_daily; --",
    "O'X",
    'ZL"; drop schema raw cascade; --',
]


def fingerprint(db: Path) -> dict[str, tuple]:
    """Row count and a checksum of every raw table: equal fingerprints, nothing changed."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for name in RAW_TABLES:
            out[name] = con.execute(f"select count(*), sum(hash(t)) from raw.{name} t").fetchall()[0]
    return out


@pytest.fixture
def loaded_db(tmp_path) -> Path:
    """A warehouse holding a small offline sample (every raw table has rows)."""
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        for name, frame in generate_sample("2024-01-02", "2024-03-29", 7).items():
            upsert(con, name, frame)
    return db


def invoke(*args: str):
    return cli.invoke(app, list(args))


# ---------------------------------------------------------------- 1. injection, every entry point
@pytest.mark.parametrize("value", INJECTIONS)
def test_roots_with_sql_change_nothing_dry_run_or_not(loaded_db, server, monkeypatch, value):
    monkeypatch.setenv("CBI_QUOTES_BASE_URL", f"{server.url}/chart")
    before = fingerprint(loaded_db)
    for extra in (["--dry-run"], []):
        result = invoke("ingest", "futures", "--quotes", "--roots", value, "--db", str(loaded_db), *extra)
        assert result.exit_code == 1, result.output
        assert "invalid root" in result.stderr and "Traceback" not in result.output
        assert result.stderr.strip().splitlines()[-1].startswith("error: futures (quotes): cannot run: invalid root")
    assert fingerprint(loaded_db) == before
    assert server.requests == []  # an invalid root never reaches a URL either


@pytest.mark.parametrize("value", INJECTIONS)
def test_series_report_types_and_limit_with_sql_change_nothing(loaded_db, value):
    before = fingerprint(loaded_db)
    for args in (
        ["ingest", "fred", "--series", value],
        ["ingest", "cftc", "--report-types", value],
        ["ingest", "fred", "--start", value],
        ["runs", "--limit", value],
    ):
        result = invoke(*args, "--db", str(loaded_db))
        assert result.exit_code != 0, (args, result.output)
        assert "Traceback" not in result.output
    assert fingerprint(loaded_db) == before


def test_a_database_path_and_file_names_with_quotes_work(tmp_path, monkeypatch):
    folder = tmp_path / "it's; drop table x; --"
    folder.mkdir()
    db = folder / "w'; drop.duckdb"
    bars = folder / "bars'); delete from raw.futures_ohlcv_daily; --.csv"
    bars.write_text("root,trade_date,open,high,low,close,volume\nZL,2024-06-03,45,46,44,45.5,1000\n")
    result = invoke("ingest", "futures", "--file", str(bars), "--db", str(db))
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("CBI_DUCKDB_PATH", str(db))  # the same through the environment
    result = invoke("ingest", "futures", "--file", str(bars))
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0] == 1
        assert con.sql("select count(*) from ops.ingest_runs where status = 'success'").fetchall()[0][0] == 4


def test_file_contents_with_sql_are_stored_verbatim(tmp_path):
    """Values from a file are data: a root or a title full of SQL is stored as text, nothing else happens."""
    db = tmp_path / "w.duckdb"
    evil = "ZL'; DROP TABLE raw.futures_ohlcv_daily; --"
    bars = tmp_path / "bars.csv"
    bars.write_text(f'root,trade_date,open,high,low,close,volume\n"{evil}",2024-06-03,45,46,44,45.5,1000\n')
    assert invoke("ingest", "futures", "--file", str(bars), "--db", str(db)).exit_code == 0
    # the next run reads what is loaded (for incremental starts) without pasting it into SQL
    assert invoke("ingest", "futures", "--quotes", "--roots", "ZL", "--dry-run", "--db", str(db)).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select root from raw.futures_ohlcv_daily").fetchall() == [(evil.upper(),)]  # roots: upper


def test_feed_names_and_contents_with_sql(tmp_path, server, monkeypatch):
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("CBI_NEWS_FEEDS", f"x'); drop table raw.news_articles; --={server.url}/feed")
    result = invoke("ingest", "news", "--db", str(db))
    assert result.exit_code == 1 and "is not a valid name" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:  # the failure is on record
        assert con.sql("select source, status from ops.ingest_runs").fetchall() == [("news", "failed")]

    monkeypatch.setenv("CBI_NEWS_FEEDS", "file_feed=file:///etc/passwd")
    result = invoke("ingest", "news", "--db", str(db))
    assert result.exit_code == 1 and "is not an http(s) address" in result.stderr

    title = "Soy'); DROP TABLE raw.news_articles; --"
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        f"<title>{title}</title><link>https://example.org/a</link>"
        "<pubDate>Mon, 03 Jun 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    server.route("/feed", Reply(200, rss, {"Content-Type": "application/rss+xml"}))
    monkeypatch.setenv("CBI_NEWS_FEEDS", f"farm_news={server.url}/feed")
    assert invoke("ingest", "news", "--db", str(db)).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select title from raw.news_articles").fetchall() == [(title,)]


def test_execute_refuses_several_statements(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        execute(con, "create table t (x varchar)")
        execute(con, "insert into t values (?)", ["a'); drop table t; --"])
        with pytest.raises(WarehouseError, match="refusing to run 2 statements"):
            execute(con, "select 1; drop table t")
        assert con.sql("select x from t").fetchall() == [("a'); drop table t; --",)]


def test_seed_and_dates_of_the_sample_are_checked(tmp_path):
    db = str(tmp_path / "w.duckdb")
    assert invoke("sample", "--seed", "1; drop table x", "--db", db).exit_code == 2  # typer: not an integer
    result = invoke("sample", "--start", "2024-01-01'; drop", "--db", db)
    assert result.exit_code == 2 and "is not a date" in result.stderr and "Traceback" not in result.output


# ---------------------------------------------------------------- 2. non-finite and absurd numbers
def futures_frame(**changes) -> pd.DataFrame:
    row = {
        "root": "ZL",
        "contract": "ZLN24",
        "trade_date": "2024-06-03",
        "open": "45",
        "high": "46",
        "low": "44",
        "close": "45.5",
        "volume": "1000",
        "open_interest": "2000",
        "available_at": "2024-06-03 20:00",
    }
    return pd.DataFrame([{**row, **changes}])


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("close", "inf", "not a finite number"),
        ("close", "-inf", "not a finite number"),
        ("close", "1e308", "outside the plausible range"),
        ("close", "1e309", "not a valid DOUBLE"),  # beyond float64: does not parse
        ("close", "nan", "not a valid DOUBLE"),
        ("volume", "1e20", "outside the plausible range"),
        ("volume", "inf", "not a finite number"),
        ("volume", "-5", "outside the plausible range"),
        ("open_interest", "99999999999999999999999", "outside the plausible range"),
        ("open", "47", "open is outside [low, high]"),
        ("close", "43", "close is outside [low, high]"),
        ("trade_date", "9999-01-01", "not a valid DATE"),
        ("trade_date", "1023-01-01", "not a valid DATE"),
        ("trade_date", "2150-01-01", "outside the plausible dates"),
    ],
)
def test_every_poisoned_futures_value_is_quarantined_with_field_value_and_reason(field, value, reason):
    clean, rejects = validate_frame(futures_frame(**{field: value}), RAW_TABLES["futures_ohlcv_daily"])
    assert clean.empty
    assert rejects[["row_number", "row_kind", "field", "value"]].values.tolist() == [[1, "data row", field, value]]
    assert reason in rejects["reason"].iloc[0]


@pytest.mark.parametrize("table", sorted(RAW_TABLES))
def test_every_numeric_field_of_every_table_has_a_range_and_rejects_inf_and_1e308(table):
    spec = RAW_TABLES[table]
    numeric = [c for c, t in spec.columns.items() if t in ("DOUBLE", "BIGINT", "INTEGER")]
    assert sorted(spec.ranges) == sorted(numeric)  # documented, one per field
    sample = generate_sample("2024-01-02", "2024-01-31", 3)[table].head(1).reset_index(drop=True)
    for column in numeric:
        for value in ("inf", "-inf", "1e308", "nan"):
            frame = sample.astype(object).copy()
            frame.loc[0, column] = value
            clean, rejects = validate_frame(frame, spec)
            assert clean.empty and rejects["field"].tolist() == [column], (table, column, value)


def test_poisoned_values_never_overwrite_good_rows(tmp_path, server, monkeypatch):
    db = tmp_path / "w.duckdb"
    good = tmp_path / "good.csv"
    good.write_text("root,trade_date,open,high,low,close,volume\nZL,2024-06-03,45,46,44,45.5,1000\n")
    assert invoke("ingest", "futures", "--file", str(good), "--db", str(db)).exit_code == 0
    before = fingerprint(db)
    for close, volume in (("inf", "1000"), ("1e308", "1000"), ("45.5", "1e20"), ("45.5", "inf"), ("-inf", "1")):
        bad = tmp_path / "bad.csv"
        bad.write_text(f"root,trade_date,open,high,low,close,volume\nZL,2024-06-03,45,46,44,{close},{volume}\n")
        result = invoke("ingest", "futures", "--file", str(bad), "--db", str(db))
        assert result.exit_code == 0 and "Traceback" not in result.output  # quarantined, not a crash
        assert "file line 2" in result.stderr
    assert fingerprint(db) == before
    with duckdb.connect(str(db), read_only=True) as con:
        fields = con.sql("select field, row_kind, row_number from ops.quarantine order by quarantined_at").fetchall()
    assert [f[0] for f in fields] == ["close", "close", "volume", "volume", "close"]
    assert {(f[1], f[2]) for f in fields} == {("file line", 2)}

    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, "observation_date,DGS10\n2024-01-02,3.95\n"))
    fetch_then_load(db, Fred(["DGS10"]), Window(date(2024, 1, 1), date(2024, 1, 31)))
    for poison in ("inf", "-inf", "1e308", "1e309", "nan"):
        server.route("/fredgraph.csv", Reply(200, f"observation_date,DGS10\n2024-01-02,{poison}\n"))
        result = fetch_then_load(db, Fred(["DGS10"]), Window(date(2024, 1, 1), date(2024, 1, 31)))
        assert result[0].rows_rejected == 1
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select value from raw.fred_observations").fetchall() == [(3.95,)]


def test_quotes_with_an_absurd_volume_are_quarantined_not_a_cast_traceback(tmp_path, server, monkeypatch):
    monkeypatch.setenv("CBI_QUOTES_BASE_URL", f"{server.url}/chart")
    stamps = [1717423200, 1717509600]  # 2024-06-03 and 2024-06-04, 14:00 UTC
    chart = {
        "chart": {
            "result": [
                {
                    "timestamp": stamps,
                    "meta": {"exchangeTimezoneName": "America/Chicago"},
                    "indicators": {
                        "quote": [
                            {
                                "open": [45, 45],
                                "high": [46, 46],
                                "low": [44, 44],
                                "close": [45.5, 45.6],
                                "volume": [1e20, 1000],
                            }
                        ]
                    },
                }
            ],
            "error": None,
        }
    }
    server.route("/chart/ZL=F", Reply(200, json.dumps(chart), {"Content-Type": "application/json"}))
    db = tmp_path / "w.duckdb"
    result = invoke("ingest", "futures", "--quotes", "--roots", "ZL", "--start", "2024-06-01", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "field 'volume' data row 1" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0] == 1


# ---------------------------------------------------------------- 3. FRED's "." never replaces a value
def test_a_fred_no_value_marker_keeps_the_loaded_value(tmp_path, server, monkeypatch):
    db = tmp_path / "w.duckdb"
    window = Window(date(2024, 1, 1), date(2024, 1, 31))
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,.\n"))
    fetch_then_load(db, Fred(["DGS10"]), window)
    server.route("/fredgraph.csv", Reply(200, "observation_date,DGS10\n2024-01-02,.\n2024-01-03,4.01\n"))
    result = fetch_then_load(db, Fred(["DGS10"]), window)[0]
    assert (result.rows_inserted, result.rows_updated) == (0, 1)  # only the new number is a revision
    with duckdb.connect(str(db), read_only=True) as con:
        values = con.sql("select observation_date, value from raw.fred_observations order by 1").fetchall()
        history = con.sql("select observation_date, value from raw.fred_observations_history").fetchall()
    assert [v for _, v in values] == [3.95, 4.01]
    assert [v for _, v in history] == [None]  # the NULL it replaced is history; 3.95 was never touched


# ---------------------------------------------------------------- 7. files: row numbers, HTML, paths
def test_quarantine_rows_are_file_lines_in_the_file_order(tmp_path):
    db = tmp_path / "w.duckdb"
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "root,trade_date,open,high,low,close,volume\n"  # line 1
        "ZL,2024-06-03,45,46,44,45.5,1000\n"  # line 2
        "ZL,not-a-date,45,46,44,45.5,1000\n"  # line 3: moved to the end by the old reader
        "ZL,2024-06-05,45,46,44,45.5,1000\n"  # line 4
        "ZL,2024-06-06,45,46,44,0,1000\n"  # line 5: a zero price
        "ZL,2024-06-04,45,46,44,45.5,1000\n"  # line 6: out of order, which is fine for bars
    )
    result = invoke("ingest", "futures", "--file", str(bars), "--db", str(db))
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("select row_number, row_kind, field from ops.quarantine order by 1").fetchall()
        loaded = con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0]
    assert rows == [(3, "file line", "trade_date"), (5, "file line", "close")]
    assert loaded == 3


def test_html_directories_symlink_loops_and_truncated_gzip_are_named_as_such(tmp_path):
    db = str(tmp_path / "w.duckdb")
    html = tmp_path / "prices.csv"
    html.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n")
    loop = tmp_path / "loop.csv"
    os.symlink(loop, loop)
    broken = tmp_path / "broken.csv"
    os.symlink(tmp_path / "nowhere.csv", broken)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    truncated = tmp_path / "bars.csv.gz"
    truncated.write_bytes(gzip.compress(b"root,trade_date,open,high,low,close,volume\n" * 500)[:-40])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases = [
        (html, "is an HTML page"),
        (loop, "is a symlink loop"),
        (broken, "is a broken symlink"),
        (folder, "is a directory"),
        (truncated, "is a truncated gzip file"),
        (empty, "is empty"),
        (tmp_path / "missing.csv", "not found"),
    ]
    for path, message in cases:
        for command in (["futures"], ["epa"]):
            result = invoke("ingest", *command, "--file", str(path), "--db", db)
            assert result.exit_code == 1, (path, result.output)
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith("error: ") and message in last, (path, last)
            assert "Traceback" not in result.output and "Aborted" not in result.output
    with duckdb.connect(db, read_only=True) as con:
        statuses = con.sql("select status, count(*) from ops.ingest_runs group by 1").fetchall()
    assert statuses == [("failed", 2 * len(cases))]  # every failure is on record


def test_epa_file_row_numbers_are_file_lines(tmp_path):
    db = tmp_path / "w.duckdb"
    rins = tmp_path / "rin.csv"
    rins.write_text("Week Ending,D4,D6\n2024-01-05,1.10,0.90\n2024-01-12,inf,0.95\n2024-01-19,1.2,$1e308\n")
    connector = Epa(rins)
    result = fetch_then_load(db, connector, ALL)[0]
    assert (result.rows_inserted, result.rows_rejected) == (4, 2)
    assert result.rejects[["row_number", "row_kind", "field"]].values.tolist() == [
        [3, "file line", "price_usd_per_rin"],
        [4, "file line", "price_usd_per_rin"],
    ]


def test_a_news_feed_entry_with_an_absurd_date_is_quarantined(tmp_path, server, monkeypatch):
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>a</title><link>https://example.org/a</link><pubDate>Mon, 03 Jun 2024 10:00:00 GMT</pubDate>"
        "</item><item><title>b</title><link>https://example.org/b</link>"
        "<pubDate>Fri, 31 Dec 9999 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    server.route("/feed", Reply(200, rss, {"Content-Type": "application/rss+xml"}))
    monkeypatch.setenv("CBI_NEWS_FEEDS", f"farm_news={server.url}/feed")
    result = fetch_then_load(tmp_path / "w.duckdb", News(), ALL)[0]
    assert (result.rows_inserted, result.rows_rejected) == (1, 1)
    assert result.rejects["field"].tolist() == ["published_at"]


def test_a_file_connector_reports_problems_before_reading(tmp_path):
    with pytest.raises(SourceError, match="is a directory"):
        fetch_then_load(tmp_path / "w.duckdb", FuturesFiles([tmp_path]), ALL)
