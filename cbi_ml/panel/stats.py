"""Pooled rates and skill over the panel, with standard errors that respect both the overlap of h-day outcomes
and the correlation between markets.

Markets move together, so rows of different roots on one date are not independent outcomes. Every pooled
figure is therefore computed on the pooled daily series -- per date, the mean over the roots forecast that day
-- and its standard error is that of a mean of one autocorrelated series: Newey-West (Bartlett weights, lag 2h)
for hit rates, as the issue and DISTRIBUTION_ANCHORS measured them, and the EWC long-run variance with its
Student-t(B) reference (`cbi_ml.scoring`) for skill, which the final choice tests.
"""

from __future__ import annotations

import numpy as np

from cbi_ml.combine.final import skill_test
from cbi_ml.scoring import row_pinball


def newey_west_se(x: np.ndarray, lag: int) -> float:
    """Standard error of the mean of the series `x` (NaN dropped): Newey-West long-run variance with Bartlett
    weights up to `lag` (at most n - 1). NaN for fewer than two values."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n < 2:
        return float("nan")
    d = v - v.mean()
    lrv = d @ d / n
    for j in range(1, min(int(lag), n - 1) + 1):
        lrv += 2.0 * (1.0 - j / (lag + 1.0)) * (d[j:] @ d[:-j]) / n
    return float(np.sqrt(max(lrv, 0.0) / n))


def group_means(values: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique keys, mean of the finite `values` of each key; NaN where a key has none)."""
    uniques, codes = np.unique(keys, return_inverse=True)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    total = np.bincount(codes[ok], weights=v[ok], minlength=len(uniques))
    count = np.bincount(codes[ok], minlength=len(uniques))
    with np.errstate(invalid="ignore", divide="ignore"):
        return uniques, np.where(count > 0, total / np.maximum(count, 1), np.nan)


def pooled_series(values: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Per date (in date order), the mean of `values` over the rows of that date (NaN ignored)."""
    return group_means(values, dates)[1]


def hit_rates(y: np.ndarray, q: np.ndarray) -> dict[str, np.ndarray]:
    """Per row: inside the 80% interval, below q10, below q90 (1.0 / 0.0; NaN where there is no forecast)."""
    ok = np.isfinite(q).all(axis=1) & np.isfinite(y)
    yy, qq = np.nan_to_num(y), np.nan_to_num(q)
    out = {
        "coverage80": (yy >= qq[:, 0]) & (yy <= qq[:, 2]),
        "q10_hit": yy < qq[:, 0],
        "q90_hit": yy < qq[:, 2],
    }
    return {k: np.where(ok, v.astype(float), np.nan) for k, v in out.items()}


def masked_pinball(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Mean pinball loss over q10/q50/q90 per row, NaN where the row has no forecast or outcome."""
    ok = np.isfinite(q).all(axis=1) & np.isfinite(y)
    return np.where(ok, row_pinball(np.nan_to_num(y), np.nan_to_num(q)), np.nan)


def rate_with_se(hits: np.ndarray, dates: np.ndarray, days: int) -> tuple[float, float]:
    """Pooled rate (mean of the pooled daily series) and its Newey-West SE with lag 2h."""
    series = pooled_series(hits, dates)
    series = series[np.isfinite(series)]
    return float(series.mean()) if len(series) else float("nan"), newey_west_se(series, 2 * days)


def normalised_losses(loss: np.ndarray, base: np.ndarray, roots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both loss columns divided by the base's mean loss on each root's rows where both exist, so that every
    market weighs the same whatever its volatility (a ratio within a root is unchanged)."""
    both = np.isfinite(loss) & np.isfinite(base)
    uniques, means = group_means(np.where(both, base, np.nan), roots)
    scale = means[np.searchsorted(uniques, roots)]
    return np.where(both, loss / scale, np.nan), np.where(both, base / scale, np.nan)


def pooled_skill(
    loss: np.ndarray, base: np.ndarray, roots: np.ndarray, dates: np.ndarray, days: int
) -> tuple[float, float, int]:
    """Pooled skill ratio of `loss` against `base` (normalised per root, pooled per date), its EWC standard
    error and the degrees of freedom B of its Student-t reference (`combine.final.skill_test`: B counts a loss
    differential's memory of at least a quarter, as the Diebold-Mariano test does, since two volatility forecasts
    differ by regime and regimes last months; NaN SE when B < 2)."""
    a, b = normalised_losses(loss, base, roots)
    pa, pb = pooled_series(a, dates), pooled_series(b, dates)
    keep = np.isfinite(pa) & np.isfinite(pb)
    pa, pb = pa[keep], pb[keep]
    if len(pa) == 0:
        return float("nan"), float("nan"), 0
    return skill_test(pa, pb, days)
