"""The final forecast: the simplest model that earned its place. Candidates, from simplest to most complex: the
random walk with EWMA volatility (`DEFAULT_MEMBER`), the best single model so far, the ensemble and the calibrated
ensemble; a more complex one is chosen only where, on earlier folds, it beat the current choice by more than two
standard errors (`earned_choice`; EWC, `cbi_ml.scoring.skill_ratio_se`)."""

from __future__ import annotations

import numpy as np

from cbi_ml.scoring import row_pinball, skill_ratio_se

#: Where the final layer starts: the random walk with EWMA volatility, the simplest forecast that knows
#: volatility clusters. Anything else -- the empirical random walk included -- has to beat it first.
DEFAULT_MEMBER = "rw_ewma"


def final_layer(
    y: np.ndarray,
    ensemble: np.ndarray,
    calibrated: np.ndarray,
    members: dict[str, np.ndarray],
    folds: np.ndarray,
    pos: np.ndarray,
    days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The final forecast (`earned_choice`) among, in order of simplicity: `rw_ewma`, the best single model so
    far, the ensemble and the calibrated ensemble."""
    candidates = []
    if DEFAULT_MEMBER in members:
        candidates.append((DEFAULT_MEMBER, members[DEFAULT_MEMBER], None))
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
    """The final quantiles: the simplest candidate unless a more complex one has earned its place.

    `candidates` run from simplest to most complex as (name, quantiles, names per row or None). For rows of fold k
    the choice starts at the first candidate and moves to a later one only if, on the earlier folds' rows (purged by
    h days; all out-of-fold rows for the latest forecast, fold < 0), that one's mean pinball loss was lower than the
    current choice's by more than two standard errors (the EWC long-run variance of overlapping h-day losses,
    `skill_ratio_se`), on at least `min_blocks` blocks of history (with fewer independent outcomes the standard error
    itself is too noisy to trust). A gain inside the noise is no gain, so the stack
    never swaps a random walk for a combination that only looked better on a handful of overlapping outcomes.
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
        current = available[0]
        for k in available[1:]:
            both = history & np.isfinite(losses[k]) & np.isfinite(losses[current])
            if both.sum() < max(30, min_blocks * days):
                continue  # a handful of h-day outcomes cannot tell skill from luck
            ratio = losses[k][both].mean() / losses[current][both].mean()
            se = skill_ratio_se(losses[k][both], losses[current][both], days)
            if np.isfinite(se) and ratio < 1 - 2 * se:
                current = k
        name, values, per_row = candidates[current]
        out[rows] = values[rows]
        chosen[rows] = per_row[rows] if per_row is not None else name
    return out, chosen
