"""Main predictor (L0): AutoGluon quantile models on all features of daily_ml_matrix_zl, one per horizon.

A thin dbt node: the logic lives in `cbi_ml.forecast`, which the tests call directly. The budget (preset,
time limit, model families) comes from dbt vars, rendered into this model's config in `_training__models.yml`.
dbt ships to a Python model only the config keys it finds as literal `dbt.config.get("...")` calls, so each
key is read here by name.
"""

from datetime import UTC, datetime
from pathlib import Path


def model(dbt, session):
    dbt.config(materialized="table")
    from cbi_ml.config import MLConfig
    from cbi_ml.forecast import forecast_latest

    settings = {
        "cbi_horizons": dbt.config.get("cbi_horizons"),
        "cbi_ml_preset": dbt.config.get("cbi_ml_preset"),
        "cbi_ml_time_limit_s": dbt.config.get("cbi_ml_time_limit_s"),
        "cbi_ml_model_families": dbt.config.get("cbi_ml_model_families"),
        "cbi_ml_seed": dbt.config.get("cbi_ml_seed"),
        "cbi_ml_artifacts_dir": dbt.config.get("cbi_ml_artifacts_dir"),
    }
    cfg = MLConfig.from_dbt(settings)
    matrix = dbt.ref("daily_ml_matrix_zl").df()
    trained_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return forecast_latest(matrix, cfg, trained_at, Path(cfg.artifacts_dir))
