"""Scores for forecasts against outcomes, with uncertainty that respects overlapping h-day labels.

- Pinball loss per quantile and mean, 80% interval coverage and width.
- Skill against a baseline: the ratio of mean pinball losses, with a moving-block bootstrap standard error
  (blocks of h days, so the overlap of h-day labels is kept inside blocks).
- Diebold-Mariano test of equal loss with a Newey-West (Bartlett, lag h - 1) long-run variance.
A gain within two standard errors is reported as no gain.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

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


def block_bootstrap_ratio_se(
    loss: np.ndarray, base_loss: np.ndarray, block: int, reps: int = 500, seed: int = 0
) -> float:
    """Standard error of mean(loss) / mean(base_loss) by a moving-block bootstrap of paired rows."""
    n = len(loss)
    block = max(1, min(block, n))
    rng = np.random.default_rng(seed)
    n_blocks = int(np.ceil(n / block))
    ratios = np.empty(reps)
    for r in range(reps):
        starts = rng.integers(0, n - block + 1, n_blocks)
        idx = (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]
        ratios[r] = loss[idx].mean() / base_loss[idx].mean()
    return float(ratios.std(ddof=1))


def newey_west_variance(d: np.ndarray, lag: int) -> float:
    """Long-run variance of the mean of `d` (Bartlett weights up to `lag`)."""
    d = d - d.mean()
    n = len(d)
    gamma0 = np.dot(d, d) / n
    total = gamma0
    for k in range(1, min(lag, n - 1) + 1):
        total += 2 * (1 - k / (lag + 1)) * np.dot(d[k:], d[:-k]) / n
    return max(total, 1e-300) / n


def diebold_mariano(loss: np.ndarray, base_loss: np.ndarray, horizon: int) -> tuple[float, float]:
    """(DM statistic, two-sided p-value) for equal mean loss; negative statistic = `loss` is lower."""
    d = np.asarray(loss, dtype=float) - np.asarray(base_loss, dtype=float)
    stat = d.mean() / np.sqrt(newey_west_variance(d, max(horizon - 1, 0)))
    return float(stat), float(2 * norm.sf(abs(stat)))


def verdict(ratio: float, se: float) -> str:
    """'gain' / 'loss' only when the ratio is more than two standard errors from 1."""
    if ratio < 1 - 2 * se:
        return "gain"
    if ratio > 1 + 2 * se:
        return "loss"
    return "no difference"
