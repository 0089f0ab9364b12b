"""Data quality in six dimensions, from what dbt and the loader already record (pure functions):

- freshness: `dbt source freshness` (each source's `loaded_at_field` against its warn/error limits) and the
  sources stale on the latest ZL trading day (`features.stale_sources`: no release within their tolerance);
- completeness, validity, uniqueness, consistency: the dbt tests (the gates), classified by the generic test
  they instantiate (`TEST_DIMENSIONS`; singular tests check cross-table consistency);
- timeliness: the age of each source's last successful load in `ops.ingest_runs`.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

DQ_COLUMNS = ["dimension", "check_name", "target", "status", "observed", "threshold", "message"]

#: Generic test (macro) name -> dimension. Tests not listed (singular `assert_*` tests) are consistency checks.
TEST_DIMENSIONS = {
    "not_null": "completeness",
    "null_rate_below": "completeness",
    "feature_null_rates_below": "completeness",
    "features_present": "completeness",
    "row_count_above": "completeness",
    "finite_and_bounded": "validity",
    "positive_values": "validity",
    "value_between": "validity",
    "accepted_values": "validity",
    "quantiles_ordered": "validity",
    "unique": "uniqueness",
    "unique_combination": "uniqueness",
    "relationships": "consistency",
}
_STATUS = {"pass": "ok", "success": "ok", "warn": "warn", "fail": "alert", "error": "alert", "runtime error": "alert"}


def from_test_results(run_results: dict, manifest_nodes: dict, examples: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per dbt test in `run_results.json`, with its dimension and the number of failing rows; the message
    quotes the first failing rows where `examples` has them (`failing_rows.failing_examples`)."""
    rows = []
    for result in run_results.get("results", []):
        unique_id = result["unique_id"]
        if not unique_id.startswith("test."):
            continue
        node = manifest_nodes.get(unique_id, {})
        test_name = (node.get("test_metadata") or {}).get("name")
        dimension = TEST_DIMENSIONS.get(test_name, "consistency")
        attached = node.get("attached_node") or ",".join(node.get("depends_on", {}).get("nodes", [])[:1])
        failures = result.get("failures")
        rows.append(
            {
                "dimension": dimension,
                "check_name": node.get("name", unique_id.split(".")[-2 if unique_id.count(".") > 2 else -1]),
                "target": attached.split(".")[-1] if attached else "",
                "status": _STATUS.get(str(result.get("status")), "alert"),
                "observed": float(failures) if failures is not None else np.nan,
                "threshold": 0.0,
                "message": _with_rows((result.get("message") or "")[:500], (examples or {}).get(unique_id)),
            }
        )
    return pd.DataFrame(rows, columns=DQ_COLUMNS)


def _with_rows(message: str, rows: str | None) -> str:
    return f"{message}; failing rows: {rows}" if rows else message


def from_freshness(sources: dict) -> pd.DataFrame:
    """One row per source table in `sources.json`: hours since its latest `loaded_at_field` value."""
    rows = []
    for result in sources.get("results", []):
        criteria = result.get("criteria") or {}
        error_after = criteria.get("error_after") or {}
        threshold = _hours(error_after.get("count"), error_after.get("period"))
        age = result.get("max_loaded_at_time_ago_in_s")
        status = _STATUS.get(str(result.get("status")), "alert")
        target = ".".join(result["unique_id"].split(".")[-2:])
        rows.append(
            {
                "dimension": "freshness",
                "check_name": "source_freshness",
                "target": target,
                "status": status,
                "observed": float(age) / 3600 if age is not None else np.nan,
                "threshold": threshold,
                "message": f"{target}: latest row {result.get('max_loaded_at', '?')}"
                + (f" ({result.get('error')})" if result.get("error") else ""),
            }
        )
    return pd.DataFrame(rows, columns=DQ_COLUMNS)


def from_stale_sources(stale: pd.DataFrame) -> pd.DataFrame:
    """One alert row per source in `features.stale_sources`: days since its last release against its tolerance,
    naming the source and since when it is stale (its features are NULL and the members reading them skip the
    forecast until it releases again)."""
    rows = [
        {
            "dimension": "freshness",
            "check_name": "source_stale",
            "target": row.source_name,
            "status": "alert",
            "observed": float(row.days_since_release),
            "threshold": float(row.staleness_days),
            "message": f"{row.source_name}: stale since {pd.Timestamp(row.stale_since_date):%Y-%m-%d} (last release "
            f"{pd.Timestamp(row.last_release_at):%Y-%m-%d %H:%M} UTC, tolerance {row.staleness_days} days)",
        }
        for row in stale.itertuples()
    ]
    return pd.DataFrame(rows, columns=DQ_COLUMNS)


def _hours(count, period) -> float:
    if count is None or period is None:
        return np.nan
    return float(count) * {"minute": 1 / 60, "hour": 1.0, "day": 24.0}.get(str(period), np.nan)


def timeliness(ingest_runs: pd.DataFrame, now: datetime, limit_hours: float) -> pd.DataFrame:
    """Per source: hours since its last successful load (`ops.ingest_runs`), against `limit_hours`."""
    if ingest_runs.empty:
        return pd.DataFrame(columns=DQ_COLUMNS)
    runs = ingest_runs.assign(finished_at=pd.to_datetime(ingest_runs["finished_at"]))
    rows = []
    for source, frame in runs.groupby("source", sort=True):
        ok = frame[frame["status"].isin(["success", "partial"])]
        last = ok["finished_at"].max() if len(ok) else pd.NaT
        age = (pd.Timestamp(now) - last).total_seconds() / 3600 if pd.notna(last) else np.nan
        failed_last = frame.sort_values("started_at")["status"].iloc[-1] not in ("success", "partial")
        status = "alert" if not np.isfinite(age) or age > limit_hours else "warn" if failed_last else "ok"
        rows.append(
            {
                "dimension": "timeliness",
                "check_name": "last_successful_load",
                "target": source,
                "status": status,
                "observed": age,
                "threshold": limit_hours,
                "message": (
                    f"{source}: last successful load {last:%Y-%m-%d %H:%M} UTC ({age:.0f} h ago)"
                    if pd.notna(last)
                    else f"{source}: no successful load recorded"
                )
                + ("; latest attempt failed" if failed_last else ""),
            }
        )
    return pd.DataFrame(rows, columns=DQ_COLUMNS)
