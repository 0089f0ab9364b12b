"""Issue 21, the third hostile round: nothing lost, nothing leaked, nothing stuck (one test per finding)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hostile_server import HostileServer

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

    from ingest.runner import fetch_then_load
    from ingest.sources.base import Window
    from ingest.sources.epa import Epa
    from ingest.sources.futures_files import FuturesFiles

    db = tmp_path / "cbi.duckdb"
    window = Window(None, None)
    good, blank = tmp_path / "good.csv", tmp_path / "blank.csv"
    good.write_text(_bars("45.5"))
    blank.write_text(_bars(""))
    fetch_then_load(db, FuturesFiles([good]), window)
    fetch_then_load(db, FuturesFiles([blank]), window)
    epa_good, epa_blank = tmp_path / "rin.csv", tmp_path / "rin2.csv"
    epa_good.write_text("week ending,D4,D6\n2024-06-07,0.5591,0.4412\n")
    epa_blank.write_text("week ending,D4,D6\n2024-06-07,,0.4412\n")
    fetch_then_load(db, Epa(file=epa_good), window)
    fetch_then_load(db, Epa(file=epa_blank), window)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select close from raw.futures_ohlcv_daily").fetchall() == [(45.5,)]
        assert con.execute("select count(*) from raw.futures_ohlcv_daily_history").fetchone() == (0,)
        prices = con.execute("select rin_type, price_usd_per_rin from raw.epa_rin_prices order by 1").fetchall()
        assert prices == [("D4", 0.5591), ("D6", 0.4412)]
        updated = con.execute("select sum(rows_updated) from ops.ingest_runs where target_table like 'raw.%'")
        assert updated.fetchone() == (0,)


GOOD_BARS = [
    ("ZL", "ZLN24", "2024-06-03", 45.1, 46.0, 44.9, 45.5, 1000, None),
    ("ZL", "ZLN24", "2024-06-04", 45.5, 46.2, 45.0, 46.0, 1200, None),
]


def _bars_frame(rows: list[tuple]) -> pd.DataFrame:
    from ingest.release_times import futures_available_at

    cols = ["root", "contract", "trade_date", "open", "high", "low", "close", "volume", "open_interest"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["available_at"] = futures_available_at(pd.to_datetime(frame["trade_date"], errors="coerce")).to_numpy()
    return frame


def _warehouse(path: Path, rows: list[tuple]) -> None:
    import duckdb

    from ingest.load import ensure_schemas, upsert

    with duckdb.connect(str(path)) as con:
        ensure_schemas(con)
        if rows:
            upsert(con, "futures_ohlcv_daily", _bars_frame(rows))


def _closes(path: Path) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select trade_date::varchar, close from raw.futures_ohlcv_daily order by 1").fetchall()


def _pull_runs(path: Path) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select status, finished_at is not null, error from ops.ingest_runs"
            " where source = 'sync' order by started_at"
        ).fetchall()


def test_sync_pull_of_an_empty_remote_is_refused_and_recorded(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cbi.cli import app

    local, remote = tmp_path / "local.duckdb", tmp_path / "shared.duckdb"
    _warehouse(local, GOOD_BARS)
    _warehouse(remote, [])
    result = CliRunner().invoke(app, ["sync", "pull", "--remote", str(remote), "--db", str(local)])
    assert result.exit_code == 1 and "2 row(s) deleted" in result.output and "--allow-deletes" in result.output
    assert _closes(local) == [("2024-06-03", 45.5), ("2024-06-04", 46.0)]
    assert _pull_runs(local) == [("failed", True, _pull_runs(local)[0][2])]

    allowed = CliRunner().invoke(app, ["sync", "pull", "--remote", str(remote), "--db", str(local), "--allow-deletes"])
    assert allowed.exit_code == 0, allowed.output
    assert _closes(local) == []
    import duckdb

    with duckdb.connect(str(local), read_only=True) as con:  # the deleted rows are kept
        assert con.execute("select count(*) from raw.futures_ohlcv_daily_history").fetchone() == (2,)


def test_sync_pull_validates_like_any_load_and_never_nulls_a_known_value(tmp_path: Path) -> None:
    import duckdb

    from ingest.sync import SyncError
    from ingest.sync_pull import pull

    local, remote = tmp_path / "local.duckdb", tmp_path / "shared.duckdb"
    _warehouse(local, GOOD_BARS)
    _warehouse(remote, GOOD_BARS)
    with duckdb.connect(str(remote)) as con:  # hostile rows written straight into the remote's table
        con.execute("update raw.futures_ohlcv_daily set close = 'inf'::double where trade_date = '2024-06-04'")
        con.execute(
            "insert into raw.futures_ohlcv_daily (root, contract, trade_date, open, high, low, close, volume)"
            " values ('ZL', 'ZLN24', '2024-06-05', -5, -5, -5, -5, 1), ('ZL', 'ZLN99', '2099-06-05', 45, 46, 44, 45, 1)"
        )
    results = pull(str(local), str(remote))
    assert _closes(local) == [("2024-06-03", 45.5), ("2024-06-04", 46.0)]
    with duckdb.connect(str(local), read_only=True) as con:
        reasons = [r[0] for r in con.execute("select reason from ops.quarantine order by row_number").fetchall()]
    assert len(reasons) == 3 and any("finite" in r for r in reasons) and any("from the future" in r for r in reasons)
    assert _pull_runs(local)[-1][:2] == ("partial", True)
    assert {r.table: r.status for r in results}["raw.futures_ohlcv_daily"] == "unchanged"

    with duckdb.connect(str(remote)) as con:  # a remote whose values were emptied: refused, then kept anyway
        con.execute("update raw.futures_ohlcv_daily set close = null")
    with pytest.raises(SyncError, match="values emptied"):
        pull(str(local), str(remote))
    with duckdb.connect(str(remote)) as con:
        con.execute("alter table raw.futures_ohlcv_daily drop column close")
    with pytest.raises(SyncError, match="schema differs.*close"):
        pull(str(local), str(remote), allow_deletes=True)
    assert _closes(local) == [("2024-06-03", 45.5), ("2024-06-04", 46.0)]
    assert [r[:2] for r in _pull_runs(local)][-2:] == [("failed", True), ("failed", True)]


def test_sync_refuses_remotes_that_keep_nothing_and_never_echoes_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cbi.cli import app

    local = tmp_path / "local.duckdb"
    _warehouse(local, GOOD_BARS)
    (tmp_path / "notes.txt").write_text("not a database")
    token = "eyJhbGciOiJIUzI1NiJ9.secret-token-value"
    for remote, expected in [
        (":memory:", "neither md:<database> nor a DuckDB file"),
        (str(tmp_path / "notes.txt"), "not a DuckDB database file"),
        (f"md:cbi?motherduck_token={token}", "md:<name>"),
    ]:
        for command in ("pull", "push"):
            result = CliRunner().invoke(app, ["sync", command, "--remote", remote, "--db", str(local)])
            assert result.exit_code == 1, (remote, result.output)
            assert expected in result.output and token not in result.output
            assert "Traceback" not in result.output


def test_bars_that_cannot_exist_are_quarantined_with_a_reason_never_dropped(tmp_path: Path) -> None:
    import duckdb

    from ingest.runner import fetch_then_load
    from ingest.sources.base import Window
    from ingest.sources.futures_files import FuturesFiles

    path = tmp_path / "bars.csv"
    path.write_text(
        "root,contract,trade_date,open,high,low,close,volume\n"
        "ZL,ZLN24,2024-06-03,45.1,46.0,44.9,45.5,1000\n"
        "ZL,ZSF27,2024-06-04,45.1,46.0,44.9,45.5,1000\n"  # a soybean contract under the soybean oil root
        "ZL,ZLN24,1900-01-02,45.1,46.0,44.9,45.5,1000\n"
        "ZL,ZLN24,2024-06-01,45.1,46.0,44.9,45.5,1000\n"  # a Saturday
        "ZL,ZLN46,2046-06-04,45.1,46.0,44.9,45.5,1000\n"
        "ZL,ZLN99,2099-06-04,45.1,46.0,44.9,45.5,1000\n"
    )
    db = tmp_path / "cbi.duckdb"
    fetch_then_load(db, FuturesFiles([path]), Window(None, None))
    fetch_then_load(db, FuturesFiles([path]), Window(date(2024, 1, 1), date.today()))  # the default --end: today
    with duckdb.connect(str(db), read_only=True) as con:
        loaded = con.execute("select contract, trade_date::varchar from raw.futures_ohlcv_daily").fetchall()
        quarantined = con.execute(
            "select row_number, field, reason from ops.quarantine where run_id = "
            "(select max_by(run_id, started_at) from ops.ingest_runs where target_table = 'raw.futures_ohlcv_daily')"
            " order by row_number"
        ).fetchall()
    assert loaded == [("ZLN24", "2024-06-03")]
    assert [(line, field) for line, field, _ in quarantined] == [
        (3, "contract"),
        (5, "trade_date"),
        (6, "trade_date"),
        (7, "trade_date"),
    ]
    assert "not of the row's root" in quarantined[0][2] and "weekend" in quarantined[1][2]
    assert all("from the future" in reason for _, _, reason in quarantined[2:])


TOKEN_PATH = "/services/T0AAA/B0BBB/xoxb-secret-webhook-token"


def test_no_secret_at_any_verbosity_in_logs_tables_or_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import io
    import logging

    import duckdb
    from typer.testing import CliRunner

    from cbi.cli import app, main
    from orchestration.alerts import post_alert

    with HostileServer() as hook:
        url = hook.url(TOKEN_PATH)
        monkeypatch.setenv("CBI_ALERT_WEBHOOK_URL", url)
        main(verbose=True)  # the CLI's logging set-up with -v
        stored = io.StringIO()  # a handler without CBI's filter, as Dagster's stored compute logs have
        logging.getLogger().addHandler(logging.StreamHandler(stored))
        try:
            assert post_alert("coverage dropped", url)
        finally:
            logging.getLogger().handlers.pop()
        assert hook.paths == [TOKEN_PATH]
    err = capfd.readouterr().err
    assert "POST" in stored.getvalue() and "xoxb-secret" not in stored.getvalue() + err

    token = "md-secret-token-abcdef"
    result = CliRunner().invoke(app, ["runs", "--db", f"md:cbi?motherduck_token={token}"])
    assert result.exit_code != 0 and token not in result.output

    db = tmp_path / "cbi.duckdb"
    from ingest.runner import fetch_then_load
    from ingest.sources.base import Window
    from ingest.sources.futures_files import FuturesFiles

    bad = tmp_path / "bars.csv"
    bad.write_text(f"MOTHERDUCK_TOKEN={token}\nZL,ZLN24,2024-06-03,45.1,46.0,44.9,45.5,1000\n")
    with pytest.raises(Exception) as failure:
        fetch_then_load(db, FuturesFiles([bad]), Window(None, None))
    assert token not in str(failure.value)
    with duckdb.connect(str(db), read_only=True) as con:
        errors = " ".join(str(r) for r in con.execute("select * from ops.ingest_runs").fetchall())
    assert "MOTHERDUCK_TOKEN" in errors.upper() and token not in errors


def test_a_server_dripping_its_headers_meets_the_wall_clock_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 0.1 s: each socket read is quick, so only a wall-clock deadline stops it (the reply is
    complete after ~10 s, so a client bounded per read accepts it)."""
    import time

    import duckdb

    from ingest.http import SourceError
    from ingest.runner import fetch_then_load
    from ingest.sources.base import Window
    from ingest.sources.epa import Epa

    for name, value in {"CBI_HTTP_TIMEOUT": "1", "CBI_HTTP_REQUEST_DEADLINE": "1.5", "CBI_HTTP_RETRIES": "2"}.items():
        monkeypatch.setenv(name, value)
    with HostileServer("trickle", interval=0.1) as server:
        monkeypatch.setenv("CBI_EPA_RIN_URL", server.url("/rin.csv"))
        started = time.monotonic()
        with pytest.raises(SourceError, match="deadline"):
            fetch_then_load(tmp_path / "cbi.duckdb", Epa(), Window(None, None))
        assert time.monotonic() - started < 8  # the reply would have taken 10 s
    with duckdb.connect(str(tmp_path / "cbi.duckdb"), read_only=True) as con:
        assert con.execute("select status, finished_at is not null from ops.ingest_runs").fetchall() == [
            ("failed", True)
        ]


