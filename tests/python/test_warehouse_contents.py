"""A warehouse knows what it holds (the simulated sample or real sources) and nothing mixes them: `cbi sample`
and the real loaders record it, each refuses the other's warehouse, and the daily job's ingest on a sample
warehouse goes to no network. A source that fails in a run is a warned step with its reason, not a "success"."""

from __future__ import annotations

import duckdb
import pytest
from fake_server import Reply
from typer.testing import CliRunner

from cbi.cli import app
from ingest.contents import REAL, SAMPLE, warehouse_contents

runner = CliRunner()
FRED_CSV = "observation_date,DGS10\n2024-01-02,3.95\n"


def contents(db) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return warehouse_contents(con)


def raw_counts(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        listed = con.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()
        tables = [r[0] for r in listed]
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}


@pytest.fixture
def sample_db(tmp_path):
    db = tmp_path / "sample.duckdb"
    result = runner.invoke(app, ["sample", "--start", "2024-01-02", "--end", "2024-02-29", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


@pytest.fixture
def fred(server, monkeypatch):
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/fredgraph.csv")
    monkeypatch.delenv("FRED_API_KEY", raising=False)
    server.route("/fredgraph.csv", Reply(200, FRED_CSV))
    return server


def test_the_sample_command_records_that_the_warehouse_holds_the_sample(sample_db):
    assert contents(sample_db) == {SAMPLE}


def test_a_real_load_into_a_sample_warehouse_is_refused_before_any_request(sample_db, fred):
    before = raw_counts(sample_db)
    result = runner.invoke(app, ["ingest", "fred", "--series", "DGS10", "--db", str(sample_db)])
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: cbi ingest fred: this warehouse holds the simulated offline sample")
    assert "Traceback" not in result.output
    assert fred.requests == [] and raw_counts(sample_db) == before and contents(sample_db) == {SAMPLE}


def test_a_real_load_records_real_data_and_the_sample_is_then_refused(tmp_path, fred):
    db = tmp_path / "real.duckdb"
    result = runner.invoke(app, ["ingest", "fred", "--series", "DGS10", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert contents(db) == {REAL}
    before = raw_counts(db)
    refused = runner.invoke(app, ["sample", "--start", "2024-01-02", "--end", "2024-01-31", "--db", str(db)])
    assert refused.exit_code == 1
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("error: cbi sample: this warehouse holds data from real sources")
    )
    assert raw_counts(db) == before


def _ingest(db, monkeypatch, source: str):
    """The daily job's ingest step of `source`, materialised alone with the jobs' resources."""
    from dagster import materialize

    from orchestration.assets.ingest import INGEST_ASSETS
    from orchestration.resources import Warehouse, alerter, warehouse_lock

    monkeypatch.setenv("CBI_DUCKDB_PATH", str(db))
    monkeypatch.delenv("CBI_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("CBI_ORCHESTRATED_SOURCES", raising=False)
    asset = next(a for a in INGEST_ASSETS if a.op.name == f"ingest_{source}")
    resources = {"warehouse": Warehouse(), "warehouse_lock": warehouse_lock, "alerter": alerter}
    return materialize([asset], resources=resources, raise_on_error=False)


def test_the_daily_ingest_on_a_sample_warehouse_goes_to_no_network(sample_db, fred, monkeypatch):
    from orchestration.runs import step_report

    monkeypatch.setenv("CBI_CFTC_BASE_URL", f"{fred.url}/cftc")
    before = raw_counts(sample_db)
    for source in ("fred", "cftc"):
        result = _ingest(sample_db, monkeypatch, source)
        assert result.success
        (row,) = step_report(result)
        assert row.status == "success"
        assert row.note.startswith("skipped: the warehouse holds the simulated sample")
    assert fred.requests == [] and raw_counts(sample_db) == before


def test_a_source_that_fails_in_a_run_is_a_warned_step_with_its_reason(tmp_path, server, monkeypatch):
    from orchestration.runs import step_report

    monkeypatch.setenv("CBI_CFTC_BASE_URL", f"{server.url}/cftc")  # nothing there: every request 404s
    result = _ingest(tmp_path / "real.duckdb", monkeypatch, "cftc")
    assert result.success  # the other sources and the build go on
    (row,) = step_report(result)
    assert row.step == "ingest_cftc" and row.status == "warned"
    assert row.note.startswith("cftc futures_only 2010: GET http://127.0.0.1") and "404" in row.note
    assert "Traceback" not in row.note and len(row.note) <= 160
