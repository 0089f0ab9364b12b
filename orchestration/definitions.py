"""The one `Definitions` object: assets, jobs, schedules, resources. `dagster dev` loads it (`make ops`);
`cbi run ...` executes the same jobs in process (`orchestration.runs`).

Jobs (all on the in-process executor: one process writes the warehouse, steps run one after another):
- daily_forecast   raw pulled from the shared warehouse (CBI_SYNC_REMOTE, if set), incremental ingest of every
                   source, dbt build scoring with the serving models, forecast log, outcomes and monitors,
                   forecasts and ops pushed back;
- weekly_retrain   dbt build of the ML layer retraining every member with the production budget (fits as Ray
                   tasks when CBI_RAY_ADDRESS or the run's ray_address is set), the champion/challenger gate, push;
- data_quality     source freshness, the gates and load timeliness -> ops.data_quality_results;
- model_monitoring outcomes of past forecasts and the monitors -> ops.forecast_outcomes, ops.model_monitoring.
"""

import os
from pathlib import Path

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    Definitions,
    HookContext,
    RunFailureSensorContext,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    failure_hook,
    in_process_executor,
    run_failure_sensor,
    schedule,
)
from dagster_dbt import DbtCliResource, build_dbt_asset_selection

from cbi_core.calendar import EXCHANGE_TIMEZONE, chicago_date, is_trade_day
from orchestration import config as settings
from orchestration.alerts import Alerter
from orchestration.assets import (
    DBT_EXECUTABLE,
    DBT_PROJECT,
    INGEST_ASSETS,
    RAW_HISTORY,
    GateFailed,
    cbi_dbt,
    champion_challenger_gate,
    data_quality_results,
    forecast_log,
    forecast_outcomes,
    model_monitoring,
    sync_pull,
    sync_push,
)
from orchestration.config import retrain_config
from orchestration.resources import Warehouse, alerter, warehouse_lock


@failure_hook(required_resource_keys={"alerter"})
def alert_on_failure(context: HookContext) -> None:
    """One alert per failed step: which step and the error (a failed gate gets its own kind)."""
    error = context.op_exception
    kind = "gate_failed" if isinstance(error, GateFailed) else "step_failed"
    title = f"step {context.step_key} failed" if kind == "step_failed" else f"gates failed in {context.step_key}"
    detail = f"{type(error).__name__}: {error}" if error else "see the run log"
    context.resources.alerter(kind, title, detail[:3000])


@run_failure_sensor(name="alert_on_run_failure", default_status=DefaultSensorStatus.RUNNING)
def alert_on_run_failure(context: RunFailureSensorContext) -> None:
    """Runs launched by Dagster that failed outside any step (e.g. the warehouse stayed busy): one alert. A
    failed step has already alerted through `alert_on_failure`."""
    if context.get_step_failure_events():
        return
    run = context.dagster_run
    message = context.failure_event.message or "see the run log"
    Alerter(job=run.job_name, run_id=run.run_id)("run_failed", f"run of {run.job_name} failed", message[:3000])


def _job(name: str, selection, description: str, run_config: dict | None = None):
    return define_asset_job(
        name,
        selection=selection,
        description=description,
        executor_def=in_process_executor,
        hooks={alert_on_failure},
        config=run_config,
    )


ML_SELECTION = build_dbt_asset_selection([cbi_dbt], dbt_select="tag:ml")
MONITORS = AssetSelection.assets(forecast_outcomes, model_monitoring)
RETRAIN_CONFIG = retrain_config()

daily_forecast = _job(
    "daily_forecast",
    AssetSelection.assets(sync_pull, *INGEST_ASSETS)
    | AssetSelection.assets(cbi_dbt)
    | AssetSelection.assets(forecast_log)
    | MONITORS
    | AssetSelection.assets(sync_push),
    "Pull raw from the shared warehouse (if any), ingest every source incrementally, dbt build scoring with the "
    "serving models, log the forecasts, monitor, push forecasts and ops back.",
)
weekly_retrain = _job(
    "weekly_retrain",
    ML_SELECTION | AssetSelection.assets(champion_challenger_gate, sync_push),
    "Retrain every member with the production budget (as Ray tasks when CBI_RAY_ADDRESS is set); the new models "
    "serve only if not worse than the old; push forecasts and ops to the shared warehouse (if any).",
    {"ops": {"cbi_dbt": {"config": RETRAIN_CONFIG}, "ml__serving_models": {"config": RETRAIN_CONFIG}}},
)
data_quality = _job(
    "data_quality",
    AssetSelection.assets(data_quality_results),
    "Source freshness, the gates (dbt tests) and load timeliness in six dimensions -> ops.data_quality_results.",
)
model_monitoring_job = _job(
    "model_monitoring",
    MONITORS,
    "Join past forecasts to their outcomes; pinball vs random walks, coverage, VaR, drift -> ops.model_monitoring.",
)
JOBS = {job.name: job for job in (daily_forecast, weekly_retrain, data_quality, model_monitoring_job)}


def trade_date_schedule(job, cron: str, description: str):
    """A schedule in America/Chicago that requests a run only on CME trade dates."""

    @schedule(
        name=f"{job.name}_schedule",
        cron_schedule=cron,
        job=job,
        execution_timezone=EXCHANGE_TIMEZONE,
        description=description,
    )
    def _schedule(context: ScheduleEvaluationContext):
        day = chicago_date(context.scheduled_execution_time)
        if not is_trade_day(day):
            return SkipReason(f"{day} is not a CME trade date")
        return RunRequest(run_key=f"{job.name}-{day}", tags={"trade_date": day.isoformat()})

    return _schedule


weekly_schedule_description = "Sundays (not a trade date): retrain every member, then the champion/challenger gate."


@schedule(
    name="weekly_retrain_schedule",
    cron_schedule=settings.WEEKLY_RETRAIN_CRON,
    job=weekly_retrain,
    execution_timezone=EXCHANGE_TIMEZONE,
    description=weekly_schedule_description,
)
def weekly_retrain_schedule(context: ScheduleEvaluationContext):
    day = chicago_date(context.scheduled_execution_time)
    return RunRequest(run_key=f"weekly_retrain-{day}", tags={"week_of": day.isoformat()})


SCHEDULES = [
    trade_date_schedule(daily_forecast, settings.DAILY_FORECAST_CRON, "Trade dates after the close."),
    trade_date_schedule(model_monitoring_job, settings.MODEL_MONITORING_CRON, "Trade date mornings."),
    trade_date_schedule(data_quality, settings.DATA_QUALITY_CRON, "Hourly on trade dates."),
    weekly_retrain_schedule,
]

#: dbt is started through `dbt_child.py`, which the kernel kills when the run's process ends (kill -9 included).
DBT_CHILD = Path(__file__).with_name("dbt_child.py")
os.environ.setdefault("CBI_DBT_EXECUTABLE", str(DBT_EXECUTABLE))

RESOURCES = {
    "dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(DBT_CHILD)),
    "warehouse": Warehouse(),
    "warehouse_lock": warehouse_lock,
    "alerter": alerter,
}

defs = Definitions(
    assets=[
        *INGEST_ASSETS,
        *RAW_HISTORY,
        cbi_dbt,
        forecast_log,
        forecast_outcomes,
        model_monitoring,
        champion_challenger_gate,
        data_quality_results,
        sync_pull,
        sync_push,
    ],
    jobs=list(JOBS.values()),
    schedules=SCHEDULES,
    sensors=[alert_on_run_failure],
    resources=RESOURCES,
)

__all__ = ["AssetKey", "JOBS", "defs"]
