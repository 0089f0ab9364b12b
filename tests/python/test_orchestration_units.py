"""Orchestration pieces without a warehouse: monitors against hand-computed figures, the retrain gate, alerts
to a local webhook, schedules on trade dates, data quality classification."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from fake_webhook import Webhook

from orchestration import alerts, monitoring, quality, retrain
from orchestration.config import Thresholds

# --------------------------------------------------------------------------- alerts


@pytest.fixture
def webhook(monkeypatch):
    monkeypatch.setenv("CBI_ALERT_BACKOFF", "0.01")
    with Webhook() as hook:
        monkeypatch.setenv("CBI_ALERT_WEBHOOK_URL", hook.url)
        yield hook


def test_an_alert_is_posted_as_slack_text_without_secrets(webhook, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", "sekrit-fred-key-123")
    alert = alerts.Alerter(job="daily_forecast", run_id="r1")
    assert alert("source_failed", "source fred failed", "HTTP 500 for ...?api_key=sekrit-fred-key-123&x=1")
    assert alert("source_failed", "source fred failed", "again") is False  # once per run
    (body,) = webhook.bodies
    assert body["text"].startswith("[CBI source_failed] source fred failed\njob daily_forecast, run r1")
    assert "sekrit" not in body["text"] and "api_key=***" in body["text"]


def test_a_failing_webhook_is_retried_with_backoff_and_never_raises(monkeypatch):
    monkeypatch.setenv("CBI_ALERT_BACKOFF", "0.01")
    with Webhook([500, 429, 200]) as hook:
        assert alerts.post_alert("[CBI drift] x", hook.url) is True
        assert len(hook.bodies) == 3
    with Webhook([503] * 10) as hook:
        assert alerts.post_alert("[CBI drift] x", hook.url) is False
        assert len(hook.bodies) == 4  # the first try and three retries
    with Webhook([400]) as hook:
        assert alerts.post_alert("[CBI drift] x", hook.url) is False
        assert len(hook.bodies) == 1  # a refusal is not retried
    assert alerts.post_alert("[CBI drift] x", "http://127.0.0.1:9/nothing-listens") is False


def test_without_a_webhook_alerts_are_only_logged(monkeypatch, caplog):
    monkeypatch.delenv("CBI_ALERT_WEBHOOK_URL", raising=False)
    assert alerts.Alerter()("drift", "psi_fx 0.4") is False
    assert "[CBI drift] psi_fx 0.4" in caplog.text


# --------------------------------------------------------------------------- monitors on a known frame

T = Thresholds(windows=(10,), min_rows=5)


def _known_outcomes() -> pd.DataFrame:
    dates = pd.bdate_range("2024-01-01", periods=12).date
    realised = np.array([100, 104, 96, 108, 100, 91, 100, 102, 99, 111, 100, 100], dtype=float)
    rows = []
    for d, y in zip(dates, realised, strict=True):
        rows.append(
            {
                "as_of_date": d,
                "horizon": "1d",
                "model": "final",
                "p10": 95.0,
                "p50": 100.0,
                "p90": 105.0,
                "realised_price": y,
            }
        )
        rows.append(
            {
                "as_of_date": d,
                "horizon": "1d",
                "model": "rw_ewma",
                "p10": 90.0,
                "p50": 100.0,
                "p90": 110.0,
                "realised_price": y,
            }
        )
    frame = pd.DataFrame(rows)
    frame["realised_return"] = np.log(frame["realised_price"] / 100.0)
    frame["var_95_ret"] = np.where(frame["model"] == "final", 0.05, np.nan)
    frame["var_99_ret"] = np.where(frame["model"] == "final", 0.085, np.nan)
    return frame


def _pinball(y: float, q: tuple[float, float, float]) -> float:
    return sum(max(a * (y - v), (a - 1) * (y - v)) for a, v in zip((0.1, 0.5, 0.9), q, strict=True)) / 3


def test_monitor_figures_equal_hand_computed_ones():
    known = _known_outcomes()
    forecasts = known.drop(columns=["realised_price", "realised_return"])
    realised = known[known["model"] == "final"][["as_of_date", "horizon", "realised_price", "realised_return"]]
    outcomes = monitoring.join_outcomes(forecasts, realised)
    figures = monitoring.forecast_metrics(outcomes, {"1d": 1}, T).set_index(["model", "metric"])["value"]

    window = known[known["as_of_date"].isin(sorted(known["as_of_date"].unique())[-10:])]
    y = window[window["model"] == "final"]["realised_price"].to_numpy()
    final = np.mean([_pinball(v, (95, 100, 105)) for v in y])
    walk = np.mean([_pinball(v, (90, 100, 110)) for v in y])
    assert figures["final", "pinball"] == pytest.approx(final)
    assert figures["rw_ewma", "pinball"] == pytest.approx(walk)
    assert figures["final", "pinball_ratio_rw"] == pytest.approx(final / walk)
    misses = int(np.sum((y < 95) | (y > 105)))  # 96 and 102 inside; 91, 108, 111 outside
    assert misses == 3
    assert figures["final", "coverage_80"] == pytest.approx(1 - misses / 10)
    lr = -2 * (
        (10 - misses) * math.log(0.8)
        + misses * math.log(0.2)
        - (10 - misses) * math.log(1 - misses / 10)
        - misses * math.log(misses / 10)
    )
    assert lr == pytest.approx(0.563351, rel=1e-5)
    # exact p-value: every count of misses but 2 (LR 0) is at least as extreme as 3 (LR(1) = 0.73, LR(4) = 2.09):
    # 1 - P(X = 2) = 1 - 45 * 0.2^2 * 0.8^8 (chi-square(1) would say 0.453)
    assert figures["final", "kupiec_p"] == pytest.approx(1 - 45 * 0.2**2 * 0.8**8)
    returns = np.log(y / 100)
    assert figures["final", "var95_breaches"] == int(np.sum(returns < -0.05)) == 1  # only 91
    assert figures["final", "var99_breaches"] == int(np.sum(returns < -0.085)) == 1
    assert figures["final", "basel_zone"] == 1  # 1 exception in 10 days at 99%: yellow (P(X <= 0) = 0.904 < 0.95)
    assert ("rw_ewma", "var95_breaches") not in figures.index  # VaR only where it was forecast


def _var_outcomes(days: int, horizon_days: int, returns: np.ndarray) -> pd.DataFrame:
    dates = pd.bdate_range("2024-01-01", periods=days).date
    frame = pd.DataFrame({"as_of_date": dates, "horizon": "h", "model": "final", "p10": 95.0, "p50": 100.0})
    frame["p90"], frame["realised_return"] = 105.0, returns
    frame["realised_price"] = 100.0 * np.exp(returns)
    frame["pinball"], frame["covered_80"] = 1.0, True
    frame["var_95_ret"], frame["var_99_ret"] = 0.05, 0.20
    return frame


def test_a_var_window_too_short_for_its_red_zone_to_mean_anything_warns_instead_of_alerting():
    # 63 overlapping 6m forecasts are one independent outcome: one 95% exception is Basel "red" there, which a
    # correct VaR gives 5% of the time (bench/monitor_replay.py found these the VaR alerts of calibrated forecasts)
    t = Thresholds(windows=(63,), min_rows=20)
    short = _var_outcomes(63, 126, np.full(63, -0.10))
    figures = monitoring.forecast_metrics(short, {"h": 126}, t).set_index("metric")
    assert figures.loc["var95_breaches", "value"] == 1 and figures.loc["var95_breaches", "threshold"] == 1
    assert not monitoring.red_means_wrong(1, 0.95, t.kupiec_p.alert)
    assert figures.loc["var95_breaches", "status"] == "warn"
    # the same share of exceptions over enough independent outcomes is a wrong VaR: it alerts
    long = _var_outcomes(63, 1, np.full(63, -0.10))
    figures = monitoring.forecast_metrics(long, {"h": 1}, t).set_index("metric")
    assert monitoring.red_means_wrong(63, 0.95, t.kupiec_p.alert)
    assert figures.loc["var95_breaches", "status"] == "alert"
    assert monitoring.red_means_wrong(250, 0.99, t.kupiec_p.alert)  # the Basel table's own window is judged


def test_only_the_served_forecast_alerts_the_members_warn():
    # the same figures for the served forecast and a member: a pinball ratio far above the limit and a
    # coverage Kupiec rejects; only `final` alerts (bench/monitor_replay.py: members ~3 alerts a month each group)
    known = _known_outcomes()
    member = known[known["model"] == "final"].assign(model="main", var_95_ret=np.nan, var_99_ret=np.nan)
    forecasts = pd.concat([known, member]).drop(columns=["realised_price", "realised_return"])
    forecasts.loc[forecasts["model"] != "rw_ewma", ["p10", "p50", "p90"]] = [120.0, 125.0, 130.0]
    realised = known[known["model"] == "final"][["as_of_date", "horizon", "realised_price", "realised_return"]]
    outcomes = monitoring.join_outcomes(forecasts, realised)
    figures = monitoring.forecast_metrics(outcomes, {"1d": 1}, T).set_index(["model", "metric"])
    for metric in ("pinball_ratio_rw", "kupiec_p"):
        assert figures.loc[("final", metric), "value"] == figures.loc[("main", metric), "value"]
        assert figures.loc[("final", metric), "status"] == "alert"
        assert figures.loc[("main", metric), "status"] == "warn"


def test_psi_and_drift_by_feature_group_on_known_shares():
    reference = np.arange(1000, dtype=float)
    assert monitoring.psi(reference, reference.copy()) == pytest.approx(0.0, abs=1e-12)
    everything_high = np.full(100, 995.0)  # all in the top decile
    expected = 0.9 * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert monitoring.psi(reference, everything_high) == pytest.approx(expected)

    dates = pd.bdate_range("2020-01-01", periods=363)  # 300 reference rows, then the 63-row current window
    matrix = pd.DataFrame(
        {"as_of_date": dates, "a": np.r_[np.arange(300.0), np.full(63, 1e6)], "b": np.tile(np.arange(10.0), 37)[:363]}
    )
    catalog = pd.DataFrame({"feature_name": ["a", "b"], "bucket": ["fx", "core"]})
    drift = monitoring.feature_drift(matrix, catalog, None, Thresholds()).set_index("metric")
    assert drift.loc["psi_fx", "status"] == "alert" and drift.loc["psi_fx", "value"] == pytest.approx(expected)
    assert drift.loc["psi_core", "status"] == "ok"


# --------------------------------------------------------------------------- champion / challenger


def _member_state(root: Path, member: str, run_id: str, error: float, seed: int) -> retrain.MemberState:
    """Saved models of a member whose out-of-fold quantiles are the truth's plus `error` noise."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2022-01-03", periods=300)
    y = np.random.default_rng(0).normal(0, 0.02, len(dates))
    centre = y * 0 + rng.normal(0, error, len(dates))
    frame = pd.DataFrame(
        {
            "as_of_date": dates,
            "horizon": "1w",
            "horizon_days": 5,
            "member": member,
            "fold": 0,
            "q10": centre - 0.0256,
            "q50": centre,
            "q90": centre + 0.0256,
            "y": y,
        }
    )
    folder = root / member / run_id
    (folder / "1w").mkdir(parents=True)
    frame.to_parquet(folder / "predictions.parquet")
    state = retrain.MemberState(
        run_id,
        datetime(2026, 11, 1),
        "fp",
        str(folder / "predictions.parquet"),
        {"1w": str(folder / "1w")},
        "2026-10-01",
    )
    from cbi_ml.members.artifacts import save_state

    save_state(root, member, state)
    return state


