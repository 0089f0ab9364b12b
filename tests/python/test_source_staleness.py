"""A source that stops degrades the forecast instead of blocking it; a gap in a live source still stops the build.

Past its tolerance (`cbi_source_staleness_days`) a source's features are NULL and flagged, `stale_sources` names it
and since when, the members whose features come from it write no latest forecast, and the rest still forecast.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import load_sample, query, run_dbt

from cbi_ml.combine.frames import usable_members
from cbi_ml.members.freshness import member_sources, without_stale_latest
from orchestration.quality import from_stale_sources

#: RIN prices (EPA) stop: nothing released after this moment, two months before the sample's last day.
RIN_STOP = "2023-10-29"
#: Members that read a RIN feature (biofuel bucket) and those that do not (seven specialists, the baselines).
NEEDS_RIN = {"main", "spec_biofuel", "ag_timeseries"}
WITHOUT_RIN = {"rw_empirical", "rw_ewma", "har", "range_ewma", "vol_avg", "spec_fx", "spec_crush", "spec_volatility"}


def _catalog() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature_name": ["brl_mom_21d", "rin_d4_usd", "biofuel_score", "fx_score"],
            "bucket": ["core", "biofuel", "biofuel", "fx"],
            "source_model": ["core_macro_fx", "bucket_biofuel", "bucket_biofuel", "bucket_fx"],
            "is_bucket_score": [False, False, True, True],
            "sources": ["fred,futures", "eia,epa,fred,futures", "eia,epa,fred,futures", "fred,futures"],
        }
    )


def test_a_member_reads_the_sources_of_its_features():
    catalog = _catalog()
    assert member_sources("spec_fx", catalog) == {"fred", "futures"}
    assert member_sources("spec_biofuel", catalog) == {"eia", "epa", "fred", "futures"}
    assert member_sources("main", catalog) == {"eia", "epa", "fred", "futures"}
    assert member_sources("ag_timeseries", catalog) == {"eia", "epa", "fred", "futures"}  # the bucket scores
    assert member_sources("rw_ewma", catalog) == set()


def test_only_members_reading_a_stale_source_lose_their_latest_forecast():
    matrix = pd.DataFrame({"as_of_date": pd.to_datetime(["2023-12-28", "2023-12-29"]), "is_epa_stale": [False, True]})
    predictions = pd.DataFrame({"fold": [0, 1, -1], "q50": [0.1, 0.2, 0.3]})
    kept = without_stale_latest(predictions, "spec_biofuel", matrix, _catalog())
    assert kept["fold"].tolist() == [0, 1]
    assert without_stale_latest(predictions, "spec_fx", matrix, _catalog()).equals(predictions)
    fresh = matrix.assign(is_epa_stale=[True, False])  # stale once, fresh again on the latest day
    assert without_stale_latest(predictions, "spec_biofuel", fresh, _catalog()).equals(predictions)


def test_a_member_without_a_latest_forecast_gets_no_ensemble_weight():
    index = pd.MultiIndex.from_tuples(
        [(pd.Timestamp("2023-01-02") + pd.Timedelta(days=i), 0) for i in range(5)] + [(pd.Timestamp("2023-12-29"), -1)],
        names=["as_of_date", "fold"],
    )
    wide = pd.DataFrame({"rw_ewma": np.ones(6), "main": [1.0] * 5 + [np.nan]}, index=index)
    assert usable_members(wide) == ["rw_ewma"]
    assert usable_members(wide.iloc[:5]) == ["rw_ewma", "main"]  # the backtest's frames have no latest row


def test_each_stale_source_becomes_a_freshness_alert_naming_it_and_since_when():
    stale = pd.DataFrame(
        {
            "source_name": ["epa"],
            "as_of_date": [pd.Timestamp("2023-12-29")],
            "last_release_at": [pd.Timestamp("2023-10-18 16:00")],
            "stale_since_date": [pd.Timestamp("2023-12-04")],
            "staleness_days": [45],
            "days_since_release": [72],
        }
    )
    rows = from_stale_sources(stale)
    assert rows[["dimension", "target", "status"]].values.tolist() == [["freshness", "epa", "alert"]]
    assert "epa: stale since 2023-12-04" in rows["message"].iloc[0] and "2023-10-18" in rows["message"].iloc[0]
    assert from_stale_sources(pd.DataFrame()).empty


@pytest.mark.dbt
def test_a_source_that_stops_two_months_before_the_end_still_yields_a_forecast(built_warehouse, copy_of):
    """RIN prices stop: the build passes, the RIN features are NULL and flagged, `stale_sources` names EPA and since
    when, the members reading RIN features skip the latest forecast and the forecast is written from the others."""
    db = copy_of(built_warehouse)
    with duckdb.connect(str(db)) as con:
        dropped = con.execute(f"delete from raw.epa_rin_prices where available_at > timestamp '{RIN_STOP}'").fetchone()
    assert dropped[0] > 20
    # the members score with the models the session's build saved (no training here)
    saved = {"cbi_ml": {"artifacts_dir": str(built_warehouse.parent / "models"), "retrain": "never"}}
    result = run_dbt(db, "build", vars=saved)
    assert result.returncode == 0, result.output[-5000:]
    assert result.results["test.cbi.warn_stale_sources"] == "warn"

    alerts = query(db, "select * from features.stale_sources")
    assert alerts["source_name"].tolist() == ["epa"]
    assert alerts["last_release_at"].iloc[0] <= pd.Timestamp(RIN_STOP)
    assert pd.Timestamp("2023-11-15") < alerts["stale_since_date"].iloc[0] < pd.Timestamp("2023-12-29")
    latest = query(db, "select * from features.daily_ml_matrix_zl order by as_of_date desc limit 1").iloc[0]
    assert latest["is_epa_stale"] and not latest[["is_fred_stale", "is_cftc_stale", "is_usda_stale"]].any()
    assert pd.isna(latest["rin_d4_usd"]) and pd.notna(latest["ust_10y_pct"])

    members = set(query(db, "select distinct member from ml.l0_predictions where fold < 0")["member"])
    assert not members & NEEDS_RIN
    assert members >= WITHOUT_RIN
    weighted = set(query(db, "select distinct member from ml.ensemble_weights where weight > 0")["member"])
    assert not weighted & NEEDS_RIN
    forecast = query(db, "select * from forecasts.zl_predictions")
    assert len(forecast) == 4 and forecast["as_of_date"].nunique() == 1
    assert forecast["as_of_date"].iloc[0] == latest["as_of_date"]


@pytest.mark.dbt
def test_a_gap_in_the_middle_of_a_live_source_still_fails_the_gate(tmp_path):
    """RIN prices lose a year and come back: the stale stretch is a gap (not a stopped source) and the null-rate
    gate stops the build."""
    db = tmp_path / "cbi.duckdb"
    load_sample(db)
    with duckdb.connect(str(db)) as con:
        lost = con.execute(
            "delete from raw.epa_rin_prices where week_ending_date between date '2021-01-01' and date '2021-12-31'"
        ).fetchone()[0]
    assert lost > 150
    result = run_dbt(db, "build", "--exclude", "tag:ml", tmp_dir=tmp_path)
    assert result.returncode != 0
    failed = {uid for uid, status in result.results.items() if status == "fail"}
    assert any("feature_null_rates_below_bucket_biofuel" in uid for uid in failed), result.output[-3000:]
    flags = query(
        db,
        "select count(*) filter (where is_stale) as stale, count(*) filter (where is_stale_tail) as tail "
        "from intermediate.int_calendar__source_freshness where source_name = 'epa'",
    )
    assert flags["stale"].iloc[0] > 150 and flags["tail"].iloc[0] == 0
