"""A `dbt build` run outside Dagster (`make build`, `make demo`), recorded in the Dagster instance the UI reads
($DAGSTER_HOME), so `make ops` shows what was built instead of "Never materialized".

From dbt's own artifacts (`target/run_results.json` and the `target/manifest.json` of the same invocation):
each model, seed or snapshot that dbt built (`success`) becomes a runless materialisation of its asset, each test
that ran (`pass`, `warn`, `fail`, `error`) an evaluation of its asset check, at the time dbt finished it. What
did not run (`skipped`) or failed to build (`error`) is not recorded: the asset keeps its last real event.
Idempotent: an asset or check whose latest event in the instance is as recent as this build's (the same build
recorded before, or a later Dagster run) is left alone. Keys and groups come from `orchestration.dbt_keys`,
the translator the Definitions use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
)
from dagster_dbt.asset_utils import get_asset_check_key_for_test

from orchestration.dbt_keys import TRANSLATOR

BUILT = ("model.", "seed.", "snapshot.")
TEST_RAN = ("pass", "warn", "fail", "error")


@dataclass(frozen=True)
class BuildEvent:
    """One event to record: a materialisation or a check evaluation, at `timestamp` (epoch seconds, UTC)."""

    timestamp: float
    event: AssetMaterialization | AssetCheckEvaluation

    @property
    def key(self) -> AssetKey | AssetCheckKey:
        if isinstance(self.event, AssetMaterialization):
            return self.event.asset_key
        return AssetCheckKey(self.event.asset_key, self.event.check_name)


def _finished_at(result: dict[str, Any], fallback: str) -> float:
    """When dbt finished the node: its `execute` timing's end, else the invocation's `generated_at`."""
    ends = [t.get("completed_at") for t in result.get("timing", []) if t.get("name") == "execute"]
    stamp = next((e for e in ends if e), None) or fallback
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _metadata(result: dict[str, Any], invocation_id: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "recorded_from": "dbt build outside Dagster (target/run_results.json)",
        "dbt_invocation_id": invocation_id,
        "execution_time_s": round(float(result.get("execution_time") or 0.0), 3),
    }
    rows = (result.get("adapter_response") or {}).get("rows_affected")
    if rows is not None:
        meta["rows_affected"] = int(rows)
    if result.get("message"):
        meta["dbt_message"] = str(result["message"])[:500]
    return meta


def build_events(run_results: dict[str, Any], manifest: dict[str, Any]) -> list[BuildEvent]:
    """The events a dbt invocation's results stand for (pure: artifacts in, events out)."""
    info = run_results.get("metadata", {})
    invocation_id, generated_at = str(info.get("invocation_id", "")), str(info.get("generated_at", ""))
    nodes = manifest.get("nodes", {})
    out: list[BuildEvent] = []
    for result in run_results.get("results", []):
        unique_id, status = result["unique_id"], str(result.get("status"))
        node = nodes.get(unique_id)
        if node is None:
            continue
        when = _finished_at(result, generated_at)
        meta = _metadata(result, invocation_id)
        if unique_id.startswith(BUILT) and status == "success":
            out.append(BuildEvent(when, AssetMaterialization(TRANSLATOR.get_asset_key(node), metadata=meta)))
        elif unique_id.startswith("test.") and status in TEST_RAN:
            check = get_asset_check_key_for_test(manifest, TRANSLATOR, unique_id, None)
            if check is None:
                continue
            severity = (node.get("config", {}).get("severity") or "error").lower()
            evaluation = AssetCheckEvaluation(
                asset_key=check.asset_key,
                check_name=check.name,
                passed=status == "pass",
                severity=AssetCheckSeverity.WARN if severity == "warn" else AssetCheckSeverity.ERROR,
                metadata={**meta, "dbt_status": status, "failures": int(result.get("failures") or 0)},
            )
            out.append(BuildEvent(when, evaluation))
    return out


def _latest(instance: DagsterInstance, events: list[BuildEvent]) -> dict[AssetKey | AssetCheckKey, float]:
    """The timestamp of the latest event the instance holds for each key of `events`."""
    assets = [e.key for e in events if isinstance(e.key, AssetKey)]
    checks = [e.key for e in events if isinstance(e.key, AssetCheckKey)]
    latest: dict[AssetKey | AssetCheckKey, float] = {
        key: entry.timestamp for key, entry in instance.get_latest_materialization_events(assets).items() if entry
    }
    for key, record in instance.event_log_storage.get_latest_asset_check_execution_by_key(checks).items():
        if record.event is not None:
            latest[key] = record.event.timestamp
    return latest


def record(instance: DagsterInstance, events: list[BuildEvent]) -> int:
    """Report each event not already as recent in `instance` (runless, at dbt's own time); returns how many."""
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    latest = _latest(instance, events)
    reported = 0
    for item in sorted(events, key=lambda e: e.timestamp):
        if latest.get(item.key, float("-inf")) >= item.timestamp:
            continue
        if isinstance(item.event, AssetMaterialization):
            kind, data = DagsterEventType.ASSET_MATERIALIZATION, StepMaterializationData(item.event)
        else:
            kind, data = DagsterEventType.ASSET_CHECK_EVALUATION, item.event
        # `report_runless_asset_event` stamps the event with the present; this is the same event, at dbt's time.
        instance.report_dagster_event(
            DagsterEvent(event_type_value=kind.value, event_specific_data=data, job_name=RUNLESS_JOB_NAME),
            run_id=RUNLESS_RUN_ID,
            timestamp=item.timestamp,
        )
        reported += 1
    return reported


def record_build(target_dir: Path, instance: DagsterInstance) -> tuple[int, int]:
    """Record the last `dbt build` of `target_dir` (its run_results.json and manifest.json) in `instance`;
    returns (events reported, events the build stands for)."""
    run_results = json.loads((target_dir / "run_results.json").read_text())
    manifest = json.loads((target_dir / "manifest.json").read_text())
    events = build_events(run_results, manifest)
    return record(instance, events), len(events)
