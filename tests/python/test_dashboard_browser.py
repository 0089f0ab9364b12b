"""Every dashboard page rendered by headless Chromium from a warehouse built by a real `dbt build` (the session
fixture), read through the published snapshot: title, the figures shown equal the warehouse's, the charts were
drawn, no error, and no request left the machine. Screenshots are kept in the test's tmp directory."""

from __future__ import annotations

import os
import re
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from dashboard_frames import backtest_metrics, backtest_predictions, data_quality, forecast_outcomes, model_monitoring
from typer.testing import CliRunner

from cbi.cli import app
from dashboard.browser import chromium, page_requests, render
from dashboard.serve import make_server

PAGES = {"index": "Forecast", "risk": "Risk", "drivers": "Drivers", "record": "Record", "health": "Data health"}

pytestmark = [
    pytest.mark.dbt,
    pytest.mark.skipif(
        chromium() is None and not os.environ.get("CBI_REQUIRE_CHROMIUM"),
        reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
    ),
]


def build(db: Path, out: Path) -> None:
    runner = CliRunner()
    published = runner.invoke(app, ["snapshot", "publish", "--db", str(db)])
    assert published.exit_code == 0, published.output
    built = runner.invoke(app, ["dashboard", "build", "--db", str(db), "--out", str(out)])
    assert built.exit_code == 0, built.output


@pytest.fixture(scope="module")
def demo_site(built_warehouse, tmp_path_factory) -> tuple[Path, Path]:
    """The site of a copy of the built warehouse (no backtest, no monitoring run: as after `make demo`)."""
    work = tmp_path_factory.mktemp("dashboard")
    db = work / "cbi.duckdb"
    shutil.copy(built_warehouse, db)
    build(db, work / "site")
    return db, work / "site"


@contextmanager
def served(site: Path):
    """`cbi dashboard serve`'s server on a free localhost port."""
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def dom_attr(dom: str, name: str) -> str | None:
    match = re.search(rf'<body[^>]*\s{name}="([^"]*)"', dom)
    return match.group(1) if match else None


def cell(dom: str, key: str) -> str:
    match = re.search(rf'data-key="{re.escape(key)}">([^<]*)<', dom)
    assert match, f"no {key} on the page"
    return match.group(1)


def check_rendered(base: str, slug: str, shots: Path) -> str:
    result = render(f"{base}{slug}.html", screenshot=shots / f"{slug}.png")
    dom = result.dom
    assert f"<title>CBI · {PAGES[slug]}</title>" in dom
    assert dom_attr(dom, "data-js-errors") is None, "a script failed on the page"
    assert result.console_errors == []
    assert "Traceback" not in dom and "Error:" not in dom
    figures = int(dom_attr(dom, "data-figures"))
    assert dom_attr(dom, "data-plots-rendered") == str(figures), "not every chart was drawn"
    assert len(re.findall(r'class="[^"]*js-plotly-plot', dom)) == figures
    if figures:
        assert dom.count('class="main-svg"') >= figures and ("scatterlayer" in dom or "barlayer" in dom)
    # every request the page made went to the local server: plotly.js from the site, nothing from elsewhere
    requested = page_requests(result)
    assert all(url.startswith(base) for url in requested), requested
    assert f"{base}assets/plotly.min.js" in requested  # every page loads it (once), from the site
    assert (shots / f"{slug}.png").stat().st_size > 10_000
    return dom


def test_the_request_check_sees_a_page_that_loads_from_the_internet(tmp_path):
    """The check above can fail: a page with a CDN script and a remote image is caught (nothing leaves the
    machine: the browser resolves no host but localhost)."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><head><title>x</title><script src="https://cdn.example.com/x.js"></script></head>'
        '<body><img src="http://example.org/a.png"></body></html>'
    )
    assert page_requests(render(page.as_uri(), budget_ms=2000)) == [
        "https://cdn.example.com/x.js",
        "http://example.org/a.png",
    ]


def test_every_page_renders_the_warehouse_figures_offline(demo_site, tmp_path):
    db, site = demo_site
    with duckdb.connect(str(db), read_only=True) as con:
        predictions = con.sql(
            "select * from forecasts.zl_predictions where as_of_date = (select max(as_of_date) "
            "from forecasts.zl_predictions)"
        ).df()
        risk = con.sql("select * from forecasts.zl_risk where horizon = '1m'").df()
    shots = tmp_path / "screenshots"
    with served(site) as base:
        doms = {slug: check_rendered(base, slug, shots) for slug in PAGES}
    as_of = f"{predictions['as_of_date'].iloc[0]:%Y-%m-%d}"
    for slug, dom in doms.items():
        assert cell(dom, "as_of_date") == as_of, slug
        assert cell(dom, "run_id") == predictions["model_run_id"].iloc[0], slug
        for target in PAGES:
            assert f'href="{target}.html"' in dom
    for row in predictions.itertuples():
        assert cell(doms["index"], f"price_q50:{row.horizon}") == f"{row.price_q50:,.2f}"
        assert cell(doms["index"], f"price_q10:{row.horizon}") == f"{row.price_q10:,.2f}"
    assert len(predictions) == 4
    assert cell(doms["risk"], "var_99_usd:1m") == f"${risk['var_99_usd_per_contract'].iloc[0]:,.0f}"
    assert (
        cell(doms["risk"], "var_99_pct:1m") == f"{(1 - 2.718281828459045 ** -risk['var_99_ret'].iloc[0]) * 100:,.1f}%"
    )
    # without a backtest or monitoring run, the pages say what to run
    assert "run <code>cbi backtest</code>" in doms["record"]
    assert "run <code>cbi run monitor</code>" in doms["record"]
    assert "run <code>cbi run quality</code>" in doms["health"]
    assert not re.search(r"https?://", "".join(p.read_text() for p in site.glob("*.html")))
    print(f"screenshots: {shots}")


def test_record_and_health_render_the_monitoring_and_backtest_tables_when_they_exist(demo_site, tmp_path):
    """The same warehouse plus ops and backtest tables with the agreed schemas (INTERFACES.md §3)."""
    db = tmp_path / "cbi.duckdb"
    shutil.copy(demo_site[0], db)
    with duckdb.connect(str(db)) as con:
        for table, frame in {
            "ops.model_monitoring": model_monitoring(),
            "ops.data_quality_results": data_quality(),
            "ops.forecast_outcomes": forecast_outcomes(),
            "ml.backtest_metrics": backtest_metrics(),
            "ml.backtest_predictions": backtest_predictions(),
        }.items():
            con.register("_frame", frame)
            con.execute(f"create table {table} as select * from _frame")
            con.unregister("_frame")
    build(db, tmp_path / "site")
    shots = tmp_path / "screenshots"
    with served(tmp_path / "site") as base:
        for slug in ("index", "record", "health"):
            dom = check_rendered(base, slug, shots)
            assert "not run yet" not in dom, slug
    assert "live forecasts (ops.forecast_outcomes)" in dom_text(tmp_path / "site" / "index.html")


def dom_text(path: Path) -> str:
    return path.read_text()
