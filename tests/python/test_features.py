"""The feature layer's numbers against independent computations, and incremental runs against full refreshes."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import load_sample, query, run_dbt

from ingest.load import upsert

pytestmark = pytest.mark.dbt


def test_wilder_rsi_matches_an_independent_computation(built_features):
    closes = query(
        built_features,
        "select as_of_date, close_adj from intermediate.int_futures__aligned_long "
        "where root = 'ZL' and close_adj is not null order by as_of_date",
    )
    rsi = query(
        built_features,
        "select as_of_date, rsi_14 from intermediate.int_futures__technicals where root = 'ZL' order by as_of_date",
    )
    change = closes["close_adj"].diff().fillna(0.0)
    gains = change.clip(lower=0).ewm(alpha=1 / 14, adjust=True).mean()
    losses = (-change).clip(lower=0).ewm(alpha=1 / 14, adjust=True).mean()
    expected = 100 - 100 / (1 + gains / losses)
    np.testing.assert_allclose(rsi["rsi_14"].iloc[250:], expected.iloc[250:], atol=1e-3)
    # and the textbook recursion (seeded with a 14-day simple mean) converges to the same values
    avg_gain, avg_loss = change.iloc[1:15].clip(lower=0).mean(), (-change.iloc[1:15]).clip(lower=0).mean()
    textbook = []
    for x in change.iloc[15:]:
        avg_gain = (avg_gain * 13 + max(x, 0)) / 14
        avg_loss = (avg_loss * 13 + max(-x, 0)) / 14
        textbook.append(100 - 100 / (1 + avg_gain / avg_loss))
    np.testing.assert_allclose(rsi["rsi_14"].iloc[300:], textbook[285:], atol=1e-3)


def test_bucket_scores_are_in_range_and_populated_after_warm_up(built_features):
    # (that they use only the past is proven with every other feature by the point-in-time test)
    scores = query(built_features, "select * from features.feature_catalog where is_bucket_score")
    assert sorted(scores["bucket"]) == ["biofuel", "china", "crush", "energy", "fed", "fx", "tariff", "volatility"]
    matrix = query(
        built_features,
        f"select as_of_date, {', '.join(scores['feature_name'])} from features.daily_ml_matrix_zl order by as_of_date",
    )
    values = matrix.drop(columns="as_of_date")
    assert ((values >= 0) & (values <= 100) | values.isna()).all().all()
    assert values.iloc[300:].notna().mean().min() > 0.9


def test_incremental_runs_match_a_full_refresh(tmp_path):
    db = tmp_path / "cbi.duckdb"
    load_sample(db, end="2023-06-30")
    first = run_dbt(db, "build", "--select", "+int_futures__technicals", tmp_dir=tmp_path)  # what the test reads
    assert first.returncode == 0, first.output[-3000:]
    load_sample(db, end="2023-12-29")  # six more months arrive; the history is unchanged
    incremental = run_dbt(db, "run", "--select", "+int_futures__technicals", tmp_dir=tmp_path)
    assert incremental.returncode == 0, incremental.output[-3000:]
    sql = "select * from intermediate.int_futures__technicals order by root, as_of_date"
    after_incremental = query(db, sql)
    full = run_dbt(db, "run", "--select", "int_futures__technicals", "--full-refresh", tmp_dir=tmp_path)
    assert full.returncode == 0, full.output[-3000:]
    after_full = query(db, sql)
    assert after_incremental["as_of_date"].max() == pd.Timestamp("2023-12-29")
    pd.testing.assert_frame_equal(after_incremental, after_full, check_exact=False, rtol=1e-9, atol=1e-12)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from intermediate.int_futures__technicals").fetchall()[0][0] == len(after_full)


def _feature_tables(db) -> dict[str, pd.DataFrame]:
    """Every table of the features schema, rows in one canonical order."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = con.sql("select table_name from duckdb_tables() where schema_name = 'features'").fetchall()
        names = [row[0] for row in tables]
        return {name: con.sql(f"select * from features.{name} order by all").df() for name in sorted(names)}


def _assert_identical(expected: dict[str, pd.DataFrame], actual: dict[str, pd.DataFrame], what: str) -> None:
    assert sorted(actual) == sorted(expected), what
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(actual[name], frame, check_exact=True, obj=f"{what}: features.{name}")


def test_two_builds_of_the_same_inputs_give_every_feature_row_to_the_last_bit(
    tmp_path, small_sample, built_features, copy_of
):
    """A rebuild must reproduce history exactly: a second run over the same warehouse (the incremental models
    recompute their look-back) and a build of a warehouse loaded with the same rows in reverse order (every tie
    a window or an as-of join could break by physical order) give every feature row bit for bit."""
    first_db = copy_of(built_features)  # the sample loaded in order and built (`dbt build --exclude tag:ml`)
    expected = _feature_tables(first_db)
    assert len(expected["daily_ml_matrix_zl"]) > 1000

    rerun = run_dbt(first_db, "run", "--exclude", "tag:ml", tmp_dir=first_db.parent)
    assert rerun.returncode == 0, rerun.output[-3000:]
    _assert_identical(expected, _feature_tables(first_db), "second run")

    reversed_db = tmp_path / "reversed" / "cbi.duckdb"
    reversed_db.parent.mkdir()
    with duckdb.connect(str(reversed_db)) as con:
        for name, frame in small_sample.items():
            upsert(con, name, frame.iloc[::-1].reset_index(drop=True))
    rebuilt = run_dbt(reversed_db, "build", "--exclude", "tag:ml", tmp_dir=reversed_db.parent)
    assert rebuilt.returncode == 0, rebuilt.output[-3000:]
    _assert_identical(expected, _feature_tables(reversed_db), "rows loaded in reverse order")
