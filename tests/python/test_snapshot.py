"""The published read-only snapshot (cbi_core.snapshot): complete, atomic, and never the live file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cbi.cli import app
from cbi_core.snapshot import SnapshotError, open_snapshot, publish_snapshot, snapshot_path


def write(db, value: int) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists forecasts")
        con.execute("create or replace table forecasts.t as select ? as v", [value])


def test_snapshot_path_sits_beside_the_warehouse(tmp_path):
    assert snapshot_path(tmp_path / "cbi.duckdb") == tmp_path / "cbi.snapshot.duckdb"
    assert snapshot_path(tmp_path / "real") == tmp_path / "real.snapshot.duckdb"
    with pytest.raises(SnapshotError, match="MotherDuck"):
        snapshot_path("md:cbi")


def test_publish_copies_everything_including_what_was_only_in_the_wal(tmp_path):
    db = tmp_path / "cbi.duckdb"
    write(db, 1)
    # A write the writer has not checkpointed yet: it lives in the WAL until publish checkpoints it.
    con = duckdb.connect(str(db))
    con.execute("set checkpoint_threshold = '1GB'")
    con.execute("insert into forecasts.t values (2)")
    con.close()
    path = publish_snapshot(db)
    assert path == tmp_path / "cbi.snapshot.duckdb"
    with open_snapshot(db) as snap:
        assert sorted(r[0] for r in snap.execute("select v from forecasts.t").fetchall()) == [1, 2]
    assert not list(tmp_path.glob(".*tmp"))


def test_a_reader_keeps_its_snapshot_while_a_new_one_is_published_and_never_blocks_the_writer(tmp_path):
    db = tmp_path / "cbi.duckdb"
    write(db, 1)
    publish_snapshot(db)
    reader = open_snapshot(db)  # a dashboard build holding the snapshot open
    write(db, 2)  # the writer is not blocked by the reader
    publish_snapshot(db)  # nor is publishing
    assert reader.execute("select v from forecasts.t").fetchone()[0] == 1  # the old one, whole
    reader.close()
    with open_snapshot(db) as snap:
        assert snap.execute("select v from forecasts.t").fetchone()[0] == 2
    with pytest.raises(duckdb.Error), open_snapshot(db) as snap:  # read-only
        snap.execute("create table forecasts.x as select 1")


def test_publish_while_another_process_writes_fails_clearly_and_keeps_the_old_snapshot(tmp_path):
    db = tmp_path / "cbi.duckdb"
    write(db, 1)
    publish_snapshot(db)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import duckdb, sys, time
                con = duckdb.connect({str(db)!r})
                print("ready", flush=True)
                sys.stdin.readline()
            """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(SnapshotError, match="held by another process"):
            publish_snapshot(db)
        with open_snapshot(db) as snap:  # readers are unaffected by the live writer
            assert snap.execute("select v from forecasts.t").fetchone()[0] == 1
    finally:
        holder.communicate("done\n", timeout=30)


def test_missing_warehouse_or_snapshot_gives_one_clear_error(tmp_path):
    with pytest.raises(SnapshotError, match="no warehouse at"):
        publish_snapshot(tmp_path / "cbi.duckdb")
    write(tmp_path / "cbi.duckdb", 1)
    with pytest.raises(SnapshotError, match="run `cbi snapshot publish`"):
        open_snapshot(tmp_path / "cbi.duckdb")


def test_cli_publish_then_dashboard_build_without_a_snapshot_errors(tmp_path):
    db = tmp_path / "cbi.duckdb"
    write(db, 1)
    runner = CliRunner()
    missing = runner.invoke(app, ["dashboard", "build", "--db", str(db), "--out", str(tmp_path / "site")])
    assert missing.exit_code == 1 and "cbi snapshot publish" in missing.output
    result = runner.invoke(app, ["snapshot", "publish", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert snapshot_path(db).is_file()


@pytest.mark.dbt
def test_make_docs_reads_the_snapshot_while_a_writer_holds_the_warehouse(built_warehouse, tmp_path):
    """`make docs` (the `snapshot` target of profiles.yml, read-only) builds the catalog from the published
    snapshot while another process holds the live file, which DuckDB would not let it open."""
    import os
    import shutil

    from conftest import PROJECT_DIR

    db = tmp_path / "cbi.duckdb"
    shutil.copy(built_warehouse, db)
    published = CliRunner().invoke(app, ["snapshot", "publish", "--db", str(db)])
    assert published.exit_code == 0, published.output
    printed = CliRunner().invoke(app, ["snapshot", "path", "--db", str(db)])
    assert printed.exit_code == 0 and printed.output.strip() == str(snapshot_path(db))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; con = duckdb.connect({str(db)!r}); print('ready', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(PROJECT_DIR),
            "CBI_DUCKDB_PATH": str(db),
            "CBI_SNAPSHOT_PATH": printed.output.strip(),
            "CBI_TARGET": "snapshot",
        }
        target = tmp_path / "docs_target"
        dbt = str(Path(sys.executable).parent / "dbt")
        docs = subprocess.run(
            [dbt, "docs", "generate", "--target-path", str(target), "--log-path", str(tmp_path / "logs")],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        holder.communicate("done\n", timeout=30)
    assert docs.returncode == 0, (docs.stdout + docs.stderr)[-3000:]
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.cbi.zl_predictions" in catalog["nodes"] and "model.cbi.daily_ml_matrix_zl" in catalog["nodes"]
