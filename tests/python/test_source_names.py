"""One name per source: a source is what data (`futures`, `fred`, ...), a connector where it comes from (`quotes`,
`databento`, `file`, the source's own service). `ops.ingest_runs` records both, the CLI and its messages say
both, and rows an older CBI recorded under a connector's name move to `connector` (idempotently)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from fake_server import Reply
from typer.testing import CliRunner

from cbi.cli import app
from ingest.contracts import RAW_TABLES
from ingest.load import ensure_schemas
from ingest.sources import CONNECTORS
from ingest.sources.base import describe, source_of
from ingest.sources.cftc import CftcFiles
from ingest.sources.databento_api import DatabentoApi
from ingest.sources.epa import Epa
from ingest.sources.file_importers import EiaFiles, FredFiles, NewsFiles
from ingest.sources.futures_files import FuturesFiles
from ingest.sources.quotes import Quotes
from ingest.sources.usda import UsdaFiles

cli = CliRunner()
FILE_IMPORTERS = {
    "futures": FuturesFiles,
    "fred": FredFiles,
    "eia": EiaFiles,
    "news": NewsFiles,
    "cftc": CftcFiles,
    "usda": UsdaFiles,
    "epa": Epa,
}


def test_every_connector_names_the_source_it_loads(monkeypatch):
    monkeypatch.delenv("DATABENTO_API_KEY", raising=False)
    for name, spec in CONNECTORS.items():
        assert source_of(spec.build()) == name == RAW_TABLES[spec.table].source
    for name, importer in FILE_IMPORTERS.items():
        connector = importer([Path("x.csv")])
        assert (source_of(connector), connector.name, describe(connector)) == (name, "file", f"{name} (file)")
    assert describe(Quotes(["ZL"])) == "futures (quotes)"
    assert describe(DatabentoApi(["ZL"])) == "futures (databento)"
    assert describe(CONNECTORS["fred"].build()) == "fred"
    assert describe(Epa()) == "epa"


def _chart() -> dict:
    stamp = int(pd.Timestamp("2024-01-02", tz="America/Chicago").timestamp())
    quote = {"open": [47.0], "high": [48.0], "low": [46.5], "close": [47.6], "volume": [40000]}
    return {"chart": {"error": None, "result": [{"timestamp": [stamp], "indicators": {"quote": [quote]}}]}}


def test_a_quotes_load_is_recorded_as_the_futures_source_through_the_quotes_connector(tmp_path, server, monkeypatch):
    monkeypatch.setenv("CBI_QUOTES_BASE_URL", server.url)
    server.route("/ZL=F", Reply(200, json.dumps(_chart())))
    db = str(tmp_path / "w.duckdb")
    args = ["ingest", "futures", "--quotes", "--roots", "ZL", "--start", "2024-01-01", "--end", "2024-01-05"]
    result = cli.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, result.output
    with duckdb.connect(db, read_only=True) as con:
        runs = con.execute("select source, connector, target_table, status from ops.ingest_runs").fetchall()
        contents = con.execute("select * from ops.warehouse_contents").df().to_string()
    assert sorted(runs) == [
        ("futures", "quotes", "raw.futures_ohlcv_daily", "success"),  # the batch
        ("futures", "quotes", "raw.futures_ohlcv_daily", "success"),  # the run
    ]
    assert "cbi ingest futures" in contents and "cbi ingest quotes" not in contents  # a command that exists
    shown = cli.invoke(app, ["runs", "--db", db])
    assert shown.exit_code == 0, shown.output
    header = shown.output.splitlines()[0].split()
    assert header[:2] == ["source", "connector"]
    assert [line.split()[:2] for line in shown.output.splitlines()[1:3]] == [["futures", "quotes"]] * 2


def test_a_connector_that_cannot_run_is_named_with_its_source(tmp_path, server, monkeypatch):
    monkeypatch.setenv("CBI_QUOTES_BASE_URL", server.url)
    result = cli.invoke(app, ["ingest", "futures", "--quotes", "--roots", "Z_L", "--db", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 1
    assert server.requests == []
    assert result.stderr.strip().splitlines()[-1].startswith("error: futures (quotes): cannot run: invalid root")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("select source, connector, status from ops.ingest_runs").fetchall() == [
            ("futures", "quotes", "failed")
        ]


OLD_RUNS = [  # what CBI recorded before the connector column: the futures loads under their connector's name
    ("r1", "quotes", "raw.futures_ohlcv_daily", "success", None),
    ("r2", "futures", "raw.futures_ohlcv_daily", "success", "r1"),
    ("r3", "databento", "raw.futures_ohlcv_daily", "failed", None),
    ("r4", "fred", "raw.fred_observations", "success", None),
    ("r5", "futures", "raw.futures_ohlcv_daily", "success", None),  # a file load
]


@pytest.fixture
def old_warehouse(tmp_path) -> str:
    db = str(tmp_path / "old.duckdb")
    with duckdb.connect(db) as con:
        con.execute("create schema ops")
        con.execute(
            "create table ops.ingest_runs (run_id varchar primary key, source varchar not null, target_table "
            "varchar not null, started_at timestamp not null, finished_at timestamp, rows_read bigint, "
            "rows_inserted bigint, rows_updated bigint, rows_rejected bigint, status varchar not null, "
            "error varchar)"
        )
        for i, (run_id, source, table, status, _) in enumerate(OLD_RUNS):
            con.execute(
                "insert into ops.ingest_runs (run_id, source, target_table, started_at, status) "
                "values (?, ?, ?, timestamp '2024-01-01' + to_minutes(?::bigint), ?)",
                [run_id, source, table, i, status],
            )
    return db


def test_rows_recorded_under_a_connector_name_move_to_connector_once_and_keep_their_history(old_warehouse):
    sql = "select run_id, source, connector, target_table, started_at, status from ops.ingest_runs order by run_id"
    with duckdb.connect(old_warehouse) as con:
        before = con.execute("select * from ops.ingest_runs order by run_id").df()
        ensure_schemas(con)
        once = con.execute(sql).fetchall()
        ensure_schemas(con)
        twice = con.execute(sql).fetchall()
    assert once == twice  # idempotent
    assert [(r[0], r[1], r[2]) for r in once] == [
        ("r1", "futures", "quotes"),
        ("r2", "futures", None),
        ("r3", "futures", "databento"),
        ("r4", "fred", None),
        ("r5", "futures", None),
    ]
    # nothing else changed: every run, its table, time and status are kept
    assert [(r[0], r[3], pd.Timestamp(r[4]), r[5]) for r in once] == [
        (r.run_id, r.target_table, r.started_at, r.status) for r in before.itertuples()
    ]
