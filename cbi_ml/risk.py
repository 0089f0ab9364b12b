"""L3 Monte Carlo risk: draws from a distribution that reproduces the forecast P10/P50/P90 with fat tails.

The distribution is a split Student-t (nu = 5): below the median a t scaled so that its 10% quantile lands on
P10, above the median one scaled so that its 90% quantile lands on P90. It matches the three forecast
quantiles exactly, keeps the forecast's skew, and has the heavier-than-normal tails that futures returns show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

NU = 5.0
CONTRACT_USD_PER_CENT = 600.0  # ZL: 60,000 lb per contract, 1 cent/lb = $600


def split_t_draws(q10: float, q50: float, q90: float, n: int, rng: np.random.Generator, nu: float = NU) -> np.ndarray:
    """`n` draws of the log return whose 10/50/90% quantiles are q10/q50/q90."""
    z90 = student_t.ppf(0.9, nu)
    lower_scale = max(q50 - q10, 1e-12) / z90
    upper_scale = max(q90 - q50, 1e-12) / z90
    u = rng.random(n)
    z = student_t.ppf(u, nu)
    return np.where(u < 0.5, q50 + lower_scale * z, q50 + upper_scale * z)


def split_t_quantile(
    q10: np.ndarray | float, q50: np.ndarray | float, q90: np.ndarray | float, prob: float, nu: float = NU
) -> np.ndarray:
    """The `prob` quantile of the split Student-t of `split_t_draws`, in closed form (vectorised): the limit
    the Monte Carlo quantile converges to."""
    z90 = student_t.ppf(0.9, nu)
    q10, q50, q90 = (np.asarray(v, dtype=float) for v in (q10, q50, q90))
    scale = np.maximum(np.where(prob < 0.5, q50 - q10, q90 - q50), 1e-12) / z90
    return q50 + scale * student_t.ppf(prob, nu)


def value_at_risk(
    q10: np.ndarray | float, q50: np.ndarray | float, q90: np.ndarray | float, level: float, nu: float = NU
) -> np.ndarray:
    """VaR at `level` (e.g. 0.99) as a positive loss of log return: minus the 1 - level quantile. This is the
    VaR the risk layer reports (up to Monte Carlo error), computed without draws for backtests."""
    return -split_t_quantile(q10, q50, q90, 1.0 - level, nu)


def var_cvar(draws: np.ndarray, level: float) -> tuple[float, float]:
    """Value at risk and conditional VaR at `level` (e.g. 0.95) as losses of log return (positive = loss)."""
    cut = np.quantile(draws, 1 - level)
    tail = draws[draws <= cut]
    return float(-cut), float(-tail.mean())


def risk_row(
    q10: float, q50: float, q90: float, close_cents: float, n_draws: int, seed: int
) -> tuple[dict, np.ndarray]:
    """VaR/CVaR at 95% and 99% in log return, price (cents/lb) and USD per contract, plus the draws."""
    draws = split_t_draws(q10, q50, q90, n_draws, np.random.default_rng(seed))
    row: dict = {}
    for level, tag in ((0.95, "95"), (0.99, "99")):
        var, cvar = var_cvar(draws, level)
        row[f"var_{tag}_ret"] = var
        row[f"cvar_{tag}_ret"] = cvar
        row[f"var_{tag}_price"] = close_cents * np.exp(-var)
        row[f"cvar_{tag}_price"] = close_cents * np.exp(-cvar)
        row[f"var_{tag}_usd_per_contract"] = close_cents * (1 - np.exp(-var)) * CONTRACT_USD_PER_CENT
        row[f"cvar_{tag}_usd_per_contract"] = close_cents * (1 - np.exp(-cvar)) * CONTRACT_USD_PER_CENT
    return row, draws


def risk_table(
    predictions: pd.DataFrame, n_draws: int, seed: int, scenarios_kept: int, keep_scenarios: bool
) -> pd.DataFrame:
    """Per horizon of the latest forecast (`zl_predictions`), one row of VaR/CVaR (`risk_row`, seeded `seed + i`
    in horizon order); with `keep_scenarios`, instead the first `scenarios_kept` of the same draws as log returns
    and prices."""
    rows, scenarios = [], []
    for i, p in enumerate(predictions.sort_values("horizon_days").itertuples()):
        close = float(p.price_q50 / np.exp(p.q50))
        values, draws = risk_row(p.q10, p.q50, p.q90, close, n_draws, seed + i)
        rows.append(
            {
                "as_of_date": p.as_of_date,
                "horizon": p.horizon,
                "horizon_days": p.horizon_days,
                "n_draws": n_draws,
                **values,
                "close_cents_per_lb": close,
                "model_run_id": p.model_run_id,
            }
        )
        kept = draws[:scenarios_kept]
        scenarios.append(
            pd.DataFrame(
                {
                    "as_of_date": p.as_of_date,
                    "horizon": p.horizon,
                    "horizon_days": p.horizon_days,
                    "scenario": np.arange(len(kept)),
                    "log_return": kept,
                    "price_cents_per_lb": close * np.exp(kept),
                }
            )
        )
    return pd.concat(scenarios, ignore_index=True) if keep_scenarios else pd.DataFrame(rows)
