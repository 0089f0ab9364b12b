"""Pure tests of the dashboard's page builders on small frames (the populated path, including the ops and backtest
tables another component writes, and the path where they do not exist yet), and of the site writer."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from dashboard_frames import AS_OF, backtest_predictions, empty_warehouse, populated

from dashboard import data as warehouse
from dashboard.components import table_html
from dashboard.pages import build_pages
from dashboard.pages.drivers import buckets_in, drivers_page, weights_figure
from dashboard.pages.forecast import outcome_summary, past_forecasts
from dashboard.pages.health import freshness
from dashboard.pages.record import rolling_coverage
from dashboard.pages.risk import risk_table
from dashboard.site import header_for, render_page, write_site

NOW = datetime(2024, 6, 29, 10, 0)


@pytest.fixture(scope="module")
def pages():
    """The five pages of the populated warehouse, built once (plotly figures take a second a page)."""
    return build_pages(populated(), NOW)


def html_of(pages, slug: str) -> str:
    return "".join(s.html for p in pages if p.slug == slug for s in p.sections)


def cell(html: str, key: str) -> str:
    match = re.search(rf'data-key="{re.escape(key)}">([^<]*)<', html)
    assert match, f"no cell {key}"
    return match.group(1)


def test_every_page_builds_with_every_table_present_and_says_nothing_is_missing(pages):
    assert [p.slug for p in pages] == ["index", "risk", "drivers", "record", "health"]
    for page in pages:
        html = "".join(s.html for s in page.sections)
        assert "not run yet" not in html, page.slug
        assert page.figures == html.count('class="figure"'), page.slug
    assert [p.figures for p in pages] == [2, 2, 3, 4, 1]


def test_a_warehouse_with_nothing_built_still_gives_every_page_with_plain_notes():
    pages = build_pages(empty_warehouse(), NOW)
    html = {p.slug: "".join(s.html for s in p.sections) for p in pages}
    assert all(p.figures == 0 for p in pages)
    assert "run <code>make build</code>" in html["index"]
    assert (
        "not run yet: ml.backtest_metrics does not exist in this warehouse — run <code>cbi backtest</code>"
        in (html["record"])
    )
    assert "ops.model_monitoring does not exist in this warehouse — run <code>cbi run monitor</code>" in html["record"]
    assert (
        "ops.data_quality_results does not exist in this warehouse — run <code>cbi run quality</code>"
        in (html["health"])
    )
    header = header_for(empty_warehouse(), NOW)
    assert header.as_of == "no forecast yet"


def test_forecast_table_shows_the_latest_quantiles_of_each_horizon(pages):
    data = populated()
    html = html_of(pages, "index")
    for row in data.get("predictions").itertuples():
        assert cell(html, f"price_q50:{row.horizon}") == f"{row.price_q50:,.2f}"
        assert cell(html, f"forecast_method:{row.horizon}") == "rw_ewma"
    assert cell(html, "q90:1m") == f"{data.get('predictions').set_index('horizon').loc['1m', 'q90'] * 100:,.2f}%"


def test_past_forecasts_prefer_the_live_record_of_the_final_model():
    data = populated()
    past, origin = past_forecasts(data.get("forecast_outcomes"), data.get("oof_final"), data.get("market"))
    assert origin.startswith("live")
    assert len(past) == 2  # the two 'final' rows, not rw_ewma's
    summary = outcome_summary(past).set_index("horizon")
    assert summary.loc["1m", "coverage_80"] == 0.5  # 46 inside [40, 48]; 52 above [41, 49]
    assert summary.loc["1m", "mae_p50"] == pytest.approx((2 + 7) / 2)


def test_without_monitoring_past_forecasts_come_from_the_out_of_fold_rows_priced_at_their_close():
    data = populated()
    past, origin = past_forecasts(None, data.get("oof_final"), data.get("market"))
    assert "out-of-fold" in origin
    oof, close = data.get("oof_final"), data.get("market").set_index("as_of_date")["zl_close_cents_per_lb"]
    first = oof[oof["horizon"] == "1m"].iloc[0]
    row = past[(past["horizon"] == "1m") & (past["as_of_date"] == first["as_of_date"])].iloc[0]
    assert row["realised_price"] == pytest.approx(close.loc[first["as_of_date"]] * np.exp(first["y"]))
    assert row["p90"] == pytest.approx(close.loc[first["as_of_date"]] * np.exp(0.05))
    assert past_forecasts(None, None, None)[0].empty


def test_risk_table_converts_log_losses_to_percent_price_and_dollars(pages):
    data = populated()
    table = risk_table(data.get("risk")).set_index("horizon")
    risk = data.get("risk").set_index("horizon")
    assert table.loc["1m", "var_99_pct"] == pytest.approx(1 - np.exp(-risk.loc["1m", "var_99_ret"]))
    # the $ figure is the price drop times 600 $ per cent/lb: consistent with the % and the price level
    close = risk.loc["1m", "close_cents_per_lb"]
    assert table.loc["1m", "var_99_usd"] == pytest.approx(table.loc["1m", "var_99_pct"] * close * 600)
    assert table.loc["1m", "var_99_price"] == pytest.approx(close * (1 - table.loc["1m", "var_99_pct"]))
    html = html_of(pages, "risk")
    assert cell(html, "var_99_usd:1m") == f"${risk.loc['1m', 'var_99_usd_per_contract']:,.0f}"


def test_rolling_coverage_counts_outcomes_inside_the_interval():
    coverage = rolling_coverage(backtest_predictions(), window=20)
    part = coverage[(coverage["member"] == "final") & (coverage["horizon"] == "1m")]
    assert part["coverage"].iloc[:9].isna().all()  # fewer than window/2 forecasts yet
    assert part["coverage"].iloc[-1] == pytest.approx(0.5)


def test_record_page_uses_the_latest_backtest_and_the_latest_monitoring_run(pages):
    page = pages[3]
    text = " ".join(s.intro for s in page.sections)
    assert "run new" in text and "2024-06-30" in text
    assert "run mon-2" in text
    html = "".join(s.html for s in page.sections)
    assert html.count('class="status-warn"') == 2  # coverage_80 of 1w and 1m in the latest run


def test_leaderboard_shows_the_best_model_of_each_member_and_horizon(pages):
    html = html_of(pages, "record")
    assert cell(html, "1w:main") == "-0.4000 (WeightedEnsemble_L2)"


def test_freshness_takes_the_last_successful_or_partial_load_per_source():
    fresh = freshness(populated().get("ingest_runs"), NOW).set_index("source")
    assert fresh.loc["fred", "last_status"] == "failed"
    assert fresh.loc["fred", "last_success"] == pd.Timestamp("2024-06-27 10:01")
    assert fresh.loc["fred", "age_hours"] == pytest.approx(47.98, abs=0.01)
    assert fresh.loc["futures", "last_status"] == "partial"
    assert pd.isna(fresh.loc["cftc", "last_success"])


def test_health_page_shows_the_latest_quality_run_and_escapes_what_sources_wrote(pages):
    html = html_of(pages, "health")
    assert "3 days old" in html and "2 duplicate days &lt;b&gt;" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="status-fail"' in html
    assert html.count("futures_fresh") == 1  # only the latest run q-2


def test_table_html_escapes_and_keys_cells():
    frame = pd.DataFrame({"name": ["<a>"], "value": [1234.5]})
    html = table_html(frame, [("name", "name", str), ("value", "value", lambda v: f"{v:,.1f}")], key="name")
    assert 'data-key="value:&lt;a&gt;">1,234.5<' in html


def test_rendered_pages_have_navigation_the_header_and_no_network_reference(pages, tmp_path):
    files = write_site(pages, header_for(populated(), NOW), tmp_path / "site")
    assert [f.name for f in files] == ["index.html", "risk.html", "drivers.html", "record.html", "health.html"]
    assert (tmp_path / "site" / "assets" / "plotly.min.js").stat().st_size > 1_000_000  # plotly.js, written once
    for f in files:
        html = f.read_text()
        assert html.count('<script src="assets/plotly.min.js"></script>') == 1
        assert "plotly.min.js" not in html.replace('<script src="assets/plotly.min.js"></script>', "")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), f.name
        for target in ("index", "risk", "drivers", "record", "health"):
            assert f'href="{target}.html"' in html
        assert f">{AS_OF:%Y-%m-%d}</span>" in html and ">final-abc123</span>" in html
    assert 'aria-current="page">Risk<' in files[1].read_text()


def test_write_site_replaces_the_previous_site(pages, tmp_path):
    out = tmp_path / "site"
    write_site(build_pages(empty_warehouse(), NOW), header_for(empty_warehouse(), NOW), out)
    (out / "stale.html").write_text("old")
    write_site(pages, header_for(populated(), NOW), out)
    assert not (out / "stale.html").exists()
    assert not list(tmp_path.glob(".site.*"))


def test_render_page_titles_every_page(pages):
    header = header_for(populated(), NOW)
    assert "<title>CBI · Data health</title>" in render_page(pages[-1], pages, header)


def test_load_reads_only_the_allowed_schemas_and_reports_missing_tables():
    assert all(table.split(".")[0] in warehouse.ALLOWED_SCHEMAS for table, _ in warehouse.QUERIES.values())
    con = duckdb.connect()
    con.execute("create schema ops")
    con.execute("create schema features")
    con.execute("create table features.secret as select 1 as x")
    con.register("_runs", populated().get("ingest_runs"))
    con.execute("create table ops.ingest_runs as select * from _runs")
    loaded = warehouse.load(con)
    assert len(loaded.get("ingest_runs")) == 4
    assert loaded.get("backtest_metrics") is None and "ml.backtest_metrics" in loaded.missing
    assert "ops.ingest_runs" not in loaded.missing


def test_serve_previews_the_site_on_localhost_and_refuses_a_missing_site(pages, tmp_path):
    import threading
    import urllib.request

    from dashboard.serve import make_server

    with pytest.raises(FileNotFoundError, match="cbi dashboard build"):
        make_server(tmp_path / "nothing", port=0)
    write_site(pages, header_for(populated(), NOW), tmp_path / "site")
    server = make_server(tmp_path / "site", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/risk.html", timeout=10) as response:
            assert "<title>CBI · Risk</title>" in response.read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_ensemble_weight_stacks_have_no_gaps_so_each_sums_to_one():
    fig = weights_figure(populated().get("ensemble_weights"))
    totals = np.sum([np.asarray(trace.y, dtype=float) for trace in fig.data], axis=0)
    assert fig.layout.barmode == "stack"
    assert np.allclose(totals, 1.0)  # a NaN anywhere would make plotly.js draw the bars overlaid


def test_the_drivers_page_follows_the_buckets_the_warehouse_holds():
    """No copy of the bucket list in the dashboard: a bucket added to `cbi_buckets` (a new `<bucket>_score` column
    of forecasts.zl_market_history) appears, a removed one disappears."""
    data = populated()
    market = data.get("market").drop(columns=["fed_score"]).assign(weather_score=42.0)
    data.frames["market"] = market
    assert buckets_in(market) == ["crush", "china", "fx", "tariff", "biofuel", "energy", "volatility", "weather"]
    html = "".join(s.html for s in drivers_page(data).sections)
    assert cell(html, "score:weather") == "42"
    assert "bucket:fed" not in re.findall(r'data-key="([^"]+)"', html)


def test_every_page_carries_a_banner_when_the_warehouse_holds_the_simulated_sample():
    data = populated()
    built = build_pages(data, NOW)
    assert 'data-key="sample-banner"' not in render_page(built[0], built, header_for(data, NOW))
    data.frames["contents"] = pd.DataFrame({"contents": ["sample"]})
    for page in built:
        html = render_page(page, built, header_for(data, NOW))
        assert 'data-key="sample-banner"' in html and "Simulated market" in html
    data.frames["contents"] = pd.DataFrame({"contents": ["real"]})
    assert 'data-key="sample-banner"' not in render_page(built[0], built, header_for(data, NOW))


def test_the_quality_chart_draws_alert_red():
    from dashboard.pages.health import quality_figure

    results = pd.DataFrame({"dimension": ["validity", "validity", "freshness"], "status": ["ok", "alert", "alert"]})
    colours = {trace.name: trace.marker.color for trace in quality_figure(results).data}
    assert colours == {"ok": "#1a9850", "alert": "#d73027"}


def test_live_monitoring_with_only_drift_figures_draws_no_empty_rolling_nan_days_chart():
    from dashboard.pages.record import live_body

    drift = pd.DataFrame(
        {
            "run_id": ["r1"],
            "evaluated_at": [pd.Timestamp("2024-06-28 23:00")],
            "horizon": ["all"],
            "model": ["features"],
            "window_days": [63],
            "metric": ["psi_fx"],
            "value": [1.2],
            "threshold": [3.1],
            "status": ["ok"],
        }
    )
    section = live_body(drift)
    assert "nan days" not in section.html and section.figures == 0
    assert "appear here once logged forecasts reach their target dates" in section.html


def test_sixteen_members_get_sixteen_distinct_colours():
    members = [f"member_{i:02d}" for i in range(16)]
    weights = pd.DataFrame({"member": members, "horizon": "1w", "quantile_level": 0.5, "weight": np.full(16, 1 / 16)})
    colours = [trace.marker.color for trace in weights_figure(weights).data]
    assert len(colours) == 16 and len(set(colours)) == 16 and None not in colours


def test_a_section_says_whether_its_table_is_missing_or_empty_under_the_title_it_has_with_rows():
    """One page shell for every page: a table that does not exist yet and a table with no rows give different
    notes, each naming the table and the command that fills it, under the section's usual title."""
    full = {s.title for s in drivers_page(populated()).sections}
    missing, empty = populated(), populated()
    missing.frames["ensemble_weights"] = None
    empty.frames["ensemble_weights"] = empty.frames["ensemble_weights"].iloc[:0]
    for data, note in (
        (missing, "not run yet: ml.ensemble_weights does not exist in this warehouse — run <code>make build</code>"),
        (empty, "no ensemble weights stored yet (ml.ensemble_weights is empty) — run <code>make build</code>"),
    ):
        sections = drivers_page(data).sections
        assert {s.title for s in sections} == full
        (weights,) = [s for s in sections if s.title == "Ensemble weights"]
        assert note in weights.html and weights.figures == 0
