"""What `cbi backtest` runs with: the settings a `dbt build` would train with, plus the command's flags, and the
members it replays."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from cbi_ml.config import MLConfig
from cbi_ml.evaluation.scoreboard import RANDOM_WALKS
from cbi_ml.members.registry import BASELINES, TIMESERIES, daily_members
from cbi_ml.project import project_config

#: Always replayed, whatever --members says: every model is judged against them on the same rows.
REFERENCE_MEMBERS = (*RANDOM_WALKS, TIMESERIES)


def backtest_config(
    vars: Mapping[str, Any] | str | None = None,
    preset: str | None = None,
    time_limit: int | None = None,
    families: str | None = None,
) -> MLConfig:
    """The settings a `dbt build --vars <vars>` would train with (dbt's own rendering: `cbi_ml.project`), with the
    command's --preset/--time-limit/--families as `cbi_ml` keys on top."""
    given = json.loads(vars) if isinstance(vars, str) else dict(vars or {})
    flags = {"preset": preset, "time_limit_s": time_limit, "model_families": families}
    overrides = {k: v for k, v in flags.items() if v}
    if overrides:
        given["cbi_ml"] = {**(given.get("cbi_ml") or {}), **overrides}
    return project_config(given)


def chosen_members(members: str, cfg: MLConfig) -> list[str]:
    """`--members` (comma-separated or 'all': the members the daily build runs, `registry.daily_members`) plus
    the references; the cheap members not built daily (`members.registry.BASELINES`, e.g. garch_t) may be named too."""
    built = list(daily_members(cfg.buckets))
    every = [*built, *(m for m in BASELINES if m not in built)]
    chosen = built if members.strip().lower() == "all" else [m.strip() for m in members.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in every]
    if unknown:
        raise SystemExit(f"unknown member(s) {unknown}; choose from {every}")
    return [*chosen, *(m for m in REFERENCE_MEMBERS if m not in chosen)]


def settings_summary(cfg: MLConfig) -> dict[str, Any]:
    """The settings stored beside a run's metrics (ml.backtest_metrics)."""
    return {k: v for k, v in asdict(cfg).items() if k in ("preset", "time_limit_s", "model_families", "seed")}