def test_the_gate_keeps_the_champion_when_the_challenger_is_worse_and_promotes_a_better_one(tmp_path):
    from cbi_ml.members.artifacts import load_serving, serving_state

    champion = _member_state(tmp_path, "main", "champ", error=0.005, seed=1)
    before = retrain.champions(tmp_path, ["main"])
    assert before["main"].model_run_id == "champ"
    _member_state(tmp_path, "main", "worse", error=0.03, seed=2)  # the retrain writes state.json
    (decision,) = retrain.decide(tmp_path, before, {"1w": 5}, noise_se=2.0)
    assert not decision.promote and "worse than the serving models beyond noise" in decision.reason
    assert decision.horizons[0]["ratio"] > 1 + 2 * decision.horizons[0]["se"]
    assert load_serving(tmp_path, "main").model_run_id == "champ"
    assert serving_state(tmp_path, "main", retrain.load_state(tmp_path, "main")).model_run_id == champion.model_run_id

    before = retrain.champions(tmp_path, ["main"])
    _member_state(tmp_path, "main", "better", error=0.001, seed=3)
    (decision,) = retrain.decide(tmp_path, before, {"1w": 5}, noise_se=2.0)
    assert decision.promote and decision.champion == "champ" and decision.challenger == "better"
    assert load_serving(tmp_path, "main").model_run_id == "better"


