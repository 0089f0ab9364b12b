"""Run-scoped resources: the one-writer run lock and the run's alerter. The jobs use the in-process executor,
so each is set up once per run, before the first step, and torn down after the last."""

from __future__ import annotations

import logging

from dagster import Field, InitResourceContext, resource

from ingest.settings import duckdb_path
from orchestration.alerts import Alerter
from orchestration.config import LOCK_WAIT_S
from orchestration.lock import run_lock

log = logging.getLogger(__name__)


@resource(
    config_schema={
        "wait_s": Field(float, default_value=LOCK_WAIT_S, description="Seconds to wait for another run's lock.")
    },
    description="Holds <warehouse>.run.json for the whole run: one writer at a time.",
)
def warehouse_lock(init_context: InitResourceContext):
    run = init_context.dagster_run
    db_path = duckdb_path()
    with run_lock(db_path, run.job_name, run.run_id, init_context.resource_config["wait_s"]) as info:
        init_context.log.info(f"run lock taken on {db_path}")
        yield info
        # The run's writes end here: the published snapshot belongs at this point, before the lock is released.


@resource(description="Posts this run's alerts (each once) to CBI_ALERT_WEBHOOK_URL, or logs them.")
def alerter(init_context: InitResourceContext) -> Alerter:
    run = init_context.dagster_run
    return Alerter(job=run.job_name, run_id=run.run_id)
