"""Atomicity for real: a load process killed with SIGKILL part-way leaves the last good state."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from ingest.load import upsert
from ingest.sample import generate_sample

CHILD = textwrap.dedent("""
    import sys, duckdb
    from ingest.load import upsert
    from ingest.sample import generate_sample
    frame = generate_sample("2010-01-04", "2024-06-28", 76)["futures_ohlcv_daily"]
    frame["close"] = frame["close"] * 1.01          # every row is a revision: history + delete + insert
    con = duckdb.connect(sys.argv[1])
    print("READY", flush=True)
    sys.stdin.readline()
    upsert(con, "futures_ohlcv_daily", frame)
    con.close()
    print("DONE", flush=True)
""")


def table_fingerprint(db: str) -> tuple[int, float, int]:
    with duckdb.connect(db) as con:
        count, total = con.sql("select count(*), sum(close) from raw.futures_ohlcv_daily").fetchall()[0]
        history = con.sql("select count(*) from raw.futures_ohlcv_daily_history").fetchall()[0][0]
    return count, round(total, 6), history


@pytest.mark.parametrize("delay_s", [0.15, 0.35, 0.6])
def test_a_killed_load_leaves_the_previous_state(tmp_path, delay_s):
    db = str(tmp_path / "w.duckdb")
    frame = generate_sample("2010-01-04", "2024-06-28", 76)["futures_ohlcv_daily"]
    with duckdb.connect(db) as con:
        upsert(con, "futures_ohlcv_daily", frame)
    before = table_fingerprint(db)

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "READY"
    child.stdin.write("GO\n")
    child.stdin.flush()
    time.sleep(delay_s)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    after = table_fingerprint(db)
    completed = (before[0], round(before[1] * 1.01, 6), before[0])
    # all or nothing: either the old state, untouched, or the whole revision with its history
    assert after == before or (after[0], after[2]) == (completed[0], completed[2])
    if after != before:
        assert after[1] == pytest.approx(completed[1], rel=1e-9)
