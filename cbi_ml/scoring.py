"""Scores for forecasts against outcomes, with uncertainty that respects overlapping h-day labels.

- Pinball loss per quantile and mean, 80% interval coverage and width.
- Skill against a baseline: the ratio of mean pinball losses, with a delta-method standard error whose
  long-run variance is the equal-weighted cosine (EWC) estimator, so the autocorrelation of overlapping h-day
  losses is counted.
- Diebold-Mariano test of equal loss with an EWC long-run variance and fixed-smoothing Student-t critical
  values, with fewer cosine terms than the skill ratio's (`DM_MEMORY`): 5-6% at nominal 5% on overlapping h-day
  losses whose differential persists for weeks, but 8.6-8.9% at 1w when one forecast loses big in rare
  volatility spikes (a skewed differential; docs/statistics.md).
A gain within two standard errors is reported as no gain (two SE is a t_B band: 86-91% at B = 3-6, not 95%).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import t as student_t

from cbi_ml.quantiles import QUANTILE_LEVELS, pinball_loss


def row_pinball(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Mean pinball loss over the three quantile levels, per row."""
    return np.mean([pinball_loss(y, q[:, i], level) for i, level in enumerate(QUANTILE_LEVELS)], axis=0)


def scores(y: np.ndarray, q: np.ndarray) -> dict[str, float]:
    y = np.asarray(y, dtype=float)
    out = {
        f"pinball_q{int(level * 100)}": float(pinball_loss(y, q[:, i], level).mean())
        for i, level in enumerate(QUANTILE_LEVELS)
    }
    out["pinball_mean"] = float(row_pinball(y, q).mean())
    out["coverage_80"] = float(np.mean((y >= q[:, 0]) & (y <= q[:, 2])))
    out["width_80"] = float(np.mean(q[:, 2] - q[:, 0]))
    out["n"] = len(y)
    return out


#: The shortest dependence, in rows, the Diebold-Mariano test allows a loss differential: a quarter of trading
#: days. Two forecasts' losses differ by regime (one is better while volatility is high), and regimes last
#: months: on a GARCH-t simulation whose differential persists (AR 0.98 under the overlap) the rule of `ewc_dof`
#: alone rejected a true null 15.9% of the time at h = 5 and 8.0% at h = 21 (1,000 rows); with this floor
#: 5.0% and 5.2% (SE 0.5%; docs/statistics.md, `tests/python/test_evaluation_sizes.py`).
DM_MEMORY = 63


def ewc_dof(n: int, horizon: int, memory: int = 1) -> int:
    """Number of cosine terms B of the equal-weighted cosine (EWC) long-run variance for `n` rows of h-day
    losses: 0.4 n^(2/3) (Lazarus, Lewis, Stock and Watson 2018), but at most 0.4 n / max(h, memory), so that the
    highest frequency used (pi B / n) stays well below the first zero (2 pi / h) of the spectrum of h-day
    overlap; there the spectrum of an MA(h - 1) is within about 5% of its value at frequency 0. `memory` bounds
    the frequencies the same way for a dependence that lasts longer than the overlap (`DM_MEMORY`)."""
    return int(min(np.floor(0.4 * n ** (2 / 3)), np.floor(0.4 * n / max(int(horizon), int(memory), 1))))


def ewc_variance(x: np.ndarray, dof: int) -> np.ndarray:
    """EWC estimate of the variance of the mean of `x` along its last axis (vectorised over leading axes).

    Projects the series on its `dof` lowest-frequency cosines, Lambda_j = sqrt(2 / n) sum_t x_t
    cos(pi j (t + 1/2) / n), j = 1..dof (each orthogonal to the constant, so no demeaning bias), and averages
    Lambda_j^2: an estimate of the long-run variance that is a scaled chi-square with `dof` degrees of freedom
    (Mueller 2004; Lazarus et al. 2018), so a mean divided by its square root is Student-t with `dof`
    degrees of freedom. Always positive."""
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    j = np.arange(1, dof + 1)
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(j, np.arange(n) + 0.5) / n)
    projections = x @ basis.T
    return (projections**2).mean(axis=-1) / n


