"""The backtest's scores: every model against the better random walk on the rows every model has (pinball loss,
coverage, skill ratio with its standard error, Diebold-Mariano), and the risk layer's 95%/99% VaR backtested on
non-overlapping h-day windows (`var_backtests`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.evaluation.metrics import block_bootstrap_ratio_se, diebold_mariano, row_pinball, scores, verdict
from cbi_ml.evaluation.var_backtests import backtest as var_backtest
from cbi_ml.risk import value_at_risk

#: The reference every model is scored against: the better of the two random walks on the same rows.
RANDOM_WALKS = ("rw_empirical", "rw_ewma")


def metrics(predictions: pd.DataFrame, bootstrap_reps: int = 500) -> pd.DataFrame:
    """One row per model and horizon, scored on the rows every model has (so the comparison is fair)."""
    rows = []
    for horizon, part in predictions.groupby("horizon", sort=False):
        days = int(part["horizon_days"].iloc[0])
        wide = part.pivot_table(index="as_of_date", columns="member", values=["q10", "q50", "q90"], aggfunc="first")
        common = wide.dropna().index
        y = part.groupby("as_of_date")["y"].first().loc[common].to_numpy()
        losses = {}
        for member in part["member"].unique():
            q = np.column_stack([wide[(c, member)].loc[common].to_numpy() for c in ("q10", "q50", "q90")])
            losses[member] = (row_pinball(y, q), scores(y, q))
        base = min(RANDOM_WALKS, key=lambda m: losses[m][0].mean())
        for member, (loss, s) in losses.items():
            ratio = loss.mean() / losses[base][0].mean()
            se = block_bootstrap_ratio_se(loss, losses[base][0], days, bootstrap_reps) if member != base else 0.0
            dm, p = diebold_mariano(loss, losses[base][0], days) if member != base else (0.0, 1.0)
            rows.append(
                {
                    "model": member,
                    "horizon": horizon,
                    "horizon_days": days,
                    **s,
                    "baseline": base,
                    "skill_ratio": ratio,
                    "skill_ratio_se": se,
                    "dm_stat": dm,
                    "dm_pvalue": p,
                    "verdict": verdict(ratio, se) if member != base else "baseline",
                    "first_date": common.min(),
                    "last_date": common.max(),
                }
            )
    out = pd.DataFrame(rows)
    order = {
        "final": 0,
        "calibrated": 1,
        "ensemble": 2,
        "stack": 3,
        "rw_empirical": 4,
        "rw_ewma": 5,
        "ag_timeseries": 6,
        "har": 7,
    }
    return out.sort_values(
        ["horizon_days", "model"], key=lambda c: c.map(order).fillna(9) if c.name == "model" else c
    ).reset_index(drop=True)


#: VaR levels the risk layer reports, and the models whose VaR is backtested: `final` feeds the risk layer
#: (ml_risk reads zl_predictions); the random walk is the reference a reader compares with.
VAR_LEVELS = (0.95, 0.99)
VAR_MODELS = ("final", "rw_ewma")


def non_overlapping_rows(positions: np.ndarray, days: int) -> np.ndarray:
    """Indices of rows (sorted by trading-day `positions`) whose h-day windows do not overlap: greedily the
    first row, then the next one at least `days` trading days later."""
    keep, next_free = [], -np.inf
    for i, pos in enumerate(positions):
        if pos >= next_free:
            keep.append(i)
            next_free = pos + days
    return np.asarray(keep, dtype=int)


def var_backtests(predictions: pd.DataFrame, models: tuple[str, ...] = VAR_MODELS) -> pd.DataFrame:
    """Kupiec, Christoffersen and the Basel traffic light for the 95%/99% VaR, per model and horizon.

    The VaR is the risk layer's: the split Student-t through the forecast P10/P50/P90 (`risk.value_at_risk`),
    and an exception is a realised h-day log return below minus the VaR. Forecasts are daily but outcomes
    span h days, so consecutive exceptions share most of their window; the tests (which assume independent
    exceptions) use the non-overlapping subsample (every h-th trading day from the first forecast). The
    exception rate on all rows is reported beside it for information, without a test."""
    rows = []
    for horizon, part in predictions.groupby("horizon", sort=False):
        days = int(part["horizon_days"].iloc[0])
        dates = np.sort(pd.to_datetime(part["as_of_date"]).unique())
        position = pd.Series(np.arange(len(dates)), index=dates)
        for model in models:
            own = part[(part["member"] == model) & part["y"].notna()].copy()
            if own.empty:
                continue
            own["as_of_date"] = pd.to_datetime(own["as_of_date"])
            own = own.drop_duplicates("as_of_date").sort_values("as_of_date")
            subsample = non_overlapping_rows(position.loc[own["as_of_date"]].to_numpy(), days)
            for level in VAR_LEVELS:
                var = value_at_risk(own["q10"].to_numpy(), own["q50"].to_numpy(), own["q90"].to_numpy(), level)
                hits = own["y"].to_numpy() < -var
                result = var_backtest(hits[subsample], level).as_dict()
                rows.append(
                    {
                        "model": model,
                        "horizon": horizon,
                        "horizon_days": days,
                        **result,
                        "n_all_rows": len(hits),
                        "rate_all_rows": float(hits.mean()),
                        "first_date": own["as_of_date"].min(),
                        "last_date": own["as_of_date"].max(),
                    }
                )
    return pd.DataFrame(rows)
