"""The ops tables the orchestration writes (schemas fixed in INTERFACES.md; the dashboard reads them) and the
warehouse I/O around the pure monitors: the forecast log, outcomes, monitoring, data quality, training audit.

Every value is bound as a parameter; only table names from this module are formatted into SQL.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cbi_ml.dataset import CLOSE_COLUMN, target_column

log = logging.getLogger(__name__)

DDL = {
    "job_runs": """
        create table if not exists ops.job_runs (
            run_id VARCHAR primary key, job VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, seconds DOUBLE,
            status VARCHAR, steps INTEGER, steps_warned INTEGER, steps_failed INTEGER, error VARCHAR)""",
    # Every forecast issued by a daily build, per model, as prices (cents/lb); VaR only for the final forecast.
    "forecast_log": """
        create table if not exists ops.forecast_log (
            as_of_date DATE, horizon VARCHAR, horizon_days INTEGER, target_date DATE, model VARCHAR,
            p10 DOUBLE, p50 DOUBLE, p90 DOUBLE, close DOUBLE, var_95_ret DOUBLE, var_99_ret DOUBLE,
            model_run_id VARCHAR, logged_at TIMESTAMP, primary key (as_of_date, horizon, model))""",
    "forecast_outcomes": """
        create table if not exists ops.forecast_outcomes (
            as_of_date DATE, horizon VARCHAR, target_date DATE, model VARCHAR, p10 DOUBLE, p50 DOUBLE,
            p90 DOUBLE, realised_price DOUBLE, pinball DOUBLE, covered_80 BOOLEAN, evaluated_at TIMESTAMP,
            primary key (as_of_date, horizon, model))""",
    "model_monitoring": """
        create table if not exists ops.model_monitoring (
            run_id VARCHAR, evaluated_at TIMESTAMP, horizon VARCHAR, model VARCHAR, window_days INTEGER,
            metric VARCHAR, value DOUBLE, threshold DOUBLE, status VARCHAR)""",
    "data_quality_results": """
        create table if not exists ops.data_quality_results (
            run_id VARCHAR, checked_at TIMESTAMP, dimension VARCHAR, check_name VARCHAR, target VARCHAR,
            status VARCHAR, observed DOUBLE, threshold DOUBLE, message VARCHAR)""",
    "training_runs": """
        create table if not exists ops.training_runs (
            run_id VARCHAR, member VARCHAR, horizon VARCHAR, fold INTEGER, rows INTEGER, seconds DOUBLE,
            validation_loss DOUBLE, best_model VARCHAR, budget VARCHAR, finished_at TIMESTAMP, status VARCHAR)""",
}
DIMENSIONS = ("freshness", "completeness", "validity", "uniqueness", "consistency", "timeliness")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def ensure_ops_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ops")
    for ddl in DDL.values():
        con.execute(ddl)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, replace: bool = False) -> int:
    if table not in DDL:
        raise ValueError(f"unknown ops table {table}")
    if frame.empty:
        return 0
    ensure_ops_tables(con)
    verb = "insert or replace" if replace else "insert"
    columns = ", ".join(frame.columns)
    con.register("_ops_frame", frame)
    try:
        con.execute(f"{verb} into ops.{table} ({columns}) select {columns} from _ops_frame")
    finally:
        con.unregister("_ops_frame")
    return len(frame)


def _relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return con.execute(query, [schema, name]).fetchone()[0] > 0


def log_forecasts(con: duckdb.DuckDBPyConnection, horizons: dict[str, int]) -> int:
    """Append the latest forecasts of every model (members, stack, ensemble, calibrated, final) to
    ops.forecast_log as prices; idempotent per (as_of_date, horizon, model)."""
    from cbi_ml.dataset import target_dates

    needed = [("ml", "l0_predictions"), ("ml", "ml_final_predictions"), ("features", "daily_ml_matrix_zl")]
    missing = [f"{s}.{n}" for s, n in needed if not _relation_exists(con, s, n)]
    if missing:
        log.warning("no forecasts to log: %s missing", ", ".join(missing))
        return 0
    latest = con.execute(
        "select as_of_date, horizon, horizon_days, member as model, q10, q50, q90, model_run_id "
        "from ml.l0_predictions where fold = -1 union all by name "
        "select as_of_date, horizon, horizon_days, member as model, q10, q50, q90, model_run_id "
        "from ml.ml_final_predictions where fold = -1"
    ).df()
    if latest.empty:
        return 0
    latest["as_of_date"] = pd.to_datetime(latest["as_of_date"]).dt.date
    closes = con.execute(f"select as_of_date, {CLOSE_COLUMN} as close from features.daily_ml_matrix_zl").df()
    closes["as_of_date"] = pd.to_datetime(closes["as_of_date"]).dt.date
    frame = latest.merge(closes, on="as_of_date", how="left")
    for q, p in (("q10", "p10"), ("q50", "p50"), ("q90", "p90")):
        frame[p] = frame["close"] * np.exp(frame[q].astype(float))
    frame["target_date"] = target_dates(frame["as_of_date"], frame["horizon_days"])
    if _relation_exists(con, "forecasts", "zl_risk"):
        risk = con.execute("select as_of_date, horizon, var_95_ret, var_99_ret from forecasts.zl_risk").df()
        risk["as_of_date"] = pd.to_datetime(risk["as_of_date"]).dt.date
        risk["model"] = "final"
        frame = frame.merge(risk, on=["as_of_date", "horizon", "model"], how="left")
    else:
        frame["var_95_ret"] = np.nan
        frame["var_99_ret"] = np.nan
    frame["logged_at"] = utcnow()
    frame = frame[frame["horizon"].isin(list(horizons))].drop_duplicates(
        ["as_of_date", "horizon", "model"], keep="last"
    )
    columns = [
        "as_of_date",
        "horizon",
        "horizon_days",
        "target_date",
        "model",
        "p10",
        "p50",
        "p90",
        "close",
        "var_95_ret",
        "var_99_ret",
        "model_run_id",
        "logged_at",
    ]
    return _insert(con, "forecast_log", frame[columns], replace=True)


def realised_outcomes(con: duckdb.DuckDBPyConnection, horizons: dict[str, int]) -> pd.DataFrame:
    """as_of_date, horizon, realised_return (the model's own target: h-day log return of the back-adjusted
    series) and realised_price (the as_of close moved by that return, comparable with the forecast prices)."""
    if not _relation_exists(con, "features", "daily_ml_matrix_zl"):
        return pd.DataFrame(columns=["as_of_date", "horizon", "realised_return", "realised_price"])
    columns = ", ".join(f"{target_column(int(d))}" for d in horizons.values())
    matrix = con.execute(f"select as_of_date, {CLOSE_COLUMN} as close, {columns} from features.daily_ml_matrix_zl").df()
    parts = []
    for horizon, days in horizons.items():
        ret = matrix[target_column(int(days))].astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "as_of_date": pd.to_datetime(matrix["as_of_date"]).dt.date,
                    "horizon": horizon,
                    "realised_return": ret,
                    "realised_price": matrix["close"].astype(float) * np.exp(ret),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out[out["realised_return"].notna()]


def forecast_log(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    if not _relation_exists(con, "ops", "forecast_log"):
        return pd.DataFrame()
    frame = con.execute("select * exclude (logged_at, model_run_id) from ops.forecast_log").df()
    frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    return frame


def store_outcomes(con: duckdb.DuckDBPyConnection, outcomes: pd.DataFrame) -> int:
    from orchestration.monitoring import OUTCOME_COLUMNS

    frame = outcomes[OUTCOME_COLUMNS].copy()
    frame["evaluated_at"] = utcnow()
    return _insert(con, "forecast_outcomes", frame, replace=True)


def store_monitoring(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, run_id: str) -> int:
    frame = rows.copy()
    frame.insert(0, "evaluated_at", utcnow())
    frame.insert(0, "run_id", run_id)
    return _insert(con, "model_monitoring", frame)


def store_data_quality(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, run_id: str) -> int:
    bad = sorted(set(rows["dimension"]) - set(DIMENSIONS)) if len(rows) else []
    if bad:
        raise ValueError(f"data quality dimension(s) {bad} not in {DIMENSIONS}")
    frame = rows.copy()
    frame.insert(0, "checked_at", utcnow())
    frame.insert(0, "run_id", run_id)
    return _insert(con, "data_quality_results", frame)


def store_training_log(con: duckdb.DuckDBPyConnection, log_file: Path) -> int:
    """Copy the fits recorded in `log_file` (JSON lines written by `cbi_ml.audit` as each fit ends) into
    ops.training_runs; fits already there are skipped, so this is idempotent."""
    if not log_file.is_file():
        return 0
    records = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    if not records:
        return 0
    frame = pd.DataFrame.from_records(records)
    frame["finished_at"] = pd.to_datetime(frame["finished_at"])
    ensure_ops_tables(con)
    seen = con.execute("select run_id, member, horizon, fold from ops.training_runs").df()
    if len(seen):
        key = ["run_id", "member", "horizon", "fold"]
        frame = frame.merge(seen.assign(_seen=True), on=key, how="left")
        frame = frame[frame["_seen"].isna()].drop(columns="_seen")
    columns = [
        "run_id",
        "member",
        "horizon",
        "fold",
        "rows",
        "seconds",
        "validation_loss",
        "best_model",
        "budget",
        "finished_at",
        "status",
    ]
    return _insert(con, "training_runs", frame[columns])


def store_job_run(con: duckdb.DuckDBPyConnection, run: dict) -> int:
    """One orchestrated run (`orchestration.runs.execute`): job, times, status, step counts, first error."""
    return _insert(con, "job_runs", pd.DataFrame([run]), replace=True)
