"""What the saved predictors say about themselves: AutoGluon's leaderboard of every saved predictor, and the
permutation importance of the feature groups for the tabular members."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from cbi_ml.config import MLConfig
from cbi_ml.dataset import KEY, labelled_rows, prepare_matrix
from cbi_ml.members.registry import TIMESERIES, load_predictor

LEADERBOARD_COLUMNS = [
    "member",
    "horizon",
    "horizon_days",
    "model",
    "score_val",
    "fit_time",
    "pred_time_val",
    "model_run_id",
]
IMPORTANCE_COLUMNS = [
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


def _saved_predictors(l0: pd.DataFrame) -> Iterator[Any]:
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
    columns = LEADERBOARD_COLUMNS
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def feature_importance(l0: pd.DataFrame, matrix: pd.DataFrame, catalog: pd.DataFrame, cfg: MLConfig) -> pd.DataFrame:
    """Permutation importance (increase in pinball loss when a group is shuffled) by feature group -- the buckets of
    `feature_catalog` (core, the eight buckets, technicals), which is what the specialists are built around and keeps
    the cost at a few permutations -- of each tabular member's last out-of-fold predictor, on that fold's test rows:
    rows the predictor never saw (it was trained on the rows before them, purged by h days). The serving predictor
    was trained on every labelled row, so scoring it on any of them would measure fit, not generalisation."""
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    position = pd.Series(np.arange(len(frame)), index=pd.to_datetime(frame[KEY]))
    groups = catalog.groupby("bucket")["feature_name"].apply(list).to_dict()
    last_folds = l0[(l0["fold"] >= 0) & l0["model_path"].notna() & (l0["member"] != TIMESERIES)]
    rows = []
    for (member_name, horizon, days, path, run_id), part in last_folds.groupby(
        ["member", "horizon", "horizon_days", "model_path", "model_run_id"], sort=True
    ):
        predictor = load_predictor(member_name, path)
        unseen = position.loc[pd.to_datetime(part["as_of_date"])].to_numpy()
        data = labelled_rows(frame, int(days), list(predictor.original_features), unseen)
        importance = predictor.feature_importance(
            data, features=_feature_groups(groups, predictor), num_shuffle_sets=3, subsample_size=len(data), silent=True
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
    return pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)


def _feature_groups(groups: dict[str, list[str]], predictor: Any) -> list[tuple[str, list[str]]]:
    """The catalog's groups restricted to the features the predictor models (AutoGluon drops constant or useless
    inputs); groups left empty are dropped."""
    modelled = set(predictor.features())
    feature_groups = [(g, [f for f in names if f in modelled]) for g, names in groups.items()]
    return [(g, names) for g, names in feature_groups if names]