def test_the_first_models_of_a_member_serve_without_a_champion(tmp_path):
    before = retrain.champions(tmp_path, ["main"])
    assert before == {"main": None}
    _member_state(tmp_path, "main", "first", error=0.01, seed=1)
    (decision,) = retrain.decide(tmp_path, before, {"1w": 5}, noise_se=2.0)
    assert decision.promote and decision.reason == "no champion: first models"


# --------------------------------------------------------------------------- schedules


def _tick(schedule_def, when: datetime):
    from dagster import build_schedule_context

    with build_schedule_context(scheduled_execution_time=when) as context:
        return schedule_def.evaluate_tick(context)


def test_schedules_fire_on_cme_trade_dates_only():
    from orchestration.definitions import SCHEDULES

    chicago = ZoneInfo("America/Chicago")
    by_name = {s.name: s for s in SCHEDULES}
    daily = by_name["daily_forecast_schedule"]
    assert daily.execution_timezone == "America/Chicago"
    fired = {
        day: bool(_tick(daily, datetime.combine(day, datetime.min.time(), chicago).replace(hour=18)).run_requests)
        for day in (date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28), date(2026, 12, 25))
    }
    # Thanksgiving and Christmas are CME holidays, the 28th a Saturday; the day after Thanksgiving trades
    assert fired == {
        date(2026, 11, 25): True,
        date(2026, 11, 26): False,
        date(2026, 11, 27): True,
        date(2026, 11, 28): False,
        date(2026, 12, 25): False,
    }
    skipped = _tick(daily, datetime(2026, 11, 26, 18, tzinfo=chicago))
    assert "2026-11-26 is not a CME trade date" in skipped.skip_message
    quality_tick = _tick(by_name["data_quality_schedule"], datetime(2026, 1, 19, 9, 15, tzinfo=chicago))  # MLK day
    assert not quality_tick.run_requests
    weekly = _tick(by_name["weekly_retrain_schedule"], datetime(2026, 11, 29, 2, tzinfo=chicago))
    assert weekly.run_requests[0].run_key == "weekly_retrain-2026-11-29"