def ratio_standard_error(loss: np.ndarray, base_loss: np.ndarray, horizon: int) -> np.ndarray:
    """Standard error of mean(loss) / mean(base_loss) along the last axis (vectorised over leading axes).

    Delta method: R_hat - R ~ mean(loss - R base_loss) / mean(base_loss), whose variance is the EWC
    long-run variance of d = loss - R_hat base_loss (lags of the h-day overlap included). NaN when there are
    fewer than 5 h rows (fewer than two cosine terms: 0.4 n / h < 2), too few independent outcomes to
    estimate a standard error at all."""
    loss = np.asarray(loss, dtype=float)
    base_loss = np.asarray(base_loss, dtype=float)
    n = loss.shape[-1]
    dof = ewc_dof(n, horizon)
    if dof < 2:
        return np.full(loss.shape[:-1], np.nan)
    base_mean = base_loss.mean(axis=-1)
    ratio = loss.mean(axis=-1) / base_mean
    d = loss - ratio[..., None] * base_loss
    return np.sqrt(ewc_variance(d, dof)) / np.abs(base_mean)


def skill_ratio_se(loss: np.ndarray, base_loss: np.ndarray, horizon: int) -> float:
    """Standard error of the skill ratio mean(loss) / mean(base_loss) of one model's h-day losses
    (`ratio_standard_error` for one series).

    Why not a bootstrap: a moving-block bootstrap with blocks of h days gave mean SE / true SD of 0.86 (h = 5, n =
    252), 0.77 (h = 21, n = 252) and 0.78 (h = 63, n = 756) on the simulation of `test_evaluation_sizes`; arch's
    stationary and circular bootstraps with Politis-White optimal block lengths were no better (0.69-0.91): with a
    dozen independent outcomes no block length both keeps the overlap and leaves enough blocks. This estimator's
    root-mean-square SE / true SD is 0.98, 0.95 and 0.92 there (docs/statistics.md)."""
    return float(ratio_standard_error(loss, base_loss, horizon))


def dm_test(loss: np.ndarray, base_loss: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectorised Diebold-Mariano test along the last axis: (statistic, two-sided p-value, degrees of freedom).

    d = loss - base_loss; statistic = mean(d) / sqrt(EWC variance of the mean), Student-t with
    B = `ewc_dof(n, h, DM_MEMORY)` degrees of freedom under equal expected loss (fixed-smoothing asymptotics:
    Coroneo and Iacone 2020 for forecast comparisons, Lazarus et al. 2018). NaN when B < 2 (fewer than
    5 max(h, 63) rows)."""
    d = np.asarray(loss, dtype=float) - np.asarray(base_loss, dtype=float)
    n = d.shape[-1]
    dof = ewc_dof(n, horizon, DM_MEMORY)
    if dof < 2:
        nan = np.full(d.shape[:-1], np.nan)
        return nan, nan, dof
    stat = d.mean(axis=-1) / np.sqrt(np.maximum(ewc_variance(d, dof), 1e-300))
    return stat, 2 * student_t.sf(np.abs(stat), df=dof), dof


def diebold_mariano(loss: np.ndarray, base_loss: np.ndarray, horizon: int) -> tuple[float, float]:
    """(DM statistic, two-sided p-value) for equal mean loss; negative statistic = `loss` is lower.

    Losses of overlapping h-day forecasts are autocorrelated up to lag h - 1, their differential often for
    months, and at 3m/6m a few years hold only a dozen independent outcomes. The long-run variance is the
    equal-weighted cosine estimator with fixed-smoothing Student-t critical values (`dm_test`): its measured size
    is in docs/statistics.md. The truncated uniform kernel at lag h - 1 with the Harvey-Leybourne-Newbold
    correction rejected a true null 5.5% (h = 5, n = 1000), 7.8% (h = 21, n = 252) and 9.3% (h = 63, n = 504)
    of the time at nominal 5% even on i.i.d. returns."""
    stat, p, _ = dm_test(loss, base_loss, horizon)
    return float(stat), float(p)


def verdict(ratio: float, se: float) -> str:
    """'gain' / 'loss' only when the ratio is more than two standard errors from 1 ('too few rows' when the
    standard error cannot be estimated)."""
    if not np.isfinite(se):
        return "too few rows"
    if ratio < 1 - 2 * se:
        return "gain"
    if ratio > 1 + 2 * se:
        return "loss"
    return "no difference"
