"""End to end on a small sample: a real `dbt build` (models, gates, AutoGluon) and what it must guarantee."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import load_sample, query, run_dbt

pytestmark = pytest.mark.dbt

HORIZONS = [("1w", 5), ("1m", 21), ("3m", 63), ("6m", 126)]


def test_build_writes_one_ordered_forecast_per_horizon_for_the_latest_day(built_warehouse):
    forecasts = query(built_warehouse, "select * from forecasts.zl_predictions order by horizon_days")
    matrix = query(
        built_warehouse,
        "select as_of_date, zl_close_cents_per_lb from features.daily_ml_matrix_zl order by as_of_date desc limit 1",
    )
    assert list(zip(forecasts["horizon"], forecasts["horizon_days"], strict=True)) == HORIZONS
    assert (forecasts["as_of_date"] == matrix["as_of_date"].iloc[0]).all()
    assert (forecasts["q10"] <= forecasts["q50"]).all() and (forecasts["q50"] <= forecasts["q90"]).all()
    close = matrix["zl_close_cents_per_lb"].iloc[0]
    for q in ("q10", "q50", "q90"):
        np.testing.assert_allclose(forecasts[f"price_{q}"], close * np.exp(forecasts[q]), rtol=1e-12)
    assert (pd.to_datetime(forecasts["target_date"]) > pd.to_datetime(forecasts["as_of_date"])).all()
    assert pd.to_datetime(forecasts["target_date"]).is_monotonic_increasing
    width = forecasts["q90"] - forecasts["q10"]
    assert (width > 0).all()
    assert width.iloc[-1] > width.iloc[0]  # a 6-month interval is wider than a 1-week one
    assert forecasts["model_run_id"].nunique() == 1
    members = set(query(built_warehouse, "select distinct member from ml.l0_predictions")["member"])
    # a member, a combination, or the panel's blend of members ('har+rw_ewma': every part a member ZL ran)
    known = members | {"stack", "ensemble", "calibrated"}
    assert all(set(m.split("+")) <= known for m in forecasts["forecast_method"]), set(forecasts["forecast_method"])
    # the dbt vars reached the Python models: predictors were saved where the test's vars pointed
    saved = built_warehouse.parent / "models"
    assert {p.name for p in saved.iterdir()} >= {"main", "spec_crush", "spec_volatility"}
    assert (saved / "main" / "state.json").is_file()


def test_the_stack_writes_weights_risk_and_out_of_fold_predictions(built_warehouse):
    weights = query(
        built_warehouse,
        "select horizon, quantile_level, sum(weight) as total, count(*) as members "
        "from ml.ensemble_weights group by 1, 2",
    )
    assert len(weights) == 12 and np.allclose(weights["total"], 1.0)
    assert (weights["members"] >= 13).all()  # 3 baselines, ag_timeseries, main, 8 specialists (+ the stacker)
    stacked = query(built_warehouse, "select distinct horizon from ml.ensemble_weights where member = 'stack'")
    assert "1w" in set(stacked["horizon"])
    oof = query(
        built_warehouse,
        "select member, horizon, count(*) as n, count(distinct fold) as folds "
        "from ml.l0_predictions where fold >= 0 group by 1, 2",
    )
    assert len(oof) == 16 * 4 and (oof["folds"] == 3).all()  # the registry's daily members (8) + 8 bucket specialists
    boards = query(built_warehouse, "select distinct member from ml.leaderboard")
    assert {"main", "ag_timeseries"} <= set(boards["member"])
    risk = query(built_warehouse, "select * from forecasts.zl_risk order by horizon_days")
    assert (risk["var_95_ret"] > 0).all() and (risk["cvar_99_ret"] >= risk["var_99_ret"]).all()
    assert risk["var_95_ret"].is_monotonic_increasing  # longer horizons, larger risk
    scenarios = query(built_warehouse, "select horizon, count(*) as n from forecasts.monte_carlo_scenarios group by 1")
    assert set(scenarios["horizon"]) == {"1w", "1m", "3m", "6m"}
    importance = query(built_warehouse, "select distinct member from ml.feature_importance")
    assert len(importance) == 9  # the tabular predictors (ag_timeseries has no tabular features)
    board = query(built_warehouse, "select distinct member, horizon from ml.leaderboard")
    assert len(board) == 10 * 4  # and ag_timeseries


def test_feature_importance_is_measured_on_rows_the_predictor_never_saw(built_warehouse):
    """Each tabular member's last out-of-fold predictor, on exactly that fold's rows (it was trained on the rows
    before them, purged by h days); not the serving predictor, which was fitted on every labelled row."""
    importance = query(
        built_warehouse,
        "select member, horizon, min(first_date) as first_date, max(last_date) as last_date, max(n_rows) as n "
        "from ml.feature_importance group by 1, 2",
    )
    last_fold = query(
        built_warehouse,
        "select member, horizon, min(as_of_date) as first_date, max(as_of_date) as last_date, count(*) as n, "
        "any_value(model_path) as model_path from ml.l0_predictions "
        "where fold = (select max(fold) from ml.l0_predictions) and model_path is not null group by 1, 2",
    )
    serving = query(built_warehouse, "select model_path from ml.l0_predictions where fold = -1")
    merged = importance.merge(last_fold, on=["member", "horizon"], suffixes=("", "_fold"), validate="one_to_one")
    assert len(merged) == 9 * 4
    assert (merged["first_date"] == merged["first_date_fold"]).all()
    assert (merged["last_date"] == merged["last_date_fold"]).all() and (merged["n"] == merged["n_fold"]).all()
    assert not set(merged["model_path"]) & set(serving["model_path"].dropna())  # not the serving predictors


def test_forecast_columns_and_types_follow_the_contract(built_warehouse):
    columns = query(
        built_warehouse,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'forecasts' and table_name = 'zl_predictions' "
        "order by ordinal_position",
    )
    assert columns["column_name"].tolist() == [
        "as_of_date",
        "horizon",
        "horizon_days",
        "target_date",
        "q10",
        "q50",
        "q90",
        "price_q10",
        "price_q50",
        "price_q90",
        "forecast_method",
        "model_run_id",
        "trained_at",
    ]
    assert dict(zip(columns["column_name"], columns["data_type"], strict=True))["horizon_days"] == "INTEGER"


def test_matrix_targets_are_log_returns_of_the_back_adjusted_series(built_warehouse):
    matrix = query(built_warehouse, "select * from features.daily_ml_matrix_zl order by as_of_date")
    zl = query(
        built_warehouse,
        "select trade_date, close_adj from intermediate.int_futures__continuous where root = 'ZL' order by trade_date",
    )
    assert matrix["as_of_date"].is_unique and len(matrix) == len(zl) > 1000
    close = zl["close_adj"].to_numpy()
    for _, days in HORIZONS:
        expected = np.log(pd.Series(close).shift(-days) / close)
        np.testing.assert_allclose(matrix[f"target_ret_{days}d"], expected, rtol=1e-10, equal_nan=True)
        assert matrix[f"target_ret_{days}d"].isna().sum() == days  # unknown exactly for the last h days


def test_rolls_do_not_become_returns(built_warehouse):
    rolls = query(
        built_warehouse,
        """
        with cont as (select * from intermediate.int_futures__continuous where root = 'ZL'),
        prev as (select trade_date, contract, lag(contract) over (order by trade_date) as old_contract,
                        lag(trade_date) over (order by trade_date) as prev_date, log_return_1d
                 from cont)
        select prev.trade_date, prev.log_return_1d, ln(today.close_price / yesterday.close_price) as held_return
        from prev
        join staging.stg_futures__ohlcv_daily today
          on today.root = 'ZL' and today.contract = prev.old_contract and today.trade_date = prev.trade_date
        join staging.stg_futures__ohlcv_daily yesterday
          on yesterday.root = 'ZL' and yesterday.contract = prev.old_contract and yesterday.trade_date = prev.prev_date
        where prev.contract <> prev.old_contract
    """,
    )
    assert len(rolls) >= 20  # eight ZL contracts a year over six years
    np.testing.assert_allclose(rolls["log_return_1d"], rolls["held_return"], rtol=1e-9, atol=1e-12)


def test_features_use_only_data_available_by_their_as_of_date(built_warehouse, copy_of):
    """Alter every raw value published after T and rebuild: no feature row dated on or before T may change."""
    cutoff = pd.Timestamp("2021-06-30")
    db = copy_of(built_warehouse)
    feature_sql = (
        "select * exclude (target_ret_5d, target_ret_21d, target_ret_63d, target_ret_126d) "
        "from features.daily_ml_matrix_zl order by as_of_date"
    )
    before = query(db, feature_sql)
    later = f"available_at >= timestamp '{cutoff + pd.Timedelta(days=1)}'"
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"update raw.futures_ohlcv_daily set open = open * 1.3, high = high * 1.3, low = low * 1.3, "
            f"close = close * 1.3, volume = volume * 2 where {later}"
        )
        con.execute(f"update raw.fred_observations set value = value * 1.1 + 1 where {later}")
        con.execute(
            "update raw.cftc_cot_disaggregated set managed_money_long = managed_money_long * 3, "
            f"prod_merc_short = prod_merc_short * 2 where {later}"
        )
        con.execute(f"update raw.usda_export_sales set net_sales_mt = net_sales_mt * 5 + 1000 where {later}")
        con.execute(f"update raw.epa_rin_prices set price_usd_per_rin = price_usd_per_rin * 2 where {later}")
        con.execute(f"update raw.eia_observations set value = value * 1.7 where {later}")
        con.execute(f"update raw.news_articles set title = 'China tariff retaliation: ' || title where {later}")
    # a full refresh: the incremental technicals would (by design) only recompute their recent look-back window
    result = run_dbt(db, "run", "--select", "+daily_ml_matrix_zl", "--full-refresh")
    assert result.returncode == 0, result.output[-3000:]
    after = query(db, feature_sql)
    known = before["as_of_date"] <= cutoff
    pd.testing.assert_frame_equal(before[known], after[known], check_exact=False, rtol=1e-9, atol=1e-12)
    # the perturbation did reach the later rows, so the comparison above was not vacuous
    assert not np.allclose(before.loc[~known, "zl_close_cents_per_lb"], after.loc[~known, "zl_close_cents_per_lb"])
    for column in (
        "ust_10y_pct",
        "zl_mm_net_pct_oi",
        "soy_net_sales_4w_mt",
        "rin_d4_usd",
        "tariff_news_7d",
        "biodiesel_production_mmgal",
        "zl_rsi_14",
    ):
        changed = ~np.isclose(before.loc[~known, column], after.loc[~known, column], equal_nan=True)
        assert changed.any(), column


#: Revised values planted by the test below: (raw table, revised column, factor), through the real loader.
REVISIONS = [
    ("cftc_cot_disaggregated", "managed_money_long", 1.5),
    ("usda_export_sales", "net_sales_mt", 3.0),
    ("epa_rin_prices", "price_usd_per_rin", 1.4),
    ("eia_observations", "value", 1.25),
]


def test_a_revision_published_after_t_changes_no_feature_at_or_before_t(built_warehouse, copy_of, monkeypatch):
    """Revise, through the loader, values released before T in a load that runs after T: the history keeps the
    old version and no feature row dated on or before T may change; rows after the load see the revision."""
    from ingest import load
    from ingest.contracts import RAW_TABLES

    cutoff = pd.Timestamp("2021-06-30")
    revised_at = (cutoff + pd.Timedelta(days=1, minutes=30)).to_pydatetime()  # after the cutoff of day T
    db = copy_of(built_warehouse)
    feature_sql = (
        "select * exclude (target_ret_5d, target_ret_21d, target_ret_63d, target_ret_126d) "
        "from features.daily_ml_matrix_zl order by as_of_date"
    )
    before = query(db, feature_sql)
    monkeypatch.setattr(load, "_utcnow", lambda: revised_at)
    with duckdb.connect(str(db)) as con:
        for table, column, factor in REVISIONS:
            columns = ", ".join(RAW_TABLES[table].data_columns)
            # published by the end of day T (the as-of cutoff), in the 120 days before it
            released = con.execute(
                f"select {columns} from raw.{table} where available_at < ? and available_at >= ?",
                [(cutoff + pd.Timedelta(days=1)).to_pydatetime(), (cutoff - pd.Timedelta(days=120)).to_pydatetime()],
            ).df()
            released[column] = released[column] * factor
            result = load.upsert(con, table, released)
            assert result.rows_updated > 0, table
            kept = con.execute(f"select count(*) from raw.{table}_history").fetchall()[0][0]
            assert kept == result.rows_updated, table
    result = run_dbt(db, "run", "--select", "+daily_ml_matrix_zl", "--full-refresh")
    assert result.returncode == 0, result.output[-3000:]
    after = query(db, feature_sql)
    known = before["as_of_date"] <= cutoff
    pd.testing.assert_frame_equal(before[known], after[known], check_exact=False, rtol=1e-9, atol=1e-12)
    # once loaded, the revisions do reach the features (the comparison above was not vacuous)
    for column in (
        "zl_mm_net_pct_oi",
        "zl_mm_net_z_52w",
        "soy_net_sales_4w_mt",
        "rin_d4_usd",
        "biodiesel_production_mmgal",
    ):
        changed = ~np.isclose(before.loc[~known, column], after.loc[~known, column], equal_nan=True)
        assert changed.any(), column


def test_a_zero_brl_price_fails_the_gate_and_no_forecast_is_written(tmp_path):
    db = tmp_path / "cbi.duckdb"
    load_sample(db)
    with duckdb.connect(str(db)) as con:
        planted = con.execute(
            "update raw.futures_ohlcv_daily set close = 0 where root = '6L' and trade_date = date '2022-03-15'"
        ).fetchall()[0][0]
    assert planted >= 1
    result = run_dbt(db, "build", tmp_dir=tmp_path)
    assert result.returncode != 0
    gate = [uid for uid in result.results if "positive_values_core_macro_fx_brl_usd_per_brl" in uid]
    assert gate and result.results[gate[0]] == "fail"
    assert result.results["model.cbi.l0_predictions"] == "skipped"  # every member: one node
    assert result.results["model.cbi.zl_predictions"] == "skipped"
    tables = query(db, "select table_schema, table_name from information_schema.tables")
    assert not ((tables["table_schema"] == "forecasts") | (tables["table_schema"] == "ml")).any()
    assert not (tmp_path / "models").exists()  # nothing was trained either


def test_a_front_only_futures_file_and_absent_sources_build_with_warnings(tmp_path, small_sample):
    """What real vendor data looks like: one contract per day (no same-day pair at rolls) and no FRED,
    CFTC, USDA... The build must pass, warn about the absent features, and book no roll gap as a return."""
    from datetime import date

    from ingest.runner import run_connector
    from ingest.sources.base import Window
    from ingest.sources.futures_files import FuturesFiles

    bars = small_sample["futures_ohlcv_daily"]
    front = bars.sort_values("volume").groupby(["root", "trade_date"]).tail(1).sort_values(["root", "trade_date"])
    csv = tmp_path / "front_only.csv"
    front.drop(columns="available_at").to_csv(csv, index=False)
    db = tmp_path / "cbi.duckdb"
    with duckdb.connect(str(db)) as con:
        run_connector(con, FuturesFiles([csv]), Window(None, date(2030, 1, 1)))
    result = run_dbt(db, "build", "--exclude", "tag:ml", tmp_dir=tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    present = [uid for uid in result.results if uid.startswith("test.cbi.features_present_core_macro_fx")]
    assert present and result.results[present[0]] == "warn"
    rolls = query(
        db, "select roll_method, log_return_1d from intermediate.int_futures__continuous where root = 'ZL' and is_roll"
    )
    assert len(rolls) >= 20 and set(rolls["roll_method"]) == {"gap"}
    assert rolls["log_return_1d"].abs().max() < 1e-12
    matrix = query(
        db,
        "select count(*) as n, count(ust_10y_pct) as fred, count(zl_log_return_1d) as zl "
        "from features.daily_ml_matrix_zl",
    )
    assert matrix["fred"].iloc[0] == 0 and matrix["zl"].iloc[0] == matrix["n"].iloc[0] - 1


def test_a_source_that_starts_late_passes_the_null_gate_and_a_gap_after_its_start_fails(tmp_path):
    """Real sources begin years after the futures (news, RIN prices): NULL before a column's first value is
    history the source does not have. A stretch lost after the start is a gap, and the gate stops the build."""
    db = tmp_path / "cbi.duckdb"
    load_sample(db)
    with duckdb.connect(str(db)) as con:
        late = con.execute(
            "delete from raw.fred_observations where series_id = 'VIXCLS' and observation_date < date '2021-01-01'"
        ).fetchall()[0][0]
    assert late > 500
    started_late = run_dbt(db, "build", "--exclude", "tag:ml", tmp_dir=tmp_path)
    assert started_late.returncode == 0, started_late.output[-3000:]
    matrix = query(db, "select as_of_date, vix_index from features.daily_ml_matrix_zl order by as_of_date")
    assert matrix["vix_index"].isna().mean() > 0.3  # NULL until the source starts, and the build passes

    with duckdb.connect(str(db)) as con:  # a year lost after the start (the gate reads the built table)
        lost = con.execute(
            "update features.core_macro_fx set vix_index = null "
            "where as_of_date between date '2022-01-01' and date '2022-12-31'"
        ).fetchall()[0][0]
    assert lost > 200
    gap = run_dbt(db, "test", "--select", "core_macro_fx", tmp_dir=tmp_path)
    assert gap.returncode != 0
    failed = [uid for uid, status in gap.results.items() if status == "fail" and "feature_null_rates_below" in uid]
    assert failed, gap.output[-3000:]
    # the gate names the column that lost its year, and only that one
    compiled = next(
        path
        for path in (tmp_path / "dbt_target" / "compiled").rglob("feature_null_rates_below*.sql")
        if "core_macro_fx" in path.read_text()
    )
    with duckdb.connect(str(db), read_only=True) as con:
        flagged = con.execute(compiled.read_text()).df()
    assert flagged["column_name"].tolist() == ["vix_index"]
    assert flagged["null_rate"].iloc[0] > 0.1 and flagged["n_rows"].iloc[0] > 600
