"""Split-conformal calibration of quantiles on recent walk-forward residuals, sized by independent outcomes.

In volatility units: for each level tau, the shift delta_tau is a quantile of the residuals (y - q_tau) / scale
over the calibration rows, and the calibrated quantile is q_tau + delta_tau * scale (sorted afterwards, so that
quantiles never cross). If the model's quantiles were right the shifts are ~0; if its intervals were too narrow,
the outer shifts widen them.

Two things make it sound on overlapping h-day outcomes:

- **Effective sample size.** Rows h trading days apart share no daily return, but neighbouring rows share
  most of theirs: n overlapping rows carry about n / h independent outcomes (252 rows are 12 at 1m, 4 at 3m,
  2 at 6m). Shifts are computed only from at least `MIN_OUTCOMES` independent outcomes; below that there is
  no calibration (the caller keeps the uncalibrated forecast, and the final choice cannot pick it).
- **Finite-sample conformal levels**, counted in independent outcomes m: the outer shifts are the
  ceil((m + 1) tau)-th (upper levels) and floor((m + 1) tau)-th (lower levels) smallest of m residuals, as
  empirical levels of all n rows -- the split-conformal rule, whose one-sided coverage is at least tau
  (upper) and whose miss rate is at most tau (lower) for exchangeable outcomes, instead of the plain
  empirical quantile, which under-covers in small samples. The median is shifted by the plain median.
"""

from __future__ import annotations

import math

import numpy as np

from cbi_ml.quantiles import QUANTILE_LEVELS, sort_quantiles

#: The fewest independent h-day outcomes a calibration may rest on (20: the 80% interval's tails are then
#: set by at least two outcomes each).
MIN_OUTCOMES = 20


def effective_outcomes(n_rows: int, horizon_days: int) -> int:
    """Independent h-day outcomes among `n_rows` overlapping daily rows: n / h, rounded down."""
    return int(n_rows) // max(int(horizon_days), 1)


def rows_needed(calibration_rows: int, horizon_days: int) -> int:
    """Rows to calibrate on: the configured window, or more where it holds fewer than `MIN_OUTCOMES` outcomes."""
    return max(int(calibration_rows), MIN_OUTCOMES * max(int(horizon_days), 1))


def conformal_level(level: float, outcomes: int) -> float:
    """The empirical level of the split-conformal order statistic for quantile `level` among `outcomes`
    independent residuals: ceil((m + 1) level) / m above the median, floor((m + 1) level) / m below it."""
    if outcomes <= 0:
        raise ValueError("conformal_level needs at least one outcome")
    if level > 0.5:
        return min(math.ceil((outcomes + 1) * level - 1e-12) / outcomes, 1.0)
    if level < 0.5:
        return max(math.floor((outcomes + 1) * level + 1e-12) / outcomes, 0.0)
    return level


def conformal_shifts(
    y: np.ndarray, q: np.ndarray, scale: np.ndarray, horizon_days: int = 1, min_outcomes: int = MIN_OUTCOMES
) -> np.ndarray | None:
    """Shifts (in scale units) per quantile level from these rows' residuals, or None when the rows hold fewer
    than `min_outcomes` independent h-day outcomes (see the module docstring)."""
    residuals = (np.asarray(y, dtype=float)[:, None] - q) / np.asarray(scale, dtype=float)[:, None]
    outcomes = effective_outcomes(len(residuals), horizon_days)
    if outcomes < min_outcomes:
        return None
    return np.array(
        [
            np.quantile(residuals[:, i], conformal_level(level, outcomes), method="inverted_cdf")
            if level != 0.5
            else np.quantile(residuals[:, i], level)
            for i, level in enumerate(QUANTILE_LEVELS)
        ]
    )


def apply_shifts(q: np.ndarray, scale: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Quantiles `q` moved by `shifts` (in scale units) times each row's `scale`, then sorted."""
    return sort_quantiles(q + np.asarray(scale, dtype=float)[:, None] * shifts[None, :])


def walk_forward_calibration(
    y: np.ndarray,
    ensemble: np.ndarray,
    folds: np.ndarray,
    pos: np.ndarray,
    scale: np.ndarray,
    days: int,
    calibration_rows: int,
) -> np.ndarray:
    """The calibrated ensemble for one horizon: the rows of fold k shifted by the shifts of the most recent
    earlier ensemble rows (folds < k, purged by h days; `rows_needed` of them, at least `MIN_OUTCOMES`
    independent h-day outcomes, else no calibration: NaN). The latest forecast (fold < 0) uses the last
    out-of-fold ensemble rows."""
    calibrated = np.full_like(ensemble, np.nan)
    have = ~np.isnan(ensemble).any(axis=1)
    window = rows_needed(calibration_rows, days)
    for fold in np.unique(folds[have]):
        rows = have & (folds == fold)
        earlier = (folds >= 0) & ((folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else True)
        history = np.flatnonzero(have & earlier)[-window:]
        shifts = conformal_shifts(y[history], ensemble[history], scale[history], days) if len(history) else None
        if shifts is not None:
            calibrated[rows] = apply_shifts(ensemble[rows], scale[rows], shifts)
    return calibrated


# --- scale-only calibration (the panel's choice; `cbi_ml.panel.choice`) ------------------------------------------


def half_width(q: np.ndarray) -> np.ndarray:
    """Half the width of the 80% interval, (q90 - q10) / 2, per row."""
    return (np.asarray(q, dtype=float)[:, 2] - np.asarray(q, dtype=float)[:, 0]) / 2.0


def scale_factor(y: np.ndarray, q: np.ndarray) -> float:
    """The factor k that makes q50 +- k (q90 - q10) / 2 cover 80% of these outcomes: the 80% quantile of
    |y - q50| / half-width (rows without a forecast, an outcome or a positive width are left out; NaN if none)."""
    hw = half_width(q)
    u = np.abs(np.asarray(y, dtype=float) - np.asarray(q, dtype=float)[:, 1]) / hw
    u = u[np.isfinite(u) & (hw > 0)]
    return float(np.quantile(u, 0.8)) if len(u) else float("nan")


def apply_scale(q: np.ndarray, factor: float) -> np.ndarray:
    """Quantiles stretched about their median by `factor` (the median is kept)."""
    q = np.asarray(q, dtype=float)
    return q[:, [1]] + float(factor) * (q - q[:, [1]])
