"""The AutoGluon time-series baseline and the opt-in foundation models: no look-ahead in what each forecast
origin sees, honest intervals on a series whose truth is known, Chronos-Bolt from local weights only."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TS_TEST_BUDGET

from cbi_ml.config import MLConfig
from cbi_ml.dataset import RETURN_COLUMN, prepare_matrix, target_column
from cbi_ml.members import foundation
from cbi_ml.members.timeseries import (
    bucket_scores,
    fit_on_rows,
    future_covariates,
    lagged_covariates,
    log_price_path,
    predict_rows,
    series_items,
)

SIGMA = 0.012  # daily volatility of the synthetic random walk


def synthetic_matrix(buckets: tuple[str, ...], n: int = 1600, seed: int = 3) -> pd.DataFrame:
    """A driftless Gaussian random walk with constant volatility (true h-day quantiles: z_q * SIGMA * sqrt(h)),
    its forward targets and eight bucket scores that carry no information."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, SIGMA, n)
    frame = pd.DataFrame({"as_of_date": pd.bdate_range("2015-01-01", periods=n), RETURN_COLUMN: returns})
    path = np.cumsum(returns)
    for days in (5, 21):
        ahead = np.full(n, np.nan)
        ahead[: n - days] = path[days:] - path[: n - days]
        frame[target_column(days)] = ahead
    for bucket in buckets:
        frame[f"{bucket}_score"] = rng.uniform(0, 100, n)
    return frame


@pytest.fixture
def ts_config(ml_defaults):
    """The project's settings (dbt's rendering, no --vars) with a smaller time-series window."""

    def make(tmp_path: Path, **changes) -> MLConfig:
        return replace(ml_defaults, **TS_TEST_BUDGET, artifacts_dir=str(tmp_path), **changes)

    return make


def test_lagged_covariates_are_scores_from_h_rows_earlier():
    scores = pd.DataFrame({"crush_score": np.arange(10.0)})
    out = lagged_covariates(scores, np.array([0, 2, 3, 9, 12]), 3)
    # position p carries the score of p - 3; before the data it is neutral; past the end it is still a known row
    assert out["crush_score"].tolist() == [50.0, 50.0, 0.0, 6.0, 9.0]


def test_each_origin_sees_only_its_past_and_scores_known_at_it():
    n, days = 60, 5
    y = np.arange(n, dtype=float)
    scores = pd.DataFrame({name: np.arange(n, dtype=float) for name in ("crush_score", "china_score")})  # = row
    ends = np.array([20, 41, n - 1])
    history = series_items(y, scores, ends, days, context=15)
    future = future_covariates(scores, ends, days)
    for e in ends:
        h = history[history["item_id"] == f"t{e}"]
        assert h["log_price"].max() == e and len(h) == 15  # the series stops at the origin
        f = future[future["item_id"] == f"t{e}"]
        assert len(f) == days
        # every covariate value, in the history and in the future steps, is a score of a row <= e
        assert h[list(scores.columns)].to_numpy().max() <= e and f[list(scores.columns)].to_numpy().max() <= e
        assert f["crush_score"].tolist() == [float(e + k - days) for k in range(1, days + 1)]


def test_bucket_scores_fill_gaps_without_looking_ahead():
    frame = pd.DataFrame({"crush_score": [np.nan, 10.0, np.nan, 30.0], "fx_score": [np.nan] * 4})
    out = bucket_scores(frame, ("crush", "fx", "china"))
    assert out["crush_score"].tolist() == [50.0, 10.0, 10.0, 30.0]
    assert out["fx_score"].tolist() == [50.0] * 4


def test_time_series_baseline_has_honest_intervals_on_a_known_random_walk(tmp_path, ts_config, ml_defaults):
    frame = prepare_matrix(synthetic_matrix(ml_defaults.buckets), 0.94)
    days = 5
    labelled = np.flatnonzero(frame[target_column(days)].notna())
    test = labelled[-300:]
    train = labelled[labelled + days < test[0]]
    cfg = ts_config(tmp_path)
    predictor = fit_on_rows(frame, days, train, cfg, tmp_path / "ts")
    q = predict_rows(predictor, frame, days, test, cfg)
    y = frame[target_column(days)].to_numpy()[test]
    assert (q[:, 0] < q[:, 1]).all() and (q[:, 1] < q[:, 2]).all()
    coverage = np.mean((y >= q[:, 0]) & (y <= q[:, 2]))
    assert 0.70 <= coverage <= 0.90, coverage  # nominal 0.80; 300 overlapping 5-day outcomes
    true_q90 = 1.2816 * SIGMA * np.sqrt(days)
    assert np.median(q[:, 2]) == pytest.approx(true_q90, rel=0.2)
    assert abs(np.median(q[:, 1])) < 0.2 * true_q90  # no invented drift


