"""`cbi runs` lists the orchestrated job runs (daily, weekly, quality, monitor) with status and duration before the
loads, and every error there stays on one readable line."""

from __future__ import annotations

from datetime import datetime

import duckdb
from typer.testing import CliRunner

from cbi.cli import app
from ingest.load import ensure_schemas, finish_run, start_run
from orchestration import ops_tables
from orchestration.runs import StepRow, job_run_row

runner = CliRunner()
T0, T1 = datetime(2024, 6, 28, 23, 0, 0), datetime(2024, 6, 28, 23, 1, 12)


def test_a_run_with_a_source_that_failed_is_warned_with_that_error():
    steps = [
        StepRow("sync__pull", "success"),
        StepRow("ingest_cftc", "warned", "cftc futures_only 2010: GET http://x failed: 404"),
        StepRow("cbi_dbt", "success"),
    ]
    row = job_run_row("daily_forecast", "r1", T0, T1, True, steps)
    assert row["status"] == "warned" and row["seconds"] == 72.0
    assert (row["steps"], row["steps_warned"], row["steps_failed"]) == (3, 1, 0)
    assert row["error"] == "ingest_cftc: cftc futures_only 2010: GET http://x failed: 404"
    failed = job_run_row("data_quality", "r2", T0, T1, False, [StepRow("ops__data_quality_results", "failed", "x")])
    assert failed["status"] == "failed" and failed["error"] == "ops__data_quality_results: x"


def test_cbi_runs_shows_job_runs_then_loads_with_errors_on_one_line(tmp_path):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        ensure_schemas(con)
        run_id = start_run(con, "fred", "raw.fred_observations")
        finish_run(con, run_id, "failed", "fred DGS10: GET failed\nTraceback (most recent call last):\n" + "x" * 300)
        ops_tables.store_job_run(con, job_run_row("daily_forecast", "r1", T0, T1, True, [StepRow("s", "success")]))
        ops_tables.store_job_run(
            con, job_run_row("model_monitoring", "r2", T1, T1, False, [StepRow("ops__model_monitoring", "failed", "y")])
        )
    result = runner.invoke(app, ["runs", "--db", str(db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("job runs (ops.job_runs):") < out.index("loads (ops.ingest_runs):")
    assert "daily_forecast" in out and "72.0" in out and "model_monitoring" in out and "failed" in out
    error_line = next(line for line in out.splitlines() if "fred DGS10" in line)
    assert "Traceback" in error_line and "xxxx…" in error_line  # one line, cut at the width
    assert len(error_line.split("fred DGS10")[1]) < 70
