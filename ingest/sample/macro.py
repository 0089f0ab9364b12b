"""Simulated FRED series on their real frequencies, tied to the simulated markets where they should be.

- Policy: a fed funds target moved in 25 bp steps at eight meetings a year by a persistent latent cycle,
  floored at the zero lower bound; DFF trades just under the top of the range; the Treasury curve is the
  policy rate plus persistent term premia.
- FX: DEXBZUS is the reciprocal of the 6L front price (BRL per USD), DTWEXBGS follows the dollar index,
  CNY and MXN are slow random walks (MXN moves with BRL).
- Stress: VIX is a log-AR(1) whose shocks are tied to the copper/dollar risk factor; NFCI and STLFSI4 are
  weekly readings of the same stress; UNRATE and CPI are monthly.
Daily H.10/H.15-style series have no value (NULL, FRED's ".") on Fed holidays when CME trades.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.release_times import (
    fred_daily_available_at,
    fred_holidays,
    fred_monthly_available_at,
    fred_weekly_available_at,
)
from ingest.sample.rng import stream


def _ar1(gen: np.random.Generator, n: int, phi: float, sd: float, x0: float = 0.0) -> np.ndarray:
    eps = gen.standard_normal(n) * sd
    out = np.empty(n)
    out[0] = x0
    for t in range(1, n):
        out[t] = phi * out[t - 1] + eps[t]
    return out


def policy_target_upper(calendar_days: pd.DatetimeIndex, seed: int) -> pd.Series:
    """Upper bound of the fed funds target range on every calendar day."""
    meetings = calendar_days[(calendar_days.weekday == 2) & (calendar_days.day >= 15) & (calendar_days.day <= 21)]
    meetings = meetings[meetings.month.isin([1, 3, 4, 6, 7, 9, 11, 12])]
    cycle = _ar1(stream(seed, "fed.cycle"), len(meetings), 0.93, 0.45, x0=-1.5)
    level, path = 0.25, []
    for x in cycle:
        if x > 0.9:
            level = min(level + 0.25, 6.0)
        elif x < -0.9:
            level = max(level - 0.25, 0.25)
        path.append(level)
    steps = pd.Series(path, index=meetings)
    return steps.reindex(calendar_days).ffill().fillna(0.25)


def _frame(series_id: str, dates: pd.DatetimeIndex, values: np.ndarray, available_at: pd.Series) -> pd.DataFrame:
    available = pd.Series(available_at).reset_index(drop=True)
    return pd.DataFrame(
        {
            "series_id": series_id,
            "observation_date": dates.date,
            "value": np.round(values, 4),
            "available_at": available.values,
            "realtime_start": available.dt.date.values,
        }
    )


def fred_observations(days: pd.DatetimeIndex, spot: pd.DataFrame, seed: int) -> pd.DataFrame:
    """All FRED series of the feature catalogue between the first and last trade date."""
    n = len(days)
    cal = pd.date_range(days[0], days[-1], freq="D")
    target_upper_cal = policy_target_upper(cal, seed)
    dff_cal = target_upper_cal - 0.17 + _ar1(stream(seed, "fed.dff"), len(cal), 0.9, 0.01)
    out = [
        _frame("DFEDTARU", cal, target_upper_cal.values, fred_daily_available_at(cal)),
        _frame("DFF", cal, np.maximum(dff_cal.values, 0.04), fred_daily_available_at(cal)),
    ]

    target = target_upper_cal.reindex(days).values
    ust3m = np.maximum(target - 0.12 + _ar1(stream(seed, "ust.3m"), n, 0.97, 0.02), 0.01)
    ust2y = np.maximum(target + 0.25 + _ar1(stream(seed, "ust.2y"), n, 0.995, 0.045, 0.3), 0.05)
    slope = 1.0 + _ar1(stream(seed, "ust.slope"), n, 0.998, 0.035, 1.2)
    ust10y = np.maximum(ust2y + slope, 0.3)
    risk = spot["HG"].pipe(np.log).diff().fillna(0).values - spot["DX"].pipe(np.log).diff().fillna(0).values
    log_vix_shock = -4.0 * risk + stream(seed, "vix.noise").standard_normal(n) * 0.05
    log_vix = np.empty(n)
    log_vix[0] = np.log(20.0)
    for t in range(1, n):
        log_vix[t] = np.log(17.0) + 0.975 * (log_vix[t - 1] - np.log(17.0)) + log_vix_shock[t]
    vix = np.exp(log_vix)
    brl_per_usd = 1.0 / spot["6L"].values * np.exp(stream(seed, "fx.brl").standard_normal(n) * 0.002)
    usd_broad = 1.22 * spot["DX"].values * np.exp(_ar1(stream(seed, "fx.broad"), n, 0.99, 0.002))
    cny = 6.6 * np.exp(_ar1(stream(seed, "fx.cny"), n, 0.9995, 0.0022))
    mxn = 12.8 * np.exp(0.55 * np.log(brl_per_usd / brl_per_usd[0]) + _ar1(stream(seed, "fx.mxn"), n, 0.999, 0.005))
    daily = {
        "DGS3MO": ust3m,
        "DGS2": ust2y,
        "DGS10": ust10y,
        "T10Y2Y": ust10y - ust2y,
        "T10Y3M": ust10y - ust3m,
        "VIXCLS": vix,
        "DEXBZUS": brl_per_usd,
        "DEXCHUS": cny,
        "DEXMXUS": mxn,
        "DTWEXBGS": usd_broad,
    }
    closed = days.isin(fred_holidays(days[0], days[-1]))
    for series_id, values in daily.items():
        values = np.where(closed, np.nan, values)
        out.append(_frame(series_id, days, values, fred_daily_available_at(days)))

    vix_s = pd.Series(vix, index=days)
    fridays = pd.date_range(days[0], days[-1], freq="W-FRI")
    weekly_vix = vix_s.resample("W-FRI").mean().reindex(fridays).ffill().values
    nfci = -0.55 + 0.035 * (weekly_vix - 17) + _ar1(stream(seed, "nfci"), len(fridays), 0.9, 0.04)
    stlfsi = -0.6 + 0.13 * (weekly_vix - 17) + _ar1(stream(seed, "stlfsi"), len(fridays), 0.85, 0.12)
    out.append(_frame("NFCI", fridays, nfci, fred_weekly_available_at(fridays, "NFCI")))
    out.append(_frame("STLFSI4", fridays, stlfsi, fred_weekly_available_at(fridays, "STLFSI4")))

    months = pd.date_range(days[0] - pd.offsets.MonthBegin(13), days[-1] - pd.offsets.MonthBegin(2), freq="MS")
    m = len(months)
    unrate = 4.6 + _ar1(stream(seed, "unrate"), m, 0.985, 0.15, 5.2)
    inflation = 0.0019 + _ar1(stream(seed, "cpi"), m, 0.9, 0.0012)
    cpi = 217.0 * np.exp(np.cumsum(inflation))
    out.append(_frame("UNRATE", months, np.clip(unrate, 3.3, 14.0), fred_monthly_available_at(months, "UNRATE")))
    out.append(_frame("CPIAUCSL", months, cpi, fred_monthly_available_at(months, "CPIAUCSL")))
    frame = pd.concat(out, ignore_index=True)
    frame["value"] = frame["value"].astype("float64")
    return frame
