"""Which members are implemented here, of which kind, the columns every member writes, and the features a
tabular member trains on."""

from __future__ import annotations

import pandas as pd

from cbi_ml.dataset import VOL_COLUMN
from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS

#: The members implemented here by name (which members run, and their kinds, is the `cbi_members` var; the
#: tabular ones are `main` and the bucket specialists `spec_<bucket>` of the `cbi_buckets` var). Cheap members
#: without saved predictors: random walks, HAR and the distribution members (cbi_ml.members.distribution).
BASELINES = ("rw_empirical", "rw_ewma", "har", *DISTRIBUTION_MEMBERS)
TIMESERIES = "ag_timeseries"  # AutoGluon TimeSeriesPredictor on the price path (cbi_ml.members.timeseries)
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
    if member in BASELINES or member == TIMESERIES:
        return []
    if member == "main":
        wanted = catalog["feature_name"]
    elif member.startswith("spec_"):
        bucket = member.removeprefix("spec_")
        if bucket not in set(catalog["bucket"]):
            raise ValueError(f"unknown bucket specialist {member}: feature_catalog has no bucket {bucket!r}")
        wanted = catalog.loc[catalog["bucket"].isin(["core", bucket]), "feature_name"]
    else:
        raise ValueError(f"{member} is not a tabular member")
    features = [f for f in wanted if f in available]
    return [*features, VOL_COLUMN]


def member_kind(member: str) -> str:
    """How `member` is implemented here: 'baseline' (no saved predictor), 'timeseries' or 'tabular'."""
    return "baseline" if member in BASELINES else "timeseries" if member == TIMESERIES else "tabular"
