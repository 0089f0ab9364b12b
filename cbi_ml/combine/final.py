"""The final forecast: the simplest model that earned its place, with the panel's verdict as its starting point.

Where it starts (`starting_point`): the method the panel walk-forward chose for this horizon on pooled evidence
from every futures root (`seeds/panel_evidence.csv`, written by `cbi panel --evidence`; a method better across
markets serves on ZL too), else the random walk with EWMA volatility (`DEFAULT_MEMBER`). ZL-specific candidates --
the best single model so far, the ensemble and the calibrated ensemble -- replace it only where ZL's own earlier
folds show one of them beating it by more than its critical value: a single-step max-t test on the EWC standard
errors of the skill ratios with Student-t(B) degrees of freedom, so that equal candidates leave the starting point
at most alpha of the time however many there are (`earned_choice`, `challenge`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from cbi_ml.combine.calibration import apply_scale
from cbi_ml.scoring import DM_MEMORY, ewc_dof, ewc_variance, row_pinball

#: Where the final layer starts without panel evidence: the random walk with EWMA volatility, the simplest
#: forecast that knows volatility clusters. Anything else -- the empirical random walk included -- has to beat it.
DEFAULT_MEMBER = "rw_ewma"
#: The chance that a challenger no better than the starting point replaces it (split over the challengers).
ALPHA = 0.05


@dataclass(frozen=True)
class PanelVerdict:
    """One horizon's row of the panel evidence: the member served across markets and its calibration."""

    member: str
    calibration: str
    scale_factor: float


def panel_verdicts(evidence: pd.DataFrame | None) -> dict[str, PanelVerdict]:
    """horizon -> verdict, from the panel evidence frame (`seeds/panel_evidence.csv`; None or empty: none)."""
    if evidence is None or evidence.empty:
        return {}
    return {
        str(row.horizon): PanelVerdict(str(row.served_member), str(row.calibration), float(row.scale_factor))
        for row in evidence.itertuples()
    }


def skill_test(loss: np.ndarray, base: np.ndarray, days: int) -> tuple[float, float, int]:
    """(mean(loss) / mean(base), its EWC standard error, the degrees of freedom B of its Student-t reference).
    B counts a memory of at least a quarter (`DM_MEMORY`) besides the h-day overlap; NaN SE when B < 2."""
    ratio = float(np.mean(loss) / np.mean(base))
    dof = ewc_dof(len(loss), days, DM_MEMORY)
    if dof < 2:
        return ratio, float("nan"), dof
    return ratio, float(np.sqrt(ewc_variance(loss - ratio * base, dof)) / np.mean(base)), dof


@dataclass(frozen=True)
class Challenge:
    """The test of K challengers against one base on aligned loss series: the challenger with the lowest ratio
    among those beyond the critical value (None if none), and the best challenger's figures."""

    winner: str | None
    best: str
    skill: float
    skill_se: float
    dof: int
    critical: float


def challenge(losses: dict[str, np.ndarray], base: np.ndarray, days: int, alpha: float = ALPHA) -> Challenge | None:
    """Single-step max-t test of every challenger against `base` (aligned 1-D loss series, no NaN).

    Each challenger's skill ratio r_k gets its EWC standard error (`skill_test`) and t_k = (1 - r_k) / se_k. Under
    equal expected losses the vector of t_k is close to multivariate Student-t with B degrees of freedom and the
    correlation of the challengers' loss differentials' cosine projections, so the one-sided critical value is the
    (1 - alpha) quantile of max_k t_k under that law (simulated with a fixed seed; Student-t(B) exactly for one
    challenger). It controls the chance that any equal challenger wins at alpha, and unlike Bonferroni it does not
    pay K times for challengers that are nearly the same forecast. None when B < 2."""
    names = list(losses)
    tested = {m: skill_test(losses[m], base, days) for m in names}
    dof = min(t[2] for t in tested.values())
    if dof < 2 or not all(np.isfinite(t[1]) and t[1] > 0 for t in tested.values()):
        return None
    stats = np.array([(1 - tested[m][0]) / tested[m][1] for m in names])
    critical = _max_t_critical(np.array([losses[m] - tested[m][0] * base for m in names]), dof, alpha)
    passed = [m for m, stat in zip(names, stats, strict=True) if stat > critical]
    best = min(names, key=lambda m: tested[m][0])
    winner = min(passed, key=lambda m: tested[m][0]) if passed else None
    return Challenge(winner, best, tested[best][0], tested[best][1], dof, critical)


def _max_t_critical(differentials: np.ndarray, dof: int, alpha: float, draws: int = 20_000) -> float:
    """(1 - alpha) quantile of the max of a multivariate Student-t(dof) with the correlation of the rows'
    EWC cosine projections (see `challenge`)."""
    if len(differentials) == 1:
        return float(student_t.ppf(1 - alpha, dof))
    n = differentials.shape[1]
    basis = np.sqrt(2.0 / n) * np.cos(np.pi * np.outer(np.arange(1, dof + 1), np.arange(n) + 0.5) / n)
    projections = differentials @ basis.T
    cov = projections @ projections.T
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    rng = np.random.default_rng(0)  # a fixed seed: the same evidence gives the same decision
    values, vectors = np.linalg.eigh(corr)
    z = rng.standard_normal((draws, len(corr))) @ (vectors * np.sqrt(np.clip(values, 0, None))).T
    t = z / np.sqrt(rng.chisquare(dof, size=(draws, 1)) / dof)
    return float(np.quantile(t.max(axis=1), 1 - alpha))


