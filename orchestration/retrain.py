"""The weekly retrain's champion/challenger gate.

Before training, the serving models of every trained member are the champions (`champions`). After training, each
member's new models (the challenger) serve only if their walk-forward pinball loss on the out-of-fold rows both have
is not worse than the champion's beyond noise: ratio > 1 + k * SE, with the skill ratio's SE of
`cbi_ml.scoring.skill_ratio_se` (overlapping h-day losses), at any horizon rejects it. A rejected
challenger stays on disk (its `state.json`), the champion keeps serving (`serving.json`), and an alert says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cbi_ml.members.artifacts import MemberState, load_state, serving_state, set_serving
from cbi_ml.scoring import row_pinball, skill_ratio_se

log = logging.getLogger(__name__)


@dataclass
class Decision:
    member: str
    promote: bool
    reason: str
    champion: str | None = None
    challenger: str | None = None
    horizons: list[dict] = field(default_factory=list)


def champions(artifacts_dir: str | Path, members: list[str]) -> dict[str, MemberState | None]:
    """The models serving now, per member (None: nothing saved yet)."""
    return {m: serving_state(artifacts_dir, m, load_state(artifacts_dir, m)) for m in members}


def compare(
    champion_oof: pd.DataFrame, challenger_oof: pd.DataFrame, horizon_days: dict[str, int], noise_se: float
) -> tuple[bool, str, list[dict]]:
    """(challenger acceptable?, why, per-horizon figures) on the out-of-fold rows (fold >= 0, known y) both
    predicted. Pure function over two frames in the members' output shape."""
    key = ["as_of_date", "horizon"]
    cols = [*key, "q10", "q50", "q90", "y"]
    a = champion_oof.loc[(champion_oof["fold"] >= 0) & champion_oof["y"].notna(), cols]
    b = challenger_oof.loc[(challenger_oof["fold"] >= 0) & challenger_oof["y"].notna(), cols]
    both = a.merge(b, on=key, suffixes=("_champion", "_challenger"))
    figures, worse = [], []
    for horizon, rows in both.groupby("horizon", sort=False):
        rows = rows.sort_values("as_of_date")
        y = rows["y_challenger"].to_numpy(dtype=float)
        champion = row_pinball(y, rows[["q10_champion", "q50_champion", "q90_champion"]].to_numpy(dtype=float))
        challenger = row_pinball(y, rows[["q10_challenger", "q50_challenger", "q90_challenger"]].to_numpy(dtype=float))
        ratio = float(challenger.mean() / champion.mean()) if champion.mean() > 0 else float("nan")
        se = skill_ratio_se(challenger, champion, int(horizon_days.get(horizon, 1)))
        is_worse = bool(np.isfinite(se) and ratio > 1 + noise_se * se)
        figures.append({"horizon": horizon, "rows": len(rows), "ratio": ratio, "se": se, "worse": is_worse})
        if is_worse:
            worse.append(f"{horizon}: pinball {ratio:.3f}x the champion's (SE {se:.3f}, {len(rows)} rows)")
    if not figures:
        return True, "no out-of-fold rows in common with the champion", figures
    if worse:
        return False, "worse than the serving models beyond noise at " + "; ".join(worse), figures
    return True, "not worse than the serving models beyond noise", figures


def decide(
    artifacts_dir: str | Path,
    before: dict[str, MemberState | None],
    horizon_days: dict[str, int],
    noise_se: float,
) -> list[Decision]:
    """Apply the gate to every member in `before` (the champions) and set each serving pointer."""
    decisions = []
    for member, champion in before.items():
        challenger = load_state(artifacts_dir, member)
        if challenger is None:
            decisions.append(Decision(member, False, "no trained models", champion and champion.model_run_id))
            if champion is not None:
                set_serving(artifacts_dir, member, champion)
            continue
        if champion is None or champion.model_run_id == challenger.model_run_id:
            reason = "no champion: first models" if champion is None else "not retrained"
            set_serving(artifacts_dir, member, challenger)
            decisions.append(Decision(member, champion is None, reason, None, challenger.model_run_id))
            continue
        ok, reason, figures = compare(
            pd.read_parquet(champion.predictions_file),
            pd.read_parquet(challenger.predictions_file),
            horizon_days,
            noise_se,
        )
        set_serving(artifacts_dir, member, challenger if ok else champion)
        decisions.append(Decision(member, ok, reason, champion.model_run_id, challenger.model_run_id, figures))
        log.info("%s: %s (%s)", member, "promoted" if ok else "kept the champion", reason)
    return decisions
