"""The simple forecasters every model must beat, and which the ensemble may use: random walks and HAR.

All return quantiles of the h-day log return for each row, using only returns known at that row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from cbi_ml.quantiles import QUANTILE_LEVELS

Z = norm.ppf(QUANTILE_LEVELS)


def h_day_returns(daily_returns: pd.Series, horizon: int) -> pd.Series:
    """Trailing h-day log return ending at each row (NaN during the first h rows)."""
    return daily_returns.fillna(0.0).rolling(horizon, min_periods=horizon).sum()


def rw_empirical(daily_returns: pd.Series, horizon: int, window: int = 756, min_obs: int = 126) -> np.ndarray:
    """Random walk with empirical quantiles: the 10/50/90% quantiles of the h-day log returns that ended at
    or before each row, over the trailing `window` rows. Shape (n, 3)."""
    past = h_day_returns(daily_returns, horizon)
    out = np.column_stack(
        [
            past.rolling(window, min_periods=min_obs).quantile(q, interpolation="linear").to_numpy()
            for q in QUANTILE_LEVELS
        ]
    )
    return out


def rw_ewma(daily_vol: pd.Series, horizon: int) -> np.ndarray:
    """Random walk with EWMA volatility and zero-mean normal quantiles: z_q * sigma_t * sqrt(h)."""
    sigma_h = daily_vol.to_numpy()[:, None] * np.sqrt(horizon)
    return sigma_h * Z[None, :]


def har_features(daily_returns: pd.Series) -> pd.DataFrame:
    """HAR-RV regressors at each row: mean squared daily return over 1, 5 and 22 days."""
    sq = daily_returns.fillna(0.0) ** 2
    return pd.DataFrame(
        {
            "rv_d": sq,
            "rv_w": sq.rolling(5, min_periods=5).mean(),
            "rv_m": sq.rolling(22, min_periods=22).mean(),
        }
    )


def har_target(daily_returns: pd.Series, horizon: int) -> pd.Series:
    """Mean squared daily return over the next h days (known h days later)."""
    sq = daily_returns.fillna(0.0) ** 2
    return sq[::-1].rolling(horizon, min_periods=horizon).mean()[::-1].shift(-1)


def fit_har(daily_returns: pd.Series, horizon: int, train_index: np.ndarray) -> np.ndarray:
    """OLS coefficients (intercept, d, w, m) of the HAR regression of future mean variance, on training rows
    whose target is fully known (the caller purges); least squares, no home-made optimiser."""
    x = har_features(daily_returns).iloc[train_index]
    y = har_target(daily_returns, horizon).iloc[train_index]
    ok = x.notna().all(axis=1) & y.notna()
    design = np.column_stack([np.ones(ok.sum()), x[ok].to_numpy()])
    coef, *_ = np.linalg.lstsq(design, y[ok].to_numpy(), rcond=None)
    return coef


def har_quantiles(
    daily_returns: pd.Series, horizon: int, coef: np.ndarray, rows: np.ndarray, floor_vol: pd.Series | None = None
) -> np.ndarray:
    """Zero-mean normal quantiles from the HAR forecast of daily variance over the next h days, floored at a
    quarter of the EWMA variance (a linear HAR can predict near-zero variance after calm spells)."""
    x = har_features(daily_returns).iloc[rows].to_numpy()
    var = coef[0] + x @ coef[1:]
    if floor_vol is not None:
        var = np.maximum(var, 0.25 * floor_vol.iloc[rows].to_numpy() ** 2)
    var = np.maximum(var, 1e-10)
    return np.sqrt(var * horizon)[:, None] * Z[None, :]
