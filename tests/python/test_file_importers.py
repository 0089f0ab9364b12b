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


#: The CFTC's disaggregated history header (the published column names, abridged to those CBI reads and a few
#: around them) and rows: soybean oil (007601), soybeans (005602) and wheat (001602, not read).
COT_HEADER = (
    "Market_and_Exchange_Names,As_of_Date_In_Form_YYMMDD,Report_Date_as_YYYY-MM-DD,CFTC_Contract_Market_Code,"
    "CFTC_Market_Code,Open_Interest_All,Prod_Merc_Positions_Long_All,Prod_Merc_Positions_Short_All,"
    "Swap_Positions_Long_All,Swap__Positions_Short_All,M_Money_Positions_Long_All,M_Money_Positions_Short_All,"
    "Other_Rept_Positions_Long_All,Other_Rept_Positions_Short_All,NonRept_Positions_Long_All,"
    "NonRept_Positions_Short_All,Contract_Units"
)
COT_ROWS = [
    '"SOYBEAN OIL - CHICAGO BOARD OF TRADE",231226,2023-12-26,007601,CBT,543210,120000,250000,30000,40000,'
    '90000,60000,20000,15000,30000,25000,"(CONTRACTS OF 60,000 POUNDS)"',
    '"SOYBEANS - CHICAGO BOARD OF TRADE",231226,2023-12-26,005602,CBT,"812,345",200000,300000,50000,60000,'
    '120000,90000,40000,35000,50000,45000,"(CONTRACTS OF 5,000 BUSHELS)"',
    '"WHEAT-SRW - CHICAGO BOARD OF TRADE",231226,2023-12-26,001602,CBT,400000,1,1,1,1,1,1,1,1,1,1,"(5,000 BU)"',
    '"SOYBEAN OIL - CHICAGO BOARD OF TRADE",231219,2023-12-19,007601,CBT,533210,110000,240000,30000,40000,'
    '80000,65000,20000,15000,30000,25000,"(CONTRACTS OF 60,000 POUNDS)"',
]


def test_cftc_history_files_as_published_zip_or_txt(tmp_path):
    import zipfile

    report = "\n".join([COT_HEADER, *COT_ROWS]) + "\n"
    with zipfile.ZipFile(tmp_path / "fut_disagg_txt_2023.zip", "w") as archive:
        archive.writestr("f_year.txt", report)
    (tmp_path / "c_year.txt").write_text(report.replace("543210", "643210"))
    db = tmp_path / "w.duckdb"
    for name in ("fut_disagg_txt_2023.zip", "c_year.txt"):
        result = invoke("ingest", "cftc", "--file", str(tmp_path / name), "--db", str(db))
        assert result.exit_code == 0, result.output
    rows = query(
        db,
        "select market_code, report_type, report_date, open_interest, managed_money_long, swap_short, available_at "
        "from raw.cftc_cot_disaggregated order by report_type, market_code, report_date",
    )
    assert [(r[0], r[1], str(r[2]), r[3], r[4], r[5], str(r[6])) for r in rows] == [
        ("ZL", "futures_and_options", "2023-12-19", 533210, 80000, 40000, "2023-12-22 20:30:00"),
        ("ZL", "futures_and_options", "2023-12-26", 643210, 90000, 40000, "2023-12-29 20:30:00"),
        ("ZS", "futures_and_options", "2023-12-26", 812345, 120000, 60000, "2023-12-29 20:30:00"),
        ("ZL", "futures_only", "2023-12-19", 533210, 80000, 40000, "2023-12-22 20:30:00"),
        ("ZL", "futures_only", "2023-12-26", 543210, 90000, 40000, "2023-12-29 20:30:00"),
        ("ZS", "futures_only", "2023-12-26", 812345, 120000, 60000, "2023-12-29 20:30:00"),
    ]
    # loading a file again changes nothing
    assert invoke("ingest", "cftc", "--file", str(tmp_path / "c_year.txt"), "--db", str(db)).exit_code == 0
    assert query(db, "select count(*) from raw.cftc_cot_disaggregated") == [(6,)]


def test_bad_cftc_files_fail_naming_the_file_and_what_is_wrong(tmp_path):
    db = tmp_path / "w.duckdb"
    (tmp_path / "positions.txt").write_text("\n".join([COT_HEADER, COT_ROWS[0]]) + "\n")
    result = invoke("ingest", "cftc", "--file", str(tmp_path / "positions.txt"), "--db", str(db))
    assert result.exit_code == 1 and "positions.txt" in result.stderr and "--report-type" in result.stderr
    result = invoke(
        "ingest", "cftc", "--file", str(tmp_path / "positions.txt"), "--report-types", "futures_only", "--db", str(db)
    )
    assert result.exit_code == 0, result.output
    (tmp_path / "f_year.txt").write_text("Market_and_Exchange_Names,Open_Interest_All\nX,1\n")
    result = invoke("ingest", "cftc", "--file", str(tmp_path / "f_year.txt"), "--db", str(db))
    assert result.exit_code == 1 and "f_year.txt" in result.stderr and "report_date_as_yyyy-mm-dd" in result.stderr
    (tmp_path / "fut_disagg_txt_2024.zip").write_bytes(b"<html>not found</html>")
    result = invoke("ingest", "cftc", "--file", str(tmp_path / "fut_disagg_txt_2024.zip"), "--db", str(db))
    assert result.exit_code == 1 and "fut_disagg_txt_2024.zip" in result.stderr


