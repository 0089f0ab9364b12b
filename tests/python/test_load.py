"""The one load path: validation with clear errors, idempotent upserts, atomic failures, run records."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from ingest.contracts import FRED_OBSERVATIONS
from ingest.load import LoadError, upsert, validate_frame


def fred_rows(values=(1.0, 2.0, 3.0)) -> pd.DataFrame:
    dates = pd.date_range("2024-01-02", periods=len(values), freq="B")
    return pd.DataFrame(
        {
            "series_id": "DGS10",
            "observation_date": dates.date,
            "value": list(values),
            "available_at": dates + pd.Timedelta(days=1, hours=15),
            "realtime_start": (dates + pd.Timedelta(days=1)).date,
        }
    )


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "t.duckdb")) as connection:
        yield connection


def table_state(con) -> pd.DataFrame:
    return con.sql("select * from raw.fred_observations order by observation_date").df()


def test_rerunning_a_load_adds_and_changes_nothing(con):
    first = upsert(con, "fred_observations", fred_rows())
    before = table_state(con)
    second = upsert(con, "fred_observations", fred_rows())
    assert (first.rows_inserted, first.rows_updated) == (3, 0)
    assert (second.rows_inserted, second.rows_updated) == (0, 0)
    pd.testing.assert_frame_equal(before, table_state(con))  # even _loaded_at/_run_id are untouched


def test_changed_values_replace_only_their_rows(con):
    first = upsert(con, "fred_observations", fred_rows((1.0, 2.0, 3.0)))
    result = upsert(con, "fred_observations", fred_rows((1.0, 2.5, 3.0)))
    assert (result.rows_inserted, result.rows_updated) == (0, 1)
    state = table_state(con)
    assert state["value"].tolist() == [1.0, 2.5, 3.0]
    assert state["_run_id"].tolist() == [first.run_id, result.run_id, first.run_id]


def test_every_run_is_recorded(con):
    upsert(con, "fred_observations", fred_rows())
    upsert(con, "fred_observations", fred_rows())
    runs = con.sql(
        "select source, target_table, rows_read, rows_inserted, status from ops.ingest_runs order by started_at"
    ).df()
    assert runs["status"].tolist() == ["success", "success"]
    assert runs["rows_inserted"].tolist() == [3, 0]
    assert set(runs["target_table"]) == {"raw.fred_observations"}


def bad_value_rows() -> pd.DataFrame:
    bad = fred_rows((4.0, 5.0, 6.0))
    bad["value"] = bad["value"].astype(object)
    bad.loc[2, "value"] = "n/a"
    return bad


def test_a_bad_row_is_quarantined_naming_source_field_and_row(con):
    result = upsert(con, "fred_observations", bad_value_rows())
    assert (result.rows_inserted, result.rows_rejected) == (2, 1)
    quarantined = con.sql("select row_number, field, value, reason, record_json from ops.quarantine").df()
    assert quarantined[["row_number", "field", "value"]].values.tolist() == [[3, "value", "n/a"]]
    assert "not a valid DOUBLE" in quarantined["reason"].iloc[0]
    assert '"series_id": "DGS10"' in quarantined["record_json"].iloc[0]  # the whole input row is kept
    run = con.sql("select status, rows_rejected, error from ops.ingest_runs").df()
    assert run["status"].tolist() == ["partial"] and run["rows_rejected"].tolist() == [1]
    assert "fred: field 'value' data row 3" in run["error"].iloc[0]


def test_strict_mode_rejects_the_whole_frame_and_keeps_what_was_loaded(con):
    upsert(con, "fred_observations", fred_rows())
    before = table_state(con)
    with pytest.raises(LoadError, match=r"fred: field 'value' data row 3: not a valid DOUBLE \(got 'n/a'\)"):
        upsert(con, "fred_observations", bad_value_rows(), strict=True)
    pd.testing.assert_frame_equal(before, table_state(con))
    failed = con.sql("select status, rows_rejected from ops.ingest_runs where status = 'failed'").df()
    assert failed["rows_rejected"].tolist() == [3]


def test_revised_values_are_kept_as_history(con):
    first = upsert(con, "fred_observations", fred_rows((1.0, 2.0, 3.0)))
    second = upsert(con, "fred_observations", fred_rows((1.0, 2.5, 3.0)))
    history = con.sql("select value, _run_id, _superseded_by_run_id from raw.fred_observations_history").df()
    assert history.values.tolist() == [[2.0, first.run_id, second.run_id]]


def test_prices_must_be_positive_and_high_above_low(con):
    bars = pd.DataFrame(
        {
            "root": ["ZL"] * 3,
            "contract": ["ZLN24"] * 3,
            "trade_date": pd.to_datetime(["2024-06-03", "2024-06-04", "2024-06-05"]).date,
            "open": [45.0, 45.0, 45.0],
            "high": [46.0, 46.0, 44.0],
            "low": [44.0, 44.0, 45.5],
            "close": [45.5, 0.0, 45.0],
            "volume": [1000, 1000, 1000],
            "open_interest": [None, None, None],
            "available_at": pd.to_datetime(["2024-06-03 20:00", "2024-06-04 20:00", "2024-06-05 20:00"]),
        }
    )
    result = upsert(con, "futures_ohlcv_daily", bars)
    assert result.rows_inserted == 1
    assert result.rejects[["row_number", "field"]].values.tolist() == [[2, "close"], [3, "high"]]


def test_duplicate_keys_and_missing_fields_are_rejected():
    rows = fred_rows()
    dupes = pd.concat([rows, rows.iloc[[1]]], ignore_index=True)
    clean, rejects = validate_frame(dupes, FRED_OBSERVATIONS)
    assert len(clean) == 3 and rejects["row_number"].tolist() == [4]
    assert rejects["reason"].iloc[0].startswith("duplicate key")
    with pytest.raises(LoadError, match=r"missing field\(s\) \['realtime_start'\]"):
        validate_frame(rows.drop(columns="realtime_start"), FRED_OBSERVATIONS)
    empty_key = rows.copy()
    empty_key.loc[0, "series_id"] = None
    _, rejects = validate_frame(empty_key, FRED_OBSERVATIONS)
    assert rejects[["row_number", "field", "reason"]].values.tolist() == [
        [1, "series_id", "key field is empty (got 'None')"]
    ]


def test_a_failure_inside_the_transaction_rolls_back(con):
    upsert(con, "fred_observations", fred_rows((1.0, 2.0, 3.0)))
    # Narrow the column so that a valid-looking value overflows at insert time, after the merge has already
    # deleted the rows it is about to replace: only a rollback can bring them back.
    con.execute("alter table raw.fred_observations alter column value set data type decimal(4, 1)")
    before = table_state(con)
    with pytest.raises(LoadError, match="fred: load into raw.fred_observations failed"):
        upsert(con, "fred_observations", fred_rows((1.5, 2.5, 123456.0)))
    pd.testing.assert_frame_equal(before, table_state(con))