def test_an_alert_has_a_wall_clock_deadline_and_follows_no_redirect(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from orchestration.alerts import post_alert

    monkeypatch.setenv("CBI_ALERT_DEADLINE", "1.5")
    monkeypatch.setenv("CBI_ALERT_BACKOFF", "0.05")
    with HostileServer("trickle", interval=0.1) as slow:
        started = time.monotonic()
        assert post_alert("[CBI run_failed] x", slow.url("/hook")) is False
        assert time.monotonic() - started < 8
    with HostileServer() as elsewhere:
        for status in (307, 308, 302, 301):
            with HostileServer(status=status, location=elsewhere.url("/steal")) as hook:
                assert post_alert("[CBI run_failed] x", hook.url("/hook")) is False
                assert hook.paths == ["/hook"]
        assert elsewhere.paths == []


def test_a_local_gzip_bomb_is_refused_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    from ingest.files import read_bytes
    from ingest.http import SourceError

    monkeypatch.setenv("CBI_FILE_MAX_BYTES", str(1_000_000))
    header = b"root,contract,trade_date,open,high,low,close,volume\n"
    bomb = tmp_path / "bars.csv.gz"
    bomb.write_bytes(gzip.compress(header + b"0" * 50_000_000))  # 50 MB unpacked from ~50 kB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SourceError, match="unpacks to more than 1,000,000 bytes"):
        read_bytes(bomb, "futures file bars.csv.gz")
    plain = tmp_path / "big.csv"
    plain.write_bytes(header + b"0" * 2_000_000)
    with pytest.raises(SourceError, match="larger than 1,000,000 bytes"):
        read_bytes(plain, "futures file big.csv")
    small = tmp_path / "ok.csv.gz"
    small.write_bytes(gzip.compress(header))
    assert read_bytes(small, "futures file ok.csv.gz") == header


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sync", "push", "--remote", "{tmp}/up.duckdb", "--db", "/missing/x.duckdb"], "does not exist"),
        (["sync", "pull", "--remote", "{tmp}/up.duckdb", "--db", "/missing/x.duckdb"], "does not exist"),
        (["run", "weekly", "--budget", "notjson"], "not JSON"),
        (["run", "weekly", "--budget", "[1, 2]"], "JSON object"),
        (["run", "daily", "--wait", "nan"], "not a number of seconds"),
        (["run", "quality", "--wait", "inf"], "not a number of seconds"),
        (["run", "monitor", "--wait", "-1"], "not a number of seconds"),
    ],
)
def test_bad_options_end_in_a_clear_error_not_a_traceback_or_a_wait(
    args: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cbi.cli import app

    monkeypatch.setenv("CBI_DUCKDB_PATH", str(tmp_path / "cbi.duckdb"))
    result = CliRunner().invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert expected in result.output and "Traceback" not in result.output


def _wait_gone(pid: int, seconds: float = 10.0) -> bool:
    import os
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_the_dbt_child_ends_with_the_run_that_started_it(tmp_path: Path) -> None:
    """kill -9 of the parent (a stand-in for `cbi run daily`) ends the dbt it started through dbt_child.py."""
    import os
    import signal
    import subprocess
    import sys

    from orchestration.definitions import DBT_CHILD, RESOURCES

    assert Path(RESOURCES["dbt"].dbt_executable).resolve() == DBT_CHILD.resolve()
    fake_dbt = tmp_path / "dbt"
    fake_dbt.write_text(f"#!{sys.executable}\nimport os, time\nprint(os.getpid(), flush=True)\ntime.sleep(120)\n")
    fake_dbt.chmod(0o755)
    parent_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([{str(DBT_CHILD)!r}, 'build'], stdout=sys.stdout)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "CBI_DBT_EXECUTABLE": str(fake_dbt)}
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        dbt_pid = int(parent.stdout.readline())  # the fake dbt, exec'd in the child's process
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _wait_gone(dbt_pid), "dbt outlived the run that started it"
    finally:
        parent.kill()


