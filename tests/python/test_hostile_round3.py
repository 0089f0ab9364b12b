"""Issue 21, the third hostile round: nothing lost, nothing leaked, nothing stuck (one test per finding)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dashboard.components import Page
from dashboard.site import SITE_MARKER, Header, SiteError, write_site

HEADER = Header("2024-06-28", "run-1", "–", "2024-06-29 10:00 UTC", "test")
PAGES = [Page("index", "Forecast", "Forecast"), Page("risk", "Risk", "Risk")]


def test_dashboard_build_refuses_a_directory_cbi_did_not_make(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("cbi.duckdb", "dbt_project.yml"):
        (project / name).write_text("precious")
    with pytest.raises(SiteError, match="not a site CBI built"):
        write_site(PAGES, HEADER, project)
    assert sorted(p.name for p in project.iterdir()) == ["cbi.duckdb", "dbt_project.yml"]
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SiteError):
        write_site(PAGES, HEADER, tmp_path / "a-file")
    assert (tmp_path / "a-file").read_text() == "x"


def test_dashboard_build_replaces_only_its_own_site(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_site(PAGES, HEADER, tmp_path / "empty")  # an empty directory holds nothing to lose
    out = tmp_path / "site"
    write_site(PAGES, HEADER, out)
    assert (out / SITE_MARKER).is_file()
    (out / "risk.html").write_text("stale page")
    write_site(PAGES, HEADER, out)
    assert "stale page" not in (out / "risk.html").read_text()
    (out / SITE_MARKER).unlink()  # a site built before the marker: pages and plotly.js only
    write_site(PAGES, HEADER, out)
    (out / SITE_MARKER).unlink()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SiteError):
        write_site(PAGES, HEADER, out)
    assert (out / "notes.txt").read_text() == "mine"


def test_dashboard_build_cli_refuses_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from cbi.cli import app

    db = tmp_path / "cbi.duckdb"
    import duckdb

    duckdb.connect(str(db)).close()
    from cbi_core.snapshot import publish_snapshot

    publish_snapshot(db)
    result = CliRunner().invoke(app, ["dashboard", "build", "--db", str(db), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert db.exists() and "not a site CBI built" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_dashboard_serve_lists_no_directory(tmp_path: Path) -> None:
    from dashboard.serve import make_server

    write_site(PAGES, HEADER, tmp_path / "site")
    server = make_server(tmp_path / "site", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as response:
            assert response.status == 200
        for path in ("/assets/", "/assets"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10)
            assert err.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def _bars(close: str) -> str:
    return f"root,contract,trade_date,open,high,low,close,volume\nZL,ZLN24,2024-06-03,45.1,46.0,44.9,{close},1000\n"


def test_an_empty_field_in_a_futures_or_epa_file_never_replaces_a_loaded_value(tmp_path: Path) -> None:
    import duckdb

    from ingest.runner import run_source
    from ingest.sources.base import Window
    from ingest.sources.epa import Epa
    from ingest.sources.futures_files import FuturesFiles

    db = tmp_path / "cbi.duckdb"
    window = Window(None, None)
    good, blank = tmp_path / "good.csv", tmp_path / "blank.csv"
    good.write_text(_bars("45.5"))
    blank.write_text(_bars(""))
    run_source(db, FuturesFiles([good]), window)
    run_source(db, FuturesFiles([blank]), window)
    epa_good, epa_blank = tmp_path / "rin.csv", tmp_path / "rin2.csv"
    epa_good.write_text("week ending,D4,D6\n2024-06-07,0.5591,0.4412\n")
    epa_blank.write_text("week ending,D4,D6\n2024-06-07,,0.4412\n")
    run_source(db, Epa(file=epa_good), window)
    run_source(db, Epa(file=epa_blank), window)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select close from raw.futures_ohlcv_daily").fetchall() == [(45.5,)]
        assert con.execute("select count(*) from raw.futures_ohlcv_daily_history").fetchone() == (0,)
        prices = con.execute("select rin_type, price_usd_per_rin from raw.epa_rin_prices order by 1").fetchall()
        assert prices == [("D4", 0.5591), ("D6", 0.4412)]
        updated = con.execute("select sum(rows_updated) from ops.ingest_runs where target_table like 'raw.%'")
        assert updated.fetchone() == (0,)
