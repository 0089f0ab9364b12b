"""Run-scoped resources: the warehouse, the one-writer run lock and the run's alerter. The jobs use the
in-process executor, so each is set up once per run, before the first step, and torn down after the last."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, Field, InitResourceContext, resource
from pydantic import PrivateAttr

from cbi_core.lock import run_lock
from cbi_core.settings import DUCKDB_PATH_ENV, duckdb_path, is_remote
from cbi_core.snapshot import SnapshotError, publish_snapshot
from cbi_core.warehouse import check_db_path, connect
from orchestration.alerts import Alerter
from orchestration.config import LOCK_WAIT_S

log = logging.getLogger(__name__)


class Warehouse(ConfigurableResource):
    """The DuckDB warehouse a run writes, opened through `cbi_core.warehouse.connect` (its clear errors). For the
    run's duration `CBI_DUCKDB_PATH` is pinned to the same absolute path, so the dbt children open this file."""

    path: str = ""  # empty: `cbi_core.settings.duckdb_path()` ($CBI_DUCKDB_PATH, else ./cbi.duckdb)
    _before: str | None = PrivateAttr(default=None)

    def db_path(self) -> str:
        configured = self.path.strip() or duckdb_path()
        return check_db_path(configured if is_remote(configured) else os.path.abspath(configured))

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return connect(self.db_path(), read_only=read_only)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._before = os.environ.get(DUCKDB_PATH_ENV)
        os.environ[DUCKDB_PATH_ENV] = self.db_path()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._before is None:
            os.environ.pop(DUCKDB_PATH_ENV, None)
        else:
            os.environ[DUCKDB_PATH_ENV] = self._before


@resource(
    config_schema={
        "wait_s": Field(float, default_value=LOCK_WAIT_S, description="Seconds to wait for another run's lock.")
    },
    required_resource_keys={"warehouse"},
    description="Holds the warehouse's run lock (cbi_core.lock) for the whole run: one writer at a time.",
)
def warehouse_lock(init_context: InitResourceContext):
    run = init_context.dagster_run
    db_path = init_context.resources.warehouse.db_path()
    with run_lock(db_path, run.job_name, run.run_id, init_context.resource_config["wait_s"]) as info:
        init_context.log.info(f"run lock taken on {db_path}")
        try:
            yield info
        finally:
            # The run's writes end here: readers (dashboard, docs) get a fresh snapshot before the lock goes.
            _publish(db_path, init_context)


def _publish(db_path: str, init_context: InitResourceContext) -> None:
    if is_remote(db_path) or not Path(db_path).is_file():
        return
    try:
        init_context.log.info(f"published snapshot {publish_snapshot(Path(db_path))}")
    except SnapshotError as exc:  # the run's own outcome stands; the readers keep the previous snapshot
        init_context.log.error(f"snapshot not published: {exc}")


@resource(description="Posts this run's alerts (each once) to CBI_ALERT_WEBHOOK_URL, or logs them.")
def alerter(init_context: InitResourceContext) -> Alerter:
    run = init_context.dagster_run
    return Alerter(job=run.job_name, run_id=run.run_id)
