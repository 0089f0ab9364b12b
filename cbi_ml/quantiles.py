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


def pinball_by_quantile(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Mean pinball loss per quantile level for predictions `q` of shape (n, 3)."""
    y = np.asarray(y, dtype=float)
    return np.array([pinball_loss(y, q[:, i], level).mean() for i, level in enumerate(QUANTILE_LEVELS)])


def interval_coverage(y: np.ndarray, q: np.ndarray) -> float:
    """Share of outcomes inside [q10, q90] (nominal 0.8)."""
    y = np.asarray(y, dtype=float)
    return float(np.mean((y >= q[:, 0]) & (y <= q[:, -1])))
