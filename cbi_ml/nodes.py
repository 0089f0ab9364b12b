"""What the dbt Python models in `ml/training/` call: thin adapters from a node's rendered settings (the
`cbi_vars` meta) and input frames to the package functions. Each node's logic lives with its job:
members (`cbi_ml.members`), combination layers (`cbi_ml.combine`), risk (`cbi_ml.risk`)."""

from __future__ import annotations

import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from cbi_ml import risk as risk_layer
from cbi_ml.combine.ensemble import ensemble_weights
from cbi_ml.combine.layers import final_predictions
from cbi_ml.combine.provenance import with_provenance
from cbi_ml.combine.stacking import stack_predictions
from cbi_ml.config import MLConfig
from cbi_ml.dataset import calendar_positions
from cbi_ml.members import diagnostics
from cbi_ml.members.freshness import without_stale_latest
from cbi_ml.members.kinds import OUTPUT_COLUMNS
from cbi_ml.members.registry import daily_members
from cbi_ml.members.run import run_member

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _with_dates(*frames: pd.DataFrame) -> pd.DataFrame:
    """The frames' rows together, as_of_date as a timestamp (the combination layers' key)."""
    both = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return both.assign(as_of_date=pd.to_datetime(both["as_of_date"]))


def member(name: str, cfg: MLConfig, matrix: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """Out-of-fold and latest predictions of one member (`members.run.run_member`); no latest forecast while a
    source it reads is stale (`members.freshness`)."""
    predictions = run_member(name, matrix, catalog, cfg, _now())
    return without_stale_latest(predictions, name, matrix, catalog)


def l0_predictions(
    settings: dict[str, Any], matrix: pd.DataFrame, catalog: pd.DataFrame, echo: bool = False
) -> pd.DataFrame:
    """`l0_predictions`: every member the daily build runs (`members.registry.daily_members`), one after the other
    on the same matrix and catalog, their rows in registry order; as_of_date as a date. Logs each member's rows and
    time, on stderr too with `echo` (the dbt node: dbt leaves Python's logging unconfigured and shows stderr)."""
    cfg = MLConfig.from_dbt(settings)
    members = daily_members(cfg.buckets)
    if echo:
        _echo_to_stderr()
    parts = []
    for i, (name, kind) in enumerate(members.items(), start=1):
        started = time.perf_counter()
        rows = member(name, cfg, matrix, catalog)
        latest = int((rows["fold"] < 0).sum())
        log.info(
            "member %d/%d %s (%s): %d rows, %d latest, %.1fs",
            *(i, len(members), name, kind, len(rows), latest, time.perf_counter() - started),
        )
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)[OUTPUT_COLUMNS]
    return out.assign(as_of_date=pd.to_datetime(out["as_of_date"]).dt.date)


def _echo_to_stderr() -> None:
    """This module's INFO lines on stderr, not passed on (AutoGluon configures the root logger in the same process:
    the lines would print twice)."""
    if not log.handlers:
        log.propagate = False
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def stack(l0: pd.DataFrame, matrix: pd.DataFrame) -> pd.DataFrame:
    """`ml_stacker`: the L1 stacker's walk-forward and latest predictions."""
    return stack_predictions(_with_dates(l0), calendar_positions(matrix))


def weights(l0: pd.DataFrame, stacked: pd.DataFrame, settings: dict[str, Any]) -> pd.DataFrame:
    """`ensemble_weights`: the L2.5 greedy weights on every out-of-fold row."""
    cfg = MLConfig.from_dbt(settings)
    return ensemble_weights(_with_dates(l0, stacked), cfg.ensemble_rounds)


def final(
    l0: pd.DataFrame,
    stacked: pd.DataFrame,
    weights_frame: pd.DataFrame,
    matrix: pd.DataFrame,
    settings: dict[str, Any],
    evidence: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`ml_final_predictions`: ensemble, calibrated and final rows with their target dates and provenance; the
    final layer starts from the panel's verdict (`evidence`, the `panel_evidence` seed)."""
    cfg = MLConfig.from_dbt(settings)
    both = _with_dates(l0, stacked)
    positions = calendar_positions(matrix)
    out = final_predictions(both, weights_frame, positions, cfg.calibration_rows, cfg.ensemble_rounds, evidence)
    return with_provenance(out, l0, weights_frame)


def risk(predictions: pd.DataFrame, settings: dict[str, Any], keep_scenarios: bool) -> pd.DataFrame:
    """`ml_risk` (one row per horizon with VaR/CVaR) or, with `keep_scenarios`, `ml_monte_carlo_scenarios` (a
    sample of the same draws)."""
    cfg = MLConfig.from_dbt(settings)
    return risk_layer.risk_table(predictions, cfg.mc_draws, cfg.seed, cfg.mc_scenarios_kept, keep_scenarios)


def leaderboard(l0: pd.DataFrame) -> pd.DataFrame:
    """`leaderboard`: AutoGluon's leaderboard of every saved predictor."""
    return diagnostics.leaderboard(l0)


def feature_importance(
    l0: pd.DataFrame, matrix: pd.DataFrame, catalog: pd.DataFrame, settings: dict[str, Any]
) -> pd.DataFrame:
    """`feature_importance`: permutation importance by feature group of the tabular members' last fold."""
    return diagnostics.feature_importance(l0, matrix, catalog, MLConfig.from_dbt(settings))
