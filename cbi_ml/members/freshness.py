"""A member whose features come from a stale source skips the latest forecast, so the final layer combines only
the members that do not depend on it (the source's features are NULL and flagged in the matrix,
`is_<source>_stale`, per the `cbi_source_staleness_days` var; docs/sources.md)."""

from __future__ import annotations

import logging

import pandas as pd

from cbi_ml.dataset import KEY
from cbi_ml.members.kinds import member_features
from cbi_ml.members.registry import BASELINES, TIMESERIES

log = logging.getLogger(__name__)


def stale_flag(source: str) -> str:
    """The matrix column that flags `source` as stale (dbt macro `cbi_stale_flag_columns`)."""
    return f"is_{source}_stale"


def member_sources(member: str, catalog: pd.DataFrame) -> set[str]:
    """The dbt sources `member` reads through its features (catalog column `sources`): none for the baselines,
    those of the bucket scores for the time-series member (its covariates), those of its features otherwise."""
    if member in BASELINES or "sources" not in catalog.columns:
        return set()
    if member == TIMESERIES:
        names = catalog.loc[catalog["is_bucket_score"].astype(bool), "feature_name"]
    else:
        names = member_features(member, catalog, list(catalog["feature_name"]))
    listed = catalog.loc[catalog["feature_name"].isin(list(names)), "sources"].dropna()
    return {source for entry in listed for source in str(entry).split(",") if source}


def stale_sources(member: str, matrix: pd.DataFrame, catalog: pd.DataFrame) -> list[str]:
    """Sources `member` reads that are flagged stale on the matrix's latest row."""
    if matrix.empty:
        return []
    latest = matrix.loc[matrix[KEY].idxmax()]
    flagged = [s for s in sorted(member_sources(member, catalog)) if stale_flag(s) in matrix.columns]
    return [s for s in flagged if bool(latest[stale_flag(s)])]


def without_stale_latest(
    predictions: pd.DataFrame, member: str, matrix: pd.DataFrame, catalog: pd.DataFrame
) -> pd.DataFrame:
    """`predictions` without the latest forecast (fold < 0) when a source `member` reads is stale on the latest
    row; its out-of-fold record is kept."""
    stale = stale_sources(member, matrix, catalog)
    if not stale:
        return predictions
    log.warning("%s: no latest forecast, its source(s) %s are stale", member, ", ".join(stale))
    return predictions[predictions["fold"] >= 0].reset_index(drop=True)
