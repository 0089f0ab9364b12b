"""`cbi ingest fred|eia|epa|news --file` and `cbi ingest real-files DIR`, on small files the tests write."""

from __future__ import annotations

import gzip

import duckdb
import pandas as pd
from typer.testing import CliRunner

from cbi.cli import app

cli = CliRunner()


def invoke(*args: str):
    return cli.invoke(app, list(args))


def query(db, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_fred_files_in_both_shapes_series_from_name_or_option(tmp_path):
    db = tmp_path / "w.duckdb"
    (tmp_path / "fred_DGS10.csv").write_text("observation_date,value\n2024-01-02,3.95\n2024-01-03,3.91\n")
    (tmp_path / "download.csv").write_text("observation_date,DGS2\n2024-01-02,4.33\n2024-01-03,.\n")
    (tmp_path / "mine.csv").write_text("observation_date,value\n2024-01-01,300.1\n2024-02-01,301.5\n")
    assert invoke("ingest", "fred", "--file", str(tmp_path / "fred_DGS10.csv"), "--db", str(db)).exit_code == 0
    result = invoke("ingest", "fred", "--file", str(tmp_path / "download.csv"), "--db", str(db))
    assert result.exit_code == 0, result.output
    result = invoke("ingest", "fred", "--file", str(tmp_path / "mine.csv"), "--series", "CPIAUCSL", "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = query(db, "select series_id, observation_date, value, available_at from raw.fred_observations order by 1, 2")
    assert [(r[0], str(r[1]), r[2]) for r in rows] == [
        ("CPIAUCSL", "2024-01-01", 300.1),
        ("CPIAUCSL", "2024-02-01", 301.5),
        ("DGS10", "2024-01-02", 3.95),
        ("DGS10", "2024-01-03", 3.91),
        ("DGS2", "2024-01-02", 4.33),
        ("DGS2", "2024-01-03", None),
    ]
    assert rows[0][3] == pd.Timestamp("2024-02-13 12:30")  # CPI: its release calendar, not the file date
    assert rows[2][3] == pd.Timestamp("2024-01-03 15:00")  # daily: the next business day
    again = invoke("ingest", "fred", "--file", str(tmp_path / "fred_DGS10.csv"), "--db", str(db))
    assert again.exit_code == 0
    assert query(db, "select rows_inserted, rows_updated from ops.ingest_runs order by started_at desc limit 1") == [
        (0, 0)
    ]  # idempotent


def test_a_fred_file_outside_the_catalogue_gets_the_rule_of_its_frequency(tmp_path):
    db = tmp_path / "w.duckdb"
    path = tmp_path / "fred_EXCHUS.csv"
    path.write_text("observation_date,value\n2024-01-01,7.1\n2024-02-01,7.2\n2024-03-01,7.15\n")
    assert invoke("ingest", "fred", "--file", str(path), "--db", str(db)).exit_code == 0
    available = query(db, "select min(available_at) from raw.fred_observations")[0][0]
    assert available > pd.Timestamp("2024-02-01")  # a monthly average is known after its month, not next day


def test_bad_fred_files_fail_with_the_file_named(tmp_path):
    db = tmp_path / "w.duckdb"
    no_name = tmp_path / "rates.csv"
    no_name.write_text("observation_date,value\n2024-01-02,3.95\n")
    result = invoke("ingest", "fred", "--file", str(no_name), "--db", str(db))
    assert result.exit_code == 1 and "cannot tell the series from the file name 'rates.csv'" in result.stderr
    unordered = tmp_path / "fred_DGS10.csv"
    unordered.write_text("observation_date,value\n2024-01-03,3.95\n2024-01-02,3.9\n")
    result = invoke("ingest", "fred", "--file", str(unordered), "--db", str(db))
    assert result.exit_code == 1
    assert "fred file fred_DGS10.csv: field 'observation_date' file line 3" in result.stderr
    evil = tmp_path / "x.csv"
    evil.write_text("observation_date,value\n2024-01-02,1\n")
    result = invoke("ingest", "fred", "--file", str(evil), "--series", "A'; drop table x; --", "--db", str(db))
    assert result.exit_code == 1 and "is not a valid series id" in result.stderr


def test_eia_files_map_codes_to_cbi_series_with_their_calendar(tmp_path):
    db = tmp_path / "w.duckdb"
    (tmp_path / "eia_WCESTUS1.csv").write_text("observation_date,value\n2024-01-05,431100\n2024-01-12,inf\n")
    (tmp_path / "eia_RWTC_daily.csv").write_text("observation_date,value\n2024-01-02,70.38\n2024-01-03,72.7\n")
    args = [
        "ingest",
        "eia",
        "--file",
        str(tmp_path / "eia_WCESTUS1.csv"),
        "--file",
        str(tmp_path / "eia_RWTC_daily.csv"),
    ]
    result = invoke(*args, "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "eia file eia_WCESTUS1.csv: field 'value' file line 3" in result.stderr  # quarantined, named
    rows = query(db, "select series_id, frequency, value, units, available_at from raw.eia_observations order by 1, 5")
    assert [r[:4] for r in rows] == [
        ("crude_oil_stocks_ex_spr", "weekly", 431100.0, "MBBL"),
        ("rwtc", "daily", 70.38, "USD/BBL"),
        ("rwtc", "daily", 72.7, "USD/BBL"),
    ]
    assert rows[0][4] == pd.Timestamp("2024-01-10 15:30")  # weekly petroleum: the Wednesday after
    assert rows[1][4] == pd.Timestamp("2024-01-10 15:30")  # daily spot: out the Wednesday after its week


EMTS = (
    "transfer_week,transfer_year,rin_year,d_code,qap_service_type,rin_price_usd,source_file\n"
    "2022-01-03,2022,2022,D4,Unverified,1.50,RIN_prices_2022.csv\n"  # line 2: chosen
    "2022-01-03,2022,2021,D4,Unverified,1.40,RIN_prices_2022.csv\n"  # last year's RINs: not this price
    "2022-01-03,2022,2022,D4,QAP-A,1.55,RIN_prices_2022.csv\n"  # a QAP type: not when unverified exists
    "2022-01-03,2022,2022,D6,QAP-A,1.20,RIN_prices_2022.csv\n"  # no unverified D6: average of the others
    "2022-01-03,2022,2022,D6,QAP-B,1.30,RIN_prices_2022.csv\n"
    "2022-01-03,2022,2022,D4,Unverified,1.51,RIN_prices_2023.csv\n"  # the later export wins
    "2022-01-10,2022,2022,D4,Unverified,-1,RIN_prices_2023.csv\n"  # line 8: quarantined
)


def test_epa_emts_export_keeps_one_price_a_week_and_code(tmp_path):
    db = tmp_path / "w.duckdb"
    path = tmp_path / "epa_rin_prices_weekly.csv"
    path.write_text(EMTS)
    result = invoke("ingest", "epa", "--file", str(path), "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = query(db, "select rin_type, week_ending_date, price_usd_per_rin from raw.epa_rin_prices order by 1, 2")
    assert [(r[0], str(r[1]), round(r[2], 4)) for r in rows] == [("D4", "2022-01-03", 1.51), ("D6", "2022-01-03", 1.25)]
    assert query(db, "select row_number, row_kind, field from ops.quarantine") == [
        (8, "file line", "price_usd_per_rin")
    ]


def test_news_headline_files(tmp_path):
    db = tmp_path / "w.duckdb"
    a = tmp_path / "news_soybeansandcorn_headlines_only.csv"
    a.write_text(
        'date,source,headline\n2014-01-07,scorn,Brazilian Farmers Advised\n2014-01-08,scorn,"Harvest, Dry"\n'
        "not-a-date,scorn,Lost\n"
    )
    b = tmp_path / "news_cepea_en_headlines_only.csv"
    b.write_text("date,source,commodity,headline\n2007-04-02,cepea,Soy,Prices firm\n")
    result = invoke("ingest", "news", "--file", str(a), "--file", str(b), "--db", str(db))
    assert result.exit_code == 0, result.output
    rows = query(db, "select feed, published_at, title, categories, available_at from raw.news_articles order by 2")
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("cepea_en", "Prices firm", "Soy"),
        ("soybeansandcorn", "Brazilian Farmers Advised", None),
        ("soybeansandcorn", "Harvest, Dry", None),
    ]
    assert rows[1][4] == pd.Timestamp("2014-01-08")  # dated without a time: known by the end of its day
    assert query(db, "select row_number, field from ops.quarantine") == [(4, "published_at")]
    again = invoke("ingest", "news", "--file", str(a), "--file", str(b), "--db", str(db))
    assert again.exit_code == 0
    assert query(db, "select count(*) from raw.news_articles") == [(3,)]


def test_real_files_builds_a_warehouse_from_a_folder(tmp_path):
    real = tmp_path / "real"
    macro = real / "macro"
    macro.mkdir(parents=True)
    with gzip.open(real / "futures_daily_contracts.csv.gz", "wt") as f:
        f.write("root,contract,trade_date,open,high,low,close,volume\nZL,ZLH24,2024-01-02,47,48,46,47.5,100\n")
    (macro / "fred_DGS10.csv").write_text("observation_date,value\n2024-01-02,3.95\n")
    (macro / "eia_WDISTUS1.csv").write_text("observation_date,value\n2024-01-05,120000\n")
    (macro / "epa_rin_prices_weekly.csv").write_text(EMTS)
    (macro / "news_x_headlines_only.csv").write_text("date,source,headline\n2024-01-02,x,Soy oil rallies\n")
    (macro / "PROVENANCE.md").write_text("not data\n")
    db = tmp_path / "real.duckdb"
    result = invoke("ingest", "real-files", str(real), "--db", str(db))
    assert result.exit_code == 0, result.output
    counts = query(
        db,
        "select (select count(*) from raw.futures_ohlcv_daily), (select count(*) from raw.fred_observations), "
        "(select count(*) from raw.eia_observations), (select count(*) from raw.epa_rin_prices), "
        "(select count(*) from raw.news_articles)",
    )
    assert counts == [(1, 1, 1, 2, 1)]
    sources = query(db, "select source, status from ops.ingest_runs where parent_run_id is null order by 1")
    assert sources == [
        ("eia", "success"),
        ("epa", "partial"),
        ("fred", "success"),
        ("futures", "success"),
        ("news", "success"),
    ]
    result = invoke("ingest", "real-files", str(tmp_path / "nowhere"), "--db", str(db))
    assert result.exit_code == 1 and "is not a directory" in result.stderr
