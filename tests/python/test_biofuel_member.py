"""`vol_biofuel`: the range log-HAR plus biofuel-policy inputs. Point in time (a policy shock planted after the
forecast origin changes nothing at or before it), the RVO calendar, stale RIN series, and that it finds a
policy-calendar effect that is there. Pure Python, simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbi_core.calendar import trading_days
from cbi_ml.dataset import KEY, RETURN_COLUMN, VOL_COLUMN, target_column
from cbi_ml.members.distribution import (
    BIOFUEL_DRIVERS,
    biofuel_design,
    distribution_quantiles,
    rvo_deadline_ahead,
    variance_forecast,
)
from cbi_ml.volatility import ewma_volatility

DAYS = 5


def policy_frame(seed: int = 0, deadline_boost: float = 1.0, n_days: int = 2600) -> pd.DataFrame:
    """ZL-like rows on CBOT trade dates from 2012: daily returns (1% SD, times `deadline_boost` on the trade
    dates within five before 30 November), weekly-changing RIN prices, the biofuel bucket's columns and the
    h-day target."""
    rng = np.random.default_rng(seed)
    dates = trading_days("2012-01-03", "2023-12-29")[:n_days]
    frame = pd.DataFrame({KEY: dates})
    sd = np.full(len(dates), 0.01)
    sd[rvo_deadline_ahead(frame[KEY], DAYS) > 0] *= deadline_boost
    returns = pd.Series(rng.standard_normal(len(dates)) * sd)
    frame[RETURN_COLUMN] = returns
    frame[VOL_COLUMN] = ewma_volatility(returns)
    frame[target_column(DAYS)] = returns[::-1].rolling(DAYS).sum()[::-1].shift(-1)
    weekly = np.repeat(np.exp(np.cumsum(rng.normal(0, 0.05, len(dates) // 5 + 1))), 5)[: len(dates)]
    for code in ("d4", "d6"):
        frame[f"rin_{code}_usd"] = weekly
        frame[f"rin_{code}_mom_4w"] = np.log(frame[f"rin_{code}_usd"] / frame[f"rin_{code}_usd"].shift(20))
        frame[f"rin_{code}_z_252d"] = rng.standard_normal(len(dates))
    frame["boho_z_252d"] = rng.standard_normal(len(dates))
    return frame


def test_rvo_deadline_is_in_the_coming_trade_dates():
    dates = pd.Series(pd.to_datetime(["2016-11-22", "2016-11-30", "2016-12-01", "2016-11-01", "2016-10-20"]))
    # 2016-11-22 + 5 trade dates: 23, 25, 28, 29, 30 (Thanksgiving closed): the deadline is in the window
    assert rvo_deadline_ahead(dates, 5).tolist() == [1, 0, 0, 0, 0]
    assert rvo_deadline_ahead(dates, 21).tolist() == [1, 0, 0, 1, 0]
    # on the deadline itself the next one is a year away; 252 trade dates reach it
    assert rvo_deadline_ahead(dates.iloc[[1]], 252).tolist() == [1]


def test_a_stopped_rin_series_is_missing_not_calm():
    frame = policy_frame()
    stop = 2000
    for code in ("d4", "d6"):
        frame.loc[stop:, f"rin_{code}_usd"] = frame.loc[stop, f"rin_{code}_usd"]
        frame.loc[stop:, f"rin_{code}_mom_4w"] = 0.0  # what carrying the last price forward gives
    train = np.arange(300, 1500)
    design = biofuel_design(frame, DAYS, train)
    assert {f"abs_{name}" for name in BIOFUEL_DRIVERS} <= set(design.columns)
    mean = frame["rin_d4_mom_4w"].abs().iloc[train].mean()
    # 40 unchanged rows after the stop the momentum is replaced by its training mean, not read as zero
    assert design["abs_rin_d4_mom_4w"].iloc[stop + 60 :].eq(mean).all()
    assert design["abs_rin_d4_mom_4w"].iloc[stop + 10] == 0.0  # not yet known to have stopped
    assert not design["abs_rin_d4_mom_4w"].iloc[train].eq(mean).all()


def test_a_future_policy_shock_changes_no_forecast_at_or_before_the_origin():
    """Plant, after the origin T, a policy row (RIN up 300% then frozen, BOHO z-score 8) and the price move it
    brings; `vol_biofuel`'s quantiles at T and before are the same, while the planted row's own forecast moves.
    (That an EPA, EIA or news row published after T never reaches the matrix row T is the warehouse's own test:
    `tests/python/test_dbt_pipeline.py::test_features_use_only_data_available_by_their_as_of_date`.)"""
    frame = policy_frame(seed=3)
    origin = 2200
    train = np.arange(260, origin - DAYS)  # labelled rows whose target ended before the origin (purged)
    rows = np.arange(origin - 50, origin + 1)
    before = distribution_quantiles("vol_biofuel", frame, DAYS, train, rows)
    planted = frame.copy()
    shock = slice(origin + 1, origin + 30)
    for code in ("d4", "d6"):  # RIN steps up fourfold and the feed then stops (a stale series is read too)
        planted.loc[origin + 1 :, f"rin_{code}_usd"] = 4.0 * frame.loc[origin, f"rin_{code}_usd"]
    planted.loc[shock, ["rin_d4_mom_4w", "rin_d6_mom_4w"]] = np.log(4.0)
    planted.loc[shock, ["rin_d4_z_252d", "rin_d6_z_252d", "boho_z_252d"]] = 8.0
    planted.loc[shock, RETURN_COLUMN] = 0.08
    after = distribution_quantiles("vol_biofuel", planted, DAYS, train, rows)
    np.testing.assert_allclose(after, before, rtol=1e-12, atol=0)  # the same up to BLAS rounding (1e-15 seen)
    moved = [variance_forecast("vol_biofuel", f, DAYS, train)[origin + 1] for f in (frame, planted)]
    assert abs(moved[1] / moved[0] - 1) > 0.05  # the planted row itself is read


def test_it_finds_a_deadline_effect_that_is_there_and_none_that_is_not():
    """Returns twice as volatile in the five trade dates before 30 November: `vol_biofuel` forecasts a wider
    week ahead of the deadline than the range log-HAR; without the effect, about the same."""
    for boost, wider in ((2.0, True), (1.0, False)):
        frame = policy_frame(seed=5, deadline_boost=boost)
        train = np.arange(260, 2400)
        ahead = rvo_deadline_ahead(frame[KEY], DAYS) > 0
        ratio = variance_forecast("vol_biofuel", frame, DAYS, train) / variance_forecast(
            "range_har", frame, DAYS, train
        )
        lift = float(np.nanmedian(ratio[ahead]) / np.nanmedian(ratio[~ahead]))
        if wider:
            assert lift > 1.5, lift
        else:
            assert lift == pytest.approx(1.0, abs=0.25)
