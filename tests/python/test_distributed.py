"""The backtest's and the retrain's fits as Ray tasks on a local two-worker cluster give exactly the rows of a
serial run."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pandas as pd
import pytest
from conftest import query

from cbi_ml.distributed import Call, RayResources, ray_address, run_all
from cbi_ml.evaluation import backtest

pytestmark = pytest.mark.dbt


def _square(x: int) -> int:
    return x * x


def test_serial_calls_run_in_order_here():
    assert list(run_all([Call(_square, (i,)) for i in range(4)], None)) == [(0, 0), (1, 1), (2, 4), (3, 9)]


def test_ray_address_comes_from_the_option_then_the_environment(monkeypatch):
    monkeypatch.delenv("CBI_RAY_ADDRESS", raising=False)
    assert ray_address(None) is None
    monkeypatch.setenv("CBI_RAY_ADDRESS", "auto")
    assert ray_address(None) == "auto"
    assert ray_address("local") == "local"
    assert ray_address("  ") is None


def test_a_backtest_on_a_local_ray_cluster_stores_the_serial_rows(built_features, ml_defaults):
    ray = pytest.importorskip("ray")
    matrix = query(built_features, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_features, "select * from features.feature_catalog")
    # a budget that never binds: a fit cut short by the clock depends on the load, not on where it ran
    cfg = replace(ml_defaults, horizons={"1m": 21}, time_limit_s=600, model_families=("GBM",))
    members = ["rw_ewma", "har", "main", "spec_crush"]
    args = (matrix, catalog, cfg, members, "2022-01-03", "2022-06-30", 63, set())

    serial: dict[int, pd.DataFrame] = {}
    backtest.replay_members(*args, serial.__setitem__)
    on_ray: dict[int, pd.DataFrame] = {}
    try:
        backtest.replay_members(*args, on_ray.__setitem__, ray_address="local")
        workers = ray.cluster_resources()
    finally:
        ray.shutdown()

    assert workers.get("CPU") == RayResources().fits_per_node * RayResources().cpus_per_fit == 2
    assert len(serial) >= 2 and sorted(serial) == sorted(on_ray)
    for refit, rows in serial.items():
        assert set(rows["member"]) == set(members)
        pd.testing.assert_frame_equal(on_ray[refit], rows)


def test_a_member_retrained_on_a_local_ray_cluster_gives_the_serial_rows(
    built_features, ml_defaults, tmp_path, monkeypatch
):
    """`run_member` (what each dbt member node runs) with CBI_RAY_ADDRESS=local: every out-of-fold fold and the
    final fit are Ray tasks; the rows, the saved models and the audit records are those of the serial run."""
    ray = pytest.importorskip("ray")
    from cbi_ml.members.run import run_member

    matrix = query(built_features, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_features, "select * from features.feature_catalog")
    cfg = replace(ml_defaults, horizons={"1m": 21}, oof_folds=2, oof_block=126, time_limit_s=20, retrain="always")
    now = datetime(2026, 1, 5, 6, 0)
    monkeypatch.delenv("CBI_RAY_ADDRESS", raising=False)
    serial = run_member("spec_fed", matrix, catalog, replace(cfg, artifacts_dir=str(tmp_path / "serial")), now)
    monkeypatch.setenv("CBI_RAY_ADDRESS", "local")
    try:
        on_ray = run_member("spec_fed", matrix, catalog, replace(cfg, artifacts_dir=str(tmp_path / "ray")), now)
    finally:
        ray.shutdown()

    assert list(serial["fold"].unique()) == [0, 1, -1]
    assert on_ray["model_path"].str.replace("/ray/", "/serial/").equals(serial["model_path"])
    pd.testing.assert_frame_equal(on_ray.drop(columns="model_path"), serial.drop(columns="model_path"))
    for run in ("serial", "ray"):
        saved = [path for path in serial["model_path"].dropna().unique()]
        assert all((tmp_path / run / p.split("/serial/", 1)[1]).is_dir() for p in saved)
        records = [json.loads(line) for line in (tmp_path / run / "training_runs.jsonl").read_text().splitlines()]
        assert sorted(r["fold"] for r in records) == [-1, 0, 1] and {r["status"] for r in records} == {"ok"}
