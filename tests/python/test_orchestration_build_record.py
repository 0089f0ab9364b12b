"""A dbt build run outside Dagster (`make build`) recorded in a real Dagster instance (`cbi ops record`): what dbt
built shows as materialised at dbt's own times, the tests as check evaluations, nothing that did not run, once."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from conftest import load_sample, run_dbt
from dagster import AssetCheckKey, AssetKey, DagsterInstance
from typer.testing import CliRunner

pytestmark = pytest.mark.dbt

SELECT = ["--select", "stg_fred__observations", "futures_roots"]  # a model, a seed and their tests: a quick build


@pytest.fixture(scope="module")
def plain_build(tmp_path_factory):
    """A real `dbt build` of a few nodes on the sample, outside Dagster: its target folder."""
    work = tmp_path_factory.mktemp("plain_build")
    db = work / "cbi.duckdb"
    load_sample(db, start="2023-01-02", end="2023-06-30")
    result = run_dbt(db, "build", *SELECT, tmp_dir=work)
    assert result.returncode == 0, result.output[-3000:]
    return work / "dbt_target"


def _finished(result: dict) -> float:
    stamp = next(t["completed_at"] for t in result["timing"] if t["name"] == "execute")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_a_plain_build_is_recorded_once_at_dbt_times_on_the_definitions_keys(plain_build, tmp_path):
    from orchestration.build_record import record_build
    from orchestration.definitions import defs

    results = json.loads((plain_build / "run_results.json").read_text())["results"]
    built = [r for r in results if r["unique_id"].startswith(("model.", "seed.")) and r["status"] == "success"]
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert built and tests

    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        reported, total = record_build(plain_build, instance)
        assert reported == total == len(built) + len(tests)
        assert record_build(plain_build, instance) == (0, total)  # idempotent: the same build is not recorded twice

        graph = defs.resolve_asset_graph()
        keys = {AssetKey(["staging", "stg_fred__observations"]), AssetKey(["reference", "futures_roots"])}
        assert keys <= set(graph.get_all_asset_keys())
        latest = instance.get_latest_materialization_events(list(keys))
        for result in built:
            key = next(k for k in keys if k.path[-1] == result["unique_id"].split(".")[-1])
            event = latest[key]
            assert event is not None and event.run_id == ""  # runless: no Dagster run did it
            assert event.timestamp == pytest.approx(_finished(result), abs=1e-3)
            assert event.asset_materialization.metadata["dbt_invocation_id"].value

        checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(graph.asset_check_keys))
        recorded = {k: r for k, r in checks.items() if r.event is not None}
        assert len(recorded) == len(tests)
        assert set(recorded) <= set(graph.asset_check_keys)  # the checks the Definitions declare, by the same keys
        for key, record in recorded.items():
            assert isinstance(key, AssetCheckKey) and key.asset_key in keys
            assert record.event.dagster_event.event_specific_data.passed


def test_what_did_not_run_or_failed_is_not_recorded_and_a_failed_test_is_a_failed_check(plain_build):
    from orchestration.build_record import build_events

    run_results = json.loads((plain_build / "run_results.json").read_text())
    manifest = json.loads((plain_build / "manifest.json").read_text())
    model = next(r for r in run_results["results"] if r["unique_id"].startswith("model."))
    test = next(r for r in run_results["results"] if r["unique_id"].startswith("test."))
    model["status"], test["status"], test["failures"] = "error", "fail", 3
    events = build_events(run_results, manifest)
    names = {e.event.asset_key.path[-1] for e in events if not hasattr(e.event, "check_name")}
    assert model["unique_id"].split(".")[-1] not in names
    failed = [e.event for e in events if hasattr(e.event, "check_name") and not e.event.passed]
    assert len(failed) == 1 and failed[0].metadata["failures"].value == 3
    for result in run_results["results"]:
        result["status"] = "skipped"
    assert build_events(run_results, manifest) == []


def test_cbi_ops_record_needs_dagster_home_and_records_the_build(plain_build, tmp_path, monkeypatch):
    from cbi.cli import app

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    missing = CliRunner().invoke(app, ["ops", "record", "--target", str(plain_build)])
    assert missing.exit_code == 2 and "DAGSTER_HOME" in missing.output
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    first = CliRunner().invoke(app, ["ops", "record", "--target", str(plain_build)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["ops", "record", "--target", str(plain_build)])
    assert "0 new event(s)" in again.output and "0 new event(s)" not in first.output
