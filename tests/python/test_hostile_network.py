"""Hostile input, part 2: redirects that fish for keys, servers that hang, drip or stall, bodies that are empty
or not what was asked for, locked warehouses, killed runs. Local servers on 127.0.0.1 only."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from fake_server import FakeServer, Reply
from test_connectors import cftc_zip
from typer.testing import CliRunner

from cbi.cli import app
from cbi_core.lock import lock_path
from cbi_core.warehouse import WarehouseBusy, connect
from ingest.http import SourceError, build_session, fetch
from ingest.runner import fetch_then_load
from ingest.sources.base import Window
from ingest.sources.cftc import Cftc
from ingest.sources.eia import Eia
from ingest.sources.epa import Epa
from ingest.sources.fred import Fred
from ingest.sources.news import News
from ingest.sources.quotes import Quotes
from ingest.sources.usda import Usda

cli = CliRunner()
WINDOW = Window(date(2024, 1, 1), date(2024, 3, 31))
SECRETS = {
    "FRED_API_KEY": "fred-secret-111111",
    "EIA_API_KEY": "eia-secret-222222",
    "USDA_FAS_API_KEY": "usda-secret-333333",
    "DATABENTO_API_KEY": "db-secret-4444444444444444444444444",
}
CHART = {
    "chart": {
        "error": None,
        "result": [
            {
                "meta": {"exchangeTimezoneName": "America/Chicago"},
                "timestamp": [1704218400],
                "indicators": {"quote": [{"open": [47], "high": [48], "low": [46], "close": [47.5], "volume": [9]}]},
            }
        ],
    }
}
USDA = [
    {
        "weekEndingDate": "2024-01-04T00:00:00",
        "countryCode": 5700,
        "weeklyExports": 1000,
        "currentMYNetSales": 500,
        "outstandingSales": 9000,
        "unitId": 1,
    }
]
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>a</title>'
    "<link>https://example.org/a</link><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item></channel></rss>"
)
#: connector, environment variable of its address, the address's path, the path a request hits, a good body.
CONNECTORS = {
    "fred_api": (lambda: Fred(["DGS10"]), "CBI_FRED_API_URL", "/obs", "/obs", {"observations": []}),
    "fred_keyless": (lambda: Fred(["DGS10"]), "CBI_FRED_GRAPH_URL", "/g.csv", "/g.csv", "observation_date,DGS10\n"),
    "eia": (
        lambda: Eia(["distillate_stocks"]),
        "CBI_EIA_BASE_URL",
        "",
        "/petroleum/stoc/wstk/data/",
        {"response": {"total": 0, "data": []}},
    ),
    "usda": (
        lambda: Usda(["soybeans"]),
        "CBI_USDA_ESR_BASE_URL",
        "",
        "/exports/commodityCode/801/allCountries/marketYear/2023",
        USDA,
    ),
    "quotes": (lambda: Quotes(["ZL"]), "CBI_QUOTES_BASE_URL", "", "/ZL=F", CHART),
    "cftc": (lambda: Cftc(["futures_only"]), "CBI_CFTC_BASE_URL", "", "/fut_disagg_txt_2024.zip", cftc_zip()),
    "epa": (lambda: Epa(), "CBI_EPA_RIN_URL", "/rin.csv", "/rin.csv", "Week Ending,D4\n2024-01-05,1.1\n"),
    "news": (lambda: News(), "CBI_NEWS_FEEDS", "/feed", "/feed", RSS),
}


def body_of(good) -> bytes | str:
    return json.dumps(good) if isinstance(good, dict | list) else good


def point(monkeypatch, name: str, server: FakeServer) -> None:
    _, env, base_path, _, _ = CONNECTORS[name]
    url = f"{server.url}{base_path}"
    monkeypatch.setenv(env, f"farm_news={url}" if name == "news" else url)


@pytest.fixture
def secrets_set(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    yield


# ---------------------------------------------------------------- 4. no credential leaves for another origin
@pytest.mark.parametrize("name", sorted(CONNECTORS))
def test_no_credential_follows_a_redirect_to_another_origin(name, server, monkeypatch, secrets_set, tmp_path):
    build, _, _, path, good = CONNECTORS[name]
    if name == "fred_keyless":
        monkeypatch.delenv("FRED_API_KEY")
    with FakeServer() as other:
        echo = "&".join(f"api_key={v}" for v in SECRETS.values())
        server.route(path, Reply(302, "", {"Location": f"{other.url}{path}?{echo}&token={SECRETS['EIA_API_KEY']}"}))
        other.route(path, Reply(200, body_of(good)))
        point(monkeypatch, name, server)
        fetch_then_load(tmp_path / "w.duckdb", build(), WINDOW)
        assert server.hits(path) and other.hits(path), name
        for seen in other.requests:
            sent = json.dumps([seen.headers, seen.query])
            assert not any(secret in sent for secret in SECRETS.values()), (name, sent)
            assert not {h.lower() for h in seen.headers} & {"x-api-key", "api_key", "authorization"}


def test_a_redirect_within_the_origin_keeps_the_key(server, monkeypatch, secrets_set, tmp_path):
    build, _, _, path, good = CONNECTORS["usda"]
    point(monkeypatch, "usda", server)
    server.route(path, Reply(302, "", {"Location": f"{server.url}/moved"}))
    server.route("/moved", Reply(200, body_of(good)))
    fetch_then_load(tmp_path / "w.duckdb", build(), WINDOW)
    assert server.hits("/moved")[0].headers["X-API-KEY"] == SECRETS["USDA_FAS_API_KEY"]


# ---------------------------------------------------------------- 5. bounded waits
def test_a_hanging_server_costs_one_request_deadline_not_six_timeouts(server, monkeypatch):
    monkeypatch.setenv("CBI_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("CBI_HTTP_REQUEST_DEADLINE", "1.5")
    server.route("/hang", Reply(200, "late", delay_s=3))
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"hang: GET .*(deadline|timed out|failed)"):
        fetch(build_session(label="hang"), "hang", f"{server.url}/hang")
    assert time.monotonic() - started < 1.5 + 0.5 + 1.0  # the deadline, at most one more try timeout, slack
    assert len(server.hits("/hang")) <= 4


def test_retry_after_is_capped_and_every_wait_is_logged(server, monkeypatch, caplog):
    monkeypatch.setenv("CBI_HTTP_RETRY_AFTER_MAX", "0.2")
    server.route("/busy", Reply(503, "busy", {"Retry-After": "600"}), Reply(200, "ok"))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="ingest.http"):
        response = fetch(build_session(label="busy"), "busy", f"{server.url}/busy")
    assert response.text == "ok" and time.monotonic() - started < 5
    assert any("HTTP 503; waiting 0.2 s" in r.getMessage() and "'600' capped" in r.getMessage() for r in caplog.records)


def test_a_retry_after_longer_than_the_deadline_gives_up_at_once(server, monkeypatch):
    monkeypatch.setenv("CBI_HTTP_REQUEST_DEADLINE", "2")
    monkeypatch.setenv("CBI_HTTP_RETRY_AFTER_MAX", "600")
    server.route("/busy", Reply(429, "slow down", {"Retry-After": "600"}))
    started = time.monotonic()
    with pytest.raises(SourceError, match="would pass the deadline"):
        fetch(build_session(label="busy"), "busy", f"{server.url}/busy")
    assert time.monotonic() - started < 2


def test_a_slow_drip_body_is_cut_off_at_the_deadline(server, monkeypatch):
    monkeypatch.setenv("CBI_HTTP_REQUEST_DEADLINE", "1")
    server.route("/drip", Reply(200, "x" * 200, drip_s=0.05))  # 10 s for the whole body
    started = time.monotonic()
    with pytest.raises(SourceError, match="body still arriving|stopped at its deadline"):
        fetch(build_session(label="drip"), "drip", f"{server.url}/drip")
    assert time.monotonic() - started < 1 + 0.5 + 1.0


def test_a_source_deadline_bounds_all_its_requests(server, monkeypatch, tmp_path):
    monkeypatch.setenv("CBI_HTTP_SOURCE_DEADLINE", "1")
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/g.csv")
    server.route("/g.csv", Reply(200, "observation_date,DGS10\n2024-01-02,3.9\n", delay_s=0.6))
    with pytest.raises(SourceError, match="deadline"):
        fetch_then_load(tmp_path / "w.duckdb", Fred(["DGS10", "DGS2", "DFF"]), WINDOW)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        status = con.sql("select status, error from ops.ingest_runs where source = 'fred'").fetchall()
    assert status[0][0] == "failed" and "deadline" in status[0][1]


WRITER = textwrap.dedent("""
    import sys, duckdb
    with duckdb.connect(sys.argv[1]) as con:
        con.execute("create table if not exists other_writer (x int)")
        con.execute("insert into other_writer values (1)")
    print("WROTE")
