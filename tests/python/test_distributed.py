"""The backtest's fits as Ray tasks on a local two-worker cluster store exactly the rows of a serial run."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from conftest import query

from cbi_ml import backtest
from cbi_ml.config import MLConfig
from cbi_ml.distributed import Call, RayResources, ray_address, run_all

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


def test_a_backtest_on_a_local_ray_cluster_stores_the_serial_rows(built_warehouse):
    ray = pytest.importorskip("ray")
    matrix = query(built_warehouse, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_warehouse, "select * from features.feature_catalog")
    cfg = replace(MLConfig(), horizons={"1m": 21}, time_limit_s=20, model_families=("GBM",))
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
