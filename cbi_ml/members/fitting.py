"""One fit of one member: train on given rows (purged by the caller) and predict quantiles of the h-day log
return at others; the rows those quantiles become (`prediction_rows`). Production (`members.run`) and the
backtest (`evaluation.backtest`) both fit through here."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import cbi_ml  # noqa: F401  (environment defaults before AutoGluon loads)
from cbi_ml import audit
from cbi_ml.config import MLConfig
from cbi_ml.dataset import (
    KEY,
    RETURN_COLUMN,
    VOL_COLUMN,
    horizon_scale,
    labelled_rows,
    purged_split,
    target_column,
)
from cbi_ml.members.baselines import fit_har, har_quantiles, rw_empirical, rw_ewma
from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS, distribution_quantiles
from cbi_ml.members.kinds import BASELINES, TIMESERIES
from cbi_ml.quantiles import sort_quantiles


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
) -> Any:
    """Train a trained member (tabular or time series) on `train` rows; the predictor is saved under `path`."""
    if member == TIMESERIES:
        from cbi_ml.members.timeseries import fit_on_rows

        return fit_on_rows(frame, days, train, cfg, path)
    from cbi_ml.members.tabular import fit_quantile_predictor

    data = labelled_rows(frame, days, features, train)
    fit_rows, tune_rows = purged_split(data, days, cfg.tuning_fraction)
    return fit_quantile_predictor(fit_rows, tune_rows, cfg, path)


def predict_fitted(
    member: str, predictor: Any, frame: pd.DataFrame, features: list[str], days: int, rows: np.ndarray, cfg: MLConfig
) -> np.ndarray:
    """Quantiles of the h-day log return at `rows` from a fitted member."""
    if member == TIMESERIES:
        from cbi_ml.members.timeseries import predict_rows

        return predict_rows(predictor, frame, days, rows, cfg)
    scaled = predictor.predict(frame.loc[rows, features]).to_numpy()
    return scaled * horizon_scale(frame, days).to_numpy()[rows, None]


def load_predictor(member: str, path: str) -> Any:
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
    return predict_fitted(member, predictor, frame, features, days, test, cfg)


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
    frame: pd.DataFrame,
    horizon: str,
    days: int,
    member: str,
    fold: int,
    rows: np.ndarray,
    q: np.ndarray,
    run_id: str | None = None,
    trained_at: datetime | None = None,
    model_path: str | None = None,
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
