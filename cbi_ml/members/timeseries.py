"""The AutoGluon time-series baseline: a `TimeSeriesPredictor` on the ZL log-price path.

Different from the tabular members, which learn a map from today's features to the h-day return, this member
forecasts the price path itself with local statistical models (ETS, Theta) refitted on each forecast origin's
own history, and a global `RecursiveTabular` model with the eight bucket scores as covariates. AutoGluon combines
them with its weighted ensemble, chosen on several walk-forward validation windows (`validation_windows`).

Time runs in trading days: the series is indexed by trading-day position (timestamps are a regular stand-in
calendar), so step h of a forecast is exactly h trading days ahead, like the targets. The forecast of the h-day
log return from origin t is the step-h quantile of log price minus log price at t; marginal quantiles of a
level are quantiles of that difference because log price at t is known.

Bucket scores enter as *known* covariates lagged by h days: the covariate at step t + k is the score at
t + k - h, which is known at t for every k <= h. So the covariates never carry information from after the
forecast origin, and AutoGluon's "known covariate" machinery can use them. Each origin is one item with
its own history cut at that origin; no item sees a price after its as_of_date.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import cbi_ml  # noqa: F401  (sets OMP_WAIT_POLICY / HF_HUB_OFFLINE before AutoGluon loads)
from cbi_ml.config import MLConfig
from cbi_ml.dataset import RETURN_COLUMN
from cbi_ml.members.foundation import chronos_hyperparameters
from cbi_ml.quantiles import QUANTILE_LEVELS

if TYPE_CHECKING:
    from autogluon.timeseries import TimeSeriesPredictor

log = logging.getLogger(__name__)

TARGET = "log_price"
ORIGIN = pd.Timestamp("2000-01-01")  # stand-in calendar: position k is ORIGIN + k days


#: Local models are refitted per item at prediction time; RecursiveTabular is a global LightGBM model of the
#: next daily change from lagged changes and the covariates, with normal quantiles widening with sqrt(step).
#: DirectTabular is left out on purpose: on differenced targets it adds up per-step quantiles, so its h-step
#: intervals grow like h instead of sqrt(h) (measured: twice the true width at h = 5 on a known random walk).
#: Regularised like the tabular members; no seasonality (a trading-day index has none worth modelling).
def ts_hyperparameters(cfg: MLConfig) -> dict[str, dict[str, Any]]:
    """The models of the baseline; local models see the same `ts_context` days in validation as in forecasts."""
    return {
        # n_jobs=1: a few hundred series at ~20 ms each; worker processes would cost seconds and ~400 MB apiece
        "ETS": {"seasonal_period": 1, "max_ts_length": cfg.ts_context, "n_jobs": 1},
        "Theta": {"seasonal_period": 1, "max_ts_length": cfg.ts_context, "n_jobs": 1},
        "RecursiveTabular": {
            "lags": [1, 2, 3, 4, 5, 10, 21, 63],
            "date_features": [],
            "differences": [1],
            "model_hyperparameters": {"num_boost_round": 100, "num_leaves": 15, "min_data_in_leaf": 80},
        },
        **chronos_hyperparameters(cfg),
    }


def log_price_path(frame: pd.DataFrame) -> np.ndarray:
    """Cumulative daily log return of the continuous ZL series: the log price up to a constant."""
    return frame[RETURN_COLUMN].fillna(0.0).cumsum().to_numpy()


def bucket_scores(frame: pd.DataFrame, buckets: Sequence[str]) -> pd.DataFrame:
    """The scores `<bucket>_score` of `buckets` (`cbi_buckets`) per row; missing values (warm-up, absent sources)
    carry the last known score forward and are otherwise the neutral 50."""
    present = [f"{b}_score" for b in buckets if f"{b}_score" in frame.columns]
    return frame[present].astype("float64").ffill().fillna(50.0).reset_index(drop=True)


def lagged_covariates(scores: pd.DataFrame, positions: np.ndarray, days: int) -> pd.DataFrame:
    """Covariates at series positions: the score of position p - days (neutral 50 before the data starts).

    Positions may run past the last row (the latest forecast's future steps): p - days is still a known row."""
    source = np.asarray(positions) - days
    out = scores.iloc[np.clip(source, 0, len(scores) - 1)].reset_index(drop=True)
    out.loc[source < 0, :] = 50.0
    return out


def series_items(
    y: np.ndarray, scores: pd.DataFrame, ends: np.ndarray, days: int, context: int, prefix: str = "t"
) -> pd.DataFrame:
    """Long frame of items, one per end position e: the series over (e - context, e] with its covariates.

    Columns item_id, timestamp, TARGET and the lagged bucket scores; timestamps are stand-in calendar days."""
    parts = []
    for e in ends:
        pos = np.arange(max(int(e) - context + 1, 0), int(e) + 1)
        part = lagged_covariates(scores, pos, days)
        part.insert(0, TARGET, y[pos])
        part.insert(0, "timestamp", ORIGIN + pd.to_timedelta(pos, unit="D"))
        part.insert(0, "item_id", f"{prefix}{int(e)}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def future_covariates(scores: pd.DataFrame, ends: np.ndarray, days: int, prefix: str = "t") -> pd.DataFrame:
    """Known covariates for steps e+1..e+days of every item: scores of rows e+1-days..e, all known at e."""
    parts = []
    for e in ends:
        pos = np.arange(int(e) + 1, int(e) + days + 1)
        part = lagged_covariates(scores, pos, days)
        part.insert(0, "timestamp", ORIGIN + pd.to_timedelta(pos, unit="D"))
        part.insert(0, "item_id", f"{prefix}{int(e)}")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def validation_windows(n_steps: int, days: int, wanted: int) -> tuple[int, int]:
    """How many validation windows fit into `n_steps` of history, and the step between them.

    AutoGluon backtests every model on the last `windows` blocks of h steps, `step >= h` apart (so they do not
    overlap), retraining global models before each block on the data before it. One window of h days at the
    very end would choose models and ensemble weights on a single outcome; several windows from different
    periods make that choice a walk-forward one. At least 500 steps are left for the first training set."""
    step = max(days, 21)
    fit = (n_steps - 500 - days) // step + 1
    return max(min(wanted, fit), 1), step


def fit_ts_predictor(
    y: np.ndarray, scores: pd.DataFrame, last_known: int, days: int, cfg: MLConfig, path: Path
) -> TimeSeriesPredictor:
    """Fit a TimeSeriesPredictor on the series up to position `last_known` (inclusive): one item, the last
    `cfg.ts_max_history` steps, validated walk-forward on several windows (`validation_windows`).

    Not time-limited: its models are cheap (seconds), and a time limit that bites would make the model set,
    and so the forecast, depend on the machine's speed."""
    from autogluon.timeseries import TimeSeriesDataFrame, TimeSeriesPredictor

    hyperparameters = ts_hyperparameters(cfg)
    train = series_items(y, scores, np.array([last_known]), days, cfg.ts_max_history, prefix="train")
    windows, step = validation_windows(len(train), days, cfg.ts_val_windows)
    data = TimeSeriesDataFrame.from_data_frame(train, id_column="item_id", timestamp_column="timestamp")
    predictor = TimeSeriesPredictor(
        target=TARGET,
        prediction_length=days,
        freq="D",
        quantile_levels=list(QUANTILE_LEVELS),
        known_covariates_names=list(scores.columns),
        eval_metric="SQL",
        path=str(path),
        verbosity=int(os.environ.get("CBI_TS_VERBOSITY", "0")),
    )
    predictor.fit(
        data,
        hyperparameters=hyperparameters,
        num_val_windows=windows,
        val_step_size=step,
        random_seed=cfg.seed,
        enable_ensemble=True,
    )
    if "Chronos" in hyperparameters and not any(m.startswith("Chronos") for m in predictor.model_names()):
        log.warning(
            "Chronos-Bolt from %s failed to load or predict and was left out (AutoGluon's log in %s has the reason)",
            hyperparameters["Chronos"]["model_path"],
            path,
        )
    log.info(
        "trained time-series baseline %s on %d steps (%d validation windows): %s",
        path.name,
        len(train),
        windows,
        predictor.model_best,
    )
    return predictor


def predict_ts(
    predictor: TimeSeriesPredictor, y: np.ndarray, scores: pd.DataFrame, rows: np.ndarray, days: int, context: int
) -> np.ndarray:
    """Quantiles (len(rows), 3) of the h-day log return from every origin in `rows`."""
    from autogluon.timeseries import TimeSeriesDataFrame

    history = TimeSeriesDataFrame.from_data_frame(
        series_items(y, scores, rows, days, context), id_column="item_id", timestamp_column="timestamp"
    )
    known = TimeSeriesDataFrame.from_data_frame(
        future_covariates(scores, rows, days), id_column="item_id", timestamp_column="timestamp"
    )
    forecast = predictor.predict(history, known_covariates=known)
    last_step = forecast.groupby(level="item_id", sort=False).tail(1)
    by_item = last_step.reset_index().set_index("item_id")
    ids = [f"t{int(e)}" for e in rows]
    levels = by_item.loc[ids, [str(q) for q in QUANTILE_LEVELS]].to_numpy()
    return levels - y[rows][:, None]


def fit_on_rows(frame: pd.DataFrame, days: int, train: np.ndarray, cfg: MLConfig, path: Path) -> TimeSeriesPredictor:
    """Fit on the price path that was known when the training labels were: up to max(train) + days (the
    caller's purge already keeps that before the first predicted row)."""
    last_known = int(train.max()) + days
    return fit_ts_predictor(log_price_path(frame), bucket_scores(frame, cfg.buckets), last_known, days, cfg, path)


def predict_rows(
    predictor: TimeSeriesPredictor, frame: pd.DataFrame, days: int, rows: np.ndarray, cfg: MLConfig
) -> np.ndarray:
    """Quantiles (len(rows), 3) of the h-day log return from every origin in `rows`."""
    return predict_ts(predictor, log_price_path(frame), bucket_scores(frame, cfg.buckets), rows, days, cfg.ts_context)
