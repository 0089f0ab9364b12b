"""The main predictor: one quantile model per horizon on all features, forecasting the latest as_of_date."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from cbi_ml.config import MLConfig
from cbi_ml.dataset import (
    CLOSE_COLUMN,
    KEY,
    feature_columns,
    horizon_scale,
    labelled_rows,
    prepare_matrix,
    purged_split,
)
from cbi_ml.predictor import fit_quantile_predictor
from cbi_ml.quantiles import sort_quantiles
from ingest.calendars import CME_BDAY

log = logging.getLogger(__name__)

PREDICTION_COLUMNS = [
    "as_of_date",
    "horizon",
    "horizon_days",
    "target_date",
    "q10",
    "q50",
    "q90",
    "price_q10",
    "price_q50",
    "price_q90",
    "model_run_id",
    "trained_at",
    "n_train_rows",
    "best_model",
    "preset",
    "model_families",
]


def model_run_id(as_of_date: pd.Timestamp, cfg: MLConfig, trained_at: datetime) -> str:
    return f"{trained_at:%Y%m%dT%H%M%S}-{pd.Timestamp(as_of_date):%Y%m%d}-{cfg.fingerprint()}"


def to_price_frame(as_of_date: pd.Timestamp, close: float, horizon: str, days: int, q: np.ndarray) -> dict:
    """One forecast row: sorted log-return quantiles and the matching price quantiles."""
    q10, q50, q90 = sort_quantiles(np.asarray(q, dtype=float).reshape(1, -1))[0]
    return {
        "as_of_date": pd.Timestamp(as_of_date).date(),
        "horizon": horizon,
        "horizon_days": int(days),
        "target_date": (pd.Timestamp(as_of_date) + days * CME_BDAY).date(),
        "q10": q10,
        "q50": q50,
        "q90": q90,
        "price_q10": close * np.exp(q10),
        "price_q50": close * np.exp(q50),
        "price_q90": close * np.exp(q90),
    }


def forecast_latest(matrix: pd.DataFrame, cfg: MLConfig, trained_at: datetime, artifacts_root: Path) -> pd.DataFrame:
    """Train the main predictor for every horizon on rows with known targets and forecast the latest row."""
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    latest = frame.iloc[[-1]]
    as_of_date = latest[KEY].iloc[0]
    close = float(latest[CLOSE_COLUMN].iloc[0])
    if not close > 0:
        raise ValueError(f"the latest ZL close ({close}) on {as_of_date} is not a positive price")
    run_id = model_run_id(as_of_date, cfg, trained_at)
    features = feature_columns(frame)
    rows = []
    for horizon, days in tqdm(cfg.horizons.items(), desc="main predictor", unit="horizon", disable=None):
        train, tune = purged_split(labelled_rows(frame, days), days, cfg.tuning_fraction)
        predictor = fit_quantile_predictor(train, tune, cfg, artifacts_root / run_id / f"main_{horizon}")
        scaled = predictor.predict(latest[features]).to_numpy()[0]
        scale = float(horizon_scale(latest, days).iloc[0])
        if not scale > 0:
            raise ValueError(f"no volatility estimate for {as_of_date}: too few ZL returns before it")
        q = scaled * scale
        row = to_price_frame(as_of_date, close, horizon, days, q)
        row.update(
            {
                "model_run_id": run_id,
                "trained_at": trained_at,
                "n_train_rows": len(train),
                "best_model": predictor.model_best,
                "preset": cfg.preset,
                "model_families": ",".join(cfg.model_families),
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=PREDICTION_COLUMNS)
