"""From the training matrix to model-ready frames: feature list, volatility-scaled targets, purged splits, and
the trade-date calendar of the rows (positions, target dates).

Targets are learned in volatility units, y = ret_h / (sigma_t * sqrt(h)), where sigma_t is the EWMA daily
volatility known at t. Volatility clustering is the one thing about ZL returns that is reliably
predictable; scaling puts it into the target's units so the trees only need to learn what is left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.volatility import ewma_volatility

KEY = "as_of_date"
TARGET_PREFIX = "target_ret_"
RETURN_COLUMN = "zl_log_return_1d"
CLOSE_COLUMN = "zl_close_cents_per_lb"
VOL_COLUMN = "zl_ewma_vol_1d"
LABEL = "y_scaled"


def target_column(days: int) -> str:
    return f"{TARGET_PREFIX}{days}d"


def prepare_matrix(matrix: pd.DataFrame, ewma_lambda: float) -> pd.DataFrame:
    """Sort by date, check uniqueness and add the EWMA volatility known at each row."""
    if matrix.empty:
        raise ValueError("daily_ml_matrix_zl is empty: nothing to train on")
    frame = matrix.sort_values(KEY).reset_index(drop=True)
    nullable_ints = [c for c in frame.columns if str(frame[c].dtype) in ("Int64", "Int32")]
    frame[nullable_ints] = frame[nullable_ints].astype("float64")
    if frame[KEY].duplicated().any():
        raise ValueError("daily_ml_matrix_zl has duplicate as_of_date rows")
    frame[VOL_COLUMN] = ewma_volatility(frame[RETURN_COLUMN], lam=ewma_lambda)
    return frame


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Every column except the key, the targets and the staleness flags `is_<source>_stale`."""
    return [
        c
        for c in frame.columns
        if c != KEY and not c.startswith(TARGET_PREFIX) and not (c.startswith("is_") and c.endswith("_stale"))
    ]


def horizon_scale(frame: pd.DataFrame, days: int) -> pd.Series:
    """sigma_t * sqrt(h): the volatility of an h-day log return forecast at each row."""
    return frame[VOL_COLUMN] * np.sqrt(days)


def labelled_index(frame: pd.DataFrame, days: int) -> np.ndarray:
    """Positions of the rows whose h-day target is known and whose volatility scale is positive: the rows a
    member can learn from or be scored on (every training and out-of-fold row comes from these)."""
    known = frame[target_column(days)].notna() & horizon_scale(frame, days).gt(0)
    return np.flatnonzero(known.to_numpy())


def labelled_rows(
    frame: pd.DataFrame, days: int, features: list[str] | None = None, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """`features` (default: every feature column) and the volatility-scaled label `LABEL` of the labelled rows
    (`labelled_index`), or of those among the positions `rows`. Indexed by position in `frame`."""
    index = labelled_index(frame, days)
    if rows is not None:
        index = index[np.isin(index, rows)]
    out = frame.loc[index, features if features is not None else feature_columns(frame)].copy()
    out[LABEL] = frame[target_column(days)].to_numpy()[index] / horizon_scale(frame, days).to_numpy()[index]
    return out


def purged_split(labelled: pd.DataFrame, days: int, tuning_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-ordered train/tuning split with a purge: the last `days` rows before the tuning block are
    dropped, so no training label overlaps the period of any tuning label."""
    n = len(labelled)
    n_tune = max(int(round(n * tuning_fraction)), 1)
    start = n - n_tune
    train = labelled.iloc[: max(start - days, 0)]
    tune = labelled.iloc[start:]
    if len(train) < 100:
        raise ValueError(f"only {len(train)} training rows for the {days}-day horizon after the purge (need 100)")
    return train, tune


def calendar_positions(matrix: pd.DataFrame) -> pd.Series:
    """as_of_date -> its row number on the ZL calendar of the matrix (the purge of the combination layers counts
    trading days by it)."""
    dates = pd.to_datetime(matrix[KEY]).sort_values().reset_index(drop=True)
    return pd.Series(range(len(dates)), index=dates.to_numpy())


def target_dates(as_of: pd.Series, horizon_days: pd.Series) -> pd.Series:
    """as_of_date plus h CBOT trade dates (weekends and exchange holidays skipped)."""
    from cbi_core.calendar import add_trade_days

    return pd.Series(add_trade_days(as_of, horizon_days.to_numpy()), index=as_of.index).dt.date
