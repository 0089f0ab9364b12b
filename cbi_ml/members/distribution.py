"""Cheap distribution members: better volatility forecasts and the shape of the standardised h-day return.

Every member here forecasts the variance of the next h-day log return at each row, then turns it into the
10/50/90% quantiles with filtered historical simulation (FHS): the quantiles of the training rows' realised
h-day returns divided by their own forecast scale, times the row's scale. The median is zero and the two
outer quantiles are symmetric (the 80% quantile of |standardised return|): a drift or skew learnt in sample
did not survive walk-forward tests on ZL, a scale correction did (bench/README.md "Distribution members").

Variance inputs, all known at the end of each row's day:
- daily range-based variance from the ZL open/high/low/close of the day (`bucket_volatility` columns):
  Parkinson, Garman-Klass, Rogers-Satchell, and the Garman-Klass estimator extended by the overnight gap;
  Yang-Zhang over a rolling window;
- GJR-GARCH(1,1) with skewed Student-t innovations (`arch`), refitted on each training window;
- a log-HAR regression of the coming h days' realised variance on range-based variance over 1, 5, 22, 63 and
  252 days, optionally with the crop-year season (month of the year) and the stress drivers of the buckets.

Members (names as registered in `cbi_ml.members.registry`):
- `fhs_ewma`: the EWMA volatility of `rw_ewma` with FHS quantiles (scale correction only);
- `range_ewma`: EWMA (lambda 0.94) of the daily range-based variance, FHS quantiles;
- `range_har`: log-HAR on range-based variance, FHS quantiles;
- `garch_t`: GJR-GARCH(1,1)-skew-t on daily returns, h-day variance summed analytically, FHS quantiles;
- `vol_mix`: `range_har` plus the season and the stress drivers where the matrix has them;
- `vol_avg`: the equal-weight average of the volatilities of `range_ewma`, `range_har` and `garch_t`;
- `vol_biofuel`: `range_har` plus the biofuel-policy inputs (`biofuel_design`): RIN momentum and level, the
  BOHO spread's z-score, and whether the coming window holds the statutory RVO deadline (30 November).

`range_ewma`, `range_har` and `vol_avg` run daily (registry `cbi_ml.members.registry`); the other four gained nothing
walk-forward on the real futures and run only in `cbi backtest --members` and `bench/distribution.py`
(`vol_biofuel`: docs/benchmarks.md "Biofuel-policy volatility member").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cbi_core.calendar import add_trade_days
from cbi_ml.dataset import KEY, RETURN_COLUMN, VOL_COLUMN, target_column

log = logging.getLogger(__name__)

DISTRIBUTION_MEMBERS = ("fhs_ewma", "range_ewma", "range_har", "garch_t", "vol_mix", "vol_avg", "vol_biofuel")
#: the members `vol_avg` averages (their h-day volatilities, equal weights)
AVERAGED = ("range_ewma", "range_har", "garch_t")

# Daily OHLC columns of `bucket_volatility` (log units; NULL on days ZL did not trade).
HIGH_LOW, HIGH_OPEN, LOW_OPEN, CLOSE_OPEN, OPEN_GAP = (
    "zl_log_high_low_1d",
    "zl_log_high_open_1d",
    "zl_log_low_open_1d",
    "zl_log_close_open_1d",
    "zl_log_open_gap_1d",
)
#: Stress drivers of the buckets used in `vol_mix`'s variance when the matrix has them on enough rows (logged).
STRESS_DRIVERS = ("vix_index", "cl_vol_21d_ann", "brl_vol_21d_ann")
#: Biofuel-bucket columns `vol_biofuel` reads (their absolute values: a large move either way is news).
BIOFUEL_DRIVERS = ("rin_d4_mom_4w", "rin_d6_mom_4w", "rin_d4_z_252d", "boho_z_252d")
#: A RIN series unchanged for this many rows has stopped (the real EPA file ends 2022-11 and the bucket carries
#: its last value forward): its momentum and z-score are then missing, not calm.
STALE_ROWS = 40
#: The Clean Air Act's deadline for the next year's renewable volume obligations (42 U.S.C. 7545(o)(3)(B)):
#: (month, day), known years ahead; EPA met it in some years (2016-11-23) and missed it in others.
RVO_DEADLINE = (11, 30)
HAR_WINDOWS = (1, 5, 22, 63, 252)
EWMA_LAMBDA = 0.94
GARCH_HISTORY = 2500  # trading days the GARCH is fitted on (the last ones before the training cut)
MIN_TRAIN = 250
#: training rows (the latest) the FHS multiplier is taken from; None = all
FHS_WINDOW: int | None = None
_LN2 = np.log(2.0)


# --- daily range-based variance estimators (pure; arrays of log high/low/open/close ratios) ---------------------


def parkinson_variance(high_low: np.ndarray) -> np.ndarray:
    """Parkinson (1980): (ln H/L)^2 / (4 ln 2), unbiased for the variance of a driftless Brownian day."""
    return np.asarray(high_low, dtype=float) ** 2 / (4.0 * _LN2)


def garman_klass_variance(high_low: np.ndarray, close_open: np.ndarray) -> np.ndarray:
    """Garman-Klass (1980): 0.5 (ln H/L)^2 - (2 ln 2 - 1) (ln C/O)^2 (open to close, no overnight gap)."""
    hl, co = np.asarray(high_low, dtype=float), np.asarray(close_open, dtype=float)
    return 0.5 * hl**2 - (2.0 * _LN2 - 1.0) * co**2


def rogers_satchell_variance(high_open: np.ndarray, low_open: np.ndarray, close_open: np.ndarray) -> np.ndarray:
    """Rogers-Satchell (1991): ln(H/O) ln(H/C) + ln(L/O) ln(L/C), unbiased under any drift."""
    ho, lo, co = (np.asarray(a, dtype=float) for a in (high_open, low_open, close_open))
    return ho * (ho - co) + lo * (lo - co)


def yang_zhang_variance(
    open_gap: np.ndarray, high_open: np.ndarray, low_open: np.ndarray, close_open: np.ndarray, window: int
) -> np.ndarray:
    """Yang-Zhang (2000) over a trailing window: overnight variance + k open-to-close variance + (1 - k)
    Rogers-Satchell, k = 0.34 / (1.34 + (n + 1) / (n - 1)). NaN until `window` days with a full bar."""
    if window < 2:
        raise ValueError("the Yang-Zhang window needs at least 2 days")
    gap, co = pd.Series(open_gap, dtype=float), pd.Series(close_open, dtype=float)
    rs = pd.Series(rogers_satchell_variance(high_open, low_open, close_open))
    k = 0.34 / (1.34 + (window + 1) / (window - 1))
    overnight = gap.rolling(window, min_periods=window).var()
    open_close = co.rolling(window, min_periods=window).var()
    return (overnight + k * open_close + (1 - k) * rs.rolling(window, min_periods=window).mean()).to_numpy()


def daily_range_variance(frame: pd.DataFrame) -> pd.Series:
    """Close-to-close variance of each day estimated from its bar: the squared overnight gap plus Garman-Klass
    for the trading session. Days without a full bar (or a matrix without OHLC columns) fall back to the
    squared daily return; negative estimates (a close outside its own range in bad data) are floored at 0."""
    r2 = frame[RETURN_COLUMN].fillna(0.0).to_numpy() ** 2
    if not {HIGH_LOW, CLOSE_OPEN, OPEN_GAP} <= set(frame.columns):
        log.warning("no ZL open/high/low columns in the matrix: range variance falls back to squared returns")
        return pd.Series(r2, index=frame.index)
    gk = garman_klass_variance(frame[HIGH_LOW].to_numpy(float), frame[CLOSE_OPEN].to_numpy(float))
    value = frame[OPEN_GAP].to_numpy(float) ** 2 + gk
    value = np.where(np.isfinite(value), np.maximum(value, 0.0), r2)
    return pd.Series(value, index=frame.index)


def ewma_variance(daily_variance: pd.Series, lam: float = EWMA_LAMBDA, warmup: int = 20) -> np.ndarray:
    """RiskMetrics recursion on a daily variance series, seeded with the mean of its first `warmup` values."""
    v = daily_variance.to_numpy(dtype=float)
    out = np.full(len(v), np.nan)
    if len(v) < warmup:
        return out
    var = float(np.mean(v[:warmup]))
    out[warmup - 1] = var
    for i in range(warmup, len(v)):
        var = lam * var + (1.0 - lam) * v[i]
        out[i] = var
    return out


# --- h-day variance forecasts at every row (fitted on `train` rows where they learn) ----------------------------


def future_mean_square(returns: pd.Series, days: int) -> np.ndarray:
    """Mean squared daily return over the next `days` rows (the realised variance the forecasts aim at)."""
    sq = returns.fillna(0.0) ** 2
    return sq[::-1].rolling(days, min_periods=days).mean()[::-1].shift(-1).to_numpy()


def har_design(range_var: pd.Series) -> pd.DataFrame:
    """log of the mean range-based variance over 1, 5, 22, 63 and 252 days, known at each row."""
    floor = 1e-10
    return pd.DataFrame(
        {f"log_rv_{w}": np.log(range_var.rolling(w, min_periods=w).mean().clip(lower=floor)) for w in HAR_WINDOWS}
    )


def season_design(dates: pd.Series) -> pd.DataFrame:
    """The crop-year season: first two harmonics of the day of the year."""
    angle = 2 * np.pi * pd.to_datetime(dates).dt.dayofyear.to_numpy() / 365.25
    return pd.DataFrame(
        {"sin1": np.sin(angle), "cos1": np.cos(angle), "sin2": np.sin(2 * angle), "cos2": np.cos(2 * angle)}
    )


def driver_design(frame: pd.DataFrame, train: np.ndarray, min_share: float = 0.9) -> pd.DataFrame:
    """log of the stress drivers that are populated on at least `min_share` of the training rows (carried
    forward over gaps; a driver missing at a row leaves it to the other inputs via its training mean)."""
    columns = {}
    for name in STRESS_DRIVERS:
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").where(lambda s: s > 0).ffill()
        if values.iloc[train].notna().mean() < min_share:
            continue
        logged = np.log(values)
        columns[f"log_{name}"] = logged.fillna(logged.iloc[train].mean())
    return pd.DataFrame(columns, index=frame.index)


def _stale(values: pd.Series, rows: int = STALE_ROWS) -> pd.Series:
    """True where `values` has not changed over the last `rows` rows (trailing: known at each row)."""
    unchanged = values.diff().fillna(0.0).eq(0.0).astype(int)
    return unchanged.rolling(rows, min_periods=rows).sum().eq(rows)


def rvo_deadline_ahead(dates: pd.Series, days: int) -> np.ndarray:
    """1 where the statutory RVO deadline (`RVO_DEADLINE`) falls within the coming `days` CBOT trade dates of
    each row, else 0: a calendar known in advance."""
    origin = pd.to_datetime(dates).reset_index(drop=True)
    horizon_end = pd.to_datetime(add_trade_days(origin, int(days)))
    month, day = RVO_DEADLINE
    this_year = pd.to_datetime({"year": origin.dt.year, "month": month, "day": day})
    deadline = this_year.where(this_year > origin, this_year + pd.DateOffset(years=1))
    return ((deadline > origin) & (deadline <= horizon_end)).to_numpy(dtype=float)


def biofuel_design(frame: pd.DataFrame, days: int, train: np.ndarray, min_share: float = 0.5) -> pd.DataFrame:
    """`vol_biofuel`'s policy inputs at every row, all known at its close: |x| of each `BIOFUEL_DRIVERS` column
    populated (and not stale) on at least `min_share` of the training rows, a missing or stale value replaced
    by its training mean; and `rvo_deadline_ahead`."""
    columns = {}
    for name in BIOFUEL_DRIVERS:
        if name not in frame.columns:
            continue
        values = pd.to_numeric(frame[name], errors="coerce")
        source = name.replace("_mom_4w", "_usd").replace("_z_252d", "_usd")
        if source in frame.columns and source.startswith("rin_"):
            values = values.mask(_stale(pd.to_numeric(frame[source], errors="coerce").ffill()))
        if values.iloc[train].notna().mean() < min_share:
            continue
        magnitude = values.abs()
        columns[f"abs_{name}"] = magnitude.fillna(magnitude.iloc[train].mean())
    columns["rvo_deadline_ahead"] = rvo_deadline_ahead(frame[KEY], days)
    return pd.DataFrame(columns, index=frame.index)


def log_har_variance(design: pd.DataFrame, target: np.ndarray, days: int, train: np.ndarray) -> np.ndarray:
    """OLS of log(realised mean variance over the next h days) on `design`, fitted on `train` rows with a
    known target; returns the implied h-day variance at every row (exp of the fit: the FHS multipliers absorb
    the log-normal bias). Rows whose inputs are missing get NaN."""
    x = np.column_stack([np.ones(len(design)), design.to_numpy(dtype=float)])
    y = np.log(np.maximum(target, 1e-10))
    ok = np.zeros(len(x), dtype=bool)
    ok[train] = True
    ok &= np.isfinite(x).all(axis=1) & np.isfinite(y)
    if ok.sum() < MIN_TRAIN:
        raise ValueError(f"log-HAR: only {int(ok.sum())} usable training rows for the {days}-day horizon")
    coef, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
    return np.exp(x @ coef) * days


def garch_variance(returns: pd.Series, days: int, train: np.ndarray, history: int = GARCH_HISTORY) -> np.ndarray:
    """h-day variance at every row from a zero-mean GJR-GARCH(1,1) with skewed Student-t innovations, fitted
    (`arch`, maximum likelihood) on the last `history` daily returns up to the last training row, then run
    with fixed parameters over all rows: the forecast at row t uses returns up to t only."""
    return garch_path(returns, train, history).h_day_variance(days)


@dataclass(frozen=True)
class GarchPath:
    """A fitted GJR-GARCH(1,1): next-day variance at every row (percent^2) and the parameters the h-day sum needs."""

    next_day: np.ndarray
    omega: float
    alpha: float
    gamma: float
    beta: float
    kappa: float

    def h_day_variance(self, days: int) -> np.ndarray:
        """Variance of the next `days`-day log return at every row (log units)."""
        terms = (self.omega, self.alpha, self.gamma, self.beta, self.kappa)
        return gjr_h_day_variance(self.next_day, *terms, days) / 1e4


def garch_path(returns: pd.Series, train: np.ndarray, history: int = GARCH_HISTORY) -> GarchPath:
    """The `arch` fit of `garch_variance` on the last `history` returns up to the last training row, run with fixed
    parameters over every row (one fit serves every horizon)."""
    from arch import arch_model

    r = 100.0 * returns.fillna(0.0).to_numpy(dtype=float)
    end = int(train.max()) + 1
    start = max(0, end - history)
    spec = {"mean": "Zero", "vol": "GARCH", "p": 1, "o": 1, "q": 1, "dist": "skewt", "rescale": False}
    fitted = arch_model(r[start:end], **spec).fit(disp="off", show_warning=False)
    model = arch_model(r, **spec)
    sigma2 = model.fix(fitted.params).conditional_volatility ** 2
    p = fitted.params
    next_day = p["omega"] + (p["alpha[1]"] + p["gamma[1]"] * (r < 0)) * r**2 + p["beta[1]"] * sigma2
    kappa = negative_second_moment(model.distribution, p[["eta", "lambda"]].to_numpy())
    return GarchPath(next_day, p["omega"], p["alpha[1]"], p["gamma[1]"], p["beta[1]"], kappa)


def negative_second_moment(distribution: Any, parameters: np.ndarray, grid: int = 20_000) -> float:
    """E[z^2 1{z < 0}] of the standardised innovation z (quantile-grid integral; 0.5 when symmetric)."""
    below = float(distribution.cdf(np.array([0.0]), parameters)[0])
    u = (np.arange(grid) + 0.5) / grid * below
    return float(np.mean(distribution.ppf(u, parameters) ** 2) * below)


def gjr_h_day_variance(
    next_day: np.ndarray, omega: float, alpha: float, gamma: float, beta: float, kappa: float, days: int
) -> np.ndarray:
    """Sum of the expected daily variances over the next `days` days of a GJR-GARCH(1,1) whose variance for
    the next day is `next_day`: E[s2_{t+k}] = vbar + phi^(k-1) (s2_{t+1} - vbar), phi = alpha + gamma kappa +
    beta, vbar = omega / (1 - phi) (the analytic forecast `arch` computes one origin at a time)."""
    phi = alpha + gamma * kappa + beta
    if phi >= 1:  # no finite long-run variance: each day keeps the next day's variance plus the drift omega
        return np.asarray(next_day) * days + omega * days * (days - 1) / 2
    vbar = omega / (1 - phi)
    return days * vbar + (np.asarray(next_day) - vbar) * (1 - phi**days) / (1 - phi)


def variance_forecast(member: str, frame: pd.DataFrame, days: int, train: np.ndarray) -> np.ndarray:
    """h-day log-return variance forecast of `member` at every row of `frame`."""
    returns = frame[RETURN_COLUMN]
    if member == "vol_avg":
        return np.mean([np.sqrt(variance_forecast(m, frame, days, train)) for m in AVERAGED], axis=0) ** 2
    if member == "fhs_ewma":
        return frame[VOL_COLUMN].to_numpy(dtype=float) ** 2 * days
    if member == "garch_t":
        return garch_variance(returns, days, train)
    range_var = daily_range_variance(frame)
    if member == "range_ewma":
        return ewma_variance(range_var) * days
    target = future_mean_square(returns, days)
    design = har_design(range_var)
    if member == "vol_mix":
        design = pd.concat([design, season_design(frame[KEY]), driver_design(frame, train)], axis=1)
    elif member == "vol_biofuel":
        design = pd.concat([design, biofuel_design(frame, days, train)], axis=1)
    elif member != "range_har":
        raise ValueError(f"unknown distribution member {member}")
    return log_har_variance(design, target, days, train)


# --- from variance to quantiles ---------------------------------------------------------------------------------


def fhs_multiplier(y: np.ndarray, scale: np.ndarray) -> float:
    """The 80% quantile of |y / scale|: the symmetric 10/90% quantile of the standardised h-day return."""
    z = np.abs(np.asarray(y, dtype=float) / np.asarray(scale, dtype=float))
    z = z[np.isfinite(z)]
    if len(z) < MIN_TRAIN:
        raise ValueError(f"FHS: only {len(z)} standardised training returns (need {MIN_TRAIN})")
    return float(np.quantile(z, 0.8))


def fhs_quantiles(scale: np.ndarray, multiplier: float) -> np.ndarray:
    """(n, 3) quantiles -m s, 0, m s."""
    s = np.asarray(scale, dtype=float)[:, None]
    return s * np.array([-multiplier, 0.0, multiplier])[None, :]


def distribution_quantiles(
    member: str, frame: pd.DataFrame, days: int, train: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """Quantiles of the h-day log return at `rows` from `member` fitted on `train` (labelled rows whose h-day
    target ended before the forecast origin: the caller purges). Rows without a variance forecast (warm-up)
    fall back to the EWMA volatility of `rw_ewma`."""
    variance = variance_forecast(member, frame, days, train)
    fallback = frame[VOL_COLUMN].to_numpy(dtype=float) ** 2 * days
    scale = np.sqrt(np.where(np.isfinite(variance) & (variance > 0), variance, fallback))
    y = frame[target_column(days)].to_numpy(dtype=float)
    recent = train if FHS_WINDOW is None else train[-FHS_WINDOW:]
    multiplier = fhs_multiplier(y[recent], scale[recent])
    return fhs_quantiles(scale[rows], multiplier)
