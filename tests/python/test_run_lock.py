"""The run lock (`cbi_core.lock`): held by the operating system for a live process, so nothing a dead or
unrelated process left in the lock file can make the warehouse "busy"; one lock per resolved database path.
Holders are real processes (subprocesses, killed with SIGKILL where that is the point)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cbi.cli import app
from cbi_core import lock
from cbi_core.errors import WarehouseBusy

#: A process that takes the run lock of argv[1] (and, with argv[2] == "duckdb", opens the DuckDB file too),
#: says so, then sleeps until killed.
HOLDER = textwrap.dedent("""
    import sys, time
    from cbi_core import lock
    lock.acquire(sys.argv[1], "daily_forecast", "run-held")
    if sys.argv[2:] == ["duckdb"]:
        import duckdb
        con = duckdb.connect(sys.argv[1])
    print("HOLDING", flush=True)
    time.sleep(120)
""")


def start_holder(db: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), *extra], stdout=subprocess.PIPE, text=True, env=env
    )
    assert holder.stdout.readline().strip() == "HOLDING"
    return holder


def stop(holder: subprocess.Popen) -> None:
    holder.kill()
    holder.wait(timeout=30)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "cbi.duckdb"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


@pytest.mark.parametrize(
    "content",
    ["", '{"job": "daily_forecast", "run_id": "r-1", "pi', "\x00\x00\x00", "not json at all"],
    ids=["empty", "truncated", "zeros", "garbage"],
)
def test_a_lock_file_nobody_holds_is_free_whatever_it_contains(db, content):
    lock.lock_path(db).write_text(content)
    assert lock.holder(db) is None
    with lock.run_lock(db, "data_quality", "run-B") as info:
        assert lock.holder(db) == info
        assert json.loads(lock.lock_path(db).read_text())["run_id"] == "run-B"
    assert lock.holder(db) is None


def test_a_dead_or_an_unrelated_live_pid_in_the_file_holds_nothing(db):
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # alive, not a holder
    try:
        for pid in (dead_pid(), unrelated.pid, os.getpid()):
            lock.lock_path(db).write_text(
                json.dumps({"job": "x", "run_id": "old", "pid": pid, "started_at": "2026-01-01T00:00:00+00:00"})
            )
            with lock.run_lock(db, "daily_forecast", "new") as info:
                assert info.run_id == "new" and info.pid == os.getpid()
    finally:
        stop(unrelated)


def test_a_killed_holder_releases_the_lock_by_construction(db):
    holder = start_holder(db)
    with pytest.raises(WarehouseBusy):
        lock.acquire(db, "data_quality", "run-B")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    with lock.run_lock(db, "data_quality", "run-B") as info:  # no wait, no takeover: the kernel let go
        assert info.run_id == "run-B"


def test_the_busy_message_names_the_holder(db):
    holder = start_holder(db)
    try:
        with pytest.raises(WarehouseBusy) as busy:
            lock.acquire(db, "data_quality", "run-B")
        message = str(busy.value)
        assert f"warehouse {db} is busy: daily_forecast (run run-held) since 20" in message
        assert f"pid {holder.pid} (-c {db})" in message  # the holder's command line (`python -c CODE DB`)
    finally:
        stop(holder)


def test_a_symlink_to_the_database_takes_the_same_lock(db, tmp_path):
    link = tmp_path / "elsewhere" / "link.duckdb"
    link.parent.mkdir()
    link.symlink_to(db)
    holder = start_holder(db)
    try:
        assert lock.lock_path(link) == lock.lock_path(db)
        with pytest.raises(WarehouseBusy, match=rf"pid {holder.pid}"):
            lock.acquire(link, "daily_forecast", "run-through-the-link")
    finally:
        stop(holder)
    with lock.run_lock(link, "daily_forecast", "run-through-the-link"):  # and the other way round
        other = subprocess.run(
            [sys.executable, "-c", "import sys; from cbi_core import lock; lock.acquire(sys.argv[1], 'j', 'r')", db],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    assert other.returncode != 0 and "WarehouseBusy" in other.stderr and "run-through-the-link" in other.stderr


def test_a_cbi_run_against_a_held_warehouse_exits_75_naming_the_holder(db, monkeypatch):
    monkeypatch.setenv("CBI_DUCKDB_PATH", str(db))
    holder = start_holder(db)
    try:
        result = CliRunner().invoke(app, ["run", "monitor"])
    finally:
        stop(holder)
    assert result.exit_code == 75, result.output
    assert "busy: daily_forecast (run run-held) since" in result.output and f"pid {holder.pid}" in result.output


def test_a_writer_blocked_by_the_duckdb_file_is_told_which_run_holds_it(db, monkeypatch):
    holder = start_holder(db, "duckdb")
    try:
        result = CliRunner().invoke(app, ["ingest", "fred", "--series", "DGS10", "--db", str(db)])
    finally:
        stop(holder)
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith(f"error: warehouse {db} is busy: daily_forecast (run run-held) since 20")
    assert f"pid {holder.pid} (-c {db} duckdb)" in line


def test_the_lock_is_reentrant_for_its_run_only(db):
    with lock.run_lock(db, "daily_forecast", "run-A"):
        with lock.run_lock(db, "daily_forecast", "run-A"):  # `cbi run`, then the run's own lock resource
            pass
        assert lock.holder(db).run_id == "run-A"  # the outer block still holds it
        with pytest.raises(WarehouseBusy, match=r"daily_forecast \(run run-A\)"):
            lock.acquire(db, "data_quality", "run-B")
        lock.release(db, "run-B")  # never another run's lock
        assert lock.holder(db).run_id == "run-A"
    assert lock.holder(db) is None and not lock.lock_path(db).exists()


def _hold(db: str, seconds: float, ready) -> None:
    with lock.run_lock(db, "daily_forecast", "run-A"):
        ready.set()
        time.sleep(seconds)
        Path(f"{db}.released").write_text(repr(time.time()))  # the last thing before letting go


def test_a_second_run_waits_for_the_lock_and_a_hand_run_gets_the_busy_error(tmp_path):
    db = str(tmp_path / "cbi.duckdb")
    ready = multiprocessing.get_context("spawn").Event()
    holder = multiprocessing.get_context("spawn").Process(target=_hold, args=(db, 3.0, ready))
    holder.start()
    assert ready.wait(60)
    held = lock.holder(db)
    assert (held.job, held.run_id, held.pid) == ("daily_forecast", "run-A", holder.pid)
    with pytest.raises(WarehouseBusy, match=r"busy: daily_forecast \(run run-A\) since .*pid \d+"):
        lock.acquire(db, "data_quality", "run-B", wait_s=0)
    info = lock.acquire(db, "data_quality", "run-B", wait_s=60, poll_s=0.1)
    acquired_at = time.time()
    assert acquired_at >= float(Path(f"{db}.released").read_text())  # only once the first run had let go
    assert lock.holder(db).run_id == info.run_id == "run-B"
    lock.release(db, "run-B")
    assert lock.holder(db) is None
    holder.join()


DUCKDB_HOLDER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("HOLDING", flush=True)
    time.sleep(120)
""")


def test_a_run_while_another_process_holds_the_duckdb_file_is_one_line(db, monkeypatch):
    """Not a run lock holder: a process that simply has the file open (a notebook, `duckdb cbi.duckdb`)."""
    import duckdb

    duckdb.connect(str(db)).close()
    monkeypatch.setenv("CBI_DUCKDB_PATH", str(db))
    holder = subprocess.Popen([sys.executable, "-c", DUCKDB_HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "HOLDING"
        result = CliRunner().invoke(app, ["run", "daily", "--wait", "1"])
    finally:
        stop(holder)
    assert result.exit_code == 75, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and f"is busy: another process, pid {holder.pid}" in lines[0], result.output
    assert lock.holder(db) is None  # the run lock was let go