#: A blend's name joins its members' names: "har+rw_ewma" is the equal-weight average of the quantiles of `har` and
#: `rw_ewma` (a challenger shrunk halfway to the random walk; docs/forecast.md "Blends").
BLEND = "+"


def blend_name(member: str, base: str = DEFAULT_MEMBER) -> str:
    return f"{member}{BLEND}{base}"


def member_quantiles(members: dict[str, np.ndarray], name: str) -> np.ndarray | None:
    """The quantiles of `name`: a member's own, or a blend's (the average of its parts' quantiles, row by row);
    None when a part is missing."""
    parts = name.split(BLEND)
    if not all(part in members for part in parts):
        return None
    return members[name] if len(parts) == 1 else np.mean([members[part] for part in parts], axis=0)


def starting_point(members: dict[str, np.ndarray], verdict: PanelVerdict | None) -> tuple[str, np.ndarray] | None:
    """The panel's member or blend (calibrated as the panel says) when ZL has it (every part of a blend), else
    `DEFAULT_MEMBER` (None if absent)."""
    q = member_quantiles(members, verdict.member) if verdict is not None else None
    if verdict is not None and q is not None:
        return verdict.member, apply_scale(q, verdict.scale_factor) if verdict.calibration == "scale" else q
    return (DEFAULT_MEMBER, members[DEFAULT_MEMBER]) if DEFAULT_MEMBER in members else None


def final_layer(
    y: np.ndarray,
    ensemble: np.ndarray,
    calibrated: np.ndarray,
    members: dict[str, np.ndarray],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
    verdict: PanelVerdict | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The final forecast (`earned_choice`): the panel's verdict (or `rw_ewma`), unless ZL's own record shows the
    best single model so far, the ensemble or the calibrated ensemble beating it."""
    start = starting_point(members, verdict)
    candidates = [(start[0], start[1], None)] if start else []
    best, best_names = best_member_so_far(y, members, folds, pos, days)
    candidates += [("member", best, best_names), ("ensemble", ensemble, None), ("calibrated", calibrated, None)]
    return earned_choice(y, candidates, folds, pos, days)


def best_member_so_far(
    y: np.ndarray, members: dict[str, np.ndarray], folds: np.ndarray, pos: np.ndarray, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per fold, the quantiles of the single model with the lowest mean pinball loss on earlier folds' rows
    (purged by h days; for the latest forecast, fold < 0, on every out-of-fold row), among the models that
    forecast every row of the fold and have at least 30 scored rows of history. Rows of a fold with no history
    get NaN. Returns (quantiles (n, 3), chosen name per row)."""
    out = np.full((len(y), 3), np.nan)
    names = np.full(len(y), None, dtype=object)
    losses = {m: _masked_loss(y, q) for m, q in members.items()}
    for fold in np.unique(folds):
        rows = folds == fold
        history = (folds >= 0) & (folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else folds >= 0
        scored = {
            m: np.nanmean(loss[history])
            for m, loss in losses.items()
            if np.isfinite(loss[history]).sum() >= 30 and not np.isnan(members[m][rows]).any()
        }
        if not scored:
            continue
        best = min(scored, key=scored.get)
        out[rows] = members[best][rows]
        names[rows] = best
    return out, names


def _masked_loss(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row pinball loss, NaN where the row has no prediction or no outcome."""
    ok = ~np.isnan(q).any(axis=1) & ~np.isnan(y)
    return np.where(ok, row_pinball(np.nan_to_num(y), np.nan_to_num(q)), np.nan)


def earned_choice(
    y: np.ndarray,
    candidates: list[tuple[str, np.ndarray, np.ndarray | None]],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
    min_blocks: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """The final quantiles: the first candidate unless a later one has earned its place.

    `candidates` are (name, quantiles, names per row or None), the first being the starting point. For rows of
    fold k, the later candidates with at least `min_blocks` h-day blocks of history (with fewer independent outcomes
    the standard error itself is too noisy to trust) are compared with the first on the earlier folds' rows all of
    them forecast (purged by h days; all out-of-fold rows for the latest forecast, fold < 0); the one with the
    lowest ratio among those that pass the max-t test (`challenge`) replaces the first.
    Returns (quantiles, chosen name per row)."""
    losses = [_masked_loss(y, q) for _, q, _ in candidates]
    out = np.full((len(y), 3), np.nan)
    chosen = np.full(len(y), None, dtype=object)
    for fold in np.unique(folds):
        rows = folds == fold
        history = (folds >= 0) & (folds < fold) & (pos + days < pos[rows].min()) if fold >= 0 else folds >= 0
        available = [k for k, (_, q, _) in enumerate(candidates) if not np.isnan(q[rows]).any()]
        if not available:
            continue
        current = _challenge(losses, available, history, days, min_blocks)
        name, values, per_row = candidates[current]
        out[rows] = values[rows]
        chosen[rows] = per_row[rows] if per_row is not None else name
    return out, chosen


def _challenge(losses: list[np.ndarray], available: list[int], history: np.ndarray, days: int, min_blocks: int) -> int:
    """Index of the candidate served: the first available, or the challenger that beat it (`challenge`) on the
    history rows every one of them forecast."""
    first = available[0]
    rows = history & np.isfinite(losses[first])
    enough = [k for k in available[1:] if (rows & np.isfinite(losses[k])).sum() >= max(30, min_blocks * days)]
    for k in enough:
        rows &= np.isfinite(losses[k])
    if not enough or rows.sum() < max(30, min_blocks * days):
        return first  # a handful of h-day outcomes cannot tell skill from luck
    result = challenge({str(k): losses[k][rows] for k in enough}, losses[first][rows], days)
    return int(result.winner) if result is not None and result.winner is not None else first
