"""The long prediction frames of the combination layers and their wide views.

Inputs are long frames in the `members.kinds.OUTPUT_COLUMNS` shape (out-of-fold rows fold >= 0 with the realised
`y`, latest forecasts fold = -1), one row per as_of_date, horizon, member and fold. The layers work on wide views
(a column per member) of one horizon and write their own rows back in the same long shape (`layer_frame`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

Q_COLUMNS = ["q10", "q50", "q90"]


def wide_predictions(predictions: pd.DataFrame, horizon: str, column: str) -> pd.DataFrame:
    """One horizon's `column` (q10, q50 or q90) with a column per member, indexed by (as_of_date, fold)."""
    part = predictions[predictions["horizon"] == horizon]
    return part.pivot_table(index=["as_of_date", "fold"], columns="member", values=column, aggfunc="first")


def horizon_meta(predictions: pd.DataFrame, horizon: str) -> pd.DataFrame:
    """One horizon's realised `y`, `scale` and `horizon_days` per (as_of_date, fold)."""
    part = predictions[predictions["horizon"] == horizon]
    return part.groupby(["as_of_date", "fold"])[["y", "scale", "horizon_days"]].first()


def usable_members(wide: pd.DataFrame, min_share: float = 0.4) -> list[str]:
    """Members with out-of-fold predictions on at least `min_share` of the rows the best-covered member has
    (the stacker has none for the first fold, and at long horizons the purge can leave it none at all) and, when
    there is a latest forecast, with one (a member whose source is stale skips it, `members.freshness`)."""
    folds = wide.index.get_level_values("fold")
    counts = wide[folds >= 0].notna().sum()
    latest = wide[folds < 0].notna().all() if (folds < 0).any() else pd.Series(True, index=wide.columns)
    return [m for m in wide.columns if counts[m] >= min_share * counts.max() and counts[m] > 0 and latest[m]]


def forecast_rows(wides: list[pd.DataFrame]) -> pd.MultiIndex:
    """Every (as_of_date, fold) some member forecasts. A member without a prediction on a row -- the stacker on
    the first fold -- does not remove the row: each layer and candidate is judged on the rows it does forecast."""
    has = np.logical_and.reduce([w.notna().to_numpy() for w in wides]).any(axis=1)
    return wides[0].index[has].sort_values()


def layer_frame(
    member: str,
    horizon: str,
    days: int,
    dates: pd.Index,
    folds: np.ndarray,
    values: np.ndarray,
    y: np.ndarray,
    scale: np.ndarray,
    source: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rows of one combination layer; rows without a prediction are left out. `source` names, per row, the
    model the final forecast was taken from."""
    ok = ~np.isnan(values).any(axis=1)
    return pd.DataFrame(
        {
            "as_of_date": dates[ok],
            "horizon": horizon,
            "horizon_days": days,
            "member": member,
            "fold": folds[ok],
            "q10": values[ok, 0],
            "q50": values[ok, 1],
            "q90": values[ok, 2],
            "y": y[ok],
            "scale": scale[ok],
            "source": source[ok] if source is not None else None,
        }
    )
