"""Training configuration: one dataclass, filled from dbt vars (see `dbt_project.yml`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

#: AutoGluon model families that support `problem_type="quantile"` and work on this stack.
QUANTILE_FAMILIES = ("GBM", "CAT", "RF", "XT", "NN_TORCH")

#: Regularised defaults per family: shallow trees, strong leaf minimums, subsampling. Overlapping h-day labels
#: leave few independent samples, and deep trees fit regimes that do not repeat.
FAMILY_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "GBM": {
        "num_boost_round": 300,
        "learning_rate": 0.03,
        "num_leaves": 15,
        "min_data_in_leaf": 80,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 5.0,
    },
    "CAT": {"iterations": 400, "learning_rate": 0.03, "depth": 4, "l2_leaf_reg": 10.0},
    "RF": {"n_estimators": 200, "min_samples_leaf": 40, "max_features": 0.5},
    "XT": {"n_estimators": 200, "min_samples_leaf": 40, "max_features": 0.5},
    "NN_TORCH": {"num_epochs": 30, "dropout_prob": 0.2, "weight_decay": 1e-3},
}


#: The dbt vars (rendered into the Python models' config) that make up an MLConfig.
DBT_CONFIG_KEYS = (
    "cbi_horizons",
    "cbi_ml_preset",
    "cbi_ml_time_limit_s",
    "cbi_ml_model_families",
    "cbi_ml_seed",
    "cbi_ml_artifacts_dir",
)


@dataclass(frozen=True)
class MLConfig:
    horizons: dict[str, int] = field(default_factory=lambda: {"1w": 5, "1m": 21, "3m": 63, "6m": 126})
    preset: str = "medium_quality"
    time_limit_s: int = 60
    model_families: tuple[str, ...] = ("GBM",)
    seed: int = 42
    artifacts_dir: str = "artifacts/models"
    ewma_lambda: float = 0.94
    tuning_fraction: float = 0.15

    def __post_init__(self) -> None:
        unknown = [f for f in self.model_families if f not in QUANTILE_FAMILIES]
        if unknown:
            raise ValueError(
                f"cbi_ml_model_families: {unknown} do not support quantile regression; choose from {QUANTILE_FAMILIES}"
            )
        if not self.horizons or any(int(d) <= 0 for d in self.horizons.values()):
            raise ValueError(f"cbi_horizons must map labels to positive trading-day counts, got {self.horizons}")

    @property
    def hyperparameters(self) -> dict[str, dict[str, Any]]:
        return {family: dict(FAMILY_HYPERPARAMETERS[family]) for family in self.model_families}

    def fingerprint(self) -> str:
        """A short hash of everything that shapes a trained model."""
        payload = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:10]

    @classmethod
    def from_dbt(cls, settings: Mapping[str, Any]) -> MLConfig:
        """Build from the dbt vars a Python model read from its config (often rendered as strings).
        Every key must be present: a missing one means the model did not receive its config."""
        missing = [k for k in DBT_CONFIG_KEYS if settings.get(k) in (None, "")]
        if missing:
            raise ValueError(f"dbt config keys {missing} are missing: set them in the model's YAML config")
        horizons = settings["cbi_horizons"]
        if isinstance(horizons, str):
            horizons = json.loads(horizons)
        families = settings["cbi_ml_model_families"]
        if isinstance(families, str):
            families = [f.strip().upper() for f in families.split(",") if f.strip()]
        return cls(
            horizons={str(k): int(v) for k, v in horizons.items()},
            preset=str(settings["cbi_ml_preset"]),
            time_limit_s=int(settings["cbi_ml_time_limit_s"]),
            model_families=tuple(families),
            seed=int(settings["cbi_ml_seed"]),
            artifacts_dir=str(settings["cbi_ml_artifacts_dir"]),
        )
