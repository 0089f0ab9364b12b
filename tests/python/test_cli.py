"""The `cbi` command line, driven as a user would."""

from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from cbi.cli import app

runner = CliRunner()


def test_sample_command_loads_every_raw_table_idempotently(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    args = ["sample", "--start", "2023-01-03", "--end", "2023-03-31", "--db", db]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    with duckdb.connect(db) as con:
        counts = con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0]
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    with duckdb.connect(db) as con:
        assert con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0] == counts > 0
        runs = con.sql(
            "select rows_inserted from ops.ingest_runs where target_table = 'raw.futures_ohlcv_daily' "
            "order by started_at"
        ).fetchall()
    assert [r[0] for r in runs] == [counts, 0]


def test_forecasts_command_prints_the_latest_table(built_warehouse):
    result = runner.invoke(app, ["forecasts", "--db", str(built_warehouse)])
    assert result.exit_code == 0, result.output
    for label in ("1w", "1m", "3m", "6m", "P10", "P90"):
        assert label in result.output


def test_forecasts_command_explains_a_missing_build(tmp_path):
    db = str(tmp_path / "empty.duckdb")
    duckdb.connect(db).close()
    result = runner.invoke(app, ["forecasts", "--db", db])
    assert result.exit_code == 1
    assert "dbt build" in result.output
