"""The orchestration's jobs executed in process on a real warehouse: real dbt, real DuckDB, the small sample,
sources and the alert webhook on 127.0.0.1 (no network)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest
from conftest import PROJECT_DIR, query
from fake_server import Reply
from fake_webhook import Webhook
from typer.testing import CliRunner

pytestmark = pytest.mark.dbt

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Farm Policy News</title>
<item><title>Tariff talks resume</title><link>https://example.test/a</link><guid>a-1</guid>
<pubDate>Tue, 09 Jan 2024 14:00:00 GMT</pubDate><description>Soybean trade</description></item>
</channel></rss>"""


@pytest.fixture
def warehouse(built_warehouse, tmp_path, monkeypatch):
    """A private copy of the built warehouse and its saved models; the jobs' environment points at it."""
    db = tmp_path / "cbi.duckdb"
    shutil.copy(built_warehouse, db)
    models = tmp_path / "models"
    shutil.copytree(built_warehouse.parent / "models", models)
    monkeypatch.setenv("CBI_DUCKDB_PATH", str(db))
    monkeypatch.setenv("DBT_PROFILES_DIR", str(PROJECT_DIR))
    monkeypatch.setenv("CBI_ALERT_BACKOFF", "0.01")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return db, models


@pytest.fixture
def webhook(monkeypatch):
    with Webhook() as hook:
        monkeypatch.setenv("CBI_ALERT_WEBHOOK_URL", hook.url)
        yield hook


def _plant_past_forecasts(db) -> int:
    """Log the members' honest out-of-fold quantiles as if daily builds had issued them (the monitors need
    forecasts whose target dates have passed; a fresh warehouse has none)."""
    from orchestration import ops_tables

    with duckdb.connect(str(db)) as con:
        ops_tables.ensure_ops_tables(con)
        con.execute(
            """
            insert or replace into ops.forecast_log
            select p.as_of_date, p.horizon, p.horizon_days, p.as_of_date + 7, p.member,
                   m.zl_close_cents_per_lb * exp(p.q10), m.zl_close_cents_per_lb * exp(p.q50),
                   m.zl_close_cents_per_lb * exp(p.q90), m.zl_close_cents_per_lb, null, null, p.model_run_id,
                   now()::timestamp
            from ml.l0_predictions as p
            inner join features.daily_ml_matrix_zl as m on p.as_of_date::date = m.as_of_date::date
            where p.fold >= 0 and p.horizon = '1w' and p.member in ('rw_ewma', 'rw_empirical', 'main')
            """
        )
        return con.execute("select count(*) from ops.forecast_log").fetchone()[0]


def test_definitions_load_with_ingest_upstream_of_dbt_and_tests_as_checks():
    from dagster import AssetKey

    from orchestration.assets.dbt import cbi_dbt
    from orchestration.definitions import JOBS, SCHEDULES, defs

    assert set(JOBS) == {"daily_forecast", "weekly_retrain", "data_quality", "model_monitoring"}
    graph = defs.resolve_asset_graph()
    staging = AssetKey(["staging", "stg_futures__ohlcv_daily"])
    assert AssetKey(["raw", "futures_ohlcv_daily"]) in graph.get(staging).parent_keys
    assert graph.get(AssetKey(["raw", "futures_ohlcv_daily"])).is_materializable  # the ingest asset
    assert any("positive_values" in c.name for c in cbi_dbt.check_specs)  # the gates are asset checks
    assert graph.get(AssetKey(["ml", "l0_predictions"])).group_name == "ml"
    assert {s.name for s in SCHEDULES} == {f"{j}_schedule" for j in JOBS}
    for job in JOBS:
        defs.resolve_job_def(job)


