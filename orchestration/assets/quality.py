"""The quality job: source freshness (and the sources stale on the latest day), the gates (dbt tests) and load
timeliness -> ops.data_quality_results."""

import logging

import pandas as pd
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, ResourceParam, asset
from dagster_dbt import DbtCliResource

from cbi_core.lock import LockInfo
from cbi_core.secrets import redact
from orchestration import failing_rows, ops_tables, quality
from orchestration.alerts import Alerter
from orchestration.assets.dbt import has_relation, manifest_nodes
from orchestration.config import THRESHOLDS
from orchestration.resources import Warehouse

log = logging.getLogger(__name__)


@asset(
    key=AssetKey(["ops", "data_quality_results"]),
    group_name="quality",
    description="Source freshness, the gates (dbt tests) and load timeliness, in six dimensions.",
)
def data_quality_results(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    freshness = dbt.cli(["source", "freshness"], raise_on_error=False).wait()
    tests = dbt.cli(["test", "--exclude-resource-type", "unit_test"], raise_on_error=False).wait()
    test_results = _artifact(tests, "run_results.json")
    with warehouse.connect() as con:
        examples = failing_rows.failing_examples(con, test_results, manifest_nodes())
        has_runs = has_relation(con, "ops", "ingest_runs")
        runs = con.execute("select * from ops.ingest_runs").df() if has_runs else pd.DataFrame()
        has_stale = has_relation(con, "features", "stale_sources")  # sources quiet past their tolerance
        stale = con.execute("select * from features.stale_sources").df() if has_stale else pd.DataFrame()
        rows = pd.concat(
            [
                quality.from_freshness(_artifact(freshness, "sources.json")),
                quality.from_stale_sources(stale),
                quality.from_test_results(test_results, manifest_nodes(), examples),
                quality.timeliness(runs, ops_tables.utcnow(), THRESHOLDS.ingest_timeliness_hours),
            ],
            ignore_index=True,
        )
        stored = ops_tables.store_data_quality(con, rows, context.run_id)
    stale = rows[(rows["dimension"].isin(["freshness", "timeliness"])) & (rows["status"] == "alert")]
    if len(stale):
        alerter("source_stale", f"{len(stale)} source(s) stale", "\n".join(stale["message"][:20]))
    gates = rows[(~rows["dimension"].isin(["freshness", "timeliness"])) & (rows["status"] == "alert")]
    if len(gates):
        lines = [f"{r.dimension} {r.check_name} on {r.target}: {r.message}" for r in gates.itertuples()][:20]
        alerter("gate_failed", f"{len(gates)} data quality gate(s) failed", "\n".join(lines))
    counts = rows.groupby(["dimension", "status"]).size()
    return MaterializeResult(metadata={"rows": stored, **{f"{d}_{s}": int(n) for (d, s), n in counts.items()}})


def _artifact(invocation, name: str) -> dict:
    try:
        return invocation.get_artifact(name)
    except Exception as exc:  # dbt could not run at all: no artefact, nothing to classify
        log.error("dbt wrote no %s: %s", name, redact(exc))
        return {}