#: FAS ESR records as the API returns them (and its downloads hold): one market year, every country.
ESR_RECORDS = [
    {"commodityCode": 801, "countryCode": 5700, "weeklyExports": 1200000, "accumulatedExports": 9000000,
     "outstandingSales": 5000000, "grossNewSales": 800000, "currentMYNetSales": 700000,
     "currentMYTotalCommitment": 14000000, "nextMYOutstandingSales": 0, "nextMYNetSales": 0, "unitId": 1,
     "weekEndingDate": "2023-11-02T00:00:00"},
    {"commodityCode": 801, "countryCode": 2010, "weeklyExports": 300000, "accumulatedExports": 2000000,
     "outstandingSales": 1000000, "grossNewSales": 200000, "currentMYNetSales": -50000,
     "currentMYTotalCommitment": 3000000, "nextMYOutstandingSales": 0, "nextMYNetSales": 0, "unitId": 1,
     "weekEndingDate": "2023-11-02T00:00:00"},
]  # fmt: skip


def test_usda_esr_downloads_as_json_or_csv(tmp_path):
    import json

    (tmp_path / "usda_esr_soybeans_2023.json").write_text(json.dumps(ESR_RECORDS))
    oil = pd.DataFrame(ESR_RECORDS).assign(commodityCode=902, weeklyExports=[10000, 2000])
    oil.to_csv(tmp_path / "usda_esr_oil_2023.csv", index=False)
    db = tmp_path / "w.duckdb"
    for name in ("usda_esr_soybeans_2023.json", "usda_esr_oil_2023.csv"):
        result = invoke("ingest", "usda", "--file", str(tmp_path / name), "--db", str(db))
        assert result.exit_code == 0, result.output
    rows = query(
        db,
        "select commodity, destination, week_ending_date, net_sales_mt, exports_mt, outstanding_sales_mt, "
        "available_at from raw.usda_export_sales order by commodity, destination",
    )
    assert [(r[0], r[1], str(r[2]), r[3], r[4], r[5], str(r[6])) for r in rows] == [
        ("soybean_oil", "ALL", "2023-11-02", 650000.0, 12000.0, 6000000.0, "2023-11-09 12:30:00"),
        ("soybean_oil", "CHINA", "2023-11-02", 700000.0, 10000.0, 5000000.0, "2023-11-09 12:30:00"),
        ("soybeans", "ALL", "2023-11-02", 650000.0, 1500000.0, 6000000.0, "2023-11-09 12:30:00"),
        ("soybeans", "CHINA", "2023-11-02", 700000.0, 1200000.0, 5000000.0, "2023-11-09 12:30:00"),
    ]
    (tmp_path / "corn.json").write_text(json.dumps([{**ESR_RECORDS[0], "commodityCode": 401}]))
    result = invoke("ingest", "usda", "--file", str(tmp_path / "corn.json"), "--db", str(db))
    assert result.exit_code == 1 and "corn.json" in result.stderr and "commodityCode" in result.stderr
    (tmp_path / "usda_esr_bad.json").write_text('{"observations": []}')
    result = invoke("ingest", "usda", "--file", str(tmp_path / "usda_esr_bad.json"), "--db", str(db))
    assert result.exit_code == 1 and "usda_esr_bad.json" in result.stderr and "not a list" in result.stderr


def test_real_files_loads_cftc_and_usda_files_when_present(tmp_path):
    import json
    import zipfile

    macro = tmp_path / "real" / "macro"
    macro.mkdir(parents=True)
    with zipfile.ZipFile(macro / "fut_disagg_txt_2023.zip", "w") as archive:
        archive.writestr("f_year.txt", "\n".join([COT_HEADER, *COT_ROWS]) + "\n")
    (macro / "usda_esr_soybeans_2023.json").write_text(json.dumps(ESR_RECORDS))
    db = tmp_path / "real.duckdb"
    result = invoke("ingest", "real-files", str(tmp_path / "real"), "--db", str(db))
    assert result.exit_code == 0, result.output
    counts = query(
        db, "select (select count(*) from raw.cftc_cot_disaggregated), (select count(*) from raw.usda_export_sales)"
    )
    assert counts == [(3, 2)]
