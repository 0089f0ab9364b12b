"""Walk-forward backtest: replay history as if CBI had run every trading day, with the production code path.

For every refit date r (every `refit_every` trading days from `start`), each member is trained on the rows
whose h-day label was known at r (t + h < r: the purge) and predicts the rows from r until the next refit. The
stacker, the greedy ensemble and the calibration are then replayed on those out-of-sample predictions, each
learning only from earlier refits (`combine.layers.walk_forward_final`). Scores compare every layer with the random
walks on the same rows, with standard errors and Diebold-Mariano tests that count the overlap of h-day labels
(`evaluation`), and the risk layer's 95%/99% VaR is backtested (`var_backtests`).

Resumable: predictions are stored per refit under a run key (the inputs and settings); a re-run skips the
refits already stored.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cbi_ml.combine.layers import walk_forward_final
from cbi_ml.combine.stacking import stack_predictions
from cbi_ml.config import MLConfig
from cbi_ml.dataset import KEY, calendar_positions, labelled_index, prepare_matrix
from cbi_ml.distributed import Call, run_all
from cbi_ml.evaluation import block_bootstrap_ratio_se, diebold_mariano, row_pinball, scores, verdict
from cbi_ml.members.fitting import predict_block, prediction_rows
from cbi_ml.members.kinds import BASELINES, member_features
from cbi_ml.risk import value_at_risk
from cbi_ml.var_backtests import backtest as var_backtest

log = logging.getLogger(__name__)
RANDOM_WALKS = ("rw_empirical", "rw_ewma")
#: The combination layers the backtest adds to the members' rows, scores and stores (ml.backtest_predictions).
LAYERS = ("stack", "ensemble", "calibrated", "final")
#: The stored columns of a member's backtest predictions (members.kinds.OUTPUT_COLUMNS without the run metadata).
BACKTEST_COLUMNS = ["as_of_date", "horizon", "horizon_days", "member", "fold", "q10", "q50", "q90", "y", "scale"]


def run_key(cfg: MLConfig, members: list[str], start: str, end: str, refit_every: int, last_date) -> str:
    payload = f"{cfg.fingerprint()}|{sorted(members)}|{start}|{end}|{refit_every}|{last_date}"
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def refit_positions(dates: pd.Series, start: str, end: str, refit_every: int) -> list[int]:
    inside = np.flatnonzero((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end)))
    return [int(p) for p in inside[::refit_every]]


def backtest_block(
    member: str,
    frame: pd.DataFrame,
    features: list[str],
    horizon: str,
    days: int,
    refit: int,
    train: np.ndarray,
    test: np.ndarray,
    cfg: MLConfig,
) -> pd.DataFrame:
    """One independent fit of the backtest: `member` trained on `train`, predicting `test` (runs anywhere: its
    scratch folder is its own and removed when it ends)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"cbi-backtest-{member}-{horizon}-{refit}-"))
    try:
        q = predict_block(member, frame, features, days, train, test, cfg, scratch / "model")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return prediction_rows(frame, horizon, days, member, refit, test, q)[BACKTEST_COLUMNS]


def backtest_calls(
    frame: pd.DataFrame,
    catalog: pd.DataFrame,
    cfg: MLConfig,
    members: list[str],
    refits: list[int],
    last: int,
    done: set[int],
) -> list[tuple[int, Call]]:
    """(refit, call) for every fit not yet done: refit x horizon x member, each trained on the labels known at
    the refit date (t + h < r) and predicting until the next refit."""
    features = {m: member_features(m, catalog, list(frame.columns)) for m in members if m not in BASELINES}
    calls: list[tuple[int, Call]] = []
    for k, r in enumerate(refits):
        if k in done:
            continue
        stop = refits[k + 1] if k + 1 < len(refits) else last + 1
        for horizon, days in cfg.horizons.items():
            labelled = labelled_index(frame, days)
            train = labelled[labelled + days < r]
            test = labelled[(labelled >= r) & (labelled < stop)]
            if len(train) < 250 or len(test) == 0:
                continue
            for member in members:
                args = (member, frame, features.get(member, []), horizon, days, k, train, test, cfg)
                calls.append((k, Call(backtest_block, args)))
    return calls


def replay_members(
    matrix: pd.DataFrame,
    catalog: pd.DataFrame,
    cfg: MLConfig,
    members: list[str],
    start: str,
    end: str,
    refit_every: int,
    done: set[int],
    store: Callable[[int, pd.DataFrame], None],
    ray_address: str | None = None,
) -> None:
    """Train and predict every member at every refit not in `done`; hand each refit's rows to `store` as soon as
    all its fits have finished. The fits run serially here, or as Ray tasks when `ray_address` is given; the
    stored rows are the same either way."""
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    dates = pd.to_datetime(frame[KEY])
    refits = refit_positions(dates, start, end, refit_every)
    last = int(np.flatnonzero(dates <= pd.Timestamp(end)).max())
    planned = backtest_calls(frame, catalog, cfg, members, refits, last, done)
    waiting = {k: sum(1 for kk, _ in planned if kk == k) for k in range(len(refits)) if k not in done}
    parts: dict[int, list[tuple[int, pd.DataFrame]]] = {k: [] for k in waiting}
    for k in [k for k, n in waiting.items() if n == 0]:  # nothing to predict: a marker row, so resume skips it
        store(k, pd.DataFrame())
    with tqdm(total=len(planned), desc="backtest fits", unit="fit", disable=None) as progress:
        for i, rows in run_all([call for _, call in planned], ray_address):
            k = planned[i][0]
            parts[k].append((i, rows))
            waiting[k] -= 1
            progress.update()
            if waiting[k] == 0:
                ordered = [rows for _, rows in sorted(parts.pop(k), key=lambda item: item[0])]
                store(k, pd.concat(ordered, ignore_index=True))


def combine_layers(l0: pd.DataFrame, matrix: pd.DataFrame, cfg: MLConfig) -> pd.DataFrame:
    """Add the stacker, the ensemble and the calibrated final forecast, each out of sample."""
    positions = calendar_positions(matrix)
    l0 = l0.assign(as_of_date=pd.to_datetime(l0["as_of_date"]))
    stacked = stack_predictions(l0, positions)
    both = pd.concat([l0, stacked], ignore_index=True)
    final = walk_forward_final(both, positions, cfg.ensemble_rounds, cfg.calibration_rows)
    return pd.concat([both, final], ignore_index=True)


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


def settings_summary(cfg: MLConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items() if k in ("preset", "time_limit_s", "model_families", "seed")}
