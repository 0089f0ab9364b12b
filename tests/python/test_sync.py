"""`cbi sync`: raw down from, forecasts/ops up to, a shared warehouse — tested between two local DuckDB files
through the same ATTACH path MotherDuck uses (MotherDuck itself is unreachable from the test machine)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from cbi.cli import app
from ingest.contracts import RAW_TABLES
from ingest.load import upsert
from ingest.sample import generate_sample
from ingest.sync import SyncError, check_remote, push
from ingest.sync_pull import pull

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_frames() -> dict[str, pd.DataFrame]:
    return generate_sample("2023-01-02", "2023-03-31", 11)


def _load(db: Path, frames: dict[str, pd.DataFrame]) -> None:
    with duckdb.connect(str(db)) as con:
        for name, frame in frames.items():
            upsert(con, name, frame)


def _rows(db: Path, table: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        frame = con.execute(f"select * from {table}").df()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_pull_copies_every_raw_table_and_a_second_pull_changes_nothing(tmp_path, sample_frames):
    remote, local = tmp_path / "shared.duckdb", tmp_path / "local.duckdb"
    _load(remote, sample_frames)

    first = pull(str(local), str(remote))
    pulled = {r.table for r in first if r.status == "loaded"}
    assert {f"raw.{name}" for name in sample_frames} <= pulled
    for name in sample_frames:
        data = list(RAW_TABLES[name].columns)
        pd.testing.assert_frame_equal(_rows(local, f"raw.{name}")[data], _rows(remote, f"raw.{name}")[data])

    second = pull(str(local), str(remote))
    assert {r.status for r in second} == {"unchanged"}
    assert sum(r.rows_written for r in second) == 0


def test_pull_keeps_the_contract_key_so_local_loads_still_merge(tmp_path, sample_frames):
    remote, local = tmp_path / "shared.duckdb", tmp_path / "local.duckdb"
    _load(remote, {"futures_ohlcv_daily": sample_frames["futures_ohlcv_daily"]})
    pull(str(local), str(remote))
    with duckdb.connect(str(local)) as con:
        constraints = con.execute(
            "select count(*) from duckdb_constraints() where table_name = 'futures_ohlcv_daily'"
            " and constraint_type = 'PRIMARY KEY'"
        ).fetchone()[0]
        result = upsert(con, "futures_ohlcv_daily", sample_frames["futures_ohlcv_daily"])
    assert constraints == 1
    assert (result.rows_inserted, result.rows_updated) == (0, 0)


def test_pull_replaces_only_the_table_that_changed_upstream(tmp_path, sample_frames):
    remote, local = tmp_path / "shared.duckdb", tmp_path / "local.duckdb"
    _load(remote, sample_frames)
    pull(str(local), str(remote))
    with duckdb.connect(str(remote)) as con:
        con.execute("update raw.fred_observations set value = value + 1 where series_id = 'DGS10'")

    statuses = {r.table: r.status for r in pull(str(local), str(remote))}
    assert statuses["raw.fred_observations"] == "loaded"
    assert {s for t, s in statuses.items() if t != "raw.fred_observations"} == {"unchanged"}
    data = list(RAW_TABLES["fred_observations"].columns)
    local_rows, remote_rows = _rows(local, "raw.fred_observations"), _rows(remote, "raw.fred_observations")
    pd.testing.assert_frame_equal(local_rows[data], remote_rows[data])
    assert len(_rows(local, "raw.fred_observations_history")) > 0  # the replaced values are kept


def _local_outputs(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create schema forecasts; create schema ops")
        con.execute(
            "create table forecasts.zl_predictions as select * from (values"
            " ('2024-01-02'::date, '1w', 50.1, 51.0, 52.2), ('2024-01-02'::date, '1m', 48.0, 51.0, 54.0))"
            " t(as_of_date, horizon, p10, p50, p90)"
        )
        con.execute(
            "create table ops.training_runs as select * from (values ('r1', 'main', '1w', 12.5)) t(run_id, member,"
            " horizon, seconds)"
        )


def test_push_replaces_forecasts_and_appends_ops_without_deleting_remote_rows(tmp_path):
    local, remote = tmp_path / "train.duckdb", tmp_path / "shared.duckdb"
    _local_outputs(local)
    with duckdb.connect(str(remote)) as con:
        con.execute("create schema ops")
        con.execute("create table ops.training_runs (run_id varchar, member varchar, horizon varchar, seconds double)")
        con.execute("insert into ops.training_runs values ('remote-run', 'har', '3m', 1.0)")

    first = {r.table: r for r in push(str(local), str(remote))}
    assert first["forecasts.zl_predictions"].status == "copied"
    assert first["ops.training_runs"].rows_written == 1
    pd.testing.assert_frame_equal(_rows(remote, "forecasts.zl_predictions"), _rows(local, "forecasts.zl_predictions"))
    assert set(_rows(remote, "ops.training_runs")["run_id"]) == {"r1", "remote-run"}

    second = push(str(local), str(remote))
    assert {r.status for r in second} == {"unchanged"}
    assert len(_rows(remote, "ops.training_runs")) == 2

    with duckdb.connect(str(local)) as con:
        con.execute("update forecasts.zl_predictions set p50 = 60 where horizon = '1w'")
    push(str(local), str(remote))
    assert _rows(remote, "forecasts.zl_predictions").set_index("horizon").loc["1w", "p50"] == 60


def test_a_table_that_cannot_be_copied_is_left_as_it_was_and_named(tmp_path):
    local, remote = tmp_path / "train.duckdb", tmp_path / "shared.duckdb"
    _local_outputs(local)
    push(str(local), str(remote))
    with duckdb.connect(str(local)) as con:
        con.execute("alter table forecasts.zl_predictions add column forecast_method varchar")
        con.execute("update forecasts.zl_predictions set p50 = 99")
    before = _rows(remote, "forecasts.zl_predictions")

    with pytest.raises(SyncError, match=r"forecasts\.zl_predictions.*forecast_method"):
        push(str(local), str(remote))
    pd.testing.assert_frame_equal(_rows(remote, "forecasts.zl_predictions"), before)


def test_names_and_paths_with_quotes_are_data_not_sql(tmp_path):
    local, remote = tmp_path / "train.duckdb", tmp_path / "O'Brien; drop table x.duckdb"
    _local_outputs(local)
    hostile = 'x"; drop table forecasts.zl_predictions; --'
    with duckdb.connect(str(local)) as con:
        con.execute(f'create table forecasts."{hostile.replace(chr(34), chr(34) * 2)}" as select 1 as a')

    tables = {r.table for r in push(str(local), str(remote))}
    assert f"forecasts.{hostile}" in tables
    with duckdb.connect(str(remote), read_only=True) as con:
        names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert {"zl_predictions", "training_runs", hostile} <= names


def test_a_bad_remote_is_refused_with_one_clear_error(tmp_path):
    with pytest.raises(SyncError, match="does not exist"):
        check_remote(str(tmp_path / "missing.duckdb"), must_exist=True)
    with pytest.raises(SyncError, match="directory"):
        check_remote(str(tmp_path), must_exist=False)
    with pytest.raises(SyncError, match="md:<name>"):
        check_remote("md:cbi'; drop", must_exist=False)
    assert check_remote("md:cbi_prod", must_exist=True) == "md:cbi_prod"


def test_cli_pull_and_push_report_and_fail_cleanly(tmp_path, sample_frames):
    remote, local = tmp_path / "shared.duckdb", tmp_path / "local.duckdb"
    _load(remote, {"fred_observations": sample_frames["fred_observations"]})

    ok = runner.invoke(app, ["sync", "pull", "--remote", str(remote), "--db", str(local)])
    assert ok.exit_code == 0, ok.output
    assert "raw.fred_observations" in ok.output and "loaded" in ok.output
    assert set(RAW_TABLES) >= {"fred_observations"}

    missing = runner.invoke(app, ["sync", "pull", "--remote", str(tmp_path / "nope.duckdb"), "--db", str(local)])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    assert "Traceback" not in missing.output

    pushed = runner.invoke(app, ["sync", "push", "--remote", str(tmp_path / "up.duckdb"), "--db", str(local)])
    assert pushed.exit_code == 0, pushed.output
