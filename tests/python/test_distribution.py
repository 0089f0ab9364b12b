"""The distribution members' estimators on simulated data whose variance is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbi_ml.dataset import RETURN_COLUMN, VOL_COLUMN, target_column
from cbi_ml.members.distribution import (
    CLOSE_OPEN,
    HIGH_LOW,
    HIGH_OPEN,
    LOW_OPEN,
    OPEN_GAP,
    daily_range_variance,
    distribution_quantiles,
    fhs_multiplier,
    garman_klass_variance,
    parkinson_variance,
    rogers_satchell_variance,
    variance_forecast,
    yang_zhang_variance,
)
from cbi_ml.quantiles import interval_coverage
from cbi_ml.volatility import ewma_volatility

SIGMA = 0.015  # daily session volatility
GAP_SIGMA = 0.006  # overnight


def brownian_bars(days: int = 4000, steps: int = 400, drift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Daily bars of a Brownian log price (session volatility SIGMA over `steps` ticks) with a normal overnight
    gap: the columns of `bucket_volatility` and the daily log return. The extremes of the discrete path get
    Broadie-Glasserman-Kou's continuity correction (+-0.5826 tick sd), so they stand for a continuous path."""
    rng = np.random.default_rng(seed)
    tick_sd = SIGMA / np.sqrt(steps)
    ticks = rng.normal(drift / steps, tick_sd, (days, steps))
    path = np.concatenate([np.zeros((days, 1)), np.cumsum(ticks, axis=1)], axis=1)  # log price - log open
    high, low = path.max(axis=1) + 0.5826 * tick_sd, path.min(axis=1) - 0.5826 * tick_sd
    gap = rng.normal(0.0, GAP_SIGMA, days)
    return pd.DataFrame(
        {
            HIGH_LOW: high - low,
            HIGH_OPEN: high,
            LOW_OPEN: low,
            CLOSE_OPEN: path[:, -1],
            OPEN_GAP: gap,
            RETURN_COLUMN: gap + path[:, -1],
        }
    )


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return brownian_bars()


def test_range_estimators_are_unbiased_for_the_session_variance(bars):
    # 4,000 days: the sampling error of the mean is about 1.5% (Parkinson), tolerance 4%
    target = SIGMA**2
    assert parkinson_variance(bars[HIGH_LOW]).mean() == pytest.approx(target, rel=0.04)
    assert garman_klass_variance(bars[HIGH_LOW], bars[CLOSE_OPEN]).mean() == pytest.approx(target, rel=0.04)
    rs = rogers_satchell_variance(bars[HIGH_OPEN], bars[LOW_OPEN], bars[CLOSE_OPEN])
    assert rs.mean() == pytest.approx(target, rel=0.04)


def test_range_estimators_are_more_precise_than_squared_returns(bars):
    squared = (bars[CLOSE_OPEN] ** 2).to_numpy()
    parkinson = parkinson_variance(bars[HIGH_LOW])
    # Parkinson's efficiency is about 5x that of the squared return (Garman-Klass about 7x)
    assert squared.var() / parkinson.var() > 3
    assert squared.var() / garman_klass_variance(bars[HIGH_LOW], bars[CLOSE_OPEN]).var() > 5


def test_rogers_satchell_ignores_drift_where_parkinson_does_not():
    drifting = brownian_bars(days=3000, drift=0.03, seed=1)
    rs = rogers_satchell_variance(drifting[HIGH_OPEN], drifting[LOW_OPEN], drifting[CLOSE_OPEN])
    assert rs.mean() == pytest.approx(SIGMA**2, rel=0.05)
    assert parkinson_variance(drifting[HIGH_LOW]).mean() > 1.5 * SIGMA**2


def test_yang_zhang_and_daily_range_variance_include_the_overnight_gap(bars):
    total = SIGMA**2 + GAP_SIGMA**2
    yz = yang_zhang_variance(bars[OPEN_GAP], bars[HIGH_OPEN], bars[LOW_OPEN], bars[CLOSE_OPEN], window=63)
    assert np.isnan(yz[:62]).all()
    assert np.nanmean(yz) == pytest.approx(total, rel=0.04)
    assert daily_range_variance(bars).mean() == pytest.approx(total, rel=0.04)
    assert bars[RETURN_COLUMN].var() == pytest.approx(total, rel=0.06)


def test_daily_range_variance_falls_back_to_the_squared_return_where_a_bar_is_missing(bars):
    part = bars.head(10).copy()
    part.loc[3, HIGH_LOW] = np.nan
    value = daily_range_variance(part)
    assert value[3] == pytest.approx(part.loc[3, RETURN_COLUMN] ** 2)
    assert value.drop(index=3).notna().all()


def test_fhs_multiplier_of_normal_outcomes_is_the_normal_quantile():
    y = np.random.default_rng(2).normal(0, 2.0, 20000)
    assert fhs_multiplier(y, np.full(len(y), 2.0)) == pytest.approx(1.2816, abs=0.03)


def forecast_frame(returns: np.ndarray, days: int, start: str = "2000-01-03") -> pd.DataFrame:
    r = pd.Series(returns)
    frame = pd.DataFrame({"as_of_date": pd.bdate_range(start, periods=len(r)), RETURN_COLUMN: r})
    frame[VOL_COLUMN] = ewma_volatility(r)
    frame[target_column(days)] = r[::-1].rolling(days).sum()[::-1].shift(-1)
    return frame


