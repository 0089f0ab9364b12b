"""L0 members: baselines and AutoGluon quantile predictors, with honest walk-forward out-of-fold predictions
and a final fit that forecasts the latest as_of_date.

One function, `run_member`, serves every member; the dbt Python models in `ml/` each call it with a name.
Its output (one row per as_of_date and horizon) holds out-of-fold rows (fold >= 0, with the realised target `y`)
and the latest forecast (fold = -1).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import cbi_ml  # noqa: F401  (environment defaults before AutoGluon loads)
from cbi_ml import audit
from cbi_ml.artifacts import MemberState, load_state, needs_training, save_state, serving_state
from cbi_ml.baselines import fit_har, har_quantiles, rw_empirical, rw_ewma
from cbi_ml.config import MLConfig
from cbi_ml.dataset import (
    KEY,
    RETURN_COLUMN,
    VOL_COLUMN,
    horizon_scale,
    labelled_index,
    labelled_rows,
    prepare_matrix,
    purged_split,
    target_column,
)
from cbi_ml.distributed import Call, ray_address, run_all
from cbi_ml.distribution import DISTRIBUTION_MEMBERS, distribution_quantiles
from cbi_ml.quantiles import sort_quantiles
from cbi_ml.walkforward import walk_forward_folds

log = logging.getLogger(__name__)

#: The members implemented here by name (which members run, and their kinds, is the `cbi_members` var; the
#: tabular ones are `main` and the bucket specialists `spec_<bucket>` of the `cbi_buckets` var). Cheap members
#: without saved predictors: random walks, HAR and the distribution members (cbi_ml.distribution).
BASELINES = ("rw_empirical", "rw_ewma", "har", *DISTRIBUTION_MEMBERS)
TIMESERIES = "ag_timeseries"  # AutoGluon TimeSeriesPredictor on the price path (cbi_ml.timeseries)
OUTPUT_COLUMNS = [
    "as_of_date",
    "horizon",
    "horizon_days",
    "member",
    "fold",
    "q10",
    "q50",
    "q90",
    "y",
    "scale",
    "model_run_id",
    "trained_at",
    "model_path",
]


def member_features(member: str, catalog: pd.DataFrame, available: list[str]) -> list[str]:
    """The features a member trains on: all for `main`, core + its bucket for `spec_<bucket>`; none for the
    baselines and the time-series member (they read the return series and bucket scores themselves)."""
    if member in BASELINES or member == TIMESERIES:
        return []
    if member == "main":
        wanted = catalog["feature_name"]
    elif member.startswith("spec_"):
        bucket = member.removeprefix("spec_")
        if bucket not in set(catalog["bucket"]):
            raise ValueError(f"unknown bucket specialist {member}: feature_catalog has no bucket {bucket!r}")
        wanted = catalog.loc[catalog["bucket"].isin(["core", bucket]), "feature_name"]
    else:
        raise ValueError(f"{member} is not a tabular member")
    features = [f for f in wanted if f in available]
    return [*features, VOL_COLUMN]


def _baseline_quantiles(member: str, frame: pd.DataFrame, days: int, train: np.ndarray, rows: np.ndarray) -> np.ndarray:
    returns = frame[RETURN_COLUMN]
    if member == "rw_empirical":
        return rw_empirical(returns, days)[rows]
    if member == "rw_ewma":
        return rw_ewma(frame[VOL_COLUMN], days)[rows]
    if member in DISTRIBUTION_MEMBERS:
        return distribution_quantiles(member, frame, days, train, rows)
    coef = fit_har(returns, days, train)
    return har_quantiles(returns, days, coef, rows, floor_vol=frame[VOL_COLUMN])


def _fit(
    member: str, frame: pd.DataFrame, features: list[str], days: int, train: np.ndarray, cfg: MLConfig, path: Path
):
    """Train a trained member (tabular or time series) on `train` rows; the predictor is saved under `path`."""
    if member == TIMESERIES:
        from cbi_ml.timeseries import fit_on_rows

        return fit_on_rows(frame, days, train, cfg, path)
    from cbi_ml.predictor import fit_quantile_predictor

    data = labelled_rows(frame, days, features, train)
    fit_rows, tune_rows = purged_split(data, days, cfg.tuning_fraction)
    return fit_quantile_predictor(fit_rows, tune_rows, cfg, path)


def _predict(
    member: str, predictor, frame: pd.DataFrame, features: list[str], days: int, rows: np.ndarray, cfg: MLConfig
) -> np.ndarray:
    """Quantiles of the h-day log return at `rows` from a fitted member."""
    if member == TIMESERIES:
        from cbi_ml.timeseries import predict_rows

        return predict_rows(predictor, frame, days, rows, cfg)
    scaled = predictor.predict(frame.loc[rows, features]).to_numpy()
    return scaled * horizon_scale(frame, days).to_numpy()[rows, None]


def load_predictor(member: str, path: str):
    """A saved predictor of a trained member (TimeSeriesPredictor or TabularPredictor)."""
    if member == TIMESERIES:
        from autogluon.timeseries import TimeSeriesPredictor

        return TimeSeriesPredictor.load(path, require_version_match=False)
    from autogluon.tabular import TabularPredictor

    return TabularPredictor.load(path, require_py_version_match=False)


def predict_block(
    member: str,
    frame: pd.DataFrame,
    features: list[str],
    days: int,
    train: np.ndarray,
    test: np.ndarray,
    cfg: MLConfig,
    path: Path,
) -> np.ndarray:
    """Fit `member` on `train` rows (already purged by the caller) and predict `test` rows' quantiles."""
    if member in BASELINES:
        return _baseline_quantiles(member, frame, days, train, test)
    predictor = _fit(member, frame, features, days, train, cfg, path)
    audit.fit_finished(predictor)
    return _predict(member, predictor, frame, features, days, test, cfg)


