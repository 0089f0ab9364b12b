"""The model stack's pure parts against known answers: folds, baselines, greedy ensemble, stacking,
calibration, Monte Carlo, the retraining policy."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cbi_ml.combine.calibration import apply_shifts, conformal_shifts
from cbi_ml.combine.ensemble import combine, greedy_weights
from cbi_ml.members.artifacts import MemberState, needs_training
from cbi_ml.members.baselines import rw_empirical, rw_ewma
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


def test_conformal_shifts_hold_coverage_in_small_samples_where_plain_quantiles_do_not():
    """20 independent outcomes: the plain empirical 10%/90% quantiles of the residuals give an interval that
    covers less than 80% on average; the finite-sample conformal order statistics cover at least 80%."""
    from cbi_ml.combine.calibration import conformal_level

    rng = np.random.default_rng(8)
    m, reps = 20, 4000
    zero = np.zeros((m, 3))
    plain, conformal = [], []
    for _ in range(reps):
        y = rng.standard_t(5, m)
        fresh = rng.standard_t(5, 200)
        shifts = conformal_shifts(y, zero, np.ones(m), horizon_days=1)
        conformal.append(np.mean((fresh >= shifts[0]) & (fresh <= shifts[2])))
        lo, hi = np.quantile(y, [0.1, 0.9])
        plain.append(np.mean((fresh >= lo) & (fresh <= hi)))
    assert np.mean(plain) < 0.78  # the uncorrected quantile under-covers
    assert np.mean(conformal) >= 0.8
    assert conformal_level(0.9, 20) == pytest.approx(19 / 20) and conformal_level(0.1, 20) == pytest.approx(2 / 20)


def test_overlapping_residuals_count_as_independent_outcomes_and_too_few_give_no_calibration():
    from cbi_ml.combine.calibration import MIN_OUTCOMES, effective_outcomes, rows_needed

    rng = np.random.default_rng(9)
    q = np.zeros((252, 3))
    y = rng.normal(size=252)
    assert effective_outcomes(252, 63) == 4 and effective_outcomes(252, 126) == 2
    assert conformal_shifts(y, q, np.ones(252), horizon_days=63) is None  # 4 outcomes: no calibration at 3m
    assert conformal_shifts(y, q, np.ones(252), horizon_days=5) is not None  # 50 outcomes at 1w
    assert rows_needed(252, 63) == MIN_OUTCOMES * 63 and rows_needed(252, 5) == 252


def test_the_final_layer_is_not_locked_by_a_member_missing_the_first_fold():
    """The issue's reproduction: 13 members on three out-of-fold blocks, the stacker without predictions on the
    first; one member is a noisy oracle of the outcome. The latest forecast moves to it."""
    from cbi_ml.combine.ensemble import ensemble_weights
    from cbi_ml.combine.layers import final_predictions

    rng = np.random.default_rng(10)
    days, block = 21, 252
    n = 3 * block + 1
    dates = pd.bdate_range("2020-01-01", periods=n)
    folds = np.append(np.repeat([0, 1, 2], block), -1)
    scale = np.full(n, 0.05)
    y = rng.normal(0, scale)
    y[-1] = np.nan
    z = norm.ppf([0.1, 0.5, 0.9])
    rows = []
    for k in range(13):
        name = "stack" if k == 12 else f"m{k}"
        if k == 0:
            name, q = "rw_ewma", np.outer(scale, z)
        elif k == 1:  # the oracle: y seen through noise of half its scale
            signal = np.where(np.isnan(y), 0.0, y) + rng.normal(0, scale / 2)
            q = 0.8 * signal[:, None] + np.outer(np.sqrt(0.8) * scale / 2, z)
        else:
            q = np.outer(scale * rng.uniform(0.8, 1.2), z) + rng.normal(0, 0.3, (n, 1)) * scale[:, None]
        keep = folds != 0 if name == "stack" else np.ones(n, dtype=bool)
        rows.append(
            pd.DataFrame(
                {
                    "as_of_date": dates[keep],
                    "horizon": "1m",
                    "horizon_days": days,
                    "member": "oracle" if k == 1 else name,
                    "fold": folds[keep],
                    "q10": q[keep, 0],
                    "q50": q[keep, 1],
                    "q90": q[keep, 2],
                    "y": y[keep],
                    "scale": scale[keep],
                }
            )
        )
    predictions = pd.concat(rows, ignore_index=True)
    positions = pd.Series(np.arange(n), index=dates)
    weights = ensemble_weights(predictions, rounds=10)
    out = final_predictions(predictions, weights, positions, calibration_rows=252, rounds=10)
    final = out[out["member"] == "final"]
    assert final.loc[final["fold"] == -1, "source"].iloc[0] == "oracle"
    assert (final["fold"] == 0).sum() == block  # the first block is kept (the stacker's absence drops nothing)
    ensemble = out[(out["member"] == "ensemble") & (out["fold"] >= 0)]
    assert sorted(ensemble["fold"].unique()) == [1, 2]


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


def test_the_final_layer_moves_to_a_more_complex_candidate_only_when_it_earned_it():
    from cbi_ml.combine.final import earned_choice

    rng = np.random.default_rng(4)
    n, days = 1200, 5
    y = rng.normal(0, 1, n)
    folds = np.repeat(np.arange(6), 200)
    pos = np.arange(n)
    true = np.column_stack([np.full(n, -1.2816), np.zeros(n), np.full(n, 1.2816)])
    shrunk = true * 0.3  # far too narrow: clearly worse
    nearly = true * 1.03  # within noise of the truth
    # the simple candidate is wrong, the complex one right: switched to as soon as the history holds a standard
    # error with B >= 2 degrees of freedom (0.4 n / 63 >= 2: fold 2, 395 purged rows; fold 1's 195 are too few)
    q, names = earned_choice(y, [("simple", shrunk, None), ("complex", true, None)], folds, pos, days)
    assert (names[:400] == "simple").all() and (names[400:] == "complex").all()
    np.testing.assert_array_equal(q[400:], true[400:])
    # a candidate that is worse, or better only inside the noise, never replaces the simple one
    _, names = earned_choice(y, [("simple", true, None), ("complex", shrunk, None)], folds, pos, days)
    assert (names == "simple").all()
    _, names = earned_choice(y, [("simple", nearly, None), ("complex", true, None)], folds, pos, days)
    assert (names == "simple").all()
    # the latest forecast (fold -1) is judged on every out-of-fold row
    folds_latest = np.append(folds[:-1], -1)
    _, names = earned_choice(y, [("simple", shrunk, None), ("complex", true, None)], folds_latest, pos, days)
    assert names[-1] == "complex"


def test_best_member_so_far_uses_only_earlier_folds():
    from cbi_ml.combine.final import best_member_so_far

    rng = np.random.default_rng(5)
    n, days = 400, 5
    y = rng.normal(0, 1, n)
    folds = np.repeat(np.arange(4), 100)
    good = np.column_stack([np.full(n, -1.2816), np.zeros(n), np.full(n, 1.2816)])
    bad = good * 0.3
    # "a" is good in folds 0-1 and bad afterwards; "b" the reverse
    a = np.where((folds < 2)[:, None], good, bad)
    b = np.where((folds < 2)[:, None], bad, good)
    q, names = best_member_so_far(y, {"a": a, "b": b}, folds, np.arange(n), days)
    assert np.isnan(q[:100]).all()  # nothing to judge the first fold on
    assert (names[100:300] == "a").all()  # judged on folds 0..1 (and 0..2 for fold 3: still a's 200 good rows)
    assert (names[300:] == "a").all()
    np.testing.assert_array_equal(q[200:300], a[200:300])  # no peeking at fold 2's own outcomes


def test_combination_layers_learn_nothing_from_the_rows_they_predict():
    from cbi_ml.combine.final import final_layer
    from cbi_ml.combine.layers import combine_layers

    rng = np.random.default_rng(6)
    n, days = 600, 5
    folds = np.repeat(np.arange(6), 100)
    pos = np.arange(n)
    scale = np.ones(n)
    y = rng.normal(0, 1, n)
    base = np.array([-1.2816, 0.0, 1.2816])
    x = [np.column_stack([base[i] * s + rng.normal(0, 0.1, n) for s in (0.6, 1.0, 1.4)]) for i in range(3)]
    members = {f"m{j}": np.column_stack([x[i][:, j] for i in range(3)]) for j in range(3)}

    def layers(outcomes):
        ensemble, calibrated = combine_layers(outcomes, x, folds, pos, scale, days, rounds=10, calibration_rows=252)
        final, source = final_layer(outcomes, ensemble, calibrated, members, folds, pos, days)
        return ensemble, calibrated, final

    before = layers(y)
    changed = y.copy()
    changed[folds == 3] += rng.normal(0, 3, 100)  # other outcomes for fold 3 only
    after = layers(changed)
    upto = folds <= 3
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a[upto], b[upto])  # fold 3's forecasts never saw fold 3's outcomes
    assert np.isnan(before[0][folds == 0]).all()  # the first fold has no history to weigh members on
    assert not np.isnan(before[0][folds == 1]).any()


def test_the_latest_ensemble_uses_the_production_weights():
    from cbi_ml.combine.layers import combine_layers

    rng = np.random.default_rng(7)
    n, days = 301, 5
    folds = np.append(np.repeat([0, 1, 2], 100), -1)
    x = [rng.normal(size=(n, 2)) + i for i in range(3)]
    weights = [np.array([0.25, 0.75])] * 3
    ensemble, _ = combine_layers(
        rng.normal(size=n), x, folds, np.arange(n), np.ones(n), days, 10, 252, latest_weights=weights
    )
    expected = sorted(0.25 * x[i][-1, 0] + 0.75 * x[i][-1, 1] for i in range(3))
    np.testing.assert_allclose(ensemble[-1], expected)