def test_range_forecasts_use_no_future_bar(bars):
    days = 5
    frame = pd.concat([forecast_frame(bars[RETURN_COLUMN].to_numpy(), days), bars.drop(columns=RETURN_COLUMN)], axis=1)
    train = np.arange(300, 2500)
    shocked = frame.copy()
    shocked.loc[3000, [HIGH_LOW, OPEN_GAP, RETURN_COLUMN]] = [0.3, 0.2, 0.2]
    for member in ("range_ewma", "range_har", "vol_mix"):
        base, after = (variance_forecast(member, f, days, train) for f in (frame, shocked))
        np.testing.assert_allclose(base[:3000], after[:3000], err_msg=member)
        assert after[3000] > base[3000]


def test_garch_t_member_covers_80_percent_of_a_simulated_garch_t_path():
    from arch.univariate import GARCH, StudentsT, ZeroMean

    days = 5
    process = ZeroMean(volatility=GARCH(), distribution=StudentsT(seed=np.random.default_rng(3)))
    simulated = process.simulate([0.02, 0.08, 0.9, 6.0], 3200, burn=500)  # percent returns
    frame = forecast_frame(simulated["data"].to_numpy() / 100.0, days)
    train = np.arange(100, 2000 - days)
    test = np.arange(2000, 3200 - days)
    q = distribution_quantiles("garch_t", frame, days, train, test)
    coverage = interval_coverage(frame[target_column(days)].to_numpy()[test], q)
    # 1,195 overlapping 5-day outcomes: the sampling error of the coverage is about 0.02
    assert 0.74 <= coverage <= 0.86
    assert (q[:, 1] == 0).all() and (q[:, 0] < 0).all()


def test_gjr_h_day_variance_matches_arch_analytic_forecast():
    from arch import arch_model

    import cbi_ml.members.distribution as distribution

    r = 100 * np.random.default_rng(4).standard_t(6, 1200) / 100
    spec = {"mean": "Zero", "vol": "GARCH", "p": 1, "o": 1, "q": 1, "dist": "t", "rescale": False}
    model = arch_model(r, **spec)
    params = model.fit(last_obs=1000, disp="off").params
    expected = model.fix(params).forecast(horizon=21, start=900, reindex=False).variance.to_numpy().sum(axis=1)
    # a symmetric t: E[z^2 1{z<0}] = 1/2, the value arch's analytic forecast assumes for every distribution
    kappa = distribution.negative_second_moment(model.distribution, params[["nu"]].to_numpy())
    assert kappa == pytest.approx(0.5, abs=1e-3)
    sigma2 = model.fix(params).conditional_volatility ** 2
    next_day = params["omega"] + (params["alpha[1]"] + params["gamma[1]"] * (r < 0)) * r**2 + params["beta[1]"] * sigma2
    got = distribution.gjr_h_day_variance(
        next_day, params["omega"], params["alpha[1]"], params["gamma[1]"], params["beta[1]"], 0.5, 21
    )
    np.testing.assert_allclose(got[900:], expected, rtol=1e-10)


@pytest.mark.dbt
def test_every_distribution_member_forecasts_from_the_built_matrix(built_features, tmp_path, ml_defaults):
    from dataclasses import replace
    from datetime import datetime

    from conftest import query

    from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS
    from cbi_ml.members.run import run_member

    matrix = query(built_features, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_features, "select * from features.feature_catalog")
    bars = matrix[[HIGH_LOW, HIGH_OPEN, LOW_OPEN, CLOSE_OPEN, OPEN_GAP]]
    assert bars.notna().all(axis=1).mean() > 0.95
    assert (bars[HIGH_LOW] >= 0).all() and (bars[HIGH_OPEN].dropna() >= -1e-12).all()
    cfg = replace(ml_defaults, horizons={"1w": 5, "3m": 63}, oof_folds=2, oof_block=100, artifacts_dir=str(tmp_path))
    for member in DISTRIBUTION_MEMBERS:
        out = run_member(member, matrix, catalog, cfg, datetime(2026, 1, 5))
        assert len(out) == 2 * (2 * 100 + 1), member
        assert out[["q10", "q50", "q90"]].notna().all().all(), member
        assert ((out["q10"] < 0) & (out["q50"] == 0) & (out["q90"] > 0)).all(), member
        assert out.loc[out["fold"] == -1, "as_of_date"].eq(matrix["as_of_date"].max()).all(), member


@pytest.mark.dbt
def test_ohlc_columns_are_the_day_s_own_bar_in_log_units(built_features):
    from conftest import query

    got = query(
        built_features,
        "select v.*, a.zl_open_adj, a.zl_high_adj, a.zl_low_adj, a.zl_close_adj, a.zl_volume_contracts "
        "from features.bucket_volatility as v inner join intermediate.int_futures__daily_aligned as a "
        "using (as_of_date) order by as_of_date",
    )
    traded = got["zl_volume_contracts"].notna()
    assert got.loc[~traded, [HIGH_LOW, HIGH_OPEN, LOW_OPEN, CLOSE_OPEN, OPEN_GAP]].isna().all().all()
    day = got[traded]
    np.testing.assert_allclose(day[HIGH_LOW], np.log(day["zl_high_adj"] / day["zl_low_adj"]))
    np.testing.assert_allclose(day[CLOSE_OPEN], np.log(day["zl_close_adj"] / day["zl_open_adj"]))
    gap = np.log(got["zl_open_adj"] / got["zl_close_adj"].shift(1))[traded].iloc[1:]
    np.testing.assert_allclose(day[OPEN_GAP].iloc[1:], gap)
