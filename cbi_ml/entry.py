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
from cbi_ml.dataset import prepare_matrix
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
    out["trained_at"] = serving_trained_at(out, l0, weights_frame)
    return out


def serving_trained_at(out: pd.DataFrame, l0: pd.DataFrame, weights_frame: pd.DataFrame) -> pd.Series:
    """Per row of `out`: when the saved models behind it were trained -- the latest training time among the trained
    members (those with a saved predictor) its quantiles come from: the `source` of a 'final' row, the members
    weighted in the ensemble for 'ensemble'/'calibrated' (every member for the stacker). NaT where no trained
    model is behind it: the random walks and HAR have no saved model and are recomputed at every build."""
    saved = l0[(l0["fold"] < 0) & l0["model_path"].notna()]
    trained = pd.to_datetime(saved["trained_at"]).groupby([saved["horizon"], saved["member"]]).max().to_dict()
    everyone = l0.groupby("horizon")["member"].unique().to_dict()
    weighted = weights_frame[weights_frame["weight"] > 0].groupby("horizon")["member"].unique().to_dict()

    def members_of(horizon: str, model: str) -> set[str]:
        used = set(weighted.get(horizon, [])) if model in ("ensemble", "calibrated") else {model}
        return set(everyone.get(horizon, [])) | used if "stack" in used else used

    def when(row) -> pd.Timestamp:
        model = row.source if row.member == "final" else row.member
        times = [trained[(row.horizon, m)] for m in members_of(row.horizon, model) if (row.horizon, m) in trained]
        return max(times) if times else pd.NaT

    return pd.Series([when(r) for r in out.itertuples()], index=out.index, dtype="datetime64[ns]")


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
    """Permutation importance (increase in pinball loss when a group is shuffled) by feature group -- the buckets of
    `feature_catalog` (core, the eight buckets, technicals), which is what the specialists are built around and keeps
    the cost at a few permutations -- of each tabular member's last out-of-fold predictor, on that fold's test rows:
    rows the predictor never saw (it was trained on the rows before them, purged by h days). The serving predictor
    was trained on every labelled row, so scoring it on any of them would measure fit, not generalisation."""
    from cbi_ml.dataset import KEY, labelled_rows

    cfg = MLConfig.from_dbt(settings)
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    position = pd.Series(np.arange(len(frame)), index=pd.to_datetime(frame[KEY]))
    groups = catalog.groupby("bucket")["feature_name"].apply(list).to_dict()
    last_folds = l0[(l0["fold"] >= 0) & l0["model_path"].notna() & (l0["member"] != TIMESERIES)]
    rows = []
    for (member_name, horizon, days, path, run_id), part in last_folds.groupby(
        ["member", "horizon", "horizon_days", "model_path", "model_run_id"], sort=True
    ):
        predictor = load_predictor(member_name, path)
        inputs = list(predictor.original_features)
        modelled = set(predictor.features())  # AutoGluon drops constant or useless inputs
        unseen = position.loc[pd.to_datetime(part["as_of_date"])].to_numpy()
        data = labelled_rows(frame, int(days), inputs, unseen)
        feature_groups = [(g, [f for f in names if f in modelled]) for g, names in groups.items()]
        feature_groups = [(g, names) for g, names in feature_groups if names]
        importance = predictor.feature_importance(
            data, features=feature_groups, num_shuffle_sets=3, subsample_size=len(data), silent=True
        )
        for group, values in importance.iterrows():
            rows.append(
                {
                    "member": member_name,
                    "horizon": horizon,
                    "horizon_days": int(days),
                    "feature_group": group,
                    "importance": values["importance"],
                    "stddev": values["stddev"],
                    "n_rows": len(data),
                    "first_date": part["as_of_date"].min(),
                    "last_date": part["as_of_date"].max(),
                    "model_run_id": run_id,
                }
            )
    columns = [
        "member",
        "horizon",
        "horizon_days",
        "feature_group",
        "importance",
        "stddev",
        "n_rows",
        "first_date",
        "last_date",
        "model_run_id",
    ]
    return pd.DataFrame(rows, columns=columns)
