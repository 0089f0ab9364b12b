"""Monitors that do not cry wolf: a persistent feature that does not change its process stays inside the band
of its own history (the fixed PSI band alerted on it every day), a real break still alerts; an alert goes out once
per incident and says which feature group, by how much, since when and what to do. Pure Python."""

from __future__ import annotations

import numpy as np
import pandas as pd

from orchestration import monitor_alerts, monitoring
from orchestration.config import Thresholds

T = Thresholds()


def persistent_matrix(rows: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features as slow as CBI's (trailing ranks, levels): AR(1) with phi 0.995, the same process throughout."""
    rng = np.random.default_rng(seed)
    data = {}
    for name in ("f1", "f2", "f3"):
        x = np.zeros(rows)
        for i in range(1, rows):
            x[i] = 0.995 * x[i - 1] + rng.normal()
        data[name] = x
    matrix = pd.DataFrame({"as_of_date": pd.bdate_range("2010-01-04", periods=rows), **data})
    catalog = pd.DataFrame({"feature_name": ["f1", "f2", "f3"], "bucket": ["fx", "fx", "fx"]})
    return matrix, catalog


def test_a_persistent_feature_without_a_break_stays_inside_its_own_band_where_the_fixed_band_alerted():
    matrix, catalog = persistent_matrix()
    train_end = pd.Timestamp(matrix["as_of_date"].iloc[-127])
    row = monitoring.feature_drift(matrix, catalog, train_end, T).set_index("metric").loc["psi_fx"]
    assert row["value"] > T.psi.alert  # the old rule: alert, on a process that did not change
    assert row["threshold"] > T.psi.alert and row["status"] != "alert"
    assert row["detail"].startswith("most moved: f")


def test_a_real_break_still_alerts_and_names_the_feature_and_its_shift():
    matrix, catalog = persistent_matrix()
    matrix.loc[matrix.index[-63:], ["f1", "f2", "f3"]] += 1e4  # a unit change in the group's source
    train_end = pd.Timestamp(matrix["as_of_date"].iloc[-127])
    row = monitoring.feature_drift(matrix, catalog, train_end, T).set_index("metric").loc["psi_fx"]
    assert row["status"] == "alert"
    assert row["detail"].startswith("most moved: f") and "SD)" in row["detail"] and "of 3 feature(s)" in row["detail"]


def rows(status: str, value: float = 3.2) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "horizon": "all",
                "model": "features",
                "window_days": 63,
                "metric": "psi_fx",
                "value": value,
                "threshold": 1.5,
                "status": status,
                "detail": "most moved: dxy_rank (PSI 7.10, mean +2.3 SD) of 10 feature(s)",
            },
            {
                "horizon": "1w",
                "model": "main",
                "window_days": 63,
                "metric": "pinball_ratio_rw",
                "value": 1.31,
                "threshold": 1.15,
                "status": "ok",
                "detail": None,
            },
        ]
    )


def test_one_alert_per_incident_that_says_what_by_how_much_since_when_and_what_to_do():
    none = pd.DataFrame(columns=[*monitor_alerts.KEY, "status"])
    first = monitor_alerts.new_alerts(rows("alert"), none, "2024-06-28")
    assert list(first) == ["drift"]
    (line,) = first["drift"]
    assert line.startswith("feature group fx: PSI 3.20 above its alert limit 1.50, since 2024-06-28; most moved:")
    title, text = monitor_alerts.message("drift", first["drift"])
    assert title == "1 monitor(s) entered alert (drift)" and "What to do: " in text
    assert "NaT" not in text and "nan" not in text and "Traceback" not in text

    still = monitor_alerts.new_alerts(rows("alert", 3.4), rows("alert")[monitor_alerts.KEY + ["status"]], "x")
    assert still == {}  # the same incident: no second alert
    again = monitor_alerts.new_alerts(rows("alert"), rows("warn")[monitor_alerts.KEY + ["status"]], "2024-07-30")
    assert list(again) == ["drift"] and "since 2024-07-30" in again["drift"][0]  # it cleared, then came back


def test_a_model_alert_names_the_model_horizon_ratio_and_window():
    frame = rows("ok")
    frame.loc[1, "status"] = "alert"
    alerts = monitor_alerts.new_alerts(frame, pd.DataFrame(columns=[*monitor_alerts.KEY, "status"]), "2024-06-28")
    assert alerts == {
        "pinball": [
            "main 1w: pinball loss 1.31x the better random walk's over the last 63 forecasts (limit 1.15), "
            "since 2024-06-28"
        ]
    }


def test_the_vectorised_psi_equals_the_scalar_one_column_by_column():
    rng = np.random.default_rng(5)
    reference, current = rng.normal(size=(756, 6)), rng.normal(0.5, 2.0, size=(63, 6))
    reference[:100, 1] = np.nan  # missing history
    current[:, 2] = np.nan  # nothing current
    reference[:, 3] = 7.0  # constant
    reference[::3, 4] = np.round(reference[::3, 4])  # repeated values: repeated quantile edges
    vectorised = monitoring.psi_columns(reference, current, T.psi_bins)
    scalar = np.array([monitoring.psi(reference[:, j], current[:, j], T.psi_bins) for j in range(6)])
    assert np.array_equal(np.isnan(vectorised), np.isnan(scalar))
    assert np.allclose(vectorised[~np.isnan(scalar)], scalar[~np.isnan(scalar)], rtol=0, atol=1e-12)