""")


def test_the_warehouse_is_not_held_while_waiting_on_the_network(server, monkeypatch, tmp_path):
    db = tmp_path / "w.duckdb"
    outcomes = []

    def another_writer() -> None:  # runs while the connector waits for this very response
        done = subprocess.run([sys.executable, "-c", WRITER, str(db)], capture_output=True, text=True, timeout=60)
        outcomes.append((done.returncode, done.stdout.strip(), done.stderr[-300:]))

    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/g.csv")
    server.route("/g.csv", Reply(200, "observation_date,DGS10\n2024-01-02,3.9\n", hook=another_writer))
    fetch_then_load(db, Fred(["DGS10"]), WINDOW)
    assert outcomes == [(0, "WROTE", "")]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.fred_observations").fetchall()[0][0] == 1


# ---------------------------------------------------------------- 6. every failure: one line, exit != 0, a row
def invoke(*args: str):
    return cli.invoke(app, list(args))


def assert_one_clear_line(result, *parts: str, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), last
    for part in parts:
        assert part in last, (part, last)
    return last


def failed_runs(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql("select source, status, error from ops.ingest_runs where status = 'failed'").fetchall()


@pytest.mark.parametrize("name", ["fred_keyless", "epa", "cftc", "fred_api", "eia", "usda", "quotes", "news"])
def test_an_empty_body_is_one_clear_line_and_a_failed_run(name, server, monkeypatch, secrets_set, tmp_path):
    build, _, _, path, _ = CONNECTORS[name]
    if name == "fred_keyless":
        monkeypatch.delenv("FRED_API_KEY")
    point(monkeypatch, name, server)
    server.route(path, Reply(200, b""))
    db = tmp_path / "w.duckdb"
    args = {
        "fred_keyless": ["fred", "--series", "DGS10"],
        "fred_api": ["fred", "--series", "DGS10"],
        "quotes": ["futures", "--quotes", "--roots", "ZL"],
    }.get(name, [name])
    result = invoke("ingest", *args, "--start", "2024-01-01", "--end", "2024-03-31", "--db", str(db))
    assert_one_clear_line(result, "empty body")
    assert len(failed_runs(db)) == 1 and "empty body" in failed_runs(db)[0][2]


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("fred_api", "[1, 2]", "the JSON body is list, expected an object"),
        ("fred_api", '"observations"', "the JSON body is str, expected an object"),
        ("eia", "[]", "the JSON body is list, expected an object"),
        ("eia", '{"response": []}', "no 'response' object"),
        ("usda", '{"records": []}', "the JSON body is dict, expected a list"),
        ("usda", "[1, 2]", "expected a JSON list of objects"),
        ("quotes", "[1]", "the JSON body is list, expected an object"),
        ("quotes", '{"chart": {"result": [{"timestamp": "x", "indicators": 3}]}}', "malformed chart response"),
        ("fred_api", "{not json", "is not JSON"),
        ("fred_api", '{"observations": [1]}', "not a list of objects"),
    ],
)
def test_json_that_is_not_what_was_asked_for(name, body, message, server, monkeypatch, secrets_set, tmp_path):
    build, _, _, path, _ = CONNECTORS[name]
    point(monkeypatch, name, server)
    server.route(path, Reply(200, body, {"Content-Type": "application/json"}))
    with pytest.raises(SourceError, match=message):
        fetch_then_load(tmp_path / "w.duckdb", build(), WINDOW)
    assert len(failed_runs(tmp_path / "w.duckdb")) == 1


def test_a_truncated_gzip_body_and_a_short_body(server, monkeypatch, tmp_path):
    import gzip

    whole = gzip.compress(b"observation_date,DGS10\n" + b"2024-01-02,3.9\n" * 200)
    monkeypatch.setenv("CBI_FRED_GRAPH_URL", f"{server.url}/g.csv")
    server.route("/g.csv", Reply(200, whole[: len(whole) // 2], {"Content-Encoding": "gzip"}))
    with pytest.raises(SourceError, match="fred DGS10: GET .* the gzip body is truncated"):
        fetch_then_load(tmp_path / "w.duckdb", Fred(["DGS10"]), WINDOW)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (cftc_zip()[: len(cftc_zip()) // 2], "not a readable zip archive"),
        (b"PK\x03\x04" + b"\x00" * 40, "not a readable zip archive"),
        (b"<!DOCTYPE html><html>maintenance</html>", "is an HTML page"),
    ],
)
def test_a_broken_cftc_archive_is_one_clear_error(body, message, server, monkeypatch, tmp_path):
    monkeypatch.setenv("CBI_CFTC_BASE_URL", server.url)
    server.route("/fut_disagg_txt_2024.zip", Reply(200, body))
    with pytest.raises(SourceError, match=message):
        fetch_then_load(tmp_path / "w.duckdb", Cftc(["futures_only"]), WINDOW)


def test_strict_with_one_bad_row_names_source_field_and_line(tmp_path):
    db = tmp_path / "w.duckdb"
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "root,trade_date,open,high,low,close,volume\nZL,2024-06-03,45,46,44,45.5,1000\nZL,2024-06-04,45,46,44,45.5,1e20\n"
    )
    result = invoke("ingest", "futures", "--file", str(bars), "--strict", "--db", str(db))
    assert_one_clear_line(result, "futures file bars.csv", "field 'volume'", "file line 3", "--strict")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("select count(*) from raw.futures_ohlcv_daily").fetchall()[0][0] == 0
    assert {r[0] for r in failed_runs(db)} == {"futures"}


def test_invalid_dates_and_a_directory_as_the_database(tmp_path):
    db = tmp_path / "w.duckdb"
    for start, end, message in [
        ("2024-13-01", None, "--start '2024-13-01' is not a date"),
        ("yesterday", None, "--start 'yesterday' is not a date"),
        ("2024-03-01", "2024-01-01", "--start 2024-03-01 is after --end 2024-01-01"),
    ]:
        args = ["ingest", "cftc", "--start", start, *(["--end", end] if end else []), "--db", str(db)]
        assert_one_clear_line(invoke(*args), message, code=2)
    assert [r[:2] for r in failed_runs(db)] == [("cftc", "failed")] * 3
    for args in (["ingest", "fred"], ["sample"], ["runs"], ["forecasts"]):
        assert_one_clear_line(invoke(*args, "--db", str(tmp_path)), "is a directory, not a DuckDB file")


HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("HOLDING", flush=True)
    time.sleep(60)
""")


