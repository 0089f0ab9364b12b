"""Every connector end to end against a local server or files written here: parse, load, re-run, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date

import duckdb
import pandas as pd
import pytest
from fake_server import Reply

from ingest.http import SourceError
from ingest.runner import run_connector
from ingest.sources.base import Window
from ingest.sources.cftc import Cftc
from ingest.sources.eia import Eia
from ingest.sources.epa import Epa
from ingest.sources.fred import Fred
from ingest.sources.news import News
from ingest.sources.quotes import Quotes
from ingest.sources.usda import Usda

WINDOW = Window(date(2024, 1, 1), date(2024, 3, 31))


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        yield connection


def rows(con, sql: str) -> pd.DataFrame:
    return con.sql(sql).df()


# ---------------------------------------------------------------- FRED
FRED_CSV = "observation_date,DGS10\n2024-01-02,3.95\n2024-01-03,3.91\n2024-01-15,.\n2024-01-16,4.07\n"


def test_fred_keyless_loads_idempotently_with_missing_values_as_null(con, server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, FRED_CSV, {"Content-Type": "text/csv"}))
    first = run_connector(con, Fred(["DGS10"]), WINDOW)
    again = run_connector(con, Fred(["DGS10"]), WINDOW)
    assert (first[0].rows_inserted, again[0].rows_inserted, again[0].rows_updated) == (4, 0, 0)
    loaded = rows(con, "select observation_date, value, available_at from raw.fred_observations order by 1")
    assert loaded["value"].isna().tolist() == [False, False, True, False]  # "." is FRED's no-value
    assert loaded["available_at"].iloc[0] == pd.Timestamp("2024-01-03 15:00")  # next business day
    assert server.hits("/fredgraph.csv")[0].query["id"] == ["DGS10"]


def test_fred_incremental_run_starts_from_the_last_loaded_period(con, server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, FRED_CSV))
    run_connector(con, Fred(["DGS10"]), WINDOW)
    run_connector(con, Fred(["DGS10"]), Window(None, date(2024, 3, 31)))
    assert server.hits("/fredgraph.csv")[-1].query["cosd"] == ["2024-01-02"]  # 2024-01-16 minus 14 days


def test_fred_dry_run_fetches_and_loads_nothing(con, server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    plan = run_connector(con, Fred(["DGS10", "UNRATE"]), WINDOW, dry_run=True)
    assert plan[0].startswith("DGS10: 2024-01-01..2024-03-31") and len(plan) == 2
    assert server.requests == []
    assert rows(con, "select count(*) as n from raw.fred_observations")["n"].iloc[0] == 0


def test_fred_bad_values_are_quarantined_and_bad_files_rejected(con, server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, FRED_CSV))
    run_connector(con, Fred(["DGS10"]), WINDOW)
    before = rows(con, "select * from raw.fred_observations order by observation_date")

    server.route("/fredgraph.csv", Reply(200, "observation_date,DGS10\n2024-01-17,abc\n2024-01-18,4.1\n"))
    result = run_connector(con, Fred(["DGS10"]), WINDOW)[0]
    assert (result.rows_inserted, result.rows_rejected) == (1, 1)
    quarantined = rows(con, "select field, row_number, value from ops.quarantine")
    assert quarantined.values.tolist() == [["value", 2, "abc"]]  # file line 2 (the header is line 1)

    for body, message in [
        ("observation_date,DGS10\n2024-01-18,4.1\n2024-01-17,4.0\n", "file line 3: date 2024-01-17 is out of order"),
        ("observation_date,DGS2\n2024-01-18,4.1\n", "field 'DGS2' is not the requested series DGS10"),
        ("<html><body>error</body></html>", "HTML page"),
    ]:
        server.route("/fredgraph.csv", Reply(200, body))
        with pytest.raises(SourceError, match=message):
            run_connector(con, Fred(["DGS10"]), WINDOW)
    after = rows(
        con, "select * from raw.fred_observations where observation_date <= '2024-01-16' order by observation_date"
    )
    pd.testing.assert_frame_equal(before, after)  # nothing already loaded was lost
    failed = rows(con, "select status, error from ops.ingest_runs where status = 'failed'")
    assert len(failed) == 3 and failed["error"].str.startswith("fred DGS10").all()


def test_fred_api_keeps_every_vintage_and_never_stores_the_key(con, server, monkeypatch):
    key = "fred-key-abcdef123456"
    monkeypatch.setenv("FRED_API_KEY", key)
    monkeypatch.setenv("CBI_FRED_API_URL", f"{server.url}/fred/series/observations")
    payload = {
        "observations": [
            {"realtime_start": "2024-02-02", "realtime_end": "2024-02-29", "date": "2024-01-01", "value": "3.7"},
            {"realtime_start": "2024-03-08", "realtime_end": "9999-12-31", "date": "2024-01-01", "value": "3.8"},
        ]
    }
    server.route("/fred/series/observations", Reply(200, json.dumps(payload), {"Content-Type": "application/json"}))
    run_connector(con, Fred(["UNRATE"]), WINDOW)
    loaded = rows(con, "select value, realtime_start, available_at from raw.fred_observations order by 2")
    assert loaded["value"].tolist() == [3.7, 3.8]  # the revision is a new row, the first vintage stays
    assert loaded["available_at"].iloc[0] == pd.Timestamp("2024-02-02 15:00")
    assert server.hits("/fred/series/observations")[0].query["api_key"] == [key]
    server.route("/fred/series/observations", Reply(500, "down"))
    with pytest.raises(SourceError) as err:
        run_connector(con, Fred(["UNRATE"]), WINDOW)
    assert key not in str(err.value)
    stored = (
        rows(con, "select * from ops.ingest_runs").to_string() + rows(con, "select * from ops.quarantine").to_string()
    )
    assert key not in stored


# ---------------------------------------------------------------- CFTC
CFTC_HEADER = (
    "Market_and_Exchange_Names,Report_Date_as_YYYY-MM-DD,CFTC_Contract_Market_Code,Open_Interest_All,"
    "Prod_Merc_Positions_Long_All,Prod_Merc_Positions_Short_All,Swap_Positions_Long_All,"
    "Swap__Positions_Short_All,M_Money_Positions_Long_All,M_Money_Positions_Short_All,"
    "Other_Rept_Positions_Long_All,Other_Rept_Positions_Short_All,NonRept_Positions_Long_All,"
    "NonRept_Positions_Short_All"
)


def cftc_zip() -> bytes:
    lines = [
        CFTC_HEADER,
        '"SOYBEAN OIL - CHICAGO BOARD OF TRADE",2024-01-09,007601,"520,000",90000,200000,80000,20000,'
        "70000,40000,30000,20000,25000,20000",
        '"SOYBEANS - CHICAGO BOARD OF TRADE",2024-01-09,005602,800000,1,2,3,4,5,6,7,8,9,10',
        '"WHEAT-SRW - CHICAGO BOARD OF TRADE",2024-01-09,001602,400000,1,2,3,4,5,6,7,8,9,10',
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("f_year.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()


def test_cftc_history_files_load_the_soy_complex_only(con, server, monkeypatch):
    monkeypatch.setenv("CBI_CFTC_BASE_URL", server.url)
    server.route("/fut_disagg_txt_2024.zip", Reply(200, cftc_zip()))
    run_connector(con, Cftc(["futures_only"]), WINDOW)
    loaded = rows(
        con,
        "select market_code, report_type, open_interest, managed_money_long, available_at "
        "from raw.cftc_cot_disaggregated order by 1",
    )
    assert loaded["market_code"].tolist() == ["ZL", "ZS"]
    assert loaded["open_interest"].tolist() == [520000, 800000]  # thousands separators handled
    assert loaded["available_at"].iloc[0] == pd.Timestamp("2024-01-12 20:30")  # Friday 15:30 ET
    server.route("/fut_disagg_txt_2024.zip", Reply(200, b"<html>not found</html>"))
    with pytest.raises(SourceError, match="not a zip archive"):
        run_connector(con, Cftc(["futures_only"]), WINDOW)


# ---------------------------------------------------------------- USDA
def test_usda_export_sales_total_and_china(con, server, monkeypatch):
    monkeypatch.setenv("USDA_FAS_API_KEY", "usda-key-xyz-000")
    monkeypatch.setenv("CBI_USDA_ESR_BASE_URL", server.url)
    records = [
        {
            "weekEndingDate": "2024-01-04T00:00:00",
            "countryCode": 5700,
            "weeklyExports": 1000,
            "currentMYNetSales": 500,
            "outstandingSales": 9000,
            "unitId": 1,
        },
        {
            "weekEndingDate": "2024-01-04T00:00:00",
            "countryCode": 2010,
            "weeklyExports": 300,
            "currentMYNetSales": -20,
            "outstandingSales": 1000,
            "unitId": 1,
        },
    ]
    server.route("/exports/commodityCode/801/allCountries/marketYear/2023", Reply(200, json.dumps(records)))
    run_connector(con, Usda(["soybeans"]), WINDOW)
    loaded = rows(
        con,
        "select destination, net_sales_mt, exports_mt, outstanding_sales_mt, available_at "
        "from raw.usda_export_sales order by 1",
    )
    assert loaded[["destination", "net_sales_mt", "exports_mt"]].values.tolist() == [
        ["ALL", 480, 1300],
        ["CHINA", 500, 1000],
    ]
    assert loaded["available_at"].iloc[0] == pd.Timestamp("2024-01-11 12:30")
    assert server.requests[0].headers["X-API-KEY"] == "usda-key-xyz-000"


def test_connectors_without_their_key_say_so(con, monkeypatch):
    monkeypatch.delenv("USDA_FAS_API_KEY", raising=False)
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    with pytest.raises(SourceError, match="usda: cannot run: USDA_FAS_API_KEY is not set"):
        run_connector(con, Usda(), WINDOW)
    with pytest.raises(SourceError, match="eia: cannot run: EIA_API_KEY is not set"):
        run_connector(con, Eia(), WINDOW)


# ---------------------------------------------------------------- EIA
def test_eia_pages_through_the_api(con, server, monkeypatch):
    monkeypatch.setenv("EIA_API_KEY", "eia-key-0001")
    monkeypatch.setenv("CBI_EIA_BASE_URL", server.url)
    page1 = {
        "response": {
            "total": 3,
            "data": [
                {"period": "2024-01-05", "value": "431.1", "units": "MBBL"},
                {"period": "2024-01-12", "value": "429.0", "units": "MBBL"},
            ],
        }
    }
    page2 = {"response": {"total": 3, "data": [{"period": "2024-01-19", "value": "420.7", "units": "MBBL"}]}}
    server.route("/petroleum/stoc/wstk/data/", Reply(200, json.dumps(page1)), Reply(200, json.dumps(page2)))
    run_connector(con, Eia(["crude_oil_stocks_ex_spr"]), WINDOW)
    loaded = rows(con, "select period_date, value, available_at from raw.eia_observations order by 1")
    assert loaded["value"].tolist() == [431.1, 429.0, 420.7]
    assert loaded["available_at"].iloc[0] == pd.Timestamp("2024-01-10 15:30")  # the Wednesday after
    assert [h.query["offset"] for h in server.hits("/petroleum/stoc/wstk/data/")] == [["0"], ["2"]]


# ---------------------------------------------------------------- EPA
def test_epa_rin_prices_wide_table(con, tmp_path):
    csv = tmp_path / "rin.csv"
    csv.write_text("Week Ending,D3,D4,D5,D6\n2024-01-05,$2.10,$0.95,$0.90,$0.80\n2024-01-12,2.05,0.97,0.9,-0.1\n")
    result = run_connector(con, Epa(csv), WINDOW)[0]
    loaded = rows(con, "select rin_type, week_ending_date, price_usd_per_rin from raw.epa_rin_prices order by 1, 2")
    assert sorted(loaded["rin_type"].unique()) == ["D3", "D4", "D5", "D6"]
    assert result.rows_rejected == 1  # the negative D6 price
    assert loaded.loc[loaded.rin_type == "D4", "price_usd_per_rin"].tolist() == [0.95, 0.97]


# ---------------------------------------------------------------- news
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Farm Policy News</title>
<item><title>Tariff talks resume</title><link>https://example.test/a</link><guid>a-1</guid>
<pubDate>Tue, 09 Jan 2024 14:00:00 GMT</pubDate><description>Soybean trade</description>
<category>Trade</category><category>China</category></item>
<item><title>No date here</title><link>https://example.test/b</link></item>
</channel></rss>"""