def test_the_next_run_reconciles_a_killed_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real kill -9 of a run holding the lock with a load 'running': the next holder learns of it, marks the
    load failed, alerts and republishes the snapshot."""
    import os
    import signal
    import subprocess
    import sys

    import duckdb

    from cbi_core.lock import interrupted, run_lock
    from cbi_core.snapshot import snapshot_path
    from ingest.load import start_run
    from orchestration.reconcile import reconcile

    db = tmp_path / "cbi.duckdb"
    code = (
        "import sys, time, duckdb\n"
        "from cbi_core.lock import acquire\nfrom ingest.load import start_run\n"
        f"acquire({str(db)!r}, 'daily_forecast', 'dead-run')\n"
        f"with duckdb.connect({str(db)!r}) as con: start_run(con, 'futures', 'raw.futures_ohlcv_daily')\n"
        "print('ready', flush=True); time.sleep(120)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    assert child.stdout.readline().strip() == "ready"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)
    with duckdb.connect(str(db)) as con:  # a load of another, live process is left alone
        start_run(con, "fred", "raw.fred_observations")
    monkeypatch.setenv("CBI_ALERT_BACKOFF", "0")
    with HostileServer() as hook, run_lock(db, "daily_forecast", "next-run"):
        monkeypatch.setenv("CBI_ALERT_WEBHOOK_URL", hook.url("/hook"))
        previous = interrupted(db)
        assert previous is not None and (previous.run_id, previous.pid) == ("dead-run", child.pid)
        reconcile(str(db), previous)
        assert hook.paths == ["/hook"]
    with duckdb.connect(str(db), read_only=True) as con:
        runs = con.execute("select source, status, error from ops.ingest_runs order by source").fetchall()
    assert runs[0][:2] == ("fred", "running") and runs[1][:2] == ("futures", "failed") and "dead-run" in runs[1][2]
    assert snapshot_path(db).is_file()
    with run_lock(db, "daily_forecast", "after"):  # a run that released the lock leaves nothing to reconcile
        assert interrupted(db) is None