# --------------------------------------------------------------------------- data quality


def test_dbt_results_become_six_dimension_rows():
    nodes = {
        "test.cbi.unique_x.1": {
            "name": "unique_x",
            "test_metadata": {"name": "unique"},
            "attached_node": "model.cbi.x",
        },
        "test.cbi.null_rate_below_x.2": {
            "name": "nr",
            "test_metadata": {"name": "null_rate_below"},
            "attached_node": "model.cbi.x",
        },
        "test.cbi.assert_cvar.3": {"name": "assert_cvar", "depends_on": {"nodes": ["model.cbi.zl_risk"]}},
    }
    results = {
        "results": [
            {"unique_id": "test.cbi.unique_x.1", "status": "pass", "failures": 0, "message": None},
            {"unique_id": "test.cbi.null_rate_below_x.2", "status": "fail", "failures": 3, "message": "3 rows"},
            {"unique_id": "test.cbi.assert_cvar.3", "status": "warn", "failures": 1, "message": "1 row"},
            {"unique_id": "model.cbi.x", "status": "success"},
        ]
    }
    rows = quality.from_test_results(results, nodes).set_index("check_name")
    assert rows.loc["unique_x", ["dimension", "status"]].tolist() == ["uniqueness", "ok"]
    assert rows.loc["nr", ["dimension", "status", "observed"]].tolist() == ["completeness", "alert", 3.0]
    assert rows.loc["assert_cvar", ["dimension", "status", "target"]].tolist() == ["consistency", "warn", "zl_risk"]
    fresh = quality.from_freshness(
        {
            "results": [
                {
                    "unique_id": "source.cbi.fred.fred_observations",
                    "status": "error",
                    "max_loaded_at": "2023-12-29",
                    "max_loaded_at_time_ago_in_s": 7200.0,
                    "criteria": {"error_after": {"count": 10, "period": "day"}},
                }
            ]
        }
    )
    assert fresh.iloc[0][["dimension", "target", "status", "observed", "threshold"]].tolist() == [
        "freshness",
        "fred.fred_observations",
        "alert",
        2.0,
        240.0,
    ]
    runs = pd.DataFrame(
        {
            "source": ["fred", "fred", "cftc"],
            "status": ["success", "failed", "failed"],
            "started_at": pd.to_datetime(["2026-11-30 10:00", "2026-11-30 11:00", "2026-11-30 11:00"]),
            "finished_at": pd.to_datetime(["2026-11-30 10:01", "2026-11-30 11:01", "2026-11-30 11:01"]),
        }
    )
    timely = quality.timeliness(runs, datetime(2026, 11, 30, 12, 1), 30.0).set_index("target")
    assert timely.loc["fred", ["status", "observed"]].tolist() == ["warn", 2.0]  # loaded 2h ago, latest try failed
    assert timely.loc["cftc", "status"] == "alert"  # never loaded


