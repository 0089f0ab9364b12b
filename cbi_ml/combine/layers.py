"""The combination layers put together, per horizon: the walk-forward ensemble and its calibration
(`combine_layers`), then the final choice among them; in production (`final_predictions`, the latest forecast
weighted by `ml.ensemble_weights`) and in the backtest (`walk_forward_final`, every row out of sample).

Inputs are long frames in the `members.kinds.OUTPUT_COLUMNS` shape (`combine.frames`). Every function is pure
(frames in, frames out) so tests call them directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.combine.calibration import walk_forward_calibration
from cbi_ml.combine.ensemble import walk_forward_ensemble
from cbi_ml.combine.final import PanelVerdict, final_layer, panel_verdicts
from cbi_ml.combine.frames import Q_COLUMNS, forecast_rows, horizon_meta, layer_frame, wide_predictions
from cbi_ml.quantiles import QUANTILE_LEVELS


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
    `fold_members` allows, on the history rows all of them forecast; the calibration shifts come from the
    most recent earlier ensemble rows (`calibration.rows_needed`, at least `MIN_OUTCOMES` independent h-day
    outcomes, else no calibration). The latest forecast (fold < 0) uses `latest_weights` (fitted on every
    out-of-fold row) when given, and shifts from the last out-of-fold ensemble rows."""
    ensemble = walk_forward_ensemble(y, x, folds, pos, days, rounds, latest_weights)
    calibrated = walk_forward_calibration(y, ensemble, folds, pos, scale, days, calibration_rows)
    return ensemble, calibrated


def horizon_frames(
    horizon: str,
    days: int,
    keys: pd.MultiIndex,
    wides: list[pd.DataFrame],
    meta: pd.DataFrame,
    positions: pd.Series,
    rounds: int,
    calibration_rows: int,
    latest_weights: list[np.ndarray] | None = None,
    verdict: PanelVerdict | None = None,
) -> list[pd.DataFrame]:
    """ensemble, calibrated and final rows of one horizon, from the members' predictions on `keys` (the final
    layer starting from the panel's `verdict` when there is one)."""
    folds = keys.get_level_values("fold").to_numpy()
    dates = keys.get_level_values("as_of_date")
    pos = positions.loc[dates].to_numpy()
    y = meta.loc[keys, "y"].to_numpy()
    scale = meta.loc[keys, "scale"].to_numpy()
    x = [w.loc[keys].to_numpy() for w in wides]
    ensemble, calibrated = combine_layers(y, x, folds, pos, scale, days, rounds, calibration_rows, latest_weights)
    members = {m: np.column_stack([xi[:, j] for xi in x]) for j, m in enumerate(wides[0].columns)}
    final, source = final_layer(y, ensemble, calibrated, members, folds, pos, days, verdict)
    return [
        layer_frame("ensemble", horizon, days, dates, folds, ensemble, y, scale),
        layer_frame("calibrated", horizon, days, dates, folds, calibrated, y, scale),
        layer_frame("final", horizon, days, dates, folds, final, y, scale, source),
    ]


def final_predictions(
    predictions: pd.DataFrame,
    weights: pd.DataFrame,
    positions: pd.Series,
    calibration_rows: int,
    rounds: int,
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Production: 'ensemble', 'calibrated' and 'final' for the out-of-fold rows (walk-forward, as in the
    backtest, so that the final choice compares honest records) and for the latest forecast, whose ensemble
    uses the weights of `ml.ensemble_weights` (fitted on every out-of-fold row). The final layer starts from the
    panel's verdict per horizon (`evidence`: `seeds/panel_evidence.csv`) where there is one."""
    verdicts = panel_verdicts(evidence)
    out = []
    for horizon in predictions["horizon"].unique():
        meta = horizon_meta(predictions, horizon)
        days = int(meta["horizon_days"].iloc[0])
        chosen = weights[weights["horizon"] == horizon]
        members = list(dict.fromkeys(chosen["member"]))
        wides = [wide_predictions(predictions, horizon, c)[members] for c in Q_COLUMNS]
        keys = forecast_rows(wides)
        latest = [
            chosen[chosen["quantile_level"] == level].set_index("member").loc[members, "weight"].to_numpy()
            for level in QUANTILE_LEVELS
        ]
        out += horizon_frames(
            horizon,
            days,
            keys,
            wides,
            meta,
            positions,
            rounds=rounds,
            calibration_rows=calibration_rows,
            latest_weights=latest,
            verdict=verdicts.get(str(horizon)),
        )
    return pd.concat(out, ignore_index=True)


def walk_forward_final(
    predictions: pd.DataFrame, positions: pd.Series, rounds: int, calibration_rows: int
) -> pd.DataFrame:
    """The backtest's ensemble, calibration and final forecast, every one out of sample (`combine_layers`)."""
    out = []
    for horizon in predictions["horizon"].unique():
        meta = horizon_meta(predictions, horizon)
        days = int(meta["horizon_days"].iloc[0])
        wides = [wide_predictions(predictions, horizon, c) for c in Q_COLUMNS]
        out += horizon_frames(
            horizon,
            days,
            forecast_rows(wides),
            wides,
            meta,
            positions,
            rounds=rounds,
            calibration_rows=calibration_rows,
        )
    return pd.concat(out, ignore_index=True)
