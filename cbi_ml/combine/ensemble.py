"""L2.5: greedy forward selection with replacement (Caruana et al., 2004) minimising pinball loss.

For each quantile level separately: start from nothing, repeatedly add (with replacement) the member whose
addition gives the lowest pinball loss of the running average, for a fixed number of rounds. Weights are the
selection counts over the rounds. The result can never be much worse than the best member on the rows it was
chosen on, since picking that member every round is one of the paths.

`ensemble_weights` is the table of weights fitted on every out-of-fold row (what the latest forecast uses);
`walk_forward_ensemble` the ensemble's out-of-fold record, each fold weighted on earlier folds only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.combine.frames import Q_COLUMNS, horizon_meta, usable_members, wide_predictions
from cbi_ml.quantiles import QUANTILE_LEVELS, pinball_loss, sort_quantiles


def greedy_weights(y: np.ndarray, predictions: np.ndarray, level: float, rounds: int = 25) -> np.ndarray:
    """Weights (summing to 1) over members for one quantile. `predictions` has shape (n_rows, n_members)."""
    y = np.asarray(y, dtype=float)
    n_members = predictions.shape[1]
    counts = np.zeros(n_members)
    running = np.zeros(len(y))
    for step in range(1, rounds + 1):
        candidates = (running[:, None] * (step - 1) + predictions) / step
        losses = np.array([pinball_loss(y, candidates[:, m], level).mean() for m in range(n_members)])
        best = int(np.argmin(losses))  # ties go to the earlier member: deterministic
        counts[best] += 1
        running = candidates[:, best]
    return counts / counts.sum()


def combine(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted average of member predictions (n_rows, n_members) -> (n_rows,)."""
    return predictions @ weights


def ensemble_weights(predictions: pd.DataFrame, rounds: int) -> pd.DataFrame:
    """L2.5 weights per horizon and quantile, chosen on the out-of-fold rows every member has."""
    out = []
    for horizon in predictions["horizon"].unique():
        meta = horizon_meta(predictions, horizon)
        for column, level in zip(Q_COLUMNS, QUANTILE_LEVELS, strict=True):
            wide = wide_predictions(predictions, horizon, column)
            wide = wide[usable_members(wide)]
            oof = wide[wide.index.get_level_values("fold") >= 0].dropna()
            y = meta.loc[oof.index, "y"].to_numpy()
            x = oof.to_numpy()
            weights = greedy_weights(y, x, level, rounds)
            losses = np.array([pinball_loss(y, x[:, m], level).mean() for m in range(x.shape[1])])
            ensemble_loss = pinball_loss(y, combine(x, weights), level).mean()
            for member, weight, loss in zip(oof.columns, weights, losses, strict=True):
                out.append(
                    {
                        "horizon": horizon,
                        "horizon_days": int(meta["horizon_days"].iloc[0]),
                        "quantile_level": level,
                        "member": member,
                        "weight": float(weight),
                        "member_pinball": float(loss),
                        "ensemble_pinball": float(ensemble_loss),
                        "n_rows": len(y),
                    }
                )
    return pd.DataFrame(out)


def fold_members(has: np.ndarray, rows: np.ndarray, history: np.ndarray, min_share: float = 0.4) -> np.ndarray:
    """Columns (members) the ensemble of one fold can use: those that forecast every row of the fold and cover at
    least `min_share` of the history rows the best-covered of them covers (as `usable_members`). A member
    without predictions somewhere -- the stacker on the first fold, say -- is left out there; it removes no rows."""
    complete = has[rows].all(axis=0)
    coverage = np.where(complete, has[history].sum(axis=0), 0)
    if coverage.max(initial=0) == 0:
        return np.zeros(has.shape[1], dtype=bool)
    return complete & (coverage >= min_share * coverage.max()) & (coverage > 0)


def walk_forward_ensemble(
    y: np.ndarray,
    x: list[np.ndarray],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
    rounds: int,
    latest_weights: list[np.ndarray] | None = None,
) -> np.ndarray:
    """The ensemble's quantiles for one horizon, with nothing learned from the rows they predict.

    `x` holds the members' predictions per quantile level (rows x members; NaN where a member has none). For
    out-of-fold rows of fold k the greedy weights come from folds < k (purged by h days), over the members
    `fold_members` allows, on the history rows all of them forecast. The latest forecast (fold < 0) uses
    `latest_weights` (fitted on every out-of-fold row) when given. NaN where a fold has too little history."""
    n = len(y)
    has = np.logical_and.reduce([~np.isnan(xi) for xi in x])
    ensemble = np.full((n, 3), np.nan)
    for fold in np.unique(folds):
        rows = folds == fold
        if fold < 0 and latest_weights is not None:
            used = [w > 0 for w in latest_weights]
            ensemble[rows] = sort_quantiles(
                np.column_stack([combine(x[i][rows][:, used[i]], latest_weights[i][used[i]]) for i in range(3)])
            )
            continue
        history = (folds >= 0) & (folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else folds >= 0
        cols = fold_members(has, rows, history)
        history &= has[:, cols].all(axis=1)
        if not cols.any() or history.sum() < 30:
            continue
        weights = [
            greedy_weights(y[history], x[i][history][:, cols], level, rounds) for i, level in enumerate(QUANTILE_LEVELS)
        ]
        ensemble[rows] = sort_quantiles(np.column_stack([combine(x[i][rows][:, cols], weights[i]) for i in range(3)]))
    return ensemble
