"""A member trained for real (small budget): honest folds, scoring with saved models, retraining, seeds."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from conftest import TS_TEST_BUDGET, query

from cbi_ml.config import MLConfig
from cbi_ml.members.run import run_member

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def inputs(built_features):
    matrix = query(built_features, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_features, "select * from features.feature_catalog")
    return matrix, catalog


@pytest.fixture
def small_config(ml_defaults):
    def make(tmp_path, **changes) -> MLConfig:
        return replace(
            ml_defaults,
            horizons={"1m": 21},
            time_limit_s=20,
            oof_folds=2,
            oof_block=100,
            artifacts_dir=str(tmp_path),
            **{**TS_TEST_BUDGET, **changes},
        )

    return make


def test_out_of_fold_rows_are_predicted_by_models_that_never_saw_them(inputs, tmp_path, small_config):
    matrix, catalog = inputs
    out = run_member("rw_ewma", matrix, catalog, small_config(tmp_path), datetime(2026, 1, 5))
    oof = out[out["fold"] >= 0]
    assert sorted(oof["fold"].unique()) == [0, 1] and (oof.groupby("fold").size() == 100).all()
    assert out[out["fold"] == -1]["as_of_date"].iloc[0] == matrix["as_of_date"].max()
    assert (oof["q10"] < oof["q90"]).all()


@pytest.mark.parametrize("member", ["spec_volatility", "ag_timeseries"])
def test_training_then_scoring_then_retraining(inputs, tmp_path, member, small_config):
    matrix, catalog = inputs
    cfg = small_config(tmp_path)
    t0 = datetime(2026, 1, 5, 22, 0)
    trained = run_member(member, matrix, catalog, cfg, t0)
    scored = run_member(member, matrix, catalog, cfg, t0 + timedelta(days=1))
    latest = lambda f: f[f["fold"] == -1].iloc[0]  # noqa: E731
    assert latest(scored)["trained_at"] == t0  # scored with the saved predictors, not retrained
    pd.testing.assert_frame_equal(
        trained[trained["fold"] >= 0].reset_index(drop=True), scored[scored["fold"] >= 0].reset_index(drop=True)
    )
    assert latest(scored)[["q10", "q50", "q90"]].tolist() == pytest.approx(
        latest(trained)[["q10", "q50", "q90"]].tolist()
    )
    stale = run_member(member, matrix, catalog, cfg, t0 + timedelta(days=30))
    assert latest(stale)["trained_at"] == t0 + timedelta(days=30)  # older than max_model_age_days: retrained
    forced = run_member(member, matrix, catalog, replace(cfg, retrain="always"), t0 + timedelta(days=31))
    assert latest(forced)["trained_at"] == t0 + timedelta(days=31)


@pytest.mark.parametrize("member", ["spec_fx", "ag_timeseries"])
def test_same_inputs_and_budget_give_the_same_forecast(inputs, tmp_path, member, small_config):
    matrix, catalog = inputs
    first = run_member(member, matrix, catalog, small_config(tmp_path / "a"), datetime(2026, 1, 5))
    second = run_member(member, matrix, catalog, small_config(tmp_path / "b"), datetime(2026, 1, 5))
    np.testing.assert_array_equal(first[["q10", "q50", "q90"]].to_numpy(), second[["q10", "q50", "q90"]].to_numpy())
