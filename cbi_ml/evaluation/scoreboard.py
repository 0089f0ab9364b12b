"""The backtest's scores: every model against the better random walk on the same rows (`scored_rows`; pinball loss,
coverage, skill ratio with its standard error, Diebold-Mariano), and the risk layer's 95%/99% VaR backtested on
non-overlapping h-day windows (`var_backtests`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.evaluation.var_backtests import backtest as var_backtest
from cbi_ml.risk import value_at_risk
from cbi_ml.scoring import diebold_mariano, row_pinball, scores, skill_ratio_se, verdict

#: The reference every model is scored against: the better of the two random walks on the same rows.
RANDOM_WALKS = ("rw_empirical", "rw_ewma")


def scored_rows(wide: pd.DataFrame, members: list[str]) -> dict[str, pd.Index]:
    """The as_of_dates each model is scored on. Every model that forecasts at least half as many rows as the
    best-covered one (the members, the random walks, the layers that run from the first refits) is scored on the
    rows all of them have, so their comparison is fair; a model with fewer rows (`calibrated` waits for enough
    independent outcomes) is scored on its own rows among those, against the random walk on the same rows,
    and never shrinks the others' window."""
    present = {m: wide[[(c, m) for c in ("q10", "q50", "q90")]].notna().all(axis=1).to_numpy() for m in members}
    most = max(int(p.sum()) for p in present.values())
    common = np.logical_and.reduce([p for p in present.values() if p.sum() >= 0.5 * most])
    return {m: wide.index[common & present[m]] for m in members}


def _losses(
    wide: pd.DataFrame, outcome: pd.Series, member: str, dates: pd.Index
) -> tuple[np.ndarray, dict[str, float]]:
    """Row pinball losses and scores of `member` on `dates`."""
    q = np.column_stack([wide[(c, member)].loc[dates].to_numpy() for c in ("q10", "q50", "q90")])
    y = outcome.loc[dates].to_numpy()
    return row_pinball(y, q), scores(y, q)


def metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per model and horizon: pinball loss, coverage and skill against the better random walk, each
    model on the rows of `scored_rows` (so the comparison is fair)."""
    rows = []
    for horizon, part in predictions.groupby("horizon", sort=False):
        days = int(part["horizon_days"].iloc[0])
        wide = part.pivot_table(index="as_of_date", columns="member", values=["q10", "q50", "q90"], aggfunc="first")
        outcome = part.groupby("as_of_date")["y"].first()
        members = list(part["member"].unique())
        scored = scored_rows(wide, members)

        base = min(RANDOM_WALKS, key=lambda m: _losses(wide, outcome, m, scored[m])[0].mean())
        for member in members:
            dates = scored[member]
            if not len(dates):
                continue  # e.g. `calibrated` before enough outcomes: nothing to score yet
            loss, s = _losses(wide, outcome, member, dates)
            reference = _losses(wide, outcome, base, dates)[0]
            is_base = member == base
            ratio = loss.mean() / reference.mean()
            se = skill_ratio_se(loss, reference, days) if not is_base else 0.0
            dm, p = diebold_mariano(loss, reference, days) if not is_base else (0.0, 1.0)
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
                    "verdict": verdict(ratio, se) if not is_base else "baseline",
                    "first_date": dates.min(),
                    "last_date": dates.max(),
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
