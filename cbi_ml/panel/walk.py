"""The panel walk-forward: every root refits on one common calendar of refit dates, point in time.

At refit date r each member is fitted on the root's labelled rows whose h-day target ended before r (the purge:
nothing it learns reaches past r) and predicts the root's rows from r until the next refit date. The calendar is
common to all roots (every `refit_every`-th business day from the start), so the pooled layers that learn across
roots at r (`panel.choice`) see exactly the outcomes every root knew at r.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cbi_ml.dataset import KEY, VOL_COLUMN, target_column
from cbi_ml.members.distribution import MIN_TRAIN
from cbi_ml.members.registry import Member
from cbi_ml.panel.prices import end_column

log = logging.getLogger(__name__)

#: quantile columns of member m in the wide walk-forward frame
QUANTILE_SUFFIXES = ("q10", "q50", "q90")


def columns_of(member: str) -> list[str]:
    return [f"{member}__{s}" for s in QUANTILE_SUFFIXES]


def refit_dates(start: str, end: str, every: int) -> pd.DatetimeIndex:
    """Every `every`-th business day from `start` to `end` (the same calendar for every root)."""
    if every <= 0:
        raise ValueError("the refit interval must be a positive number of business days")
    days = pd.bdate_range(pd.Timestamp(start), pd.Timestamp(end))
    if len(days) == 0:
        raise ValueError(f"no business day between {start} and {end}")
    return days[::every]


def walk_root(
    frame: pd.DataFrame, members: dict[str, Member], days: int, refits: pd.DatetimeIndex, end: str
) -> pd.DataFrame:
    """One root, one horizon: a row per scored forecast date (as_of_date, target_end, refit, y and `columns_of(m)`
    for every member; NaN where a member could not be fitted at that refit)."""
    dates = frame[KEY].to_numpy()
    y = frame[target_column(days)].to_numpy(dtype=float)
    ends = frame[end_column(days)].to_numpy()
    usable = np.isfinite(y) & (frame[VOL_COLUMN].to_numpy(dtype=float) > 0)
    bounds = [*refits, pd.Timestamp(end) + pd.Timedelta(days=1)]
    parts = []
    for k, refit in enumerate(refits):
        test = np.flatnonzero(usable & (dates >= refit) & (dates < bounds[k + 1]))
        train = np.flatnonzero(usable & (ends < np.datetime64(refit)))
        if len(test) == 0 or len(train) < MIN_TRAIN:
            continue
        block = {KEY: dates[test], "target_end": ends[test], "refit": np.full(len(test), k), "y": y[test]}
        for name, member in members.items():
            block.update(dict(zip(columns_of(name), _predict(member, frame, days, train, test).T, strict=True)))
        parts.append(pd.DataFrame(block))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _predict(member: Member, frame: pd.DataFrame, days: int, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The member's quantiles at `test`, or NaN when it cannot be fitted on this training set (logged)."""
    try:
        return member.fit(frame, days, train).predict(test)
    except (ValueError, np.linalg.LinAlgError) as exc:
        log.info("%s (h = %d) not fitted on %d rows: %s", member.name, days, len(train), exc)
        return np.full((len(test), 3), np.nan)


def walk_panel(
    frames: dict[str, pd.DataFrame],
    registry: dict[str, Member],
    horizons: dict[str, int],
    start: str,
    end: str,
    refit_every: int,
) -> pd.DataFrame:
    """Every root and horizon: the wide walk-forward frame with `root`, `horizon`, `days` columns."""
    refits = refit_dates(start, end, refit_every)
    parts = []
    for root, frame in frames.items():
        for horizon, days in horizons.items():
            walked = walk_root(frame, registry, days, refits, end)
            if len(walked):
                parts.append(walked.assign(root=root, horizon=horizon, days=days))
        log.info("panel: %s walked", root)
    if not parts:
        raise ValueError(f"no root has enough history before {start} to fit a member ({MIN_TRAIN} labelled rows)")
    return pd.concat(parts, ignore_index=True)
