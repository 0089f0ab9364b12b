"""Pure pieces of the model code, checked against hand computations."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import pytest

from cbi_ml.config import STRUCTURE_FIELDS, MLConfig
from cbi_ml.dataset import LABEL, labelled_rows, prepare_matrix, purged_split
from cbi_ml.quantiles import pinball_loss, sort_quantiles
from cbi_ml.scoring import ewc_dof, ewc_variance, skill_ratio_se, verdict
from cbi_ml.volatility import ewma_volatility


def test_pinball_loss_matches_hand_computed_values():
    y = np.array([1.0, 1.0, 1.0])
    # under-prediction by 0.5 at q=0.9 costs 0.9*0.5; over-prediction by 0.5 costs 0.1*0.5; exact costs 0
    assert pinball_loss(y, np.array([0.5, 1.5, 1.0]), 0.9) == pytest.approx([0.45, 0.05, 0.0])
    assert pinball_loss(y, np.array([0.5, 1.5, 1.0]), 0.1) == pytest.approx([0.05, 0.45, 0.0])
    assert pinball_loss(np.array([1.0]), np.array([0.0]), 0.5) == pytest.approx([0.5])


def test_sorted_quantiles_never_cross():
    q = sort_quantiles(np.array([[0.3, -0.1, 0.1], [-0.2, 0.0, 0.2]]))
    assert (np.diff(q, axis=1) >= 0).all()
    assert q[0].tolist() == [-0.1, 0.1, 0.3]


def test_ewma_volatility_follows_the_riskmetrics_recursion():
    r = pd.Series([0.01, -0.02, 0.015, 0.0, 0.03, -0.01])
    vol = ewma_volatility(r, lam=0.9, min_periods=2)
    var = np.mean([0.01**2, 0.02**2])
    expected = [np.nan, np.sqrt(var)]
    for x in r.iloc[2:]:
        var = 0.9 * var + 0.1 * x * x
        expected.append(np.sqrt(var))
    np.testing.assert_allclose(vol.to_numpy(), expected, equal_nan=True)


def test_ewma_volatility_uses_no_future_return():
    r = pd.Series(np.random.default_rng(0).normal(0, 0.01, 300))
    base = ewma_volatility(r)
    shocked = r.copy()
    shocked.iloc[200] = 0.5
    changed = ewma_volatility(shocked)
    pd.testing.assert_series_equal(base.iloc[:200], changed.iloc[:200])
    assert changed.iloc[200] > base.iloc[200]


def synthetic_matrix(n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    ret = rng.normal(0, 0.015, n)
    close = 40 * np.exp(np.cumsum(ret))
    frame = pd.DataFrame(
        {
            "as_of_date": pd.bdate_range("2015-01-01", periods=n),
            "zl_log_return_1d": ret,
            "zl_close_cents_per_lb": close,
            "feature_a": rng.normal(size=n),
        }
    )
    frame["target_ret_21d"] = np.log(pd.Series(close).shift(-21) / close)
    return frame


def test_labels_are_volatility_scaled_targets():
    frame = prepare_matrix(synthetic_matrix(), 0.94)
    rows = labelled_rows(frame, 21)
    i = rows.index[50]
    expected = frame.loc[i, "target_ret_21d"] / (frame.loc[i, "zl_ewma_vol_1d"] * np.sqrt(21))
    assert rows.loc[i, LABEL] == pytest.approx(expected)
    assert "target_ret_21d" not in rows.columns  # no target leaks in as a feature
    assert len(rows) == frame["target_ret_21d"].notna().sum() - frame["zl_ewma_vol_1d"].isna().sum()


def test_purged_split_leaves_a_gap_of_h_rows_before_the_tuning_block():
    frame = prepare_matrix(synthetic_matrix(), 0.94)
    rows = labelled_rows(frame, 21)
    train, tune = purged_split(rows, 21, 0.15)
    gap = rows.index.get_loc(tune.index[0]) - rows.index.get_loc(train.index[-1]) - 1
    assert gap == 21
    assert train.index.max() + 21 < tune.index.min()  # no training label window reaches a tuning row
    assert len(tune) == round(len(rows) * 0.15)


def test_config_rejects_families_without_quantile_support(ml_defaults):
    with pytest.raises(ValueError, match="XGB"):
        replace(ml_defaults, model_families=("GBM", "XGB"))


def project_block(cfg: MLConfig) -> dict:
    """The `project` half of meta.cbi_vars that would give `cfg` (the shape dbt_project.yml has)."""
    ml = {k: v for k, v in asdict(cfg).items() if k not in STRUCTURE_FIELDS}
    ml["model_families"] = ",".join(ml["model_families"])
    return {
        "cbi_horizons": dict(cfg.horizons),
        "cbi_quantile_levels": list(cfg.quantile_levels),
        "cbi_buckets": {b: {"news": True} for b in cfg.buckets},
        "cbi_ml": ml,
    }


def test_config_overlays_the_command_line_vars_on_the_project(ml_defaults):
    assert MLConfig.from_dbt({"project": project_block(ml_defaults), "command_line": None}) == ml_defaults
    given = {
        "cbi_horizons": {"1w": 5, "6m": 126},
        "cbi_ml": {"time_limit_s": "30", "model_families": "gbm, cat", "seed": 7, "oof_folds": 4},
    }
    cfg = MLConfig.from_dbt({"project": project_block(ml_defaults), "command_line": json.dumps(given)})
    assert cfg.horizons == {"1w": 5, "6m": 126}  # a var given on the command line replaces the project's
    assert cfg.model_families == ("GBM", "CAT") and cfg.time_limit_s == 30 and cfg.seed == 7 and cfg.oof_folds == 4
    assert cfg.retrain == ml_defaults.retrain and cfg.mc_draws == ml_defaults.mc_draws  # cbi_ml: per key


def test_config_refuses_unknown_or_missing_settings(ml_defaults):
    project = project_block(ml_defaults)
    with pytest.raises(ValueError, match="meta_get"):
        MLConfig.from_dbt({"cbi_ml": "{}"})
    with pytest.raises(ValueError, match="unknown cbi_ml setting"):
        MLConfig.from_dbt({"project": project, "command_line": '{"cbi_ml": {"time_limt_s": 3}}'})
    del project["cbi_ml"]["seed"]
    with pytest.raises(ValueError, match=r"\['seed'\] missing"):
        MLConfig.from_dbt({"project": project})
    with pytest.raises(ValueError, match="cbi_quantile_levels"):
        replace(ml_defaults, quantile_levels=(0.05, 0.5, 0.95))


def test_ratio_se_matches_the_delta_method_on_independent_losses():
    rng = np.random.default_rng(11)
    n = 4000
    base = rng.exponential(1.0, n)
    loss = base * 0.9 + rng.exponential(0.1, n)
    se = skill_ratio_se(loss, base, horizon=1)
    # delta method for mean(a)/mean(b) with paired rows
    ra, rb = loss.mean(), base.mean()
    cov = np.cov(loss, base)
    delta = np.sqrt((cov[0, 0] / rb**2 - 2 * ra * cov[0, 1] / rb**3 + ra**2 * cov[1, 1] / rb**4) / n)
    assert se == pytest.approx(delta, rel=0.15)


def test_ratio_se_widens_with_overlap_and_refuses_too_few_rows():
    rng = np.random.default_rng(12)
    shocks = rng.normal(size=3000)
    overlapping = np.convolve(shocks, np.ones(21), mode="valid") ** 2  # 21-day overlapping outcomes
    base = overlapping * 1.0 + 1.0
    loss = overlapping * 1.1 + 1.0
    wide = skill_ratio_se(loss, base, horizon=21)
    ratio = loss.mean() / base.mean()
    naive = np.std(loss - ratio * base) / np.sqrt(len(loss)) / base.mean()  # as if the rows were independent
    assert wide > 2 * naive
    assert np.isnan(skill_ratio_se(loss[:100], base[:100], horizon=21))  # fewer than 5 h rows
    assert verdict(1.5, float("nan")) == "too few rows"


def test_ewc_variance_of_white_noise_is_the_variance_of_the_mean():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(4000, 300))
    assert ewc_variance(x, 20).mean() == pytest.approx(1 / 300, rel=0.02)
    assert ewc_dof(1000, 5) == 39 and ewc_dof(252, 21) == 4 and ewc_dof(504, 63) == 3


def test_verdict_needs_two_standard_errors():
    assert verdict(0.95, 0.02) == "gain"
    assert verdict(0.97, 0.02) == "no difference"
    assert verdict(1.05, 0.02) == "loss"
