"""Every orchestration setting in one place: schedules, thresholds, budgets, waits.

Secrets (the alert webhook) come from the environment only; the warehouse path from `CBI_DUCKDB_PATH`
(`cbi_core.settings.duckdb_path`), as for the CLI and dbt.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Cron schedules, on the exchange clock (`cbi_core.calendar.EXCHANGE_TIMEZONE`, America/Chicago). The daily
#: ones fire on CME trade dates only (`cbi_core.calendar`).
DAILY_FORECAST_CRON = "0 18 * * 1-5"  # after the close and the 20:00 UTC settlement
MODEL_MONITORING_CRON = "0 7 * * 1-5"  # the morning after: a re-check that does not depend on the forecast run
DATA_QUALITY_CRON = "15 * * * 1-5"  # hourly
WEEKLY_RETRAIN_CRON = "0 2 * * 0"  # Sunday night, when nothing else runs

#: The daily job ingests every source of `ingest.sources.CONNECTORS` incrementally. One that cannot run here
#: (no key, no URL) is skipped with one log line; `CBI_ORCHESTRATED_SOURCES=fred,cftc` narrows the list, `none`
#: empties it.
SOURCES_ENV = "CBI_ORCHESTRATED_SOURCES"

#: The weekly retrain's budget: docs/methodology.md "Training budget", production column (`retrain: always` is added).
PRODUCTION_BUDGET: dict[str, object] = {
    "time_limit_s": 1800,
    "model_families": "GBM,CAT,RF,XT,NN_TORCH",
    "preset": "high_quality",
    "oof_folds": 8,
    "ts_val_windows": 8,
}


def retrain_config(budget: dict | None = None, artifacts_dir: str = "", ray_address: str = "") -> dict:
    """The dbt build config of a retraining run (the weekly schedule's and `cbi run weekly`'s): `budget` (default:
    `PRODUCTION_BUDGET`, its one home) as a map; `orchestration.assets.dbt.dbt_vars` serialises it, once, for dbt."""
    return {
        "retrain": "always",
        "budget": dict(PRODUCTION_BUDGET if budget is None else budget),
        "artifacts_dir": artifacts_dir,
        "ray_address": ray_address,
    }


#: Shared warehouse (docs/scale_out.md): with `CBI_SYNC_REMOTE` set (`md:<database>` or a DuckDB file),
#: the daily job pulls `raw` from it before ingesting and building, and the daily and weekly jobs push
#: `forecasts` and `ops` up to it at the end (`ingest.sync`). Unset: both steps log one line and do nothing.
SYNC_REMOTE_ENV = "CBI_SYNC_REMOTE"

#: Scale-out (docs/scale_out.md): the weekly retrain's fits run as Ray tasks on the cluster at
#: `CBI_RAY_ADDRESS` (`auto`, `local`, `ray://host:port`; `cbi_ml.distributed`), else serially in the dbt process.
#: A run's `ray_address` config (`cbi run weekly --ray-address`) overrides the environment.
RAY_ADDRESS_ENV = "CBI_RAY_ADDRESS"

#: Alerts: a Slack-compatible incoming webhook; unset -> log only.
ALERT_WEBHOOK_ENV = "CBI_ALERT_WEBHOOK_URL"
ALERT_TIMEOUT_S = 5.0  # per attempt (connect and read)
ALERT_DEADLINE_S = 20.0  # one alert, all its attempts and waits, wall clock; a run never waits on a webhook longer
ALERT_DEADLINE_ENV = "CBI_ALERT_DEADLINE"  # tests set a short one
ALERT_RETRIES = 3  # attempts after the first
ALERT_BACKOFF_S = 1.0  # doubled after each failed attempt
ALERT_BACKOFF_ENV = "CBI_ALERT_BACKOFF"  # tests make backoff fast

#: How long an orchestrated run waits for another run (the run lock) to finish before giving up, and how often
#: `cbi run` checks whether a process holding the DuckDB file has let it go (`orchestration.runs`).
LOCK_WAIT_S = 6 * 3600.0
LOCK_POLL_S = 2.0


@dataclass(frozen=True)
class Band:
    """`warn` and `alert` limits of one metric; `higher_is_worse` says in which direction they bite."""

    warn: float
    alert: float
    higher_is_worse: bool = True

    def status(self, value: float) -> str:
        if value != value:  # NaN: nothing to judge
            return "ok"
        if self.higher_is_worse:
            return "alert" if value > self.alert else "warn" if value > self.warn else "ok"
        return "alert" if value < self.alert else "warn" if value < self.warn else "ok"

    def threshold(self) -> float:
        return self.alert


@dataclass(frozen=True)
class Thresholds:
    """Monitoring thresholds (the one home of every band)."""

    windows: tuple[int, ...] = (63, 252)  # evaluated forecasts (trading days of as_of_date) per rolling window
    min_rows: int = 20  # fewer evaluated forecasts in a window: no figure
    pinball_ratio_rw: Band = Band(warn=1.05, alert=1.15)  # model pinball / the better random walk's
    kupiec_p: Band = Band(warn=0.05, alert=0.01, higher_is_worse=False)  # 80% coverage, non-overlapping rows
    coverage_level: float = 0.8
    var_levels: tuple[float, ...] = (0.95, 0.99)
    basel_zone: Band = Band(warn=0.5, alert=1.5)  # 0 green, 1 yellow, 2 red
    psi: Band = Band(warn=0.10, alert=0.25)  # population stability index per feature group (mean over features)
    psi_bins: int = 10
    psi_reference_days: int = 756  # training window: the last rows the serving models saw
    psi_current_days: int = 63
    # The drift band of each group comes from its own history (monitoring.drift_band): the PSI of every past
    # window, stepping back this many rows, up to the serving models' training end; the alert limit is this
    # quantile of it (warn: the other), never below `psi`; with fewer past windows than psi_min_history, `psi`.
    # bench/monitor_replay.py measures the alerts a month this gives on the real futures.
    psi_history_step: int = 21
    psi_warn_quantile: float = 0.90
    psi_alert_quantile: float = 0.99
    psi_min_history: int = 12
    random_walks: tuple[str, ...] = ("rw_ewma", "rw_empirical")
    # The forecast the desk receives. Only its pinball, coverage and VaR figures alert; every other model's (the
    # members, stack, ensemble, calibrated: the final layer's inputs, which it already judges against the random
    # walk) warn at most. bench/monitor_replay.py --forecasts: on the sample's out-of-fold forecasts the members
    # put pinball and coverage in alert ~3 times a month each, the served forecast < 0.25.
    served_models: tuple[str, ...] = ("final",)
    retrain_noise_se: float = 2.0  # challenger worse by more than this many SEs (EWC, skill_ratio_se): rejected
    ingest_timeliness_hours: float = 30.0  # data quality: last successful load of a source older than this


THRESHOLDS = Thresholds()
