"""L1 stacking: per quantile, a linear quantile regression of the outcome on the members' predictions of that
quantile, fitted by linear programming (scikit-learn's QuantileRegressor, HiGHS solver).

The stacker's own out-of-fold predictions are walk-forward too: rows of fold k are predicted by a stacker fitted
on the out-of-fold rows of earlier folds only, purged by the horizon.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import QuantileRegressor

from cbi_ml.combine.frames import Q_COLUMNS, horizon_meta, wide_predictions
from cbi_ml.quantiles import QUANTILE_LEVELS, sort_quantiles


def fit_stacker(x: np.ndarray, y: np.ndarray, level: float, alpha: float = 1e-4) -> QuantileRegressor:
    """The stacker of one quantile `level`: a linear quantile regression of `y` on the members' predictions `x`."""
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


def stack_predictions(l0: pd.DataFrame, positions: pd.Series) -> pd.DataFrame:
    """L1: per horizon and quantile, a linear quantile regression on the members' predictions of that quantile.
    Out-of-fold rows are stacked walk-forward (earlier folds only, purged); the latest row uses a stacker
    fitted on all out-of-fold rows. `positions` maps as_of_date to its row number on the ZL calendar."""
    rows = []
    for horizon in l0["horizon"].unique():
        rows += _stack_horizon(l0, horizon, positions)
    return pd.concat(rows, ignore_index=True)


def _stack_horizon(l0: pd.DataFrame, horizon: str, positions: pd.Series) -> list[pd.DataFrame]:
    """The stacker's out-of-fold and latest rows of one horizon, on the rows every member forecasts."""
    meta = horizon_meta(l0, horizon)
    days = int(meta["horizon_days"].iloc[0])
    q_wide = {c: wide_predictions(l0, horizon, c) for c in Q_COLUMNS}
    members = list(q_wide["q10"].columns)
    keys = q_wide["q10"].dropna().index
    oof_keys = keys[keys.get_level_values("fold") >= 0]
    latest_keys = keys[keys.get_level_values("fold") < 0]
    y = meta.loc[oof_keys, "y"].to_numpy()
    folds = oof_keys.get_level_values("fold").to_numpy()
    pos = positions.loc[oof_keys.get_level_values("as_of_date")].to_numpy()
    oof_q, latest_q = [], []
    for column, level in zip(Q_COLUMNS, QUANTILE_LEVELS, strict=True):
        x = q_wide[column].loc[oof_keys, members].to_numpy()
        oof_q.append(walk_forward_stack(x, y, folds, pos, days, level))
        if len(latest_keys):
            stacker = fit_stacker(x, y, level)
            latest_q.append(stacker.predict(q_wide[column].loc[latest_keys, members].to_numpy()))
        else:
            latest_q.append(np.empty(0))
    return [
        _stack_rows(horizon, days, keys_, q, y_, meta)
        for keys_, q, y_ in (
            (oof_keys, np.column_stack(oof_q), y),
            (latest_keys, np.column_stack(latest_q), np.full(len(latest_keys), np.nan)),
        )
    ]


def _stack_rows(
    horizon: str, days: int, keys: pd.MultiIndex, q: np.ndarray, y: np.ndarray, meta: pd.DataFrame
) -> pd.DataFrame:
    """The stacker's rows on `keys` (quantiles sorted; rows it could not predict are left out)."""
    ok = ~np.isnan(q).any(axis=1)
    q = sort_quantiles(q[ok]) if ok.any() else q[ok]
    return pd.DataFrame(
        {
            "as_of_date": keys.get_level_values("as_of_date")[ok],
            "horizon": horizon,
            "horizon_days": days,
            "member": "stack",
            "fold": keys.get_level_values("fold")[ok],
            "q10": q[:, 0],
            "q50": q[:, 1],
            "q90": q[:, 2],
            "y": y[ok],
            "scale": meta.loc[keys, "scale"].to_numpy()[ok],
        }
    )