def fit_and_predict(
    member: str,
    frame: pd.DataFrame,
    features: list[str],
    horizon: str,
    days: int,
    fold: int,
    train: np.ndarray,
    rows: np.ndarray,
    cfg: MLConfig,
    path: str | None,
    run_id: str,
) -> np.ndarray:
    """One fit of a member's training run -- an out-of-fold fold, or fold -1, the final fit on every labelled row
    -- and its quantiles at `rows`. The predictor is saved under `path` (kept), else in a scratch folder of its
    own that is removed; a trained member's fit appends its audit record. Runs wherever it is sent (a Ray task
    on another node needs `artifacts_dir` on storage every node shares)."""
    audited = audit.fit(cfg, run_id, member, horizon, fold, len(train)) if member not in BASELINES else nullcontext()
    scratch = None if path or member in BASELINES else Path(tempfile.mkdtemp(prefix=f"cbi-{member}-{horizon}-"))
    try:
        with audited:
            return predict_block(member, frame, features, days, train, rows, cfg, Path(path) if path else scratch)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def prediction_rows(
    frame, horizon, days, member, fold, rows, q, run_id=None, trained_at=None, model_path=None
) -> pd.DataFrame:
    """Predictions of one member, horizon and fold in the `OUTPUT_COLUMNS` shape (quantiles sorted; the realised
    target `y` on out-of-fold rows, NULL for the latest forecast). The backtest stores the same rows."""
    q = sort_quantiles(q)
    y = frame[target_column(days)].to_numpy()[rows] if fold >= 0 else np.full(len(rows), np.nan)
    return pd.DataFrame(
        {
            "as_of_date": frame[KEY].to_numpy()[rows],
            "horizon": horizon,
            "horizon_days": days,
            "member": member,
            "fold": fold,
            "q10": q[:, 0],
            "q50": q[:, 1],
            "q90": q[:, 2],
            "y": y,
            "scale": horizon_scale(frame, days).to_numpy()[rows],
            "model_run_id": run_id,
            "trained_at": trained_at,
            "model_path": model_path,
        }
    )


def run_member(member: str, matrix: pd.DataFrame, catalog: pd.DataFrame, cfg: MLConfig, now: datetime) -> pd.DataFrame:
    """Out-of-fold and latest predictions of one member for every horizon (see the module docstring)."""
    implemented = "baseline" if member in BASELINES else "timeseries" if member == TIMESERIES else "tabular"
    declared = cfg.members.get(member)
    # a cheap member not built daily (e.g. garch_t) may run undeclared: `cbi backtest --members`, the benches
    if declared != implemented and not (declared is None and implemented == "baseline"):
        raise ValueError(f"member {member!r} is {implemented} here; cbi_members/cbi_buckets say {declared}")
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    latest = np.array([len(frame) - 1])
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
    calls: list[Call] = []
    slots: list[tuple[str, int, int, np.ndarray, str | None]] = []  # horizon, days, fold, rows, saved model
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
    quantiles = dict(run_all(calls, ray_address() if is_trained else None))
    parts = [
        prediction_rows(frame, horizon, days, member, fold, rows, quantiles[i], run_id, now, path)
        for i, (horizon, days, fold, rows, path) in enumerate(slots)
    ]
    model_paths = {horizon: path for horizon, _, fold, _, path in slots if fold == -1 and path}
    out = pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]
    if is_trained:
        predictions_file = artifacts / member / run_id / "predictions.parquet"
        out.to_parquet(predictions_file, index=False)
        last_labelled = str(frame.loc[frame[target_column(min(cfg.horizons.values()))].notna(), KEY].max())
        save_state(
            artifacts,
            member,
            MemberState(run_id, now, cfg.fingerprint(), str(predictions_file), model_paths, last_labelled),
        )
    return out


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
        q = _predict(member, predictor, frame, features, days, latest, cfg)
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
