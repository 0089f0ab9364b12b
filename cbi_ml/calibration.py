"""Conformal calibration of quantiles on recent walk-forward residuals.

In volatility units: for each level tau, the shift delta_tau is the tau-quantile of (y - q_tau) / scale over
the calibration rows, and the calibrated quantile is q_tau + delta_tau * scale. If the model's quantiles were
right, the shifts are ~0; if its intervals were too narrow, the outer shifts widen them. Quantiles are sorted
afterwards so that they never cross.
"""

from __future__ import annotations

import numpy as np

from cbi_ml.quantiles import QUANTILE_LEVELS, sort_quantiles


def conformal_shifts(y: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Shifts (in scale units) that make each quantile's empirical level on these rows equal its nominal one."""
    residuals = (np.asarray(y, dtype=float)[:, None] - q) / np.asarray(scale, dtype=float)[:, None]
    return np.array([np.quantile(residuals[:, i], level) for i, level in enumerate(QUANTILE_LEVELS)])


def apply_shifts(q: np.ndarray, scale: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    return sort_quantiles(q + np.asarray(scale, dtype=float)[:, None] * shifts[None, :])
