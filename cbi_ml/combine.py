"""From L0 predictions to the final forecast: L1 stacking, L2.5 greedy ensemble, conformal calibration, and the
final choice among them (`final_layer`).

Inputs are long frames in the `members.kinds.OUTPUT_COLUMNS` shape (out-of-fold rows fold >= 0 with the realised `y`,
latest forecasts fold = -1). Every function is pure (frames in, frames out) so tests call them directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.calibration import apply_shifts, conformal_shifts, rows_needed
from cbi_ml.ensemble import combine, greedy_weights
from cbi_ml.quantiles import QUANTILE_LEVELS, pinball_loss, sort_quantiles
from cbi_ml.stacking import fit_stacker, walk_forward_stack

Q_COLUMNS = ["q10", "q50", "q90"]


def _wide(predictions: pd.DataFrame, horizon: str, column: str) -> pd.DataFrame:
    part = predictions[predictions["horizon"] == horizon]
    return part.pivot_table(index=["as_of_date", "fold"], columns="member", values=column, aggfunc="first")


def _meta(predictions: pd.DataFrame, horizon: str) -> pd.DataFrame:
    part = predictions[predictions["horizon"] == horizon]
    return part.groupby(["as_of_date", "fold"])[["y", "scale", "horizon_days"]].first()


def usable_members(wide: pd.DataFrame, min_share: float = 0.4) -> list[str]:
    """Members with out-of-fold predictions on at least `min_share` of the rows the best-covered member has
    (the stacker has none for the first fold, and at long horizons the purge can leave it none at all)."""
    counts = wide[wide.index.get_level_values("fold") >= 0].notna().sum()
    return [m for m in wide.columns if counts[m] >= min_share * counts.max() and counts[m] > 0]


def stack_predictions(l0: pd.DataFrame, positions: pd.Series) -> pd.DataFrame:
    """L1: per horizon and quantile, a linear quantile regression on the members' predictions of that quantile.
    Out-of-fold rows are stacked walk-forward (earlier folds only, purged); the latest row uses a stacker
    fitted on all out-of-fold rows. `positions` maps as_of_date to its row number on the ZL calendar."""
    rows = []
    for horizon in l0["horizon"].unique():
        meta = _meta(l0, horizon)
        days = int(meta["horizon_days"].iloc[0])
        q_wide = {c: _wide(l0, horizon, c) for c in Q_COLUMNS}
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
        for keys_, q, y_ in (
            (oof_keys, np.column_stack(oof_q), y),
            (latest_keys, np.column_stack(latest_q), np.full(len(latest_keys), np.nan)),
        ):
            ok = ~np.isnan(q).any(axis=1)
            q = sort_quantiles(q[ok]) if ok.any() else q[ok]
            part = pd.DataFrame(
                {
                    "as_of_date": keys_.get_level_values("as_of_date")[ok],
                    "horizon": horizon,
                    "horizon_days": days,
                    "member": "stack",
                    "fold": keys_.get_level_values("fold")[ok],
                    "q10": q[:, 0],
                    "q50": q[:, 1],
                    "q90": q[:, 2],
                    "y": y_[ok],
                    "scale": meta.loc[keys_, "scale"].to_numpy()[ok],
                }
            )
            rows.append(part)
    return pd.concat(rows, ignore_index=True)


def best_member_so_far(
    y: np.ndarray, members: dict[str, np.ndarray], folds: np.ndarray, pos: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per fold, the quantiles of the single model with the lowest mean pinball loss on earlier folds' rows
    (purged by h days; for the latest forecast, fold < 0, on every out-of-fold row), among the models that
    forecast every row of the fold and have at least 30 scored rows of history. Rows of a fold with no history
    get NaN. Returns (quantiles (n, 3), chosen name per row)."""
    out = np.full((len(y), 3), np.nan)
    names = np.full(len(y), None, dtype=object)
    losses = {m: _masked_loss(y, q) for m, q in members.items()}
    for fold in np.unique(folds):
        rows = folds == fold
        history = (folds >= 0) & (folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else folds >= 0
        scored = {
            m: np.nanmean(loss[history])
            for m, loss in losses.items()
            if np.isfinite(loss[history]).sum() >= 30 and not np.isnan(members[m][rows]).any()
        }
        if not scored:
            continue
        best = min(scored, key=scored.get)
        out[rows] = members[best][rows]
        names[rows] = best
    return out, names


def _masked_loss(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row pinball loss, NaN where the row has no prediction or no outcome."""
    from cbi_ml.evaluation import row_pinball

    ok = ~np.isnan(q).any(axis=1) & ~np.isnan(y)
    return np.where(ok, row_pinball(np.nan_to_num(y), np.nan_to_num(q)), np.nan)


def earned_choice(
    y: np.ndarray,
    candidates: list[tuple[str, np.ndarray, np.ndarray | None]],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
    reps: int = 200,
    min_blocks: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """The final quantiles: the simplest candidate unless a more complex one has earned its place.

    `candidates` run from simplest to most complex as (name, quantiles, names per row or None). For rows of
    fold k the choice starts at the first candidate and moves to a later one only if, on the earlier folds'
    rows (purged by h days; all out-of-fold rows for the latest forecast, fold < 0), that one's mean pinball
    loss was lower than the current choice's by more than two moving-block bootstrap standard errors (blocks
    of h days), on at least `min_blocks` blocks of history (a bootstrap over fewer independent outcomes has
    too few distinct resamples to trust its standard error). A gain inside the noise is no gain, so the stack
    never swaps a random walk for a combination that only looked better on a handful of overlapping outcomes.
    Returns (quantiles, chosen name per row)."""
    from cbi_ml.evaluation import block_bootstrap_ratio_se

    losses = [_masked_loss(y, q) for _, q, _ in candidates]
    out = np.full((len(y), 3), np.nan)
    chosen = np.full(len(y), None, dtype=object)
    for fold in np.unique(folds):
        rows = folds == fold
        history = (folds >= 0) & (folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else folds >= 0
        available = [k for k, (_, q, _) in enumerate(candidates) if not np.isnan(q[rows]).any()]
        if not available:
            continue
        current = available[0]
        for k in available[1:]:
            both = history & np.isfinite(losses[k]) & np.isfinite(losses[current])
            if both.sum() < max(30, min_blocks * days):
                continue  # a bootstrap over a handful of h-day blocks cannot tell skill from luck
            ratio = losses[k][both].mean() / losses[current][both].mean()
            se = block_bootstrap_ratio_se(losses[k][both], losses[current][both], days, reps)
            if np.isfinite(se) and ratio < 1 - 2 * se:
                current = k
        name, values, per_row = candidates[current]
        out[rows] = values[rows]
        chosen[rows] = per_row[rows] if per_row is not None else name
    return out, chosen


def _layer_frame(
    member: str,
    horizon: str,
    days: int,
    dates,
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


#: Where the final layer starts: the random walk with EWMA volatility, the simplest forecast that knows
#: volatility clusters. Anything else -- the empirical random walk included -- has to beat it first.
DEFAULT_MEMBER = "rw_ewma"


def final_layer(
    y: np.ndarray,
    ensemble: np.ndarray,
    calibrated: np.ndarray,
    members: dict[str, np.ndarray],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The final forecast (`earned_choice`) among, in order of simplicity: `rw_ewma`, the best single model so
    far, the ensemble and the calibrated ensemble."""
    candidates = []
    if DEFAULT_MEMBER in members:
        candidates.append((DEFAULT_MEMBER, members[DEFAULT_MEMBER], None))
    best, best_names = best_member_so_far(y, members, folds, pos, days)
    candidates += [("member", best, best_names), ("ensemble", ensemble, None), ("calibrated", calibrated, None)]
    return earned_choice(y, candidates, folds, pos, days)


def ensemble_weights(predictions: pd.DataFrame, rounds: int) -> pd.DataFrame:
    """L2.5 weights per horizon and quantile, chosen on the out-of-fold rows every member has."""
    out = []
    for horizon in predictions["horizon"].unique():
        meta = _meta(predictions, horizon)
        for column, level in zip(Q_COLUMNS, QUANTILE_LEVELS, strict=True):
            wide = _wide(predictions, horizon, column)
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


def _fold_members(has: np.ndarray, rows: np.ndarray, history: np.ndarray, min_share: float = 0.4) -> np.ndarray:
    """Columns (members) the ensemble of one fold can use: those that forecast every row of the fold and cover at
    least `min_share` of the history rows the best-covered of them covers (as `usable_members`). A member
    without predictions somewhere -- the stacker on the first fold, say -- is left out there; it removes no rows."""
    complete = has[rows].all(axis=0)
    coverage = np.where(complete, has[history].sum(axis=0), 0)
    if coverage.max(initial=0) == 0:
        return np.zeros(has.shape[1], dtype=bool)
    return complete & (coverage >= min_share * coverage.max()) & (coverage > 0)


def combine_layers(
    y: np.ndarray,
    x: list[np.ndarray],
    folds: np.ndarray,
    pos: np.ndarray,
    scale: np.ndarray,
    days: int,
    rounds: int,
    calibration_rows: int,
    latest_weights: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ensemble and its calibration for one horizon, with nothing learned from the rows they predict.

    `x` holds the members' predictions per quantile level (rows x members; NaN where a member has none). For
    out-of-fold rows of fold k the greedy weights come from folds < k (purged by h days), over the members
    `_fold_members` allows, on the history rows all of them forecast; the calibration shifts come from the
    most recent earlier ensemble rows (`calibration.rows_needed`, at least `MIN_OUTCOMES` independent h-day
    outcomes, else no calibration). The latest forecast (fold < 0) uses `latest_weights` (fitted on every
    out-of-fold row) when given, and shifts from the last out-of-fold ensemble rows."""
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
        cols = _fold_members(has, rows, history)
        history &= has[:, cols].all(axis=1)
        if not cols.any() or history.sum() < 30:
            continue
        weights = [
            greedy_weights(y[history], x[i][history][:, cols], level, rounds) for i, level in enumerate(QUANTILE_LEVELS)
        ]
        ensemble[rows] = sort_quantiles(np.column_stack([combine(x[i][rows][:, cols], weights[i]) for i in range(3)]))
    calibrated = np.full_like(ensemble, np.nan)
    have = ~np.isnan(ensemble).any(axis=1)
    window = rows_needed(calibration_rows, days)
    for fold in np.unique(folds[have]):
        rows = have & (folds == fold)
        earlier = (folds >= 0) & ((folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else True)
        history = np.flatnonzero(have & earlier)[-window:]
        shifts = conformal_shifts(y[history], ensemble[history], scale[history], days) if len(history) else None
        if shifts is not None:
            calibrated[rows] = apply_shifts(ensemble[rows], scale[rows], shifts)
    return ensemble, calibrated


def _horizon_frames(
    horizon: str, days: int, keys: pd.MultiIndex, wides: list[pd.DataFrame], meta: pd.DataFrame, positions, **kw
) -> list[pd.DataFrame]:
    """ensemble, calibrated and final rows of one horizon, from the members' predictions on `keys`."""
    folds = keys.get_level_values("fold").to_numpy()
    dates = keys.get_level_values("as_of_date")
    pos = positions.loc[dates].to_numpy()
    y = meta.loc[keys, "y"].to_numpy()
    scale = meta.loc[keys, "scale"].to_numpy()
    x = [w.loc[keys].to_numpy() for w in wides]
    ensemble, calibrated = combine_layers(y, x, folds, pos, scale, days, **kw)
    members = {m: np.column_stack([xi[:, j] for xi in x]) for j, m in enumerate(wides[0].columns)}
    final, source = final_layer(y, ensemble, calibrated, members, folds, pos, days)
    return [
        _layer_frame("ensemble", horizon, days, dates, folds, ensemble, y, scale),
        _layer_frame("calibrated", horizon, days, dates, folds, calibrated, y, scale),
        _layer_frame("final", horizon, days, dates, folds, final, y, scale, source),
    ]


def _forecast_rows(wides: list[pd.DataFrame]) -> pd.MultiIndex:
    """Every (as_of_date, fold) some member forecasts. A member without a prediction on a row -- the stacker on
    the first fold -- does not remove the row: each layer and candidate is judged on the rows it does forecast."""
    has = np.logical_and.reduce([w.notna().to_numpy() for w in wides]).any(axis=1)
    return wides[0].index[has].sort_values()


def final_predictions(
    predictions: pd.DataFrame, weights: pd.DataFrame, positions: pd.Series, calibration_rows: int, rounds: int
) -> pd.DataFrame:
    """Production: 'ensemble', 'calibrated' and 'final' for the out-of-fold rows (walk-forward, as in the
    backtest, so that the final choice compares honest records) and for the latest forecast, whose ensemble
    uses the weights of `ml.ensemble_weights` (fitted on every out-of-fold row)."""
    out = []
    for horizon in predictions["horizon"].unique():
        meta = _meta(predictions, horizon)
        days = int(meta["horizon_days"].iloc[0])
        chosen = weights[weights["horizon"] == horizon]
        members = list(dict.fromkeys(chosen["member"]))
        wides = [_wide(predictions, horizon, c)[members] for c in Q_COLUMNS]
        keys = _forecast_rows(wides)
        latest = [
            chosen[chosen["quantile_level"] == level].set_index("member").loc[members, "weight"].to_numpy()
            for level in QUANTILE_LEVELS
        ]
        out += _horizon_frames(
            horizon,
            days,
            keys,
            wides,
            meta,
            positions,
            rounds=rounds,
            calibration_rows=calibration_rows,
            latest_weights=latest,
        )
    return pd.concat(out, ignore_index=True)


def walk_forward_final(
    predictions: pd.DataFrame, positions: pd.Series, rounds: int, calibration_rows: int
) -> pd.DataFrame:
    """The backtest's ensemble, calibration and final forecast, every one out of sample (`combine_layers`)."""
    out = []
    for horizon in predictions["horizon"].unique():
        meta = _meta(predictions, horizon)
        days = int(meta["horizon_days"].iloc[0])
        wides = [_wide(predictions, horizon, c) for c in Q_COLUMNS]
        out += _horizon_frames(
            horizon,
            days,
            _forecast_rows(wides),
            wides,
            meta,
            positions,
            rounds=rounds,
            calibration_rows=calibration_rows,
        )
    return pd.concat(out, ignore_index=True)
