"""The offline sample: deterministic, on contract, and shaped like the real futures without planted signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbi_core.calendar import trading_days
from ingest.contracts import RAW_TABLES
from ingest.load import validate_frame
from ingest.sample import DEFAULT_SEED, generate_sample
from ingest.sample.markets import ROOTS, simulate_spot_paths

FULL_START, FULL_END = "2010-01-04", "2024-06-28"


@pytest.fixture(scope="module")
def spot_returns() -> pd.DataFrame:
    days = trading_days(FULL_START, FULL_END)
    logp, _ = simulate_spot_paths(len(days), DEFAULT_SEED)
    return pd.DataFrame(np.diff(logp, axis=0), index=days[1:], columns=[s.root for s in ROOTS])


def test_same_arguments_give_identical_tables(small_sample):
    again = generate_sample("2018-01-02", "2023-12-29", 7)
    for name, frame in small_sample.items():
        pd.testing.assert_frame_equal(frame, again[name], check_exact=True)


def test_another_seed_gives_another_market(small_sample):
    other = generate_sample("2018-01-02", "2023-12-29", 8)
    assert not np.allclose(small_sample["futures_ohlcv_daily"]["close"], other["futures_ohlcv_daily"]["close"])


def test_a_later_end_date_extends_history_without_rewriting_it(small_sample):
    longer = generate_sample("2018-01-02", "2024-03-28", 7)["futures_ohlcv_daily"]
    short = small_sample["futures_ohlcv_daily"]
    overlap = longer[longer["trade_date"] <= short["trade_date"].max()].reset_index(drop=True)
    pd.testing.assert_frame_equal(short, overlap)


def test_every_table_matches_the_raw_contract(small_sample):
    assert set(small_sample) == set(RAW_TABLES)
    for name, frame in small_sample.items():
        table = RAW_TABLES[name]
        assert list(frame.columns) == table.data_columns, name
        assert len(frame) > 0, name
        validate_frame(frame, table)  # types parse, keys complete and unique


def test_futures_cover_the_required_roots_on_cme_trade_dates(small_sample):
    bars = small_sample["futures_ohlcv_daily"]
    assert {"ZL", "ZS", "ZM", "CL", "HO", "RB", "NG", "HG", "6L", "DX", "6E"} <= set(bars["root"])
    expected = set(trading_days("2018-01-02", "2023-12-29").date)
    assert set(bars["trade_date"]) == expected
    assert all(pd.Timestamp(d).weekday() < 5 for d in bars["trade_date"].unique())


def test_bars_are_consistent_and_positive(small_sample):
    bars = small_sample["futures_ohlcv_daily"]
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars["volume"] > 0).all()


def test_nothing_is_available_before_its_period_or_after_the_sample_end(small_sample):
    period_column = {
        "futures_ohlcv_daily": "trade_date",
        "fred_observations": "observation_date",
        "cftc_cot_disaggregated": "report_date",
        "usda_export_sales": "week_ending_date",
        "epa_rin_prices": "week_ending_date",
        "eia_observations": "period_date",
        "news_articles": "published_at",
    }
    for name, frame in small_sample.items():
        available = pd.to_datetime(frame["available_at"])
        period = pd.to_datetime(frame[period_column[name]])
        assert (available >= period).all(), name
        assert (available < pd.Timestamp("2023-12-30")).all(), name


def test_release_lags_follow_the_architecture_table(small_sample):
    fred = small_sample["fred_observations"]
    dgs10 = fred[fred.series_id == "DGS10"]
    lag = pd.to_datetime(dgs10["available_at"]).dt.normalize() - pd.to_datetime(dgs10["observation_date"])
    assert lag.min() >= pd.Timedelta(days=1)  # next business day
    cot = small_sample["cftc_cot_disaggregated"]
    assert (pd.to_datetime(cot["report_date"]).dt.weekday == 1).all()  # Tuesday positions
    assert (pd.to_datetime(cot["available_at"]).dt.weekday == 4).all()  # released Friday
    usda = small_sample["usda_export_sales"]
    assert ((pd.to_datetime(usda["available_at"]) - pd.to_datetime(usda["week_ending_date"])).dt.days == 7).all()


def test_fred_series_have_their_real_frequencies(small_sample):
    fred = small_sample["fred_observations"]
    dates = {s: pd.to_datetime(g["observation_date"]) for s, g in fred.groupby("series_id")}
    assert (dates["DFF"].dt.weekday >= 5).any()  # DFF is published for every calendar day
    assert (dates["DGS10"].dt.weekday < 5).all()
    assert (dates["NFCI"].dt.weekday == 4).all()  # weekly, week ending Friday
    assert (dates["UNRATE"].dt.day == 1).all() and (dates["CPIAUCSL"].dt.day == 1).all()  # monthly
    required = {
        "DFF",
        "DFEDTARU",
        "DGS3MO",
        "DGS2",
        "DGS10",
        "T10Y2Y",
        "T10Y3M",
        "NFCI",
        "STLFSI4",
        "VIXCLS",
        "UNRATE",
        "CPIAUCSL",
        "DEXBZUS",
        "DEXCHUS",
        "DEXMXUS",
        "DTWEXBGS",
    }
    assert required <= set(dates)


def test_zl_has_realistic_volatility_tails_and_clustering(spot_returns):
    zl = spot_returns["ZL"]
    assert 0.17 < zl.std() * np.sqrt(252) < 0.30
    assert 0.5 < zl.kurt() < 6.0
    assert (zl**2).autocorr(1) > 0.05  # volatility clusters
    assert abs(zl.autocorr(1)) < 0.06  # returns themselves do not


def test_cross_asset_correlations_resemble_the_real_futures(spot_returns):
    corr = spot_returns.corr()
    assert 0.50 < corr.loc["ZL", "ZS"] < 0.72
    assert corr.loc["ZS", "ZM"] > 0.75
    assert 0.70 < corr.loc["CL", "HO"] < 0.88
    assert corr.loc["6L", "DX"] < -0.25  # BRL tied to the dollar
    assert abs(corr.loc["NG", "ZM"]) < 0.2


def test_crush_holds_soy_complex_together():
    days = trading_days(FULL_START, FULL_END)
    logp, _ = simulate_spot_paths(len(days), DEFAULT_SEED)
    p = pd.DataFrame(np.exp(logp), columns=[s.root for s in ROOTS])
    crush = 0.022 * p.ZM + 0.11 * p.ZL - p.ZS / 100
    assert 0.4 < crush.mean() < 1.6
    # the spread is tied: its one-year changes are a fraction of the soybean price changes it nets out,
    # and it forgets its level (a random-walk spread would keep a one-year autocorrelation near 1)
    assert crush.diff(252).std() < 0.4 * (p.ZS / 100).diff(252).std()
    assert crush.autocorr(252) < 0.8


def test_no_planted_signal_for_zl(spot_returns):
    zl = spot_returns["ZL"]
    next_day = zl.shift(-1)
    t_stat_mean = zl.mean() / (zl.std() / np.sqrt(len(zl)))
    assert abs(t_stat_mean) < 3.0
    for root in spot_returns.columns:  # yesterday's move of any market says nothing about ZL tomorrow
        assert abs(spot_returns[root].corr(next_day)) < 0.06, root
