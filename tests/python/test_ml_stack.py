"""The model stack's pure parts against known answers: folds, baselines, greedy ensemble, stacking,
calibration, Monte Carlo, the retraining policy."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cbi_ml.artifacts import MemberState, needs_training
from cbi_ml.baselines import rw_empirical, rw_ewma
from cbi_ml.calibration import apply_shifts, conformal_shifts
from cbi_ml.ensemble import combine, greedy_weights
from cbi_ml.quantiles import interval_coverage, pinball_loss
from cbi_ml.risk import risk_row, split_t_draws
from cbi_ml.walkforward import walk_forward_folds


def test_folds_are_purged_expanding_and_in_time_order():
    folds = walk_forward_folds(n_rows=1000, horizon=21, n_folds=3, block=100)
    assert [(f.train_end, f.test_start, f.test_end) for f in folds] == [
        (679, 700, 800),
        (779, 800, 900),
        (879, 900, 1000),
    ]
    for fold in folds:
        last_label_end = fold.train_index.max() + 21  # a training label spans t..t+h
        assert last_label_end < fold.test_index.min()
    assert walk_forward_folds(300, 126, 3, 100) == []  # too little history: no fold rather than a leaky one


def test_random_walk_baselines_match_their_definitions():
    rng = np.random.default_rng(3)
    returns = pd.Series(rng.normal(0, 0.01, 1000))
    q = rw_empirical(returns, horizon=5, window=200, min_obs=100)
    past = returns.rolling(5).sum().iloc[800:1000]
    assert q[999, 0] == pytest.approx(np.quantile(past, 0.1))
    assert np.isnan(q[50]).all()
    vol = pd.Series(np.full(3, 0.02))
    np.testing.assert_allclose(rw_ewma(vol, 4)[0], 0.02 * 2 * norm.ppf([0.1, 0.5, 0.9]))


def test_greedy_ensemble_matches_brute_force_on_a_tiny_case():
    rng = np.random.default_rng(0)
    y = rng.normal(size=400)
    members = np.column_stack([y + 0.8, y - 0.8, y + rng.normal(0, 2, 400)])  # biased up, down, noisy
    rounds = 6
    weights = greedy_weights(y, members, 0.5, rounds)
    best_loss = min(
        pinball_loss(y, combine(members, np.bincount(c, minlength=3) / rounds), 0.5).mean()
        for c in itertools.combinations_with_replacement(range(3), rounds)
    )
    assert pinball_loss(y, combine(members, weights), 0.5).mean() == pytest.approx(best_loss)
    np.testing.assert_allclose(weights, [0.5, 0.5, 0.0])  # the two biases cancel
    single = min(pinball_loss(y, members[:, m], 0.5).mean() for m in range(3))
    assert pinball_loss(y, combine(members, weights), 0.5).mean() <= single


def test_conformal_calibration_reaches_nominal_coverage_where_truth_is_known():
    rng = np.random.default_rng(1)
    scale = rng.uniform(0.5, 2.0, 6000)
    y = rng.normal(0, scale)
    too_narrow = np.column_stack([-0.5 * scale * 1.2816, np.zeros_like(scale), 0.5 * scale * 1.2816])
    calib, test = slice(0, 3000), slice(3000, 6000)
    assert interval_coverage(y[test], too_narrow[test]) < 0.55
    shifts = conformal_shifts(y[calib], too_narrow[calib], scale[calib])
    calibrated = apply_shifts(too_narrow[test], scale[test], shifts)
    assert interval_coverage(y[test], calibrated) == pytest.approx(0.8, abs=0.03)
    for i, level in enumerate((0.1, 0.5, 0.9)):
        assert np.mean(y[test] <= calibrated[:, i]) == pytest.approx(level, abs=0.03)


def test_monte_carlo_reproduces_the_forecast_quantiles_with_fat_tails():
    draws = split_t_draws(-0.08, 0.01, 0.06, 200_000, np.random.default_rng(2))
    se = np.sqrt(0.1 * 0.9 / len(draws)) / 0.3  # generous sampling error of a quantile
    assert np.quantile(draws, [0.1, 0.5, 0.9]) == pytest.approx([-0.08, 0.01, 0.06], abs=4 * se)
    # heavier left tail than a normal with the same P10
    normal_p01 = 0.01 - 0.09 / 1.2816 * 2.326
    assert np.quantile(draws, 0.01) < normal_p01


def test_risk_figures_are_consistent():
    row, draws = risk_row(-0.05, 0.0, 0.05, 40.0, 10_000, seed=7)
    assert 0 < row["var_95_ret"] < row["cvar_95_ret"] and row["var_95_ret"] < row["var_99_ret"] < row["cvar_99_ret"]
    assert row["var_95_price"] == pytest.approx(40.0 * np.exp(-row["var_95_ret"]))
    assert row["var_95_usd_per_contract"] == pytest.approx((40.0 - row["var_95_price"]) * 600)
    again, _ = risk_row(-0.05, 0.0, 0.05, 40.0, 10_000, seed=7)
    assert again == row  # seeded: the same forecast gives the same risk


def test_retraining_policy():
    now = datetime(2026, 11, 20, 22, 0)
    state = MemberState("r1", now - timedelta(days=2), "abc", "p.parquet", {}, "2026-11-01")
    assert needs_training(None, "auto", "abc", now, 7)[0]
    assert not needs_training(state, "auto", "abc", now, 7)[0]
    assert needs_training(state, "auto", "abc", now, 1)[0]  # too old
    assert needs_training(state, "auto", "xyz", now, 7)[0]  # configuration changed
    assert needs_training(state, "always", "abc", now, 7)[0]
    assert not needs_training(state, "never", "xyz", now - timedelta(days=0), 0)[0]


def test_calibration_is_used_only_where_it_helped_before():
    from cbi_ml.combine import calibration_where_it_helped

    rng = np.random.default_rng(4)
    y = rng.normal(0, 1, 300)
    good = np.column_stack([np.full(300, -1.2816), np.zeros(300), np.full(300, 1.2816)])
    bad = good * 0.2
    folds = np.repeat([0, 1, 2], 100)
    # calibration made things worse on earlier folds: the raw quantiles stand everywhere
    np.testing.assert_array_equal(calibration_where_it_helped(y, good, bad, folds), good)
    # it helped: used from the second fold on (the first has nothing to compare with)
    chosen = calibration_where_it_helped(y, bad, good, folds)
    np.testing.assert_array_equal(chosen[:100], bad[:100])
    np.testing.assert_array_equal(chosen[100:], good[100:])
