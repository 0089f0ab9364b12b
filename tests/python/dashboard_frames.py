"""Small frames with exactly the schemas the dashboard reads (forecasts/ml tables as dbt builds them, the ops tables
of INTERFACES.md §3, the backtest tables of cbi_ml/evaluation/backtest_store.py), for the pure page tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from cbi_ml.members.registry import daily_members
from dashboard.data import WarehouseData

AS_OF = pd.Timestamp("2024-06-28")
HORIZONS = {"1w": 5, "1m": 21, "3m": 63, "6m": 126}
BUCKETS = ("crush", "china", "fx", "fed", "tariff", "biofuel", "energy", "volatility")
_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
#: The project's L0 members (sixteen today): the member registry's daily members, a specialist per `cbi_buckets`.
MEMBERS = tuple(daily_members(list(_VARS["cbi_buckets"])))


def market() -> pd.DataFrame:
    dates = pd.bdate_range("2021-01-04", AS_OF)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"as_of_date": dates, "zl_close_cents_per_lb": 50 * np.exp(np.cumsum(rng.normal(0, 0.01, len(dates))))}
    )
    for i, b in enumerate(BUCKETS):
        frame[f"{b}_score"] = (np.arange(len(dates)) * (i + 1)) % 100.0
    return frame


def predictions(close: float) -> pd.DataFrame:
    rows = []
    for i, (h, d) in enumerate(HORIZONS.items()):
        q = np.array([-0.05, 0.001, 0.05]) * (i + 1)
        rows.append(
            {
                "as_of_date": AS_OF,
                "horizon": h,
                "horizon_days": d,
                "target_date": AS_OF + pd.offsets.BDay(d),
                "q10": q[0],
                "q50": q[1],
                "q90": q[2],
                "price_q10": close * np.exp(q[0]),
                "price_q50": close * np.exp(q[1]),
                "price_q90": close * np.exp(q[2]),
                "forecast_method": "rw_ewma",
                "model_run_id": "final-abc123",
                "trained_at": pd.Timestamp("2024-06-28 22:00"),
            }
        )
    return pd.DataFrame(rows)


def risk(close: float) -> pd.DataFrame:
    rows = []
    for i, (h, d) in enumerate(HORIZONS.items()):
        row = {"as_of_date": AS_OF, "horizon": h, "horizon_days": d, "n_draws": 10000, "close_cents_per_lb": close}
        for level, base in (("95", 0.04), ("99", 0.06)):
            for kind, extra in (("var", 0.0), ("cvar", 0.01)):
                ret = (base + extra) * (i + 1)
                row[f"{kind}_{level}_ret"] = ret
                row[f"{kind}_{level}_price"] = close * np.exp(-ret)
                row[f"{kind}_{level}_usd_per_contract"] = (close - close * np.exp(-ret)) * 600
        row["model_run_id"] = "final-abc123"
        rows.append(row)
    return pd.DataFrame(rows)


def scenarios(close: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for h, d in HORIZONS.items():
        r = rng.normal(0, 0.02 * np.sqrt(d / 5), 200)
        rows.append(
            pd.DataFrame(
                {
                    "as_of_date": AS_OF,
                    "horizon": h,
                    "horizon_days": d,
                    "scenario": np.arange(200),
                    "log_return": r,
                    "price_cents_per_lb": close * np.exp(r),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def oof_final(mkt: pd.DataFrame) -> pd.DataFrame:
    dates = mkt["as_of_date"].iloc[-300:-130]
    rows = []
    for h, d in HORIZONS.items():
        rows.append(
            pd.DataFrame(
                {
                    "as_of_date": dates.to_numpy(),
                    "horizon": h,
                    "horizon_days": d,
                    "fold": 0,
                    "q10": -0.05,
                    "q50": 0.0,
                    "q90": 0.05,
                    "y": np.linspace(-0.1, 0.1, len(dates)),
                    "source": "rw_ewma",
                    "target_date": (dates + pd.offsets.BDay(d)).to_numpy(),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def forecast_outcomes() -> pd.DataFrame:
    """ops.forecast_outcomes: two final 1m forecasts, one realised inside P10-P90 and one above it."""
    return pd.DataFrame(
        {
            "as_of_date": pd.to_datetime(["2024-04-01", "2024-04-02", "2024-04-01"]).date,
            "horizon": ["1m", "1m", "1m"],
            "target_date": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-01"]).date,
            "model": ["final", "final", "rw_ewma"],
            "p10": [40.0, 41.0, 40.0],
            "p50": [44.0, 45.0, 44.0],
            "p90": [48.0, 49.0, 48.0],
            "realised_price": [46.0, 52.0, 46.0],
            "pinball": [0.01, 0.03, 0.01],
            "covered_80": [True, False, True],
            "evaluated_at": pd.Timestamp("2024-06-28 23:00"),
        }
    )


def model_monitoring() -> pd.DataFrame:
    rows = []
    for run, when in (("mon-1", "2024-06-27 23:00"), ("mon-2", "2024-06-28 23:00")):
        for h in ("1w", "1m"):
            for metric, value, threshold, status in (
                ("pinball", 0.012, 0.02, "ok"),
                ("pinball_ratio_rw", 1.01, 1.1, "ok"),
                ("coverage_80", 0.7 if run == "mon-2" else 0.8, 0.7, "warn" if run == "mon-2" else "ok"),
                ("kupiec_p", 0.2, 0.05, "ok"),
            ):
                rows.append(
                    {
                        "run_id": run,
                        "evaluated_at": pd.Timestamp(when),
                        "horizon": h,
                        "model": "final",
                        "window_days": 63,
                        "metric": metric,
                        "value": value,
                        "threshold": threshold,
                        "status": status,
                    }
                )
    frame = pd.DataFrame(rows)
    frame["window_days"] = frame["window_days"].astype("int32")
    return frame


def data_quality() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["q-1", "q-2", "q-2", "q-2"],
            "checked_at": pd.to_datetime(
                ["2024-06-28 10:00", "2024-06-28 11:00", "2024-06-28 11:00", "2024-06-28 11:00"]
            ),
            "dimension": ["freshness", "freshness", "validity", "uniqueness"],
            "check_name": ["futures_fresh", "futures_fresh", "brl_price_positive", "matrix_one_row_per_day"],
            "target": [
                "raw.futures_daily",
                "raw.futures_daily",
                "features.core_macro_fx",
                "features.daily_ml_matrix_zl",
            ],
            "status": ["pass", "warn", "pass", "fail"],
            "observed": [1.0, 3.0, 0.0, 2.0],
            "threshold": [2.0, 2.0, 0.0, 0.0],
            "message": ["ok", "3 days old", "ok", "2 duplicate days <b>"],
        }
    )


def backtest_metrics() -> pd.DataFrame:
    rows = []
    for run, end in (("old", "2023-06-30"), ("new", "2024-06-30")):
        for h, d in HORIZONS.items():
            for model, ratio in (("final", 0.99), ("rw_ewma", 1.0), ("rw_empirical", 1.02), ("ensemble", 1.03)):
                rows.append(
                    {
                        "model": model,
                        "horizon": h,
                        "horizon_days": d,
                        "pinball_q10": 0.01,
                        "pinball_q50": 0.02,
                        "pinball_q90": 0.01,
                        "pinball_mean": 0.0133 * ratio,
                        "coverage_80": 0.79,
                        "width_80": 0.1,
                        "n": 500,
                        "baseline": "rw_ewma",
                        "skill_ratio": ratio,
                        "skill_ratio_se": 0.0 if model == "rw_ewma" else 0.01,
                        "dm_stat": 0.5,
                        "dm_pvalue": 0.6,
                        "verdict": "baseline" if model == "rw_ewma" else "no gain",
                        "first_date": pd.Timestamp("2016-01-04"),
                        "last_date": pd.Timestamp(end),
                        "run_key": run,
                        "start_date": "2016-01-01",
                        "end_date": end,
                        "refit_every": 63,
                        "members": "rw_ewma,rw_empirical,ag_timeseries",
                        "preset": "medium_quality",
                        "time_limit_s": "60",
                        "model_families": "('GBM',)",
                        "seed": "42",
                    }
                )
    return pd.DataFrame(rows)


def backtest_predictions() -> pd.DataFrame:
    dates = pd.bdate_range("2023-01-02", periods=200)
    rows = []
    for member in ("final", "rw_ewma"):
        for h, d in HORIZONS.items():
            # inside the interval on even days, outside on odd: a rolling coverage of 0.5
            y = np.where(np.arange(len(dates)) % 2 == 0, 0.0, 0.2)
            rows.append(
                pd.DataFrame(
                    {
                        "run_key": "new",
                        "as_of_date": dates,
                        "horizon": h,
                        "horizon_days": d,
                        "member": member,
                        "q10": -0.1,
                        "q50": 0.0,
                        "q90": 0.1,
                        "y": y,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def ingest_runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["r1", "r2", "r3", "r4"],
            "source": ["fred", "fred", "futures", "cftc"],
            "target_table": ["raw.fred_observations"] * 2 + ["raw.futures_daily", "raw.cftc_cot"],
            "started_at": pd.to_datetime(
                ["2024-06-27 10:00", "2024-06-28 10:00", "2024-06-28 09:00", "2024-06-28 08:00"]
            ),
            "finished_at": pd.to_datetime(["2024-06-27 10:01", "2024-06-28 10:01", "2024-06-28 09:30", None]),
            "rows_read": [10, 10, 100, 0],
            "rows_inserted": [10, 0, 100, 0],
            "rows_updated": [0, 0, 0, 0],
            "rows_rejected": [0, 0, 2, 0],
            "status": ["success", "failed", "partial", "failed"],
            "error": [None, "fred: HTTP 500 <script>alert(1)</script>", None, "cftc: timeout"],
        }
    )


def quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["r3", "r3"],
            "source": ["futures", "futures"],
            "target_table": ["raw.futures_daily"] * 2,
            "row_number": [5, 9],
            "field": ["close", "high"],
            "value": ["-1", "3"],
            "reason": ["price must be > 0", "high below low"],
            "record_json": ["{}", "{}"],
            "quarantined_at": pd.to_datetime(["2024-06-28 09:30", "2024-06-28 09:30"]),
        }
    )


def ensemble_weights() -> pd.DataFrame:
    """Every one of the sixteen members with a weight somewhere (the legend at its longest): at each horizon and
    quantile a different handful of members, the weights summing to one."""
    rows = []
    for h, (horizon, days) in enumerate(HORIZONS.items()):
        for k, level in enumerate((0.1, 0.5, 0.9)):
            slot = 3 * h + k
            chosen = [MEMBERS[(slot + 5 * j) % len(MEMBERS)] for j in range(4)]
            for member, weight in zip(chosen, (0.4, 0.3, 0.2, 0.1), strict=True):
                rows.append(
                    {
                        "horizon": horizon,
                        "horizon_days": days,
                        "quantile_level": level,
                        "member": member,
                        "weight": weight,
                        "member_pinball": 0.01 + 0.001 * slot,
                        "ensemble_pinball": 0.0099 + 0.001 * slot,
                        "n_rows": 252,
                    }
                )
    return pd.DataFrame(rows)


def populated() -> WarehouseData:
    mkt = market()
    close = float(mkt["zl_close_cents_per_lb"].iloc[-1])
    frames = {
        "predictions": predictions(close),
        "risk": risk(close),
        "scenarios": scenarios(close),
        "market": mkt,
        "oof_final": oof_final(mkt),
        "ensemble_weights": ensemble_weights(),
        "feature_importance": pd.DataFrame(
            {
                "member": ["main", "main", "spec_crush"],
                "horizon": ["1w", "1w", "1w"],
                "horizon_days": [5, 5, 5],
                "feature_group": ["core", "crush", "crush"],
                "importance": [0.002, 0.001, 0.003],
                "stddev": [0.0005, 0.0004, 0.0002],
                "n_rows": [126, 126, 126],
                "model_run_id": ["m1", "m1", "m2"],
            }
        ),
        "leaderboard": pd.DataFrame(
            {
                "member": ["main", "main"],
                "horizon": ["1w", "1w"],
                "horizon_days": [5, 5],
                "model": ["LightGBM", "WeightedEnsemble_L2"],
                "score_val": [-0.41, -0.40],
                "fit_time": [3.2, 0.1],
                "pred_time_val": [0.05, 0.06],
                "model_run_id": ["m1", "m1"],
            }
        ),
        "backtest_metrics": backtest_metrics(),
        "backtest_predictions": backtest_predictions(),
        "forecast_outcomes": forecast_outcomes(),
        "model_monitoring": model_monitoring(),
        "data_quality": data_quality(),
        "ingest_runs": ingest_runs(),
        "quarantine": quarantine(),
    }
    return WarehouseData(frames, pd.Timestamp("2024-06-28 23:30").to_pydatetime(), "test.snapshot.duckdb")


def empty_warehouse() -> WarehouseData:
    """Nothing built yet: every table missing."""
    from dashboard.data import QUERIES

    return WarehouseData({name: None for name in QUERIES}, None, "", [t for t, _ in QUERIES.values()])
