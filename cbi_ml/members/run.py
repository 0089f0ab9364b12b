"""L0 members: baselines and AutoGluon quantile predictors, with honest walk-forward out-of-fold predictions
and a final fit that forecasts the latest as_of_date.

One function, `run_member`, serves every member of `cbi_ml.members.registry`; the dbt Python model
`ml/training/l0_predictions.py` calls it for each member the daily build runs (`cbi_ml.nodes.l0_predictions`).
Its output (one row per as_of_date and horizon) holds out-of-fold rows (fold >= 0, with the realised target `y`)
and the latest forecast (fold = -1).
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cbi_ml.config import MLConfig
from cbi_ml.dataset import KEY, labelled_index, prepare_matrix, target_column
from cbi_ml.distributed import Call, ray_address, run_all
from cbi_ml.members.artifacts import MemberState, load_state, needs_training, save_state, serving_state
from cbi_ml.members.fitting import fit_and_predict, predict_fitted, prediction_rows
from cbi_ml.members.kinds import OUTPUT_COLUMNS, member_features
from cbi_ml.members.registry import BASELINES, TIMESERIES, load_predictor, member_kind
from cbi_ml.walkforward import walk_forward_folds

log = logging.getLogger(__name__)

#: Where one fit's quantiles go: horizon, horizon days, fold (-1: the final fit), predicted rows, saved model.
Slot = tuple[str, int, int, np.ndarray, str | None]


def run_member(member: str, matrix: pd.DataFrame, catalog: pd.DataFrame, cfg: MLConfig, now: datetime) -> pd.DataFrame:
    """Out-of-fold and latest predictions of one member for every horizon (see the module docstring)."""
    # any registered member runs (`registry.member_kind` refuses others): the daily build runs the daily ones, a
    # cheap member not built daily (e.g. garch_t) runs in `cbi backtest --members` and the benches
    member_kind(member)
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    is_trained = member not in BASELINES
    features = member_features(member, catalog, list(frame.columns))
    run_id = f"{member}-{now:%Y%m%dT%H%M%S}-{cfg.fingerprint()}"
    artifacts = Path(cfg.artifacts_dir)
    state = load_state(artifacts, member) if is_trained else None
    train_now, reason = needs_training(state, cfg.retrain, cfg.fingerprint(), now, cfg.max_model_age_days)
    if is_trained:
        log.info("%s: %s", member, reason)
    if is_trained and not train_now:
        return _score_with_saved(member, frame, features, cfg, serving_state(artifacts, member, state))

    # Every fit (each out-of-fold fold, then the final fit on every labelled row, per horizon) is independent:
    # serially here, or as Ray tasks when CBI_RAY_ADDRESS is set (cbi_ml.distributed); same rows either way.
    calls, slots = _training_calls(member, frame, features, cfg, artifacts, run_id)
    quantiles = dict(run_all(calls, ray_address() if is_trained else None))
    parts = [
        prediction_rows(frame, horizon, days, member, fold, rows, quantiles[i], run_id, now, path)
        for i, (horizon, days, fold, rows, path) in enumerate(slots)
    ]
    out = pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]
    if is_trained:
        _save_run(member, frame, out, slots, cfg, artifacts, run_id, now)
    return out


def _training_calls(
    member: str, frame: pd.DataFrame, features: list[str], cfg: MLConfig, artifacts: Path, run_id: str
) -> tuple[list[Call], list[Slot]]:
    """Every fit of one training run -- the out-of-fold folds, then the final fit on every labelled row that
    forecasts the latest row, per horizon -- and where each one's quantiles go."""
    is_trained = member not in BASELINES
    latest = np.array([len(frame) - 1])
    calls: list[Call] = []
    slots: list[Slot] = []
    for horizon, days in cfg.horizons.items():
        labelled = labelled_index(frame, days)
        n = int(labelled.max()) + 1 if len(labelled) else 0
        folds = walk_forward_folds(n, days, cfg.oof_folds, cfg.oof_block)
        for fold in folds:
            train = labelled[labelled < fold.train_end]
            test = labelled[(labelled >= fold.test_start) & (labelled < fold.test_end)]
            # the last fold's tabular predictor is kept: feature importance is measured on the rows it never saw
            kept = is_trained and member != TIMESERIES and fold is folds[-1]
            path = str(artifacts / member / run_id / f"oof_{horizon}") if kept else None
            calls.append(
                Call(
                    fit_and_predict, (member, frame, features, horizon, days, fold.fold, train, test, cfg, path, run_id)
                )
            )
            slots.append((horizon, days, fold.fold, test, path))
        path = str(artifacts / member / run_id / horizon) if is_trained else None
        calls.append(
            Call(fit_and_predict, (member, frame, features, horizon, days, -1, labelled, latest, cfg, path, run_id))
        )
        slots.append((horizon, days, -1, latest, path))
    return calls, slots


def _save_run(
    member: str,
    frame: pd.DataFrame,
    out: pd.DataFrame,
    slots: list[Slot],
    cfg: MLConfig,
    artifacts: Path,
    run_id: str,
    now: datetime,
) -> None:
    """Keep a trained member's run: its predictions file and its state (the saved predictor per horizon)."""
    model_paths = {horizon: path for horizon, _, fold, _, path in slots if fold == -1 and path}
    predictions_file = artifacts / member / run_id / "predictions.parquet"
    out.to_parquet(predictions_file, index=False)
    last_labelled = str(frame.loc[frame[target_column(min(cfg.horizons.values()))].notna(), KEY].max())
    save_state(
        artifacts,
        member,
        MemberState(run_id, now, cfg.fingerprint(), str(predictions_file), model_paths, last_labelled),
    )


def _score_with_saved(
    member: str, frame: pd.DataFrame, features: list[str], cfg: MLConfig, state: MemberState
) -> pd.DataFrame:
    """Reuse the saved out-of-fold predictions and forecast the latest row with the saved predictors."""
    saved = pd.read_parquet(state.predictions_file)
    oof = saved[saved["fold"] >= 0]
    latest = np.array([len(frame) - 1])
    parts = [oof]
    for horizon, days in cfg.horizons.items():
        predictor = load_predictor(member, state.model_paths[horizon])
        q = predict_fitted(member, predictor, frame, features, days, latest, cfg)
        parts.append(
            prediction_rows(
                frame,
                horizon,
                days,
                member,
                -1,
                latest,
                q,
                state.model_run_id,
                state.trained_at,
                state.model_paths[horizon],
            )
        )
    return pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]
