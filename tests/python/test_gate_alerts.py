"""Alerts people can act on: a failed gate names its failing rows (column=value, the date among them), read back
through the test's compiled SQL; a source never loaded says so instead of "NaT". Pure Python and DuckDB."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd
import pytest

from orchestration import failing_rows, quality

COMPILED = "\nselect observation_date, series_id, value\nfrom main.fred_observations\nwhere value is null\n"
TEST_ID = "test.cbi.not_null_fred_observations_value.abc123"


@pytest.fixture
def con():
    with duckdb.connect(":memory:") as con:
        con.execute("create table fred_observations (observation_date date, series_id varchar, value double)")
        con.execute(
            "insert into fred_observations values ('2024-01-02', 'DGS10', 3.9), ('2024-01-03', 'DGS10', null), "
            "('2024-01-04', 'DGS2', null), ('2024-01-05', 'DGS2', null), ('2024-01-08', 'DGS2', null)"
        )
        yield con


def run_results(status: str = "fail") -> dict:
    return {
        "results": [
            {
                "unique_id": TEST_ID,
                "status": status,
                "failures": 4,
                "message": "Got 4 results, configured to fail if != 0",
                "compiled_code": COMPILED,
            }
        ]
    }


def test_the_gate_alert_names_the_first_failing_rows(con):
    from orchestration.assets.dbt import GateFailed, raise_on_failures

    examples = failing_rows.failing_examples(con, run_results())
    assert examples[TEST_ID] == (
        "observation_date=2024-01-03, series_id=DGS10, value=null; "
        "observation_date=2024-01-04, series_id=DGS2, value=null; "
        "observation_date=2024-01-05, series_id=DGS2, value=null"
    )
    with pytest.raises(GateFailed) as failed:
        raise_on_failures(run_results(), examples)
    assert "not_null_fred_observations_value: Got 4 results" in str(failed.value)
    assert "(failing rows: observation_date=2024-01-03, series_id=DGS10, value=null;" in str(failed.value)


def test_the_quality_run_quotes_failing_rows_and_an_unreadable_test_quotes_nothing(con):
    examples = failing_rows.failing_examples(con, run_results("warn"))
    rows = quality.from_test_results(run_results("warn"), {}, examples)
    assert rows["message"].iloc[0].endswith("; failing rows: " + examples[TEST_ID])
    broken = {"results": [{**run_results()["results"][0], "compiled_code": "select * from nowhere"}]}
    assert failing_rows.failing_examples(con, broken) == {}


def test_a_source_never_loaded_says_so_rather_than_nat():
    runs = pd.DataFrame(
        {
            "source": ["fred", "cftc"],
            "status": ["success", "failed"],
            "started_at": pd.to_datetime(["2024-06-28 22:00", "2024-06-28 22:05"]),
            "finished_at": pd.to_datetime(["2024-06-28 22:01", "2024-06-28 22:06"]),
        }
    )
    rows = quality.timeliness(runs, datetime(2024, 6, 29, 10, 0), 30.0).set_index("target")
    assert rows.loc["cftc", "message"] == "cftc: no successful load recorded; latest attempt failed"
    assert rows.loc["fred", "message"] == "fred: last successful load 2024-06-28 22:01 UTC (12 h ago)"
    assert "NaT" not in " ".join(rows["message"])


def test_with_the_tested_column_known_only_it_the_dates_and_keys_are_quoted(con):
    con.execute("alter table fred_observations add column note varchar default 'x'")
    nodes = {TEST_ID: {"column_name": "value"}}
    compiled = "select * from main.fred_observations where value is null"
    results = {"results": [{**run_results()["results"][0], "compiled_code": compiled}]}
    assert failing_rows.failing_examples(con, results, nodes)[TEST_ID].startswith(
        "observation_date=2024-01-03, series_id=DGS10, value=null; "
    )
    assert "note=" not in failing_rows.failing_examples(con, results, nodes)[TEST_ID]
