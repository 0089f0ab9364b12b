"""The daily job's ingest: one multi-asset per source, each writing its raw tables after the pull."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    ResourceParam,
    multi_asset,
)

from cbi_core.lock import LockInfo
from ingest.sources import CONNECTORS
from orchestration.alerts import Alerter
from orchestration.assets.sync import SYNC_PULL
from orchestration.resources import Warehouse
from orchestration.sources import ingest_incrementally


def _ingest_asset(source: str):
    keys = [AssetKey(["raw", table]) for table in CONNECTORS[source].tables]

    @multi_asset(
        name=f"ingest_{source}",
        specs=[
            AssetSpec(
                key,
                group_name="ingest",
                description=f"raw.{key.path[-1]}, loaded by `cbi ingest {source}`",
                deps=[SYNC_PULL],  # a local load merges into the rows pulled from the shared warehouse
            )
            for key in keys
        ],
        check_specs=[
            AssetCheckSpec("loaded", asset=key, description="The last incremental load succeeded.") for key in keys
        ],
        op_tags={"kind": "ingest"},
    )
    def _ingest(
        context: AssetExecutionContext,
        warehouse: Warehouse,
        warehouse_lock: ResourceParam[LockInfo],
        alerter: ResourceParam[Alerter],
    ):
        outcome = ingest_incrementally(source, warehouse.db_path())
        if outcome.status == "failed":
            alerter("source_failed", f"source {source} failed to load", outcome.detail)
        for key in keys:
            counts = outcome.rows.get(key.path[-1], {})
            yield MaterializeResult(
                asset_key=key,
                metadata={
                    "status": outcome.status,
                    "detail": outcome.detail,
                    **{f"rows_{k}": v for k, v in counts.items()},
                },
            )
            yield AssetCheckResult(
                asset_key=key,
                check_name="loaded",
                passed=outcome.status != "failed",
                severity=AssetCheckSeverity.WARN,
                metadata={"status": outcome.status, "detail": outcome.detail},
            )

    return _ingest


INGEST_ASSETS = [_ingest_asset(source) for source in CONNECTORS]

#: `raw.<table>_history`: the versions a load replaced, written by the same load as its table (not an asset of
#: its own: Dagster shows it beside the ingest assets, where it comes from, instead of in a `default` group).
RAW_HISTORY = [
    AssetSpec(
        AssetKey(["raw", f"{table}_history"]),
        group_name="ingest",
        description=f"raw.{table}_history: every version of raw.{table} a load replaced, written by that load",
        deps=[AssetKey(["raw", table])],
    )
    for source in CONNECTORS
    for table in CONNECTORS[source].tables
]
