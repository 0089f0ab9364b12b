"""One fit of one member: train on given rows (purged by the caller) and predict quantiles of the h-day log
return at others; the rows those quantiles become (`prediction_rows`). Production (`members.run`) and the
backtest (`evaluation.backtest`) both fit through here, by the member protocol (`registry.build`, `fit`,
`predict`)."""

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
from cbi_ml.dataset import KEY, horizon_scale, target_column
from cbi_ml.members.registry import BASELINES, TabularFit, TimeSeriesFit, build, member_kind
from cbi_ml.quantiles import sort_quantiles


def predict_fitted(
    member: str, predictor: Any, frame: pd.DataFrame, features: list[str], days: int, rows: np.ndarray, cfg: MLConfig
) -> np.ndarray:
    """Quantiles of the h-day log return at `rows` from a fitted (or loaded) AutoGluon predictor of `member`."""
    if member_kind(member) == "timeseries":
        return TimeSeriesFit(predictor, frame, days, cfg).predict(rows)
    return TabularFit(predictor, frame, features, days).predict(rows)


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
    """Fit `member` (`registry.build`) on `train` rows (already purged by the caller) and predict `test` rows'
    quantiles; a trained member's predictor is saved under `path`."""
    fitted = build(member, features, cfg, path).fit(frame, days, train)
    if member not in BASELINES:
        audit.fit_finished(fitted.predictor)
    return fitted.predict(test)


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
