"""Training configuration: one dataclass, filled from the dbt vars `cbi_ml` and `cbi_horizons`.

`dbt_project.yml` holds the small demo/CI budget; `--vars` can override any key (keys left out keep the
defaults below, which mirror dbt_project.yml). README "Training budget" documents the production setting.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

#: AutoGluon model families that support `problem_type="quantile"` and work on this stack.
QUANTILE_FAMILIES = ("GBM", "CAT", "RF", "XT", "NN_TORCH")
#: Foundation tabular families with quantile support: opt-in, need the `foundation` extra and local weights.
FOUNDATION_FAMILIES = ("TABICL", "REALTABPFN-V2.5")

#: Regularised defaults per family: shallow trees, strong leaf minimums, subsampling. Overlapping h-day labels
#: leave few independent samples, and deep trees fit regimes that do not repeat.
FAMILY_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "GBM": {
        "num_boost_round": 100,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 80,
        "feature_fraction": 0.7,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 5.0,
    },
    "CAT": {"iterations": 300, "learning_rate": 0.03, "depth": 4, "l2_leaf_reg": 10.0},
    "RF": {"n_estimators": 200, "min_samples_leaf": 40, "max_features": 0.5},
    "XT": {"n_estimators": 200, "min_samples_leaf": 40, "max_features": 0.5},
    "NN_TORCH": {"num_epochs": 30, "dropout_prob": 0.2, "weight_decay": 1e-3},
}


@dataclass(frozen=True)
class MLConfig:
    horizons: dict[str, int] = field(default_factory=lambda: {"1w": 5, "1m": 21, "3m": 63, "6m": 126})
    preset: str = "medium_quality"
    time_limit_s: int = 60
    model_families: tuple[str, ...] = ("GBM",)
    seed: int = 42
    artifacts_dir: str = "artifacts/models"
    oof_folds: int = 3  # walk-forward test blocks for out-of-fold predictions
    oof_block: int = 252  # rows per test block
    retrain: str = "auto"  # auto | always | never
    max_model_age_days: int = 7
    ensemble_rounds: int = 25
    calibration_rows: int = 252
    mc_draws: int = 10_000
    mc_scenarios_kept: int = 500
    ewma_lambda: float = 0.94
    tuning_fraction: float = 0.15
    ts_max_history: int = 2500  # trading days the time-series baseline trains on
    ts_val_windows: int = 4  # its walk-forward validation windows (model choice, ensemble weights)
    ts_context: int = 1000  # trading days of history each forecast origin passes to it
    chronos_model_path: str = ""  # local Chronos-Bolt directory; empty = Chronos skipped
    foundation_weights_dir: str = ""  # local TabICL/TabPFN checkpoints for the opt-in foundation families

    def __post_init__(self) -> None:
        allowed = QUANTILE_FAMILIES + FOUNDATION_FAMILIES
        unknown = [f for f in self.model_families if f not in allowed]
        if unknown:
            raise ValueError(
                f"cbi_ml.model_families: {unknown} do not support quantile regression; choose from {allowed}"
            )
        if not any(f in QUANTILE_FAMILIES for f in self.model_families):
            raise ValueError(
                f"cbi_ml.model_families needs at least one of {QUANTILE_FAMILIES} (foundation ones are opt-in)"
            )
        if not self.horizons or any(int(d) <= 0 for d in self.horizons.values()):
            raise ValueError(f"cbi_horizons must map labels to positive trading-day counts, got {self.horizons}")
        if self.retrain not in ("auto", "always", "never"):
            raise ValueError(f"cbi_ml.retrain must be auto, always or never, got {self.retrain!r}")

    @property
    def hyperparameters(self) -> dict[str, dict[str, Any]]:
        """The regularised settings of the standard families (foundation families: `cbi_ml.foundation`)."""
        return {
            family: dict(FAMILY_HYPERPARAMETERS[family])
            for family in self.model_families
            if family in QUANTILE_FAMILIES
        }

    def fingerprint(self) -> str:
        """A short hash of everything that shapes a trained model (not the retrain policy or MC sizes)."""
        shaping = {
            k: v
            for k, v in asdict(self).items()
            if k not in ("retrain", "max_model_age_days", "mc_draws", "mc_scenarios_kept", "artifacts_dir")
        }
        return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()[:10]

    @classmethod
    def from_dbt(cls, settings: Mapping[str, Any]) -> MLConfig:
        """From the rendered config of a dbt Python model: `cbi_ml` (JSON object) and `cbi_horizons`."""
        missing = [k for k in ("cbi_ml", "cbi_horizons") if settings.get(k) in (None, "")]
        if missing:
            raise ValueError(f"dbt config keys {missing} are missing: set them in the model's YAML config")

        def parse(value: Any) -> Any:
            return json.loads(value) if isinstance(value, str) else dict(value)

        values = parse(settings["cbi_ml"])
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown cbi_ml setting(s) {unknown}; known: {sorted(known - {'horizons'})}")
        families = values.pop("model_families", "GBM")
        if isinstance(families, str):
            families = [f.strip().upper() for f in families.split(",") if f.strip()]
        horizons = {str(k): int(v) for k, v in parse(settings["cbi_horizons"]).items()}
        base = cls(horizons=horizons, model_families=tuple(families))
        typed = {k: type(getattr(base, k))(v) for k, v in values.items()}
        return replace(base, **typed)
