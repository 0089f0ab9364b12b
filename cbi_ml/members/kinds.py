"""The columns every member writes and the features a tabular member trains on (which members exist, and of
which kind: `cbi_ml.members.registry`)."""

from __future__ import annotations

import pandas as pd

from cbi_ml.dataset import VOL_COLUMN
from cbi_ml.members.registry import SPECIALIST_PREFIX, member_kind

OUTPUT_COLUMNS = [
    "as_of_date",
    "horizon",
    "horizon_days",
    "member",
    "fold",
    "q10",
    "q50",
    "q90",
    "y",
    "scale",
    "model_run_id",
    "trained_at",
    "model_path",
]


def member_features(member: str, catalog: pd.DataFrame, available: list[str]) -> list[str]:
    """The features a member trains on: all for `main`, core + its bucket for `spec_<bucket>`; none for the
    baselines and the time-series member (they read the return series and bucket scores themselves)."""
    if member_kind(member) != "tabular":
        return []
    if member == "main":
        wanted = catalog["feature_name"]
    elif member.startswith(SPECIALIST_PREFIX):
        bucket = member.removeprefix(SPECIALIST_PREFIX)
        if bucket not in set(catalog["bucket"]):
            raise ValueError(f"unknown bucket specialist {member}: feature_catalog has no bucket {bucket!r}")
        wanted = catalog.loc[catalog["bucket"].isin(["core", bucket]), "feature_name"]
    else:
        raise ValueError(f"{member} is not a tabular member")
    features = [f for f in wanted if f in available]
    return [*features, VOL_COLUMN]
