"""An orchestration job executed in process (what `cbi run` and the tests call; no Dagster daemon needed).
With DAGSTER_HOME set, the runs land in the same history `make ops` shows.

A run holds the warehouse's run lock (`cbi_core.lock`), taken before Dagster starts the run so a busy
warehouse is one clear `WarehouseBusy`; `wait_s` queues it behind the run that holds it instead.
"""

from __future__ import annotations

import json
import os
import uuid

from cbi_core.lock import run_lock
from cbi_core.settings import duckdb_path
from orchestration.config import PRODUCTION_BUDGET


def run_config(
    job: str, wait_s: float, artifacts_dir: str = "", budget: dict | None = None, ray_address: str = ""
) -> dict:
    """The run config of `job` as `cbi run` and the tests execute it."""
    config: dict = {"resources": {"warehouse_lock": {"config": {"wait_s": float(wait_s)}}}}
    build = {"artifacts_dir": artifacts_dir}
    if job == "daily_forecast":
        config["ops"] = {
            "cbi_dbt": {"config": {**build, "retrain": "never"}},
            "ops__model_monitoring": {"config": build},
        }
    elif job == "model_monitoring":
        config["ops"] = {"ops__model_monitoring": {"config": build}}
    elif job == "weekly_retrain":
        weekly = {
            **build,
            "retrain": "always",
            "budget_json": json.dumps(budget or PRODUCTION_BUDGET),
            "ray_address": ray_address,
        }
        config["ops"] = {"cbi_dbt": {"config": weekly}, "ml__serving_models": {"config": weekly}}
    return config


def execute(job: str, wait_s: float = 0.0, artifacts_dir: str = "", budget: dict | None = None, ray_address: str = ""):
    """Execute `job` in process; returns the Dagster result. Raises `WarehouseBusy` when the lock is held."""
    run_id = str(uuid.uuid4())
    # Taken here, before Dagster is even loaded, so a busy warehouse is one clear error at once (the run's own
    # lock resource finds the lock already held by its run id).
    with run_lock(duckdb_path(), job, run_id, wait_s):
        from dagster import DagsterInstance

        from orchestration.definitions import defs

        instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
        return defs.resolve_job_def(job).execute_in_process(
            run_config=run_config(job, wait_s, artifacts_dir, budget, ray_address),
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
        )
