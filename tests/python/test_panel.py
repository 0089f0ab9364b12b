"""The panel walk-forward (`cbi_ml.panel`) on synthetic GARCH-t panels with rolls: price frames, point-in-time
walk, pooled standard errors, and the command's tables and messages (a tmp DuckDB, no dbt, no real data)."""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pytest
from panel_sim import synthetic_bars

from cbi_ml.dataset import RETURN_COLUMN, target_column
from cbi_ml.panel.command import run_panel_command
from cbi_ml.panel.members import registry
from cbi_ml.panel.prices import end_column, price_frame
from cbi_ml.panel.runner import PanelSettings
from cbi_ml.panel.stats import newey_west_se
from cbi_ml.panel.walk import columns_of, refit_dates, walk_root

HORIZONS = {"1w": 5, "1m": 21}
FAST = ("rw_ewma", "rw_empirical", "har", "range_ewma", "range_har")


def test_price_frame_targets_follow_the_adjusted_closes_and_keep_roll_days():
    bars = synthetic_bars(roots=1)
    frame = price_frame(bars.sample(frac=1.0, random_state=1), HORIZONS, 0.94)  # any row order
    close = np.log(bars["close_adj"].to_numpy())
    np.testing.assert_allclose(frame[target_column(5)].to_numpy()[:-5], close[5:] - close[:-5])
    assert frame[target_column(5)].iloc[-5:].isna().all()
    assert frame[end_column(21)].iloc[0] == frame["as_of_date"].iloc[21]
    # a roll closed by the gap rule keeps its zero return, as in ZL's series
    np.testing.assert_array_equal(frame[RETURN_COLUMN].to_numpy(), bars["log_return_1d"].to_numpy())


def test_price_frame_rejects_a_duplicate_bar():
    bars = synthetic_bars(roots=1)
    with pytest.raises(ValueError, match="two bars on"):
        price_frame(pd.concat([bars, bars.iloc[[100]]]), HORIZONS, 0.94)


def test_walk_forward_uses_nothing_after_the_forecast_date():
    """Rewriting every price after a cut leaves every forecast made before the cut unchanged, member by member."""
    bars = synthetic_bars(roots=1)
    cut = pd.Timestamp("2017-09-01")
    later = pd.to_datetime(bars["trade_date"]) >= cut
    shocked = bars.copy()
    for column in ("open_adj", "high_adj", "low_adj", "close_adj"):
        shocked.loc[later, column] *= np.exp(np.linspace(0, 0.8, later.sum()))
    shocked.loc[later, "log_return_1d"] = np.r_[np.nan, np.diff(np.log(shocked["close_adj"]))][later.to_numpy()]
    refits = refit_dates("2016-01-01", "2019-06-30", 126)
    members = {m: registry()[m] for m in (*FAST, "garch_t", "vol_avg")}
    a = walk_root(price_frame(bars, HORIZONS, 0.94), members, 21, refits, "2019-06-30")
    b = walk_root(price_frame(shocked, HORIZONS, 0.94), members, 21, refits, "2019-06-30")
    before = a["as_of_date"] < cut
    assert before.sum() > 300 and (~before).sum() > 300
    for member in members:
        cols = columns_of(member)
        np.testing.assert_allclose(a.loc[before, cols].to_numpy(), b.loc[before, cols].to_numpy(), err_msg=member)
        assert not np.allclose(a.loc[~before, cols].to_numpy(), b.loc[~before, cols].to_numpy()), member
    # training never reaches the refit date: each row's forecast comes from the last refit at or before it
    assert (a["as_of_date"].to_numpy() >= refits[a["refit"].to_numpy()].to_numpy()).all()


def test_newey_west_matches_statsmodels_hac():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    x = np.convolve(rng.standard_normal(600), np.ones(10), mode="valid")
    fit = sm.OLS(x, np.ones(len(x))).fit(cov_type="HAC", cov_kwds={"maxlags": 20, "use_correction": False})
    assert newey_west_se(x, 20) == pytest.approx(float(fit.bse[0]), rel=1e-10)


def _warehouse(path, bars: pd.DataFrame) -> str:
    db = str(path / "panel.duckdb")
    with duckdb.connect(db) as con:
        con.execute("create schema intermediate")
        con.register("bars", bars)
        con.execute("create table intermediate.int_futures__continuous as select * from bars")
    return db


def test_command_writes_the_tables_for_every_root(tmp_path):
    db = _warehouse(tmp_path, synthetic_bars(roots=3))
    settings = PanelSettings("2017-01-01", "2019-06-30", refit_every=126, warmup_years=2)
    out = tmp_path / "out"
    evidence = tmp_path / "evidence.csv"
    run_panel_command(db, out, settings, members=list(FAST), evidence=evidence, horizons=HORIZONS, ewma_lambda=0.94)
    metrics = pd.read_csv(out / "panel_metrics.csv")
    summary = pd.read_csv(out / "panel_summary.csv")
    wanted = {"root", "horizon", "n", "coverage80", "coverage80_se", "q10_hit", "q90_hit", "skill", "skill_se"}
    wanted.add("served")
    assert wanted <= set(metrics.columns)
    assert sorted(metrics["root"].unique()) == ["R0", "R1", "R2"] and set(metrics["horizon"]) == set(HORIZONS)
    assert (metrics["n"] > 400).all() and metrics["coverage80_se"].gt(0).all()
    assert set(summary["horizon"]) == set(HORIZONS) and (summary["roots"] == 3).all()
    # pooled rates are of the pooled daily series: between the roots' own rates
    for _, row in summary.iterrows():
        own = metrics.loc[metrics["horizon"] == row["horizon"], "coverage80"]
        assert own.min() - 0.02 <= row["coverage80"] <= own.max() + 0.02
    written = pd.read_csv(evidence)
    assert set(written["horizon"]) == set(HORIZONS) and written["generated_by"].str.startswith("cbi panel").all()


def test_command_names_a_missing_root_and_leaves_out_a_short_one(tmp_path, caplog):
    bars = synthetic_bars(roots=2)
    short = synthetic_bars(seed=5, roots=1, start="2016-06-01").assign(root="NEW")
    db = _warehouse(tmp_path, pd.concat([bars, short], ignore_index=True))
    settings = PanelSettings("2017-01-01", "2019-06-30", refit_every=126, warmup_years=2)
    with pytest.raises(ValueError, match=r"no futures bars for root\(s\) \['ZZ'\].*holds \['NEW', 'R0', 'R1'\]"):
        run_panel_command(db, tmp_path, settings, roots=["R0", "ZZ"], horizons=HORIZONS, ewma_lambda=0.94)
    with caplog.at_level(logging.WARNING):
        result = run_panel_command(
            db, tmp_path / "o", settings, members=["rw_ewma", "range_ewma"], horizons=HORIZONS, ewma_lambda=0.94
        )
    assert "root NEW left out" in caplog.text
    assert sorted(result.metrics["root"].unique()) == ["R0", "R1"]


def test_cli_names_the_missing_root_and_the_missing_warehouse(tmp_path):
    import typer
    from typer.testing import CliRunner

    from cbi_ml.panel.cli import panel

    app = typer.Typer()
    app.command()(panel)
    app.callback()(lambda: None)
    db = _warehouse(tmp_path, synthetic_bars(roots=2))
    result = CliRunner().invoke(app, ["panel", "--db", db, "--out", str(tmp_path / "o"), "--roots", "R0,ZZ"])
    assert result.exit_code != 0 and "no futures bars for root(s) ['ZZ']" in str(result.exception)
    result = CliRunner().invoke(app, ["panel", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "does not exist" in str(result.exception)
