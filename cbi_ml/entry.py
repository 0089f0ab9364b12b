"""What the thin dbt Python models in `ml/` call: each function takes the rendered config and input frames."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from cbi_ml import combine
from cbi_ml.config import MLConfig
from cbi_ml.members import TIMESERIES, load_predictor, run_member

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _positions(matrix: pd.DataFrame) -> pd.Series:
    dates = pd.to_datetime(matrix["as_of_date"]).sort_values().reset_index(drop=True)
    return pd.Series(range(len(dates)), index=dates.to_numpy())


def target_dates(as_of: pd.Series, horizon_days: pd.Series) -> pd.Series:
    """as_of_date plus h CBOT trade dates (weekends and exchange holidays skipped)."""
    from cbi_core.calendar import add_trade_days

    return pd.Series(add_trade_days(as_of, horizon_days.to_numpy()), index=as_of.index).dt.date


def member(name: str, settings: dict[str, Any], matrix: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    return run_member(name, matrix, catalog, MLConfig.from_dbt(settings), _now())


def stack(l0: pd.DataFrame, matrix: pd.DataFrame) -> pd.DataFrame:
    l0 = l0.assign(as_of_date=pd.to_datetime(l0["as_of_date"]))
    return combine.stack_predictions(l0, _positions(matrix))


def weights(l0: pd.DataFrame, stacked: pd.DataFrame, settings: dict[str, Any]) -> pd.DataFrame:
    cfg = MLConfig.from_dbt(settings)
    both = pd.concat([l0, stacked], ignore_index=True).assign(as_of_date=lambda f: pd.to_datetime(f["as_of_date"]))
    return combine.ensemble_weights(both, cfg.ensemble_rounds)


def final(
    l0: pd.DataFrame, stacked: pd.DataFrame, weights_frame: pd.DataFrame, matrix: pd.DataFrame, settings: dict[str, Any]
) -> pd.DataFrame:
    cfg = MLConfig.from_dbt(settings)
    both = pd.concat([l0, stacked], ignore_index=True).assign(as_of_date=lambda f: pd.to_datetime(f["as_of_date"]))
    out = combine.final_predictions(both, weights_frame, _positions(matrix), cfg.calibration_rows, cfg.ensemble_rounds)
    out["target_date"] = target_dates(out["as_of_date"], out["horizon_days"])
    member_runs = ",".join(sorted(l0.loc[l0["fold"] < 0, "model_run_id"].dropna().unique()))
    # one short id for the forecast; the members' own run ids stay listed beside it
    out["model_run_id"] = "final-" + hashlib.sha256(member_runs.encode()).hexdigest()[:12]
    out["member_run_ids"] = member_runs
    out["trained_at"] = pd.to_datetime(l0["trained_at"]).max()
    return out


def risk(predictions: pd.DataFrame, settings: dict[str, Any], keep_scenarios: bool) -> pd.DataFrame:
    """One row per horizon with VaR/CVaR (or, with `keep_scenarios`, a sample of the same draws)."""
    from cbi_ml.risk import risk_row

    cfg = MLConfig.from_dbt(settings)
    rows, scenarios = [], []
    for i, p in enumerate(predictions.sort_values("horizon_days").itertuples()):
        close = float(p.price_q50 / np.exp(p.q50))
        values, draws = risk_row(p.q10, p.q50, p.q90, close, cfg.mc_draws, cfg.seed + i)
        rows.append(
            {
                "as_of_date": p.as_of_date,
                "horizon": p.horizon,
                "horizon_days": p.horizon_days,
                "n_draws": cfg.mc_draws,
                **values,
                "close_cents_per_lb": close,
                "model_run_id": p.model_run_id,
            }
        )
        kept = draws[: cfg.mc_scenarios_kept]
        scenarios.append(
            pd.DataFrame(
                {
                    "as_of_date": p.as_of_date,
                    "horizon": p.horizon,
                    "horizon_days": p.horizon_days,
                    "scenario": np.arange(len(kept)),
                    "log_return": kept,
                    "price_cents_per_lb": close * np.exp(kept),
                }
            )
        )
    return pd.concat(scenarios, ignore_index=True) if keep_scenarios else pd.DataFrame(rows)


def _saved_predictors(l0: pd.DataFrame):
    """Rows of the latest forecasts that have a saved predictor (the tabular members' final fits)."""
    return l0[(l0["fold"] < 0) & l0["model_path"].notna()].itertuples()


def leaderboard(l0: pd.DataFrame) -> pd.DataFrame:
    """AutoGluon's leaderboard (validation score, fit and predict time) of every saved predictor: tabular
    members score pinball loss, the time-series member weighted quantile loss (both negated, higher is better)."""
    frames = []
    for row in _saved_predictors(l0):
        board = load_predictor(row.member, row.model_path).leaderboard(silent=True)
        if "fit_time" not in board.columns:  # TimeSeriesPredictor reports only the marginal fit time
            board = board.rename(columns={"fit_time_marginal": "fit_time"})
        frames.append(
            board[["model", "score_val", "fit_time", "pred_time_val"]].assign(
                member=row.member, horizon=row.horizon, horizon_days=row.horizon_days, model_run_id=row.model_run_id
            )
        )
    columns = ["member", "horizon", "horizon_days", "model", "score_val", "fit_time", "pred_time_val", "model_run_id"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def feature_importance(
    l0: pd.DataFrame, matrix: pd.DataFrame, catalog: pd.DataFrame, settings: dict[str, Any]
) -> pd.DataFrame:
    """Permutation importance (increase in pinball loss when a group is shuffled) of each saved predictor on the
    latest out-of-fold window, by feature group: the buckets of `feature_catalog` (core, the eight buckets,
    technicals), which is what the specialists are built around and keeps the cost at a few permutations."""
    from cbi_ml.dataset import LABEL, horizon_scale, prepare_matrix, target_column

    cfg = MLConfig.from_dbt(settings)
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    groups = catalog.groupby("bucket")["feature_name"].apply(list).to_dict()
    rows = []
    for row in _saved_predictors(l0):
        if row.member == TIMESERIES:
            continue  # no tabular features: its inputs are the price path and lagged bucket scores
        predictor = load_predictor(row.member, row.model_path)
        inputs = list(predictor.original_features)
        modelled = set(predictor.features())  # AutoGluon drops constant or useless inputs
        labelled = frame[frame[target_column(row.horizon_days)].notna()].tail(cfg.oof_block)
        data = labelled[inputs].copy()
        data[LABEL] = labelled[target_column(row.horizon_days)] / horizon_scale(labelled, row.horizon_days)
        feature_groups = [(g, [f for f in names if f in modelled]) for g, names in groups.items()]
        feature_groups = [(g, names) for g, names in feature_groups if names]
        importance = predictor.feature_importance(
            data, features=feature_groups, num_shuffle_sets=3, subsample_size=len(data), silent=True
        )
        for group, values in importance.iterrows():
            rows.append(
                {
                    "member": row.member,
                    "horizon": row.horizon,
                    "horizon_days": row.horizon_days,
                    "feature_group": group,
                    "importance": values["importance"],
                    "stddev": values["stddev"],
                    "n_rows": len(data),
                    "model_run_id": row.model_run_id,
                }
            )
    columns = ["member", "horizon", "horizon_days", "feature_group", "importance", "stddev", "n_rows", "model_run_id"]
    return pd.DataFrame(rows, columns=columns)
