"""The asset graph, source to forecast, one module per job: `sync` (raw pulled first, forecasts and ops pushed
last), `ingest` (one multi-asset per source), `dbt` (every dbt node, tests as asset checks; the daily scoring and
the weekly retraining), `monitor` (forecast log, outcomes, monitors), `weekly` (the champion/challenger gate),
`quality` (freshness, gates, timeliness)."""

from orchestration.assets.dbt import DBT_EXECUTABLE, DBT_PROJECT, DbtBuildFailed, GateFailed, cbi_dbt
from orchestration.assets.ingest import INGEST_ASSETS, RAW_HISTORY
from orchestration.assets.monitor import forecast_log, forecast_outcomes, model_monitoring
from orchestration.assets.quality import data_quality_results
from orchestration.assets.sync import sync_pull, sync_push
from orchestration.assets.weekly import champion_challenger_gate

__all__ = [
    "DBT_EXECUTABLE",
    "DBT_PROJECT",
    "INGEST_ASSETS",
    "RAW_HISTORY",
    "DbtBuildFailed",
    "GateFailed",
    "cbi_dbt",
    "champion_challenger_gate",
    "data_quality_results",
    "forecast_log",
    "forecast_outcomes",
    "model_monitoring",
    "sync_pull",
    "sync_push",
]
