"""Volatility used to scale targets: an EWMA (RiskMetrics) of daily log returns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def ewma_volatility(returns: pd.Series, lam: float = 0.94, min_periods: int = 20) -> pd.Series:
    """Daily EWMA volatility at each row, using returns up to and including that row only.

    sigma2_t = lam * sigma2_{t-1} + (1 - lam) * r_t^2, seeded with the mean square of the first
    `min_periods` returns; NULL returns are skipped (carry the previous variance). NaN before warm-up.
    """
    r = pd.to_numeric(returns, errors="coerce").to_numpy(dtype=float)
    out = np.full(len(r), np.nan)
    seen: list[float] = []
    var = np.nan
    for i, x in enumerate(r):
        if np.isnan(var):
            if not np.isnan(x):
                seen.append(x * x)
            if len(seen) >= min_periods:
                var = float(np.mean(seen))
                out[i] = np.sqrt(var)
            continue
        if not np.isnan(x):
            var = lam * var + (1.0 - lam) * x * x
        out[i] = np.sqrt(var)
    return pd.Series(out, index=returns.index)
