"""Where `cbi backtest` keeps its runs: ml.backtest_predictions (the members' rows per refit, then the layers'),
ml.backtest_metrics and ml.backtest_var, keyed by run. One transaction per refit, so an interrupted run keeps
every completed refit and a re-run resumes after the last one."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

PREDICTIONS_DDL = """
create table if not exists ml.backtest_predictions (
    run_key varchar, refit integer, as_of_date date, horizon varchar, horizon_days integer, member varchar,
    fold integer, q10 double, q50 double, q90 double, y double, scale double, source varchar
)"""


def read_features(con: duckdb.DuckDBPyConnection, db: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The built training matrix and feature catalog; a clear exit when `dbt build` has not made them."""
    try:
        matrix = con.sql("select * from features.daily_ml_matrix_zl").df()
        catalog = con.sql("select * from features.feature_catalog").df()
    except duckdb.CatalogException as exc:
        raise SystemExit(f"no feature tables in {db}: run `dbt build` first ({exc})") from exc
    return matrix, catalog


def read_prices(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """ZL closes by as_of_date (for the report's fan chart)."""
    return con.sql("select as_of_date, zl_close_cents_per_lb from features.daily_ml_matrix_zl").df()


def done_refits(con: duckdb.DuckDBPyConnection, key: str) -> set[int]:
    """Create the predictions table if needed and return the refits of run `key` already stored."""
    con.execute("create schema if not exists ml")
    con.execute(PREDICTIONS_DDL)
    con.execute("alter table ml.backtest_predictions add column if not exists source varchar")  # older runs
    return {
        r[0]
        for r in con.execute(
            "select distinct refit from ml.backtest_predictions where run_key = ? and refit >= 0", [key]
        ).fetchall()
    }


def refit_writer(con: duckdb.DuckDBPyConnection, key: str) -> Callable[[int, pd.DataFrame], None]:
    """`store(refit, rows)` for the replay: one refit's member rows of run `key`, in one transaction."""

    def store(refit: int, rows: pd.DataFrame) -> None:
        """One transaction per refit: an interrupted run keeps every completed refit."""
        con.execute("begin transaction")
        con.execute("delete from ml.backtest_predictions where run_key = ? and refit = ?", [key, refit])
        if rows.empty:  # a marker, so that a resumed run does not redo a refit with nothing to predict
            con.execute("insert into ml.backtest_predictions (run_key, refit) values (?, ?)", [key, refit])
        else:
            con.register("_bt_rows", rows.assign(run_key=key, refit=refit))
            con.execute("insert into ml.backtest_predictions by name select * from _bt_rows")
            con.unregister("_bt_rows")
        con.execute("commit")

    return store


def stored_members(con: duckdb.DuckDBPyConnection, key: str) -> pd.DataFrame:
    """Every member row of run `key` (markers left out)."""
    return con.execute(
        "select * exclude (run_key, refit) from ml.backtest_predictions "
        "where run_key = ? and refit >= 0 and member is not null",
        [key],
    ).df()


def store_layers(con: duckdb.DuckDBPyConnection, key: str, layers: pd.DataFrame) -> None:
    """Replace the combination layers' rows of run `key` (stored as refit -1)."""
    con.register("_bt_layers", layers)
    con.execute("delete from ml.backtest_predictions where run_key = ? and refit = -1", [key])
    con.execute("insert into ml.backtest_predictions by name select * from _bt_layers")


def store_scores(con: duckdb.DuckDBPyConnection, key: str, meta: pd.DataFrame, var_table: pd.DataFrame) -> None:
    """Replace run `key`'s rows of ml.backtest_metrics (`meta`) and, if any, ml.backtest_var."""
    con.register("_bt_metrics", meta)
    con.execute("create table if not exists ml.backtest_metrics as select * from _bt_metrics where false")
    con.execute("delete from ml.backtest_metrics where run_key = ?", [key])
    con.execute("insert into ml.backtest_metrics by name select * from _bt_metrics")
    if not var_table.empty:
        con.register("_bt_var", var_table.assign(run_key=key))
        con.execute("create table if not exists ml.backtest_var as select * from _bt_var where false")
        con.execute("delete from ml.backtest_var where run_key = ?", [key])
        con.execute("insert into ml.backtest_var by name select * from _bt_var")
