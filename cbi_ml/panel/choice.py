"""Calibration and the final choice decided on pooled panel evidence, walk-forward.

At each refit date r of horizon h, both layers learn from the rows of every root whose forecast was made out of
sample before r and whose outcome was known at r (target ended before r):

- calibration: each member's quantiles are stretched about their median by a factor learned from those rows
  (`CALIBRATIONS`; the panel measures them all, `DEFAULT_CALIBRATION` is the one chosen, see docs/forecast.md);
- final choice: `rw_ewma` (calibrated) is served unless a candidate beats it on the pooled daily series by more
  than its critical value: a single-step max-t test on the EWC standard errors of the pooled skill ratios with
  Student-t(B) degrees of freedom, so that equal candidates leave the random walk at most alpha of the time
  whatever their number (`choose`, `combine.final.challenge`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbi_ml.combine.calibration import apply_scale, half_width, scale_factor
from cbi_ml.combine.final import ALPHA, DEFAULT_MEMBER, blend_name, challenge, member_quantiles
from cbi_ml.panel.stats import masked_pinball, normalised_losses, pooled_series
from cbi_ml.panel.walk import columns_of

BASE = DEFAULT_MEMBER
#: scale: one pooled factor per member and horizon; asym: pooled lower and upper factors; scale_root: each root's
#: own factor (today's FHS idea, per market); none: the member's own quantiles. `none` is the panel's choice:
#: its pooled rates are within 2 SE of nominal at every horizon and every stretch costs pinball loss at 3m/6m
#: (docs/forecast.md "Calibration").
CALIBRATIONS = ("none", "scale", "asym", "scale_root")
DEFAULT_CALIBRATION = "none"


def with_blends(wide: pd.DataFrame, members: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The walked frame with a blend of every member with `BASE` (`combine.final.member_quantiles`: the average of
    the two quantiles), and the blends' names. A blend is a challenger shrunk halfway to the random walk: most of
    its loss differential with `BASE` is the systematic gain of averaging two forecasts, so it is far less noisy
    than the member's own (docs/forecast.md "Blends")."""
    names = [blend_name(m) for m in members if m != BASE]
    quantiles = {m: wide[columns_of(m)].to_numpy(dtype=float) for m in {*members, BASE}}
    extra = {}
    for name in names:
        extra.update(dict(zip(columns_of(name), member_quantiles(quantiles, name).T, strict=True)))
    return wide.assign(**extra), names


@dataclass(frozen=True)
class Choice:
    """One decision: the chosen name, the best challenger, its pooled skill, SE, B and the max-t critical value."""

    chosen: str
    best: str
    skill: float
    skill_se: float
    dof: int
    critical: float


def choose(
    losses: dict[str, np.ndarray], roots: np.ndarray, dates: np.ndarray, days: int, alpha: float = ALPHA
) -> Choice:
    """The final choice on history rows (`losses`: member -> row losses, NaN where none; `BASE` among them): the
    challengers that forecast at least 90% of the base's rows are pooled on the rows all of them forecast (each
    root's losses divided by its base mean, then averaged per date) and tested at once (`combine.final.challenge`)."""
    base = losses[BASE]
    have = np.isfinite(base)
    challengers = [m for m in losses if m != BASE and np.isfinite(losses[m][have]).mean() >= 0.9]
    rows = have & np.all([np.isfinite(losses[m]) for m in challengers], axis=0) if challengers else have
    if not challengers or not rows.any():
        return Choice(BASE, BASE, float("nan"), float("nan"), 0, float("nan"))
    # every series scaled by the base's mean on the same rows: scaling the base on rows a challenger lacks would
    # move the ratio by the base's level there (1% at 6m when range members start a year later than rw_ewma)
    base, roots, dates = base[rows], roots[rows], dates[rows]
    pooled_base = pooled_series(normalised_losses(base, base, roots)[1], dates)
    pooled = {m: pooled_series(normalised_losses(losses[m][rows], base, roots)[0], dates) for m in challengers}
    result = challenge(pooled, pooled_base, days, alpha)
    if result is None:
        return Choice(BASE, BASE, float("nan"), float("nan"), 0, float("nan"))
    return Choice(result.winner or BASE, result.best, result.skill, result.skill_se, result.dof, result.critical)


def calibrate(
    method: str, hist_y: np.ndarray, hist_q: np.ndarray, hist_roots: np.ndarray, q: np.ndarray, roots: np.ndarray
) -> np.ndarray:
    """Quantiles `q` (rows of `roots`) calibrated by `method` on the history rows; uncalibrated where the history
    gives no factor."""
    if method == "none":
        return q
    if method == "scale":
        k = scale_factor(hist_y, hist_q)
        return apply_scale(q, k) if np.isfinite(k) else q
    if method == "asym":
        u = (hist_y - hist_q[:, 1]) / half_width(hist_q)
        u = u[np.isfinite(u)]
        if not len(u):
            return q
        lo, hi = np.quantile(u, [0.1, 0.9])
        hw = half_width(q)
        return np.column_stack([q[:, 1] + lo * hw, q[:, 1], q[:, 1] + hi * hw])
    if method == "scale_root":
        out = q.copy()
        for root in np.unique(roots):
            mine, theirs = roots == root, hist_roots == root
            k = scale_factor(hist_y[theirs], hist_q[theirs]) if theirs.any() else float("nan")
            if np.isfinite(k):
                out[mine] = apply_scale(q[mine], k)
        return out
    raise ValueError(f"unknown calibration {method!r}; choose from {CALIBRATIONS}")


@dataclass
class Layers:
    """One horizon's layers over the walked rows: calibrated quantiles per member, the served forecast, the name
    served per row and the decision of every refit."""

    calibrated: dict[str, np.ndarray]
    served: np.ndarray
    served_name: np.ndarray
    decisions: dict[int, Choice]


def panel_layers(
    wide: pd.DataFrame,
    members: list[str],
    days: int,
    refits: pd.DatetimeIndex,
    method: str,
    alpha: float = ALPHA,
    candidates: tuple[str, ...] = (),
) -> Layers:
    """Calibration then final choice, refit by refit, on one horizon's wide walk-forward frame (all roots). The
    final choice picks among `candidates` (default: every member)."""
    eligible = {BASE, *(candidates or members)}
    y = wide["y"].to_numpy(dtype=float)
    roots, dates = wide["root"].to_numpy(), wide["as_of_date"].to_numpy()
    ends, blocks = wide["target_end"].to_numpy(), wide["refit"].to_numpy()
    raw = {m: wide[columns_of(m)].to_numpy(dtype=float) for m in members}
    calibrated = {m: np.full_like(q, np.nan) for m, q in raw.items()}
    served = np.full((len(wide), 3), np.nan)
    names = np.full(len(wide), BASE, dtype=object)
    decisions = {}
    for k in np.unique(blocks):
        rows = blocks == k
        history = ends < np.datetime64(refits[k])
        for m, q in raw.items():
            calibrated[m][rows] = calibrate(method, y[history], q[history], roots[history], q[rows], roots[rows])
        losses = {m: masked_pinball(y[history], c[history]) for m, c in calibrated.items() if m in eligible}
        decision = choose(losses, roots[history], dates[history], days, alpha) if history.any() else None
        name = decision.chosen if decision else BASE
        decisions[int(k)] = decision
        served[rows] = calibrated[name][rows]
        names[rows] = name
    return Layers(calibrated, served, names, decisions)