def test_time_series_training_uses_no_price_after_the_purge(tmp_path, ts_config, ml_defaults):
    """Prices after max(train) + h must not change the fitted model's forecasts."""
    base = synthetic_matrix(ml_defaults.buckets, 900)
    days = 5
    train = np.arange(100, 600)
    rows = np.array([700, 750])
    cfg = ts_config(tmp_path)
    changed = base.copy()
    changed.loc[605:, RETURN_COLUMN] += 0.05  # a different future after the last known price (row 604)
    forecasts = []
    for k, frame in enumerate((base, changed)):
        f = prepare_matrix(frame, 0.94)
        predictor = fit_on_rows(f, days, train, cfg, tmp_path / f"run{k}")
        probe = predict_rows(predictor, prepare_matrix(base, 0.94), days, rows, cfg)  # same inputs at predict time
        forecasts.append(probe)
    np.testing.assert_allclose(forecasts[0], forecasts[1], rtol=1e-6, atol=1e-9)


def write_tiny_chronos_bolt(folder: Path) -> Path:
    """A randomly initialised, very small Chronos-Bolt model saved the way the published weights are."""
    import torch
    from chronos.chronos_bolt import ChronosBoltModelForForecasting
    from transformers import T5Config

    config = T5Config(
        d_model=16,
        d_ff=32,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        d_kv=8,
        vocab_size=2,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
        dense_act_fn="relu",
        is_gated_act=False,
        chronos_config={
            "context_length": 64,
            "prediction_length": 16,
            "input_patch_size": 8,
            "input_patch_stride": 8,
            "quantiles": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
            "use_reg_token": True,
        },
        chronos_pipeline_class="ChronosBoltPipeline",
        architectures=["ChronosBoltModelForForecasting"],
    )
    torch.manual_seed(0)
    ChronosBoltModelForForecasting(config).save_pretrained(folder)
    return folder


@pytest.fixture
def fresh_messages(monkeypatch):
    monkeypatch.setattr(foundation, "_already_said", set())


def test_chronos_is_skipped_with_one_log_line_when_weights_are_absent(tmp_path, caplog, fresh_messages, ts_config):
    cfg = ts_config(tmp_path, chronos_model_path=str(tmp_path / "nowhere"))
    with caplog.at_level(logging.INFO, logger="cbi_ml.members.foundation"):
        assert foundation.chronos_hyperparameters(cfg) == {}
        assert foundation.chronos_hyperparameters(cfg) == {}
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "Chronos-Bolt skipped" in lines[0] and "nowhere" in lines[0]


def test_chronos_bolt_joins_the_baseline_from_local_weights(tmp_path, fresh_messages, ts_config, ml_defaults):
    weights = write_tiny_chronos_bolt(tmp_path / "chronos-bolt-tiny")
    frame = prepare_matrix(synthetic_matrix(ml_defaults.buckets, 700), 0.94)
    cfg = ts_config(tmp_path, chronos_model_path=str(weights))
    predictor = fit_on_rows(frame, 5, np.arange(50, 600), cfg, tmp_path / "ts")
    assert any(name.startswith("Chronos") for name in predictor.model_names())
    q = predict_rows(predictor, frame, 5, np.array([650, 660]), cfg)
    assert np.isfinite(q).all()


def test_foundation_tabular_families_are_opt_in_and_skipped_without_package_or_weights(
    tmp_path, caplog, fresh_messages, monkeypatch, ml_defaults
):
    cfg = replace(ml_defaults, model_families=("GBM", "TABICL"), foundation_weights_dir=str(tmp_path))
    assert set(cfg.hyperparameters) == {"GBM"}
    monkeypatch.setattr(foundation.importlib.util, "find_spec", lambda name: None)
    caplog.set_level(logging.INFO, logger="cbi_ml.members.foundation")
    assert foundation.tabular_foundation_hyperparameters(cfg) == {}
    assert "TABICL skipped: package 'tabicl' is not installed" in caplog.text

    monkeypatch.setattr(foundation.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(foundation, "_already_said", set())
    assert foundation.tabular_foundation_hyperparameters(cfg) == {}  # installed, but no checkpoint here
    assert "no tabicl*regressor*.ckpt checkpoint" in caplog.text
    (tmp_path / "tabicl-regressor-v2-20260212.ckpt").write_bytes(b"weights")
    assert foundation.tabular_foundation_hyperparameters(cfg) == {
        "TABICL": {"model_path": str(tmp_path / "tabicl-regressor-v2-20260212.ckpt")}
    }
    with pytest.raises(ValueError, match="at least one of"):
        replace(ml_defaults, model_families=("TABICL",))


def test_log_price_path_is_the_cumulative_return():
    frame = pd.DataFrame({RETURN_COLUMN: [np.nan, 0.01, -0.02, 0.03]})
    np.testing.assert_allclose(log_price_path(frame), [0.0, 0.01, -0.01, 0.02])
