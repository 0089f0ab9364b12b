"""`cbi backtest` on the small built warehouse: purged refits, scores recomputable from the stored predictions,
every layer and the three reference baselines on the same rows, and a resumable run."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import query
from rich.console import Console

from cbi_ml.evaluation import backtest
from cbi_ml.evaluation.backtest_command import run_backtest_command

pytestmark = pytest.mark.dbt

# five refits: the stacker and the ensemble learn only from earlier refits, so each needs some behind it
START, END, REFIT = "2020-07-01", "2022-12-29", 126  # 630 trade dates: five refits of 126


def run(db: Path, report: Path) -> tuple[pd.DataFrame, str]:
    console = Console(record=True, width=220)
    scored = run_backtest_command(
        str(db), START, END, REFIT, None, 15, "rw_empirical,rw_ewma,har", report, console, families="GBM"
    )
    return scored, console.export_text()


@pytest.fixture(scope="module")
def backtested(built_features, tmp_path_factory):
    work = tmp_path_factory.mktemp("backtest")
    db = work / "cbi.duckdb"
    db.write_bytes(built_features.read_bytes())
    scored, text = run(db, work / "report.html")
    return db, work, scored, text


def test_every_refit_trains_only_on_labels_known_before_it(built_features, monkeypatch, ml_defaults):
    matrix = query(built_features, "select * from features.daily_ml_matrix_zl")
    catalog = query(built_features, "select * from features.feature_catalog")
    dates = pd.to_datetime(matrix.sort_values("as_of_date")["as_of_date"]).reset_index(drop=True)
    calls = []
    real = backtest.predict_block

    def spy(member, frame, features, days, train, test, cfg, path):
        calls.append((member, days, train.copy(), test.copy()))
        return real(member, frame, features, days, train, test, cfg, path)

    monkeypatch.setattr(backtest, "predict_block", spy)
    stored = {}
    backtest.replay_members(
        matrix, catalog, ml_defaults, ["rw_ewma", "har"], START, END, REFIT, set(), stored.__setitem__
    )
    refits = backtest.refit_positions(dates, START, END, REFIT)
    assert len(refits) == 5 and sorted(stored) == list(range(5))
    assert calls
    for _, days, train, test in calls:
        first_test = test.min()
        refit = max(r for r in refits if r <= first_test)
        assert train.max() + days < refit  # the label of every training row was known at the refit
        assert first_test >= refit  # and forecasts start at the refit, never before


def test_backtest_scores_every_layer_and_the_reference_baselines(backtested):
    _, _, scored, text = backtested
    expected = {"final", "ensemble", "stack", "rw_empirical", "rw_ewma", "har", "ag_timeseries"}
    for horizon, part in scored.groupby("horizon"):
        assert set(part["model"]) >= expected, horizon
        full = part[part["model"].isin(expected)]
        assert full["n"].nunique() == 1 and full["n"].iloc[0] > 100  # everyone scored on the same rows
        assert (part["n"] <= full["n"].iloc[0]).all()  # `calibrated`, if it waits for outcomes, on fewer of them
        base = part[part["verdict"] == "baseline"]
        assert len(base) == 1 and base["model"].iloc[0] in ("rw_empirical", "rw_ewma")
        assert base["skill_ratio"].iloc[0] == pytest.approx(1.0)
        others = part[part["verdict"] != "baseline"]
        estimable = others["skill_ratio_se"].notna()
        # zero only for a model whose every loss equals the baseline's (a final forecast that chose it throughout)
        same = others["skill_ratio"] == 1.0
        assert (others.loc[estimable & ~same, "skill_ratio_se"] > 0).all()
        assert (others.loc[~estimable, "verdict"] == "too few rows").all()  # fewer than two h-day blocks
    assert scored.loc[scored["horizon"] == "1w", "skill_ratio_se"].notna().sum() >= 6
    columns = {"pinball_mean", "pinball_q10", "pinball_q50", "pinball_q90", "coverage_80", "width_80", "dm_pvalue"}
    assert columns <= set(scored.columns)
    assert "walk-forward backtest" in text and "ag_timeseries" in text


def test_stored_predictions_reproduce_the_scores(backtested):
    db, _, scored, _ = backtested
    rows = query(db, "select * from ml.backtest_predictions where member = 'rw_ewma' and horizon = '1m'")
    metrics = query(db, "select * from ml.backtest_metrics where model = 'rw_ewma' and horizon = '1m'")
    part = scored[scored["horizon"] == "1m"]
    common = rows[
        rows["as_of_date"].between(
            *query(db, "select min(first_date), max(last_date) from ml.backtest_metrics where horizon = '1m'").iloc[0]
        )
    ]
    assert len(common) == int(part["n"].iloc[0])
    y = common["y"].to_numpy()
    by_hand = []
    for column, level in (("q10", 0.1), ("q50", 0.5), ("q90", 0.9)):
        diff = y - common[column].to_numpy()
        by_hand.append(np.mean(np.maximum(level * diff, (level - 1) * diff)))
    assert metrics["pinball_q10"].iloc[0] == pytest.approx(by_hand[0])
    assert metrics["pinball_mean"].iloc[0] == pytest.approx(np.mean(by_hand))
    inside = (y >= common["q10"]) & (y <= common["q90"])
    assert metrics["coverage_80"].iloc[0] == pytest.approx(inside.mean())


def test_every_scored_layer_is_stored(backtested):
    db, _, scored, _ = backtested
    stored = query(db, "select distinct member, horizon from ml.backtest_predictions where refit = -1")
    layers = scored[scored["model"].isin(backtest.LAYERS)]
    assert set(zip(stored["member"], stored["horizon"], strict=True)) == set(
        zip(layers["model"], layers["horizon"], strict=True)
    )
    assert "calibrated" in set(stored["member"])  # scored, and now stored beside the other layers


def test_report_is_written(backtested):
    _, work, _, _ = backtested
    html = (work / "report.html").read_text()
    assert "coverage" in html.lower() and "pinball" in html.lower() and "plotly" in html.lower()


def test_an_interrupted_backtest_resumes_from_the_last_completed_refit(backtested):
    db, work, scored, _ = backtested
    with duckdb.connect(str(db)) as con:
        before = con.sql("select * from ml.backtest_predictions where refit >= 0 order by all").df()
        key = before["run_key"].iloc[0]
        # an interruption during the second refit: its rows never committed
        con.execute("delete from ml.backtest_predictions where run_key = ? and refit = 1", [key])
    again, text = run(db, work / "report2.html")
    assert "resuming run" in text and "4 refit(s) already done" in text
    after = query(db, "select * from ml.backtest_predictions where refit >= 0 order by all")
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after.reset_index(drop=True))  # no duplicates
    pd.testing.assert_frame_equal(
        scored[["model", "horizon", "pinball_mean"]].reset_index(drop=True),
        again[["model", "horizon", "pinball_mean"]].reset_index(drop=True),
    )


def test_var_backtest_is_stored_printed_and_reported(backtested):
    """The risk layer's VaR (split Student-t through P10/P50/P90) checked against the stored outcomes."""
    from scipy.special import xlogy
    from scipy.stats import binom
    from scipy.stats import t as student_t

    db, work, _, text = backtested
    stored = query(db, "select * from ml.backtest_var where model = 'rw_ewma' and horizon = '1m'")
    assert set(stored["level"]) == {0.95, 0.99}
    rows = query(
        db,
        "select * from ml.backtest_predictions where member = 'rw_ewma' and horizon = '1m' and y is not null "
        "and refit >= 0 order by as_of_date",
    )
    all_dates = query(db, "select distinct as_of_date from ml.backtest_predictions where horizon = '1m'")
    assert len(all_dates) == len(rows)  # the baseline predicts every backtest date: every 21st row is one window
    z90 = student_t.ppf(0.9, 5)
    for level in (0.95, 0.99):
        quantile = rows["q50"] + (rows["q50"] - rows["q10"]) / z90 * student_t.ppf(1 - level, 5)  # by hand
        hits = (rows["y"] < quantile).to_numpy()[::21]
        row = stored[stored["level"] == level].iloc[0]
        assert (row["n"], row["exceptions"]) == (len(hits), hits.sum())
        x, n, p = hits.sum(), len(hits), 1 - level
        k = np.arange(n + 1)
        lr = -2 * (xlogy(n - k, 1 - p) + xlogy(k, p) - xlogy(n - k, 1 - k / n) - xlogy(k, k / n))
        # exact p-value: the binomial mass of every count whose LR is at least the observed one
        assert row["kupiec_p"] == pytest.approx(binom.pmf(k, n, p)[lr >= lr[x] - 1e-9].sum())
        yellow, red = (int(np.argmax(binom.cdf(k, n, p) >= bound - 1e-12)) for bound in (0.95, 0.9999))
        assert row["zone"] == ("red" if x >= red else "yellow" if x >= yellow else "green")
    assert "VaR backtest" in text and "Kupiec p" in text
    html = (work / "report.html").read_text()
    assert "VaR backtest" in html and "Christoffersen" in html and "traffic light" in html
    assert "Newey-West" not in html  # the DM note describes the test the code runs (EWC, fixed-smoothing t)
