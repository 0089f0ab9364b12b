"""Fitting AutoGluon quantile predictors (no bagging, no shuffled folds: time order is kept by the caller)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import cbi_ml  # noqa: F401  (sets OMP_WAIT_POLICY / HF_HUB_OFFLINE before AutoGluon loads)
from cbi_ml.config import MLConfig
from cbi_ml.dataset import LABEL
from cbi_ml.members.foundation import tabular_foundation_hyperparameters
from cbi_ml.quantiles import QUANTILE_LEVELS

if TYPE_CHECKING:
    from autogluon.tabular import TabularPredictor

log = logging.getLogger(__name__)


def fit_quantile_predictor(train: pd.DataFrame, tune: pd.DataFrame, cfg: MLConfig, path: Path) -> TabularPredictor:
    """Train a `TabularPredictor(problem_type="quantile")` on `train`, early-stopping and weighting its
    ensemble on the later `tune` block. Returns the fitted predictor (saved under `path`)."""
    from autogluon.features.generators import IdentityFeatureGenerator
    from autogluon.tabular import TabularPredictor

    families = {**cfg.hyperparameters, **tabular_foundation_hyperparameters(cfg)}
    hyperparameters = {
        family: {**params, "ag_args_fit": {"random_seed": cfg.seed}} for family, params in families.items()
    }
    predictor = TabularPredictor(
        label=LABEL,
        problem_type="quantile",
        quantile_levels=list(QUANTILE_LEVELS),
        path=str(path),
        verbosity=0,
    )
    predictor.fit(
        train_data=train,
        tuning_data=tune,
        presets=cfg.preset,
        time_limit=cfg.time_limit_s,
        hyperparameters=hyperparameters,
        num_bag_folds=0,
        num_stack_levels=0,
        dynamic_stacking=False,
        fit_weighted_ensemble=True,
        # every feature is numeric already: skip AutoGluon's type inference and text/date generators
        feature_generator=IdentityFeatureGenerator(),
    )
    log.info(
        "trained %s on %d rows (tuning %d): best model %s",
        path.name,
        len(train),
        len(tune),
        predictor.model_best,
    )
    return predictor
