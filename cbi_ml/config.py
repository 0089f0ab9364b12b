"""Training configuration: one dataclass, filled from the dbt vars as dbt renders them.

Every value has one home, the vars of dbt_project.yml: `cbi_ml` (the settings; the small demo/CI budget),
`cbi_horizons`, `cbi_quantile_levels` and `cbi_buckets` (what is forecast; by whom is the member registry,
`cbi_ml.members.registry`, which derives the bucket specialists from `buckets`). A dbt
Python model receives them with `dbt.config.meta_get("cbi_vars")`; code outside dbt gets the same through
`cbi_ml.project` (dbt's own parse). Nothing here repeats a default: a missing key is an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from cbi_ml.quantiles import QUANTILE_LEVELS

#: The vars a dbt Python model receives (dbt_project.yml, models.cbi.training +meta.cbi_vars).
STRUCTURE_VARS = ("cbi_horizons", "cbi_quantile_levels", "cbi_buckets")
#: Fields that come from the structure vars rather than from `cbi_ml`.
STRUCTURE_FIELDS = ("horizons", "quantile_levels", "buckets")

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
    """The ML settings (`cbi_ml`, documented in dbt_project.yml) and the forecast structure."""

    horizons: dict[str, int]  # label -> ZL trading days
    quantile_levels: tuple[float, ...]
    buckets: tuple[str, ...]  # feature buckets, in matrix column order
    preset: str
    time_limit_s: int
    model_families: tuple[str, ...]
    seed: int
    artifacts_dir: str
    oof_folds: int  # walk-forward test blocks for out-of-fold predictions
    oof_block: int  # rows per test block
    retrain: str  # auto | always | never
    max_model_age_days: int
    ensemble_rounds: int
    calibration_rows: int
    mc_draws: int
    mc_scenarios_kept: int
    ewma_lambda: float
    tuning_fraction: float
    ts_max_history: int  # trading days the time-series baseline trains on
    ts_val_windows: int  # its walk-forward validation windows (model choice, ensemble weights)
    ts_context: int  # trading days of history each forecast origin passes to it
    chronos_model_path: str  # local Chronos-Bolt directory; empty = Chronos skipped
    foundation_weights_dir: str  # local TabICL/TabPFN checkpoints for the opt-in foundation families

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
        if tuple(self.quantile_levels) != QUANTILE_LEVELS:
            # the quantile code (q10/q50/q90 columns, pinball, calibration) is still written for these three
            raise ValueError(
                f"cbi_quantile_levels {self.quantile_levels} differ from the levels cbi_ml.quantiles implements "
                f"{QUANTILE_LEVELS}: see docs/methodology.md 'Adding a bucket, member, horizon or quantile'"
            )

    @property
    def hyperparameters(self) -> dict[str, dict[str, Any]]:
        """The regularised settings of the standard families (foundation families: `cbi_ml.members.foundation`)."""
        return {
            family: dict(FAMILY_HYPERPARAMETERS[family])
            for family in self.model_families
            if family in QUANTILE_FAMILIES
        }

    def fingerprint(self) -> str:
        """A short hash of the settings that shape a trained model (not the retrain policy or MC sizes). The
        structure besides the horizons (levels, buckets) is left out, as before it was declared here:
        changing it changes the model nodes and their columns, not a saved model's settings."""
        ignored = ("retrain", "max_model_age_days", "mc_draws", "mc_scenarios_kept", "artifacts_dir")
        shaping = {k: v for k, v in asdict(self).items() if k not in ignored and k not in STRUCTURE_FIELDS[1:]}
        return hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()[:10]

    @classmethod
    def from_dbt(cls, cbi_vars: Mapping[str, Any]) -> MLConfig:
        """From `dbt.config.meta_get("cbi_vars")` of a model in `ml/` (or the same from `cbi_ml.project`):
        `project` holds the vars of dbt_project.yml, `command_line` (JSON) what `--vars` set. A var given on the
        command line replaces the project's, except `cbi_ml`, where it replaces only the keys it names."""
        variables = resolve_vars(cbi_vars)
        settings = dict(variables["cbi_ml"])
        settable = {f.name: f for f in fields(cls) if f.name not in STRUCTURE_FIELDS}
        unknown = sorted(set(settings) - set(settable))
        if unknown:
            raise ValueError(f"unknown cbi_ml setting(s) {unknown}; known: {sorted(settable)}")
        missing = sorted(set(settable) - set(settings))
        if missing:
            raise ValueError(f"cbi_ml setting(s) {missing} missing: every key has its value in dbt_project.yml")
        families = settings.pop("model_families")
        if isinstance(families, str):
            families = [f.strip().upper() for f in families.split(",") if f.strip()]
        casts = {"int": int, "float": float, "str": str}
        typed = {k: casts[settable[k].type](v) for k, v in settings.items()}
        buckets = tuple(str(b) for b in variables["cbi_buckets"])
        return cls(
            horizons={str(k): int(v) for k, v in variables["cbi_horizons"].items()},
            quantile_levels=tuple(float(q) for q in variables["cbi_quantile_levels"]),
            buckets=buckets,
            model_families=tuple(families),
            **typed,
        )


def resolve_vars(cbi_vars: Mapping[str, Any]) -> dict[str, Any]:
    """The effective vars from `{"project": {...}, "command_line": <JSON or mapping>}` (see `MLConfig.from_dbt`)."""
    if not isinstance(cbi_vars, Mapping) or "project" not in cbi_vars:
        raise ValueError(
            "the ML vars are missing: a model in ml/ reads dbt.config.meta_get('cbi_vars'), which dbt_project.yml "
            f"sets for the whole folder (models.cbi.training +meta); got {cbi_vars!r:.200}"
        )
    project = dict(cbi_vars["project"])
    given = cbi_vars.get("command_line") or {}
    given = json.loads(given) if isinstance(given, str) else dict(given)
    missing = [k for k in (*STRUCTURE_VARS, "cbi_ml") if project.get(k) is None]
    if missing:
        raise ValueError(f"dbt_project.yml: vars {missing} are not passed to meta.cbi_vars.project")
    resolved = {k: given[k] if given.get(k) is not None else project[k] for k in (*STRUCTURE_VARS, "cbi_ml")}
    resolved["cbi_ml"] = {**project["cbi_ml"], **(given.get("cbi_ml") or {})}
    return resolved