def test_a_second_writer_is_told_who_holds_the_warehouse(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        with pytest.raises(WarehouseBusy, match=rf"is busy: another process, pid {holder.pid} — wait for it"):
            connect(db)
        # a run-lock file nobody holds names nobody (the run that holds the lock: tests/python/test_run_lock.py)
        lock_path(db).write_text(
            json.dumps({"job": "daily", "run_id": "r-42", "pid": holder.pid, "started_at": "2026-11-30T23:00:00Z"})
        )
        result = invoke("ingest", "fred", "--series", "DGS10", "--db", str(db))
        assert_one_clear_line(result, f"is busy: another process, pid {holder.pid}")
        assert_one_clear_line(invoke("runs", "--db", str(db)), "is busy")
    finally:
        holder.kill()
        holder.wait(timeout=30)


KILLED = textwrap.dedent("""
    import sys
    from cbi.cli import app
    sys.argv = ["cbi", "ingest", "fred", "--series", "DGS10", "--db", sys.argv[1]]
    app()
""")


def test_a_killed_run_stays_visible_as_running(server, tmp_path):
    db = tmp_path / "w.duckdb"
    server.route("/g.csv", Reply(200, "observation_date,DGS10\n2024-01-02,3.9\n", delay_s=30))
    env = {**__import__("os").environ, "CBI_FRED_GRAPH_URL": f"{server.url}/g.csv"}
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(db)], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not server.hits("/g.csv") and time.monotonic() < deadline:
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.sql("select source, status, pid, finished_at from ops.ingest_runs").fetchall()
    assert rows == [("fred", "running", child.pid, None)]
    shown = invoke("runs", "--db", str(db))
    assert shown.exit_code == 0 and "running (no such process: killed?)" in shown.output