# --------------------------------------------------------------------------- scale-out settings


def test_the_weekly_run_hands_its_ray_address_to_the_dbt_process(monkeypatch):
    import os

    from orchestration.assets.dbt import ray_environment
    from orchestration.runs import run_config

    weekly = run_config("weekly_retrain", 0.0, ray_address="ray://head:10001")["ops"]["cbi_dbt"]["config"]
    assert weekly["ray_address"] == "ray://head:10001" and weekly["retrain"] == "always"
    monkeypatch.delenv("CBI_RAY_ADDRESS", raising=False)
    with ray_environment("") as address:
        assert address is None and "CBI_RAY_ADDRESS" not in os.environ  # serial: nothing set
    with ray_environment("local") as address:
        assert address == os.environ["CBI_RAY_ADDRESS"] == "local"
    assert "CBI_RAY_ADDRESS" not in os.environ
    monkeypatch.setenv("CBI_RAY_ADDRESS", "auto")
    with ray_environment("") as address:
        assert address == "auto"
    with ray_environment("ray://head:10001"):
        assert os.environ["CBI_RAY_ADDRESS"] == "ray://head:10001"
    assert os.environ["CBI_RAY_ADDRESS"] == "auto"


def test_the_orchestrated_sources_are_all_a_chosen_few_or_none(monkeypatch):
    from ingest.sources import CONNECTORS
    from orchestration.sources import selected_sources

    monkeypatch.delenv("CBI_ORCHESTRATED_SOURCES", raising=False)
    assert selected_sources() == tuple(CONNECTORS)
    monkeypatch.setenv("CBI_ORCHESTRATED_SOURCES", "fred, cftc")
    assert selected_sources() == ("fred", "cftc")
    monkeypatch.setenv("CBI_ORCHESTRATED_SOURCES", "none")  # every source loads on the shared warehouse
    assert selected_sources() == ()
    monkeypatch.setenv("CBI_ORCHESTRATED_SOURCES", "fred,bloomberg")
    with pytest.raises(ValueError, match="bloomberg"):
        selected_sources()


def test_the_production_budget_has_one_home_that_the_docs_and_every_retrain_read():
    import re

    from orchestration.assets.dbt import DbtBuildConfig, dbt_vars
    from orchestration.config import PRODUCTION_BUDGET, retrain_config
    from orchestration.definitions import RETRAIN_CONFIG
    from orchestration.runs import run_config

    weekly = run_config("weekly_retrain", 0.0)["ops"]["cbi_dbt"]["config"]
    assert weekly == RETRAIN_CONFIG == retrain_config()  # `cbi run weekly` and the schedule: the same config
    assert weekly["budget"] == PRODUCTION_BUDGET
    custom = run_config("weekly_retrain", 0.0, budget={"time_limit_s": 7})["ops"]["cbi_dbt"]["config"]
    assert custom["budget"] == {"time_limit_s": 7}
    # the one serialisation on the way to dbt: the run's settings as dbt's --vars, types kept
    ml = json.loads(dbt_vars(DbtBuildConfig(**custom)))["cbi_ml"]
    assert ml["time_limit_s"] == 7 and ml["retrain"] == "always" and Path(ml["artifacts_dir"]).is_absolute()
    table = (Path(__file__).resolve().parents[2] / "docs" / "methodology.md").read_text()
    documented = dict(re.findall(r"^\| `(\w+)` \| [^|]*\| `?([^`|( ]+)", table, re.MULTILINE))  # production column
    documented["oof_folds"] = re.search(r"^\| `oof_folds` x `oof_block` \|[^|]*\| (\d+) x", table, re.MULTILINE)[1]
    assert {key: documented.get(key) for key in PRODUCTION_BUDGET} == {k: str(v) for k, v in PRODUCTION_BUDGET.items()}
