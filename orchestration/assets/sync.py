"""The shared warehouse (CBI_SYNC_REMOTE): raw pulled down first, forecasts and ops pushed back last."""

import os
from typing import Any

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, ResourceParam, asset

from cbi_core.lock import LockInfo
from ingest import sync
from ingest.sync_pull import pull as pull_raw
from orchestration.config import SYNC_REMOTE_ENV
from orchestration.resources import Warehouse

SYNC_PULL = AssetKey(["sync", "pull"])
SYNC_PUSH = AssetKey(["sync", "push"])


def sync_remote() -> str | None:
    """The shared warehouse the jobs sync with (`CBI_SYNC_REMOTE`), or None."""
    return os.environ.get(SYNC_REMOTE_ENV, "").strip() or None


def sync_metadata(results: list[sync.TableSync], remote: str) -> dict[str, Any]:
    changed = [r.table for r in results if r.status != "unchanged"]
    return {
        "remote": remote,
        "tables": len(results),
        "changed": ", ".join(changed) or "none",
        "rows_written": sum(r.rows_written for r in results),
    }


@asset(
    key=SYNC_PULL,
    group_name="sync_pull",
    description="The raw schema copied down from the shared warehouse (CBI_SYNC_REMOTE), before ingest and dbt.",
)
def sync_pull(
    context: AssetExecutionContext, warehouse: Warehouse, warehouse_lock: ResourceParam[LockInfo]
) -> MaterializeResult:
    remote = sync_remote()
    if remote is None:
        context.log.info(f"{SYNC_REMOTE_ENV} is not set: no shared warehouse to pull from")
        return MaterializeResult(metadata={"remote": "none"})
    results = pull_raw(warehouse.db_path(), remote)
    context.log.info(f"pulled raw from {remote}: {sum(r.status != 'unchanged' for r in results)} table(s) changed")
    return MaterializeResult(metadata=sync_metadata(results, remote))


@asset(
    key=SYNC_PUSH,
    group_name="sync_push",
    deps=[AssetKey(["ops", "forecast_log"]), AssetKey(["ops", "model_monitoring"]), AssetKey(["ml", "serving_models"])],
    description="The forecasts and ops schemas copied up to the shared warehouse (CBI_SYNC_REMOTE), last.",
)
def sync_push(
    context: AssetExecutionContext, warehouse: Warehouse, warehouse_lock: ResourceParam[LockInfo]
) -> MaterializeResult:
    remote = sync_remote()
    if remote is None:
        context.log.info(f"{SYNC_REMOTE_ENV} is not set: no shared warehouse to push to")
        return MaterializeResult(metadata={"remote": "none"})
    results = sync.push(warehouse.db_path(), remote)
    context.log.info(f"pushed forecasts and ops to {remote}: {sum(r.status != 'unchanged' for r in results)} changed")
    return MaterializeResult(metadata=sync_metadata(results, remote))
