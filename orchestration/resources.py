"""Run-scoped resources: the one-writer run lock and the run's alerter. The jobs use the in-process executor,
so each is set up once per run, before the first step, and torn down after the last."""

from __future__ import annotations

import logging
from pathlib import Path

from dagster import Field, InitResourceContext, resource

from cbi_core.snapshot import SnapshotError, publish_snapshot
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
        try:
            yield info
        finally:
            # The run's writes end here: readers (dashboard, docs) get a fresh snapshot before the lock goes.
            _publish(db_path, init_context)


def _publish(db_path, init_context: InitResourceContext) -> None:
    if str(db_path).startswith("md:") or not Path(db_path).is_file():
        return
    try:
        init_context.log.info(f"published snapshot {publish_snapshot(Path(db_path))}")
    except SnapshotError as exc:  # the run's own outcome stands; the readers keep the previous snapshot
        init_context.log.error(f"snapshot not published: {exc}")


@resource(description="Posts this run's alerts (each once) to CBI_ALERT_WEBHOOK_URL, or logs them.")
def alerter(init_context: InitResourceContext) -> Alerter:
    run = init_context.dagster_run
    return Alerter(job=run.job_name, run_id=run.run_id)
