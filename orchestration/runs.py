"""An orchestration job executed in process (what `cbi run` and the tests call; no Dagster daemon needed).
With DAGSTER_HOME set, the runs land in the same history `make ops` shows.

A run holds the warehouse's run lock (`cbi_core.lock`), taken before Dagster starts the run so a busy
warehouse is one clear `WarehouseBusy`; `wait_s` queues it behind the run that holds it instead.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cbi_core.errors import WarehouseBusy, WarehouseError
from cbi_core.lock import interrupted, run_lock
from cbi_core.settings import duckdb_path, is_remote
from cbi_core.warehouse import connect
from orchestration import ops_tables
from orchestration.config import LOCK_POLL_S, retrain_config

log = logging.getLogger(__name__)
NOTE_WIDTH = 160  # characters of a step's note in `cbi run`'s table


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
        weekly = retrain_config(budget, artifacts_dir, ray_address)
        config["ops"] = {"cbi_dbt": {"config": weekly}, "ml__serving_models": {"config": weekly}}
    return config


def execute(job: str, wait_s: float = 0.0, artifacts_dir: str = "", budget: dict | None = None, ray_address: str = ""):
    """Execute `job` in process; returns the Dagster result. Raises `WarehouseBusy` when the lock is held."""
    run_id = str(uuid.uuid4())
    # Taken here, before Dagster is even loaded, so a busy warehouse is one clear error at once (the run's own
    # lock resource finds the lock already held by its run id).
    db_path = duckdb_path()
    deadline = time.monotonic() + max(wait_s, 0.0)
    with run_lock(db_path, job, run_id, wait_s):
        wait_for_the_file(db_path, deadline)
        from dagster import DagsterInstance

        from orchestration.definitions import defs

        instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
        previous = interrupted(db_path)
        if previous is not None:  # the last run was killed: close what it left open before this one starts
            from orchestration.reconcile import reconcile

            reconcile(db_path, previous, instance)
        started = ops_tables.utcnow()
        result = defs.resolve_job_def(job).execute_in_process(
            run_config=run_config(job, wait_s, artifacts_dir, budget, ray_address),
            instance=instance,
            raise_on_error=False,
            run_id=run_id,
        )
        record_run(job, run_id, started, result)
        return result


def wait_for_the_file(db_path: str, deadline: float, poll_s: float = LOCK_POLL_S) -> None:
    """Return once this process can open the warehouse for writing; until `deadline` (monotonic), else the
    `WarehouseBusy` naming the process that holds the DuckDB file (one line, before any Dagster step runs)."""
    if is_remote(db_path) or not Path(db_path).exists():
        return
    while True:
        try:
            connect(db_path).close()
            return
        except WarehouseBusy:
            if time.monotonic() >= deadline:
                raise
            time.sleep(poll_s)


def job_run_row(job: str, run_id: str, started, finished, success: bool, steps: list[StepRow]) -> dict:
    """The ops.job_runs row of a finished run: warned when a step warned (e.g. a source failed to load)."""
    failed = [s for s in steps if s.status == "failed"]
    warned = [s for s in steps if s.status == "warned"]
    first = (failed or warned or [None])[0]
    return {
        "run_id": run_id,
        "job": job,
        "started_at": started,
        "finished_at": finished,
        "seconds": (finished - started).total_seconds(),
        "status": "failed" if not success else "warned" if warned else "success",
        "steps": len(steps),
        "steps_warned": len(warned),
        "steps_failed": len(failed),
        "error": f"{first.step}: {first.note}" if first else None,
    }


def record_run(job: str, run_id: str, started, result) -> None:
    """Store the run in ops.job_runs (`cbi runs`); a warehouse that cannot be opened is logged, not raised."""
    row = job_run_row(job, run_id, started, ops_tables.utcnow(), result.success, step_report(result))
    try:
        with connect(duckdb_path()) as con:
            ops_tables.store_job_run(con, row)
    except WarehouseError as exc:
        log.warning("run %s not recorded in ops.job_runs: %s", run_id, exc)


@dataclass(frozen=True)
class StepRow:
    """One step of a run as `cbi run` prints it: success, warned (a check failed: e.g. a source did not load),
    failed or skipped, with a one-line note."""

    step: str
    status: str
    note: str = ""


def _one_line(text: str, width: int = NOTE_WIDTH) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _notes(result) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per step: the notes of its materialisations (a source's status and detail) and its failed checks."""
    notes: dict[str, list[str]] = {}
    warned: dict[str, list[str]] = {}
    for event in result.all_events:
        data = event.event_specific_data
        if event.event_type_value == "ASSET_MATERIALIZATION":
            meta = {k: v.value for k, v in data.materialization.metadata.items()}
            if meta.get("status") in ("skipped", "failed") and meta.get("detail"):
                notes.setdefault(event.step_key, []).append(f"{meta['status']}: {meta['detail']}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION" and not data.passed:
            detail = {k: v.value for k, v in data.metadata.items()}.get("detail", "")
            warned.setdefault(event.step_key, []).append(detail or f"check {data.check_name} failed")
    return notes, warned


def step_report(result) -> list[StepRow]:
    """The steps of an executed run in order, each with its status and note (`cbi run`'s table)."""
    notes, warned = _notes(result)
    rows = []
    for event in result.all_events:
        kind = event.event_type_value
        if kind not in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            continue
        status, note = kind.removeprefix("STEP_").lower(), ""
        if kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            note = error.message.strip().splitlines()[0] if error and error.message.strip() else ""
        elif event.step_key in warned:
            status, note = "warned", warned[event.step_key][0]
        elif event.step_key in notes:
            note = notes[event.step_key][0]
        rows.append(StepRow(event.step_key, status, _one_line(note)))
    return rows
