"""The dashboard says what it shows (#22.5): which forecast Drivers describes, what the VaR chart plots, and a Data
health page that leads with what fails. Pure tests on the small frames of dashboard_frames."""

from __future__ import annotations

import re

import pandas as pd
from dashboard_frames import populated

from dashboard.pages.drivers import drivers_page
from dashboard.pages.risk import risk_bars, risk_table


def section_titles(page) -> list[str]:
    return [s.title for s in page.sections]


def test_drivers_says_per_horizon_when_the_served_forecast_is_a_random_walk():
    data = populated()
    predictions = data.get("predictions").copy()
    predictions["forecast_method"] = ["rw_ewma", "ensemble", "rw_empirical", "calibrated"]
    data.frames["predictions"] = predictions
    page = drivers_page(data)
    assert section_titles(page)[0] == "Which forecast is served"
    html = page.sections[0].html
    assert re.findall(r'data-key="served:([^"]+)"', html) == ["1w", "3m"]
    assert "At 1w the served forecast is the random walk <code>rw_ewma</code>" in html
    assert "At 3m the served forecast is the random walk <code>rw_empirical</code>" in html
    assert "at 1w, 3m the importance and weights below describe the members, not the served forecast" in html


def test_drivers_says_when_the_served_forecast_is_the_single_member_the_panel_chose():
    """The panel of futures markets serves vol_avg at 1w and 1m: one member, no weights, like a random walk."""
    data = populated()
    predictions = data.get("predictions").copy()
    predictions["forecast_method"] = ["vol_avg", "vol_avg", "rw_ewma", "ensemble"]
    data.frames["predictions"] = predictions
    html = drivers_page(data).sections[0].html
    assert re.findall(r'data-key="served:([^"]+)"', html) == ["1w", "1m", "3m"]
    assert "At 1w the served forecast is the single member <code>vol_avg</code>" in html
    assert "At 3m the served forecast is the random walk <code>rw_ewma</code>" in html
    assert "at 1w, 1m, 3m the importance and weights below describe the members, not the served forecast" in html


def test_drivers_names_a_blend_the_panel_chose_as_a_blend():
    """The panel serves har+rw_ewma at 3m and 6m (the average of two members' quantiles): no ensemble weight either."""
    data = populated()
    predictions = data.get("predictions").copy()
    predictions["forecast_method"] = ["vol_avg", "range_har+rw_ewma", "har+rw_ewma", "ensemble"]
    data.frames["predictions"] = predictions
    html = drivers_page(data).sections[0].html
    assert re.findall(r'data-key="served:([^"]+)"', html) == ["1w", "1m", "3m"]
    assert "At 3m the served forecast is the blend (the average of the quantiles) of two members" in html
    assert "<code>har+rw_ewma</code>" in html and "the single member <code>vol_avg</code>" in html


def test_drivers_says_nothing_of_random_walks_when_every_horizon_serves_a_combination():
    data = populated()
    data.frames["predictions"] = data.get("predictions").assign(forecast_method="ensemble")
    assert "Which forecast is served" not in section_titles(drivers_page(data))
    data.frames["predictions"] = None
    assert "Which forecast is served" not in section_titles(drivers_page(data))


def test_only_the_latest_forecast_decides_what_is_served():
    data = populated()
    latest = data.get("predictions").assign(forecast_method="ensemble")
    older = latest.assign(as_of_date=latest["as_of_date"] - pd.Timedelta(days=1), forecast_method="rw_ewma")
    data.frames["predictions"] = pd.concat([older, latest], ignore_index=True)
    assert "Which forecast is served" not in section_titles(drivers_page(data))


def test_the_var_chart_title_names_what_its_bars_plot():
    """The bars are VaR and CVaR at 95% and 99% in USD per contract; the title once said 'not exceeded with 95% / 99%
    probability', which is VaR's definition and false for the CVaR bars (the mean loss beyond VaR)."""
    data = populated()
    fig = risk_bars(risk_table(data.get("risk")))
    title = fig.layout.title.text
    plotted = {trace.name for trace in fig.data}
    assert plotted == {"VaR 95%", "CVaR 95%", "VaR 99%", "CVaR 99%"}
    for name in plotted:
        measure, level = name.split()
        assert re.search(rf"\b{measure}\b", title) and level in title, (name, title)
    assert "not exceeded" not in title
    assert "USD" in fig.layout.yaxis.title.text and "contract" in title


def quality_run(statuses: list[str]) -> pd.DataFrame:
    n = len(statuses)
    return pd.DataFrame(
        {
            "run_id": "q-9",
            "checked_at": pd.Timestamp("2024-06-28 11:00"),
            "dimension": ["validity"] * n,
            "check_name": [f"check_{i:03d}" for i in range(n)],
            "target": "features.daily_ml_matrix_zl",
            "status": statuses,
            "observed": 0.0,
            "threshold": 0.0,
            "message": [f"message {i}" for i in range(n)],
        }
    )


def test_health_leads_with_the_failing_checks_worst_first_and_folds_the_passing_ones():
    from dashboard.pages.health import health_page

    data = populated()
    data.frames["data_quality"] = quality_run(["ok"] * 320 + ["warn", "alert", "ok", "alert"] + ["ok"] * 4)
    page = health_page(data, pd.Timestamp("2024-06-29 10:00").to_pydatetime())
    assert page.sections[0].title == "Gate and quality checks"
    html = page.sections[0].html
    folded = html.index('<details data-key="passing-checks">')
    shown = html[:folded]
    # the three that do not pass, in full and before the fold, alerts before the warning
    assert re.findall(r'class="status-(\w+)"', shown) == ["alert", "alert", "warn"]
    assert "3 checks not passing" in shown
    assert "<summary>325 checks passing</summary>" in html
    assert re.findall(r'class="status-(\w+)"', html[folded:]) == ["ok"] * 325
    assert html.index("check_321") < html.index("check_323") < html.index("check_320") < folded


def test_health_says_every_check_passed_when_none_fails():
    from dashboard.pages.health import quality_body

    html = quality_body(quality_run(["ok"] * 5)).html
    assert "every check passed" in html and "<summary>5 checks passing</summary>" in html
    assert "status-ok" not in html[: html.index("<details")]
