"""The panel run as one pure function: price frames in, tables and the production evidence out."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cbi_ml.combine.calibration import scale_factor
from cbi_ml.members.registry import Member
from cbi_ml.panel import choice, tables
from cbi_ml.panel.stats import masked_pinball
from cbi_ml.panel.walk import columns_of, refit_dates, walk_panel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSettings:
    start: str
    end: str
    refit_every: int = 252
    warmup_years: int = 4  # the walk starts this long before `start`: history for the pooled layers
    calibration: str = choice.DEFAULT_CALIBRATION
    alpha: float = choice.ALPHA
    #: the members the final choice may serve (ZL's production members: a verdict ZL cannot serve is no verdict);
    #: empty: every member walked
    candidates: tuple[str, ...] = ()
    #: add every candidate's blend with rw_ewma as a challenger (`choice.with_blends`)
    blends: bool = True

    @property
    def walk_start(self) -> str:
        return str((pd.Timestamp(self.start) - pd.DateOffset(years=self.warmup_years)).date())


@dataclass
class PanelResult:
    metrics: pd.DataFrame
    summary: pd.DataFrame
    members: pd.DataFrame
    evidence: pd.DataFrame
    scored: pd.DataFrame


def run_panel(
    frames: dict[str, pd.DataFrame], registry: dict[str, Member], horizons: dict[str, int], settings: PanelSettings
) -> PanelResult:
    """Walk every root, add the pooled calibration and final choice per horizon, score from `settings.start`."""
    if choice.BASE not in registry:
        raise ValueError(f"the panel needs {choice.BASE} among its members (the final layer's default)")
    wide = walk_panel(frames, registry, horizons, settings.walk_start, settings.end, settings.refit_every)
    return evaluate(wide, list(registry), horizons, settings)


def evaluate(wide: pd.DataFrame, members: list[str], horizons: dict[str, int], settings: PanelSettings) -> PanelResult:
    """The pooled layers and the tables on walked rows (`walk_panel`), e.g. once per calibration method."""
    refits = refit_dates(settings.walk_start, settings.end, settings.refit_every)
    scored, member_rows, evidence = [], [], []
    candidates = settings.candidates or tuple(members)
    if settings.blends:
        wide, blends = choice.with_blends(wide, [m for m in members if m in candidates])
        members, candidates = [*members, *blends], (*candidates, *blends)
        settings = replace(settings, candidates=candidates)
    for horizon, days in horizons.items():
        w = wide[wide["horizon"] == horizon].reset_index(drop=True)
        if w.empty:
            continue
        layers = choice.panel_layers(w, members, days, refits, settings.calibration, settings.alpha, candidates)
        scored.append(tables.scored_frame(w, layers.served, layers.served_name, settings.start))
        member_rows.append(tables.member_summary(w, layers.calibrated, settings.start, settings.calibration))
        evidence.append(verdict(w, layers, horizon, days, settings))
    scored_rows = pd.concat(scored, ignore_index=True) if scored else pd.DataFrame()
    if scored_rows.empty:
        raise ValueError(f"no forecast scored between {settings.start} and {settings.end}")
    return PanelResult(
        tables.root_metrics(scored_rows),
        tables.pooled_summary(scored_rows),
        pd.concat(member_rows, ignore_index=True),
        pd.DataFrame(evidence),
        scored_rows,
    )


def verdict(w: pd.DataFrame, layers: choice.Layers, horizon: str, days: int, settings: PanelSettings) -> dict:
    """What production reads (`seeds/panel_evidence.csv`): the choice on every walked row whose outcome is known
    by the end, and the pooled scale factors of the chosen member and of `rw_ewma` on the same rows."""
    y = w["y"].to_numpy(dtype=float)
    roots, dates = w["root"].to_numpy(), w["as_of_date"].to_numpy()
    eligible = {choice.BASE, *(settings.candidates or layers.calibrated)}
    losses = {m: masked_pinball(y, q) for m, q in layers.calibrated.items() if m in eligible}
    decision = choice.choose(losses, roots, dates, days, settings.alpha)
    factors = {m: scale_factor(y, w[columns_of(m)].to_numpy(dtype=float)) for m in (decision.chosen, choice.BASE)}
    return {
        "horizon": horizon,
        "horizon_days": days,
        "served_member": decision.chosen,
        "calibration": settings.calibration,
        "scale_factor": round(factors[decision.chosen], 6),
        "base_scale_factor": round(factors[choice.BASE], 6),
        "best_member": decision.best,
        "pooled_skill": round(decision.skill, 6),
        "pooled_skill_se": round(decision.skill_se, 6),
        "skill_dof": decision.dof,
        "critical_value": round(decision.critical, 4),
        "roots": int(w["root"].nunique()),
        "first_date": str(pd.Timestamp(dates.min()).date()),
        "last_date": str(pd.Timestamp(dates.max()).date()),
        "refit_every": settings.refit_every,
        "forecast_rows": int(np.isfinite(losses[choice.BASE]).sum()),
    }