def test_news_feed_articles(con, server, monkeypatch):
    monkeypatch.setenv("CBI_NEWS_FEEDS", f"farm_policy_news={server.url}/feed/")
    server.route("/feed/", Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
    run_connector(con, News(), WINDOW)
    run_connector(con, News(), WINDOW)
    loaded = rows(con, "select feed, title, categories, published_at, available_at from raw.news_articles")
    assert loaded.values.tolist() == [
        [
            "farm_policy_news",
            "Tariff talks resume",
            "Trade|China",
            pd.Timestamp("2024-01-09 14:00"),
            pd.Timestamp("2024-01-09 14:00"),
        ]
    ]


# ---------------------------------------------------------------- keyless quotes
def test_quote_api_bars_are_a_continuous_series(con, server, monkeypatch):
    monkeypatch.setenv("CBI_QUOTES_BASE_URL", server.url)
    stamps = [
        int(pd.Timestamp(d, tz="America/Chicago").timestamp()) for d in ("2024-01-02", "2024-01-03", "2024-01-04")
    ]
    chart = {
        "chart": {
            "error": None,
            "result": [
                {
                    "meta": {"exchangeTimezoneName": "America/Chicago"},
                    "timestamp": stamps,
                    "indicators": {
                        "quote": [
                            {
                                "open": [47.0, 47.5, None],
                                "high": [48.0, 48.1, None],
                                "low": [46.5, 47.0, None],
                                "close": [47.6, 47.2, None],
                                "volume": [40000, 38000, None],
                            }
                        ]
                    },
                }
            ],
        }
    }
    server.route("/ZL=F", Reply(200, json.dumps(chart)))
    run_connector(con, Quotes(["ZL"]), WINDOW)
    loaded = rows(con, "select root, contract, trade_date, close from raw.futures_ohlcv_daily order by 3")
    assert loaded["contract"].unique().tolist() == ["ZL.c.0"]
    assert [d.isoformat() for d in loaded["trade_date"].dt.date] == ["2024-01-02", "2024-01-03"]


def test_a_source_error_keeps_earlier_batches(con, server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    server.route("/fredgraph.csv", Reply(200, FRED_CSV), Reply(503))
    with pytest.raises(SourceError):
        run_connector(con, Fred(["DGS10", "DGS2"]), WINDOW)
    assert rows(con, "select count(*) as n from raw.fred_observations")["n"].iloc[0] == 4
