"""Main predictor (L0): AutoGluon quantile models on all features of daily_ml_matrix_zl, one per horizon.

A thin dbt node: the logic lives in `cbi_ml.forecast`, which the tests call directly. The budget (preset,
time limit, model families) comes from dbt vars, rendered into this model's config in `_training__models.yml`.
"""

from datetime import UTC, datetime
from pathlib import Path


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.config import MLConfig
    from cbi_ml.forecast import forecast_latest

    cfg = MLConfig.from_dbt(dbt.config.get)
    matrix = dbt.ref("daily_ml_matrix_zl").df()
    trained_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return forecast_latest(matrix, cfg, trained_at, Path(cfg.artifacts_dir))
