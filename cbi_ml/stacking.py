"""L1 stacking: per quantile, a linear quantile regression of the outcome on the members' predictions of that
quantile, fitted by linear programming (scikit-learn's QuantileRegressor, HiGHS solver).

The stacker's own out-of-fold predictions are walk-forward too: rows of fold k are predicted by a stacker fitted
on the out-of-fold rows of earlier folds only, purged by the horizon.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import QuantileRegressor


def fit_stacker(x: np.ndarray, y: np.ndarray, level: float, alpha: float = 1e-4) -> QuantileRegressor:
    model = QuantileRegressor(quantile=level, alpha=alpha, fit_intercept=True, solver="highs")
    return model.fit(x, y)


def walk_forward_stack(
    x: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    positions: np.ndarray,
    horizon: int,
    level: float,
    min_rows: int = 60,
) -> np.ndarray:
    """Stacked predictions for every row whose fold has at least `min_rows` earlier, purged rows to learn from
    (NaN elsewhere). `positions` are the rows' calendar positions (for the purge)."""
    out = np.full(len(y), np.nan)
    for fold in np.unique(folds):
        test = folds == fold
        first = positions[test].min()
        train = (folds < fold) & (positions + horizon < first)
        if train.sum() < min_rows:
            continue
        out[test] = fit_stacker(x[train], y[train], level).predict(x[test])
    return out
