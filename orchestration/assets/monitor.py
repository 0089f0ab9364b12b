"""The forecast log (daily job) and the monitors (monitor and daily jobs): outcomes of past forecasts, rolling
pinball against the random walks, coverage, VaR exceptions and feature drift."""

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, Config, MaterializeResult, ResourceParam, asset

from cbi_core.lock import LockInfo
from orchestration import monitor_alerts, monitoring, ops_tables
from orchestration.alerts import Alerter
from orchestration.assets.dbt import artifacts_dir, dbt_key, forecast_horizons, has_relation
from orchestration.config import THRESHOLDS
from orchestration.resources import Warehouse


@asset(
    key=AssetKey(["ops", "forecast_log"]),
    group_name="monitoring",
    deps=[dbt_key("zl_risk"), dbt_key("ml_final_predictions"), dbt_key("l0_predictions")],
    description="Every forecast a daily build issued, per model, as prices (kept for the monitors).",
)
def forecast_log(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    with warehouse.connect() as con:
        logged = ops_tables.log_forecasts(con, forecast_horizons())
    return MaterializeResult(metadata={"rows_logged": logged})


@asset(
    key=AssetKey(["ops", "forecast_outcomes"]),
    group_name="monitoring",
    deps=[AssetKey(["ops", "forecast_log"]), dbt_key("daily_ml_matrix_zl")],
    description="Every logged forecast whose target date has passed, joined to its outcome.",
)
def forecast_outcomes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    with warehouse.connect() as con:
        logged = ops_tables.forecast_log(con)
        if logged.empty:
            return MaterializeResult(metadata={"rows_evaluated": 0})
        outcomes = monitoring.join_outcomes(logged, ops_tables.realised_outcomes(con, forecast_horizons()))
        stored = ops_tables.store_outcomes(con, outcomes)
    return MaterializeResult(metadata={"rows_evaluated": stored})


def previous_run(con) -> pd.DataFrame:
    """The figures of the latest monitoring run stored so far (empty: none)."""
    if not has_relation(con, "ops", "model_monitoring"):
        return pd.DataFrame(columns=[*monitor_alerts.KEY, "status"])
    sql = """
        select horizon, model, window_days, metric, status from ops.model_monitoring
        where run_id = (select run_id from ops.model_monitoring order by evaluated_at desc limit 1)
    """
    return con.execute(sql).df()


class MonitorConfig(Config):
    """The saved models' folder (their last training label ends the drift reference window)."""

    artifacts_dir: str = ""


@asset(
    key=AssetKey(["ops", "model_monitoring"]),
    group_name="monitoring",
    deps=[AssetKey(["ops", "forecast_outcomes"]), dbt_key("feature_catalog")],
    description="Rolling pinball vs the random walks, 80% coverage (Kupiec), VaR exceptions (Basel), PSI drift.",
)
def model_monitoring(
    context: AssetExecutionContext,
    config: MonitorConfig,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    from cbi_ml.members.artifacts import load_state, serving_state

    horizons = forecast_horizons()
    with warehouse.connect() as con:
        outcomes = (
            con.execute("select * from ops.forecast_outcomes").df()
            if has_relation(con, "ops", "forecast_outcomes")
            else pd.DataFrame()
        )
        logged = ops_tables.forecast_log(con)
        frames = []
        if not outcomes.empty:
            extra = logged[["as_of_date", "horizon", "model", "var_95_ret", "var_99_ret"]]
            outcomes["as_of_date"] = pd.to_datetime(outcomes["as_of_date"]).dt.date
            realised = ops_tables.realised_outcomes(con, horizons)[["as_of_date", "horizon", "realised_return"]]
            outcomes = outcomes.merge(extra, on=["as_of_date", "horizon", "model"], how="left").merge(
                realised, on=["as_of_date", "horizon"], how="left"
            )
            frames.append(monitoring.forecast_metrics(outcomes, horizons, THRESHOLDS))
        if has_relation(con, "features", "daily_ml_matrix_zl") and has_relation(con, "features", "feature_catalog"):
            matrix = con.execute("select * from features.daily_ml_matrix_zl").df()
            catalog = con.execute("select feature_name, bucket from features.feature_catalog").df()
            models = artifacts_dir(config.artifacts_dir)
            state = serving_state(models, "main", load_state(models, "main"))
            train_end = pd.Timestamp(state.last_labelled_date) if state else None
            frames.append(monitoring.feature_drift(matrix, catalog, train_end, THRESHOLDS))
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=monitoring.MONITORING_COLUMNS)
        previous = previous_run(con)
        stored = ops_tables.store_monitoring(con, rows[monitoring.MONITORING_COLUMNS], context.run_id)
    since = ops_tables.utcnow().date().isoformat()
    for kind, lines in monitor_alerts.new_alerts(rows, previous, since).items():
        alerter(kind, *monitor_alerts.message(kind, lines))
    counts = rows["status"].value_counts().to_dict() if len(rows) else {}
    return MaterializeResult(metadata={"rows": stored, **{f"status_{k}": int(v) for k, v in counts.items()}})
