"""From one root's continuous front series (`int_futures__continuous`: back-adjusted bars, roll days as ZL's
pipeline makes them) to the price frame the price-only members read, in the ZL matrix's column names.

Returns are the back-adjusted log returns of the continuous series, exactly as ZL's: on a roll day priced by a
same-day ratio the return is that of the held position, on a roll closed by the gap rule it is zero
(`int_futures__continuous`). The h-day targets are ln(close_adj[t + h] / close_adj[t]) on the root's own trade
dates, as `daily_ml_matrix_zl` defines them for ZL.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.dataset import KEY, RETURN_COLUMN, VOL_COLUMN, target_column
from cbi_ml.members.distribution import CLOSE_OPEN, HIGH_LOW, HIGH_OPEN, LOW_OPEN, OPEN_GAP
from cbi_ml.volatility import ewma_volatility

#: Columns of the continuous series the panel reads (`int_futures__continuous`).
BAR_COLUMNS = ("root", "trade_date", "open_adj", "high_adj", "low_adj", "close_adj", "log_return_1d")
#: The end date of each row's h-day target (the refit purge compares it with the refit date).
END_PREFIX = "target_end_"


def end_column(days: int) -> str:
    return f"{END_PREFIX}{days}d"


def price_frame(bars: pd.DataFrame, horizons: dict[str, int], ewma_lambda: float) -> pd.DataFrame:
    """One root's bars (BAR_COLUMNS, any order) -> rows by trade date with the daily return, its EWMA volatility,
    the day's log range ratios, the h-day log-return targets and the date each target ends."""
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"int_futures__continuous: missing column(s) {missing}")
    b = bars.sort_values("trade_date").reset_index(drop=True)
    if b["trade_date"].duplicated().any():
        day = b.loc[b["trade_date"].duplicated(), "trade_date"].iloc[0]
        raise ValueError(f"int_futures__continuous: root {b['root'].iloc[0]} has two bars on {day}")
    o, h, lo, c = (pd.to_numeric(b[k], errors="coerce").to_numpy(float) for k in BAR_COLUMNS[2:6])
    with np.errstate(divide="ignore", invalid="ignore"):
        full = (o > 0) & (h > 0) & (lo > 0) & (c > 0)
        prev_c = np.r_[np.nan, c[:-1]]
        frame = pd.DataFrame(
            {
                KEY: pd.to_datetime(b["trade_date"]),
                RETURN_COLUMN: pd.to_numeric(b["log_return_1d"], errors="coerce").to_numpy(float),
                HIGH_LOW: np.where(full, np.log(h / lo), np.nan),
                HIGH_OPEN: np.where(full, np.log(h / o), np.nan),
                LOW_OPEN: np.where(full, np.log(lo / o), np.nan),
                CLOSE_OPEN: np.where(full, np.log(c / o), np.nan),
                OPEN_GAP: np.where(full & (prev_c > 0), np.log(o / prev_c), np.nan),
            }
        )
        log_close = np.log(np.where(c > 0, c, np.nan))
    frame[VOL_COLUMN] = ewma_volatility(frame[RETURN_COLUMN], lam=ewma_lambda)
    dates = frame[KEY].to_numpy()
    for days in sorted(set(horizons.values())):
        ahead = np.r_[log_close[days:], np.full(days, np.nan)]
        frame[target_column(days)] = ahead - log_close
        frame[end_column(days)] = np.r_[dates[days:], np.full(days, np.datetime64("NaT"), dtype=dates.dtype)]
    return frame
