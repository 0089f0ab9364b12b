"""Where the final forecast comes from: its target dates, one run id for the forecast beside the members' own,
and when the saved models behind each row were trained."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from cbi_ml.dataset import target_dates


def with_provenance(out: pd.DataFrame, l0: pd.DataFrame, weights_frame: pd.DataFrame) -> pd.DataFrame:
    """`out` (the rows of `layers.final_predictions`) with `target_date`, `model_run_id`, `member_run_ids` and
    `trained_at` added, in that order."""
    out["target_date"] = target_dates(out["as_of_date"], out["horizon_days"])
    member_runs = ",".join(sorted(l0.loc[l0["fold"] < 0, "model_run_id"].dropna().unique()))
    # one short id for the forecast; the members' own run ids stay listed beside it
    out["model_run_id"] = "final-" + hashlib.sha256(member_runs.encode()).hexdigest()[:12]
    out["member_run_ids"] = member_runs
    out["trained_at"] = serving_trained_at(out, l0, weights_frame)
    return out


def serving_trained_at(out: pd.DataFrame, l0: pd.DataFrame, weights_frame: pd.DataFrame) -> pd.Series:
    """Per row of `out`: when the saved models behind it were trained -- the latest training time among the trained
    members (those with a saved predictor) its quantiles come from: the `source` of a 'final' row, the members
    weighted in the ensemble for 'ensemble'/'calibrated' (every member for the stacker). NaT where no trained
    model is behind it: the random walks and HAR have no saved model and are recomputed at every build."""
    saved = l0[(l0["fold"] < 0) & l0["model_path"].notna()]
    trained = pd.to_datetime(saved["trained_at"]).groupby([saved["horizon"], saved["member"]]).max().to_dict()
    everyone = l0.groupby("horizon")["member"].unique().to_dict()
    weighted = weights_frame[weights_frame["weight"] > 0].groupby("horizon")["member"].unique().to_dict()

    def members_of(horizon: str, model: str) -> set[str]:
        used = set(weighted.get(horizon, [])) if model in ("ensemble", "calibrated") else {model}
        return set(everyone.get(horizon, [])) | used if "stack" in used else used

    def when(row: Any) -> pd.Timestamp:
        model = row.source if row.member == "final" else row.member
        times = [trained[(row.horizon, m)] for m in members_of(row.horizon, model) if (row.horizon, m) in trained]
        return max(times) if times else pd.NaT

    return pd.Series([when(r) for r in out.itertuples()], index=out.index, dtype="datetime64[ns]")
