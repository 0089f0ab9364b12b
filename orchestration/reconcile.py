"""A run that ended without finishing (`kill -9`, a crash, a power cut) is reconciled by the next run.

The run lock (`cbi_core.lock`) tells the next run who held it and did not let go. The next run, before it
starts, closes what the dead one left open: its loads still `running` in `ops.ingest_runs` are marked failed,
its Dagster run (when the instance keeps history) is reported failed, an alert says so, and the snapshot
readers open is published again from the warehouse as it is (the dead run may have stopped between a write
and its publish).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

from cbi_core.lock import LockInfo
from cbi_core.snapshot import SnapshotError, publish_snapshot
from orchestration.alerts import format_alert, post_alert

log = logging.getLogger(__name__)


def close_loads(db_path: str, previous: LockInfo) -> int:
    """Mark the dead run's loads still `running` in ops.ingest_runs as failed; returns how many."""
    if not db_path.startswith("md:") and not Path(db_path).exists():
        return 0
    message = f"interrupted: process {previous.pid} of {previous.job} run {previous.run_id} ended mid-load"
    with duckdb.connect(db_path) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'ingest_runs'"
        ).fetchone()
        if not exists or not exists[0]:
            return 0
        rows = con.execute(
            "update ops.ingest_runs set status = 'failed', finished_at = now()::timestamp, error = ? "
            "where status = 'running' and pid = ?",
            [message, previous.pid],
        ).fetchone()
    return int(rows[0]) if rows else 0


def fail_dagster_run(instance: Any, previous: LockInfo) -> bool:
    """Report the dead run failed in the Dagster instance that recorded it (if it did and it looks alive)."""
    run = instance.get_run_by_id(previous.run_id) if instance is not None else None
    if run is None or run.is_finished:
        return False
    instance.report_run_failed(run, f"interrupted: process {previous.pid} ended without finishing the run")
    return True


def reconcile(db_path: str, previous: LockInfo, instance: Any = None) -> None:
    """Close what the interrupted run `previous` left open (module docstring); never raises for a step that
    cannot be done (each is logged)."""
    loads = close_loads(db_path, previous)
    dagster = fail_dagster_run(instance, previous)
    details = (
        f"{previous.job} run {previous.run_id} (pid {previous.pid}, started {previous.started_at}) ended without "
        f"finishing; {loads} load(s) marked failed{', its Dagster run marked failed' if dagster else ''}; "
        "the snapshot is republished"
    )
    post_alert(format_alert("run_failed", f"{previous.job} run was interrupted", details))
    if not db_path.startswith("md:") and Path(db_path).exists():
        try:
            publish_snapshot(Path(db_path))
        except SnapshotError as exc:
            log.error("reconcile: the snapshot could not be republished: %s", exc)