def test_groups_follow_the_flow_and_no_asset_is_left_in_a_catch_all_group():
    """Collapsed to groups, the asset graph runs one way (pull first, push last): no group feeds a group
    upstream of it; seeds sit in `reference`, the public tables in `forecasts`, raw history beside ingest."""
    from graphlib import TopologicalSorter

    from dagster import AssetKey

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    group_of = {key: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert not {"default", "dbt"} & set(group_of.values())
    upstream: dict[str, set[str]] = {group: set() for group in group_of.values()}
    for key, group in group_of.items():
        upstream[group] |= {group_of[parent] for parent in graph.get(key).parent_keys} - {group}
    TopologicalSorter(upstream).prepare()  # raises CycleError if a group feeds a group upstream of it
    assert not upstream["sync_pull"] and not any("sync_push" in groups for groups in upstream.values())
    assert group_of[AssetKey(["forecasts", "zl_risk"])] == group_of[AssetKey(["ml", "ml_risk"])] == "risk"
    assert group_of[AssetKey(["forecasts", "zl_predictions"])] == "forecasts"
    assert group_of[AssetKey(["reference", "futures_roots"])] == "reference"
    assert group_of[AssetKey(["raw", "epa_rin_prices_history"])] == "ingest"


def test_daily_job_end_to_end_with_a_failing_source_that_alerts_once(warehouse, webhook, server, monkeypatch):
    from cbi_core.lock import lock_path
    from orchestration.runs import execute

    db, models = warehouse
    planted = _plant_past_forecasts(db)
    monkeypatch.setenv("CBI_ORCHESTRATED_SOURCES", "news,cftc")
    monkeypatch.setenv("CBI_NEWS_FEEDS", f"farm_policy_news={server.url}/feed/")
    server.route("/feed/", Reply(200, RSS, {"Content-Type": "application/rss+xml"}))
    monkeypatch.setenv("CBI_CFTC_BASE_URL", f"{server.url}/cftc")  # nothing there: every request 404s
    before = query(db, "select as_of_date, model_run_id from forecasts.zl_predictions")
    trained = "select distinct model_run_id from ml.l0_predictions where member = 'main' and fold = -1"
    main_before = query(db, trained)

    result = execute("daily_forecast", artifacts_dir=str(models))

    assert result.success
    steps = {e.step_key: e.event_type_value for e in result.all_events if e.event_type_value.startswith("STEP_")}
    assert steps["cbi_dbt"] == steps["ops__model_monitoring"] == "STEP_SUCCESS"
    assert "Tariff talks resume" in set(query(db, "select title from raw.news_articles")["title"])  # loaded
    runs = query(db, "select status from ops.ingest_runs where source = 'cftc' order by started_at desc limit 1")
    assert runs["status"].tolist() == ["failed"]  # this run's attempt (the sample load recorded an earlier one)
    source_alerts = [b["text"] for b in webhook.bodies if "cftc" in b["text"]]
    assert len(source_alerts) == 1 and source_alerts[0].startswith("[CBI source_failed] source cftc failed to load")
    assert not [b for b in webhook.bodies if "step_failed" in b["text"] or "gate_failed" in b["text"]]
    failed = {c.asset_key.path[-1] for c in result.get_asset_check_evaluations() if not c.passed}
    assert "cftc_cot_disaggregated" in failed and "news_articles" not in failed

    after = query(db, "select as_of_date, model_run_id from forecasts.zl_predictions")
    assert after["as_of_date"].equals(before["as_of_date"])  # the same day, forecast again
    assert query(db, trained).equals(main_before)  # scored with the saved models (baselines refit: new final id)
    logged = query(db, "select model, count(*) as n from ops.forecast_log group by 1")
    assert logged["n"].sum() > planted and {"final", "rw_ewma", "main"} <= set(logged["model"])
    outcomes = query(db, "select * from ops.forecast_outcomes")
    assert len(outcomes) == planted and outcomes["pinball"].notna().all()
    figures = query(db, "select * from ops.model_monitoring")
    assert set(figures["run_id"]) == {result.run_id}
    metrics = set(figures["metric"])
    assert {"pinball", "pinball_ratio_rw", "coverage_80", "kupiec_p"} <= metrics
    assert any(m.startswith("psi_") for m in metrics)
    assert set(figures["status"]) <= {"ok", "warn", "alert"}
    assert not lock_path(db).exists()


def test_a_failed_gate_stops_ml_and_posts_one_alert(warehouse, webhook, monkeypatch):
    from orchestration.runs import execute

    db, models = warehouse
    monkeypatch.setenv("CBI_ORCHESTRATED_SOURCES", "epa")
    monkeypatch.delenv("CBI_EPA_RIN_URL", raising=False)  # so the one source is skipped: nothing to fetch
    with duckdb.connect(str(db)) as con:
        con.execute("update raw.futures_ohlcv_daily set close = 0 where root = '6L' and trade_date = date '2022-03-15'")
    before = query(db, "select * from forecasts.zl_predictions")

    result = execute("daily_forecast", artifacts_dir=str(models))

    assert not result.success
    steps = {e.step_key: e.event_type_value for e in result.all_events if e.event_type_value.startswith("STEP_")}
    assert steps["cbi_dbt"] == "STEP_FAILURE"
    assert steps.get("ops__forecast_log") != "STEP_SUCCESS"  # never ran: its upstream step failed
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "core_macro_fx" in materialized
    assert not materialized & {"l0_predictions", "ml_final_predictions", "zl_predictions", "zl_risk", "forecast_log"}
    assert query(db, "select * from forecasts.zl_predictions").equals(before)  # the last good forecast stays
    (body,) = webhook.bodies
    assert body["text"].startswith("[CBI gate_failed] gates failed in cbi_dbt")
    assert "positive_values_core_macro_fx_brl_usd_per_brl" in body["text"]
    assert "failing rows: " in body["text"] and "2022-03-15" in body["text"]  # the row to look at
    assert "job daily_forecast, run " + result.run_id in body["text"]


def test_a_run_started_by_hand_while_another_holds_the_warehouse_is_busy_or_waits(warehouse):
    from cbi.cli import app
    from cbi_core.lock import acquire, release

    db, models = warehouse
    holder = acquire(db, "daily_forecast", "run-by-dagster")
    try:
        busy = CliRunner().invoke(app, ["run", "monitor"])
        assert busy.exit_code == 75
        assert "busy: daily_forecast (run run-by-dagster) since" in busy.output
        env = {**os.environ, "CBI_DUCKDB_PATH": str(db)}
        waiting = subprocess.Popen(
            [sys.executable, "-m", "cbi", "run", "monitor", "--wait", "600", "--artifacts-dir", str(models)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(5)
        assert waiting.poll() is None  # queued behind the run that holds the warehouse
    finally:
        release(db, holder.run_id)
    output, _ = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, output[-3000:]
    assert "model_monitoring run" in output and "success" in output


def test_the_jobs_pull_raw_before_ingest_and_push_forecasts_and_ops_last():
    from dagster import AssetKey

    from orchestration.assets.sync import SYNC_PULL, SYNC_PUSH
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for table in ("futures_ohlcv_daily", "news_articles", "fred_observations"):
        assert SYNC_PULL in graph.get(AssetKey(["raw", table])).parent_keys
    assert {AssetKey(["ops", "forecast_log"]), AssetKey(["ops", "model_monitoring"])} <= graph.get(
        SYNC_PUSH
    ).parent_keys
    assert AssetKey(["ml", "serving_models"]) in graph.get(SYNC_PUSH).parent_keys
    daily = {node.name for node in defs.resolve_job_def("daily_forecast").nodes_in_topological_order}
    weekly = {node.name for node in defs.resolve_job_def("weekly_retrain").nodes_in_topological_order}
    assert {"sync__pull", "sync__push"} <= daily and "sync__push" in weekly and "sync__pull" not in weekly


def test_the_sync_steps_pull_raw_from_and_push_forecasts_to_the_shared_warehouse(warehouse, tmp_path, monkeypatch):
    """Through the same ATTACH path as MotherDuck (`ingest.sync`), with a DuckDB file as the shared warehouse."""
    from dagster import materialize

    from orchestration.assets.sync import sync_pull, sync_push
    from orchestration.resources import Warehouse, warehouse_lock

    db, _ = warehouse
    remote = tmp_path / "shared.duckdb"
    shutil.copy(db, remote)
    with duckdb.connect(str(remote)) as con:  # the shared warehouse ingested an article this machine lacks
        con.execute("drop schema forecasts cascade")
        con.execute(
            "insert into raw.news_articles by name select * replace ('shared-1' as article_id, "
            "'Loaded on the shared warehouse' as title) from raw.news_articles limit 1"
        )
    resources = {"warehouse": Warehouse(), "warehouse_lock": warehouse_lock}

    monkeypatch.delenv("CBI_SYNC_REMOTE", raising=False)
    unset = materialize([sync_pull, sync_push], resources=resources)
    assert unset.success and "shared-1" not in set(query(db, "select article_id from raw.news_articles")["article_id"])

    monkeypatch.setenv("CBI_SYNC_REMOTE", str(remote))
    result = materialize([sync_pull, sync_push], resources=resources)
    assert result.success
    assert "shared-1" in set(query(db, "select article_id from raw.news_articles")["article_id"])
    local = query(db, "select * from forecasts.zl_predictions order by horizon_days")
    pd.testing.assert_frame_equal(query(remote, "select * from forecasts.zl_predictions order by horizon_days"), local)
    pull, push = (result.asset_materializations_for_node(f"sync__{step}")[0].metadata for step in ("pull", "push"))
    assert "raw.news_articles" in pull["changed"].value and "forecasts.zl_predictions" in push["changed"].value
    runs_before = query(db, "select count(*) as n from ops.ingest_runs")["n"][0]
    again = materialize([sync_pull, sync_push], resources=resources)  # idempotent: nothing left to copy ...
    recorded = query(db, "select count(*) as n from ops.ingest_runs")["n"][0] - runs_before
    written = {
        s: again.asset_materializations_for_node(f"sync__{s}")[0].metadata["rows_written"].value
        for s in ("pull", "push")
    }
    # ... but the pull's own run record (one row for the pull, one per table: a pull is a load like any other)
    assert written == {"pull": 0, "push": recorded} and recorded > 0
