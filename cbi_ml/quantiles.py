"""Quantile levels, the pinball loss and non-crossing repair."""

from __future__ import annotations

import numpy as np

QUANTILE_LEVELS: tuple[float, ...] = (0.1, 0.5, 0.9)


def pinball_loss(y: np.ndarray, q_pred: np.ndarray, level: float) -> np.ndarray:
    """Elementwise pinball (quantile) loss of predictions `q_pred` for outcomes `y` at quantile `level`."""
    diff = np.asarray(y, dtype=float) - np.asarray(q_pred, dtype=float)
    return np.maximum(level * diff, (level - 1.0) * diff)


def sort_quantiles(q: np.ndarray) -> np.ndarray:
    """Rows of quantile predictions (n, k) in increasing order, so that they never cross."""
    return np.sort(np.asarray(q, dtype=float), axis=1)


def interval_coverage(y: np.ndarray, q: np.ndarray) -> float:
    """Share of outcomes inside [q10, q90] (nominal 0.8)."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= q[:, 0]) & (y <= q[:, -1])))
