"""The published read-only snapshot of the warehouse that readers (dashboard, docs) open instead of the live file.

DuckDB allows one writer, and a process holding the file blocks even read-only opens elsewhere. So a writer
publishes a copy at the end of its run (`publish_snapshot`): it checkpoints the warehouse (the WAL goes into the
file), copies the file next to it under a temporary name, flushes it to disk and renames it over the previous
snapshot in one atomic step. A reader sees the old snapshot or the new one, never half of one, and a reader
holding the old file open keeps reading it undisturbed (the rename replaces the name, not the open file).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import duckdb

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".snapshot.duckdb"


class SnapshotError(RuntimeError):
    """The snapshot cannot be published or is not there."""


def snapshot_path(db_path: Path) -> Path:
    """Where the snapshot of `db_path` lives: beside it, `cbi.duckdb` -> `cbi.snapshot.duckdb`."""
    db_path = Path(db_path)
    if str(db_path).startswith("md:"):
        raise SnapshotError(f"{db_path} is a MotherDuck database: it has no local file to snapshot")
    stem = db_path.name[: -len(".duckdb")] if db_path.name.endswith(".duckdb") else db_path.name
    return db_path.with_name(stem + SNAPSHOT_SUFFIX)


def publish_snapshot(db_path: Path) -> Path:
    """Checkpoint `db_path`, copy it and atomically replace its snapshot; returns the snapshot's path.

    Call it at the end of a run that wrote the warehouse (no other process may hold the file for writing)."""
    db_path = Path(db_path)
    target = snapshot_path(db_path)
    if not db_path.is_file():
        raise SnapshotError(f"no warehouse at {db_path}: nothing to publish (run `make build` first)")
    started = time.perf_counter()
    try:
        with duckdb.connect(str(db_path)) as con:
            con.execute("checkpoint")
    except duckdb.IOException as exc:
        raise SnapshotError(
            f"cannot publish a snapshot of {db_path}: the file is held by another process ({exc})"
        ) from exc
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(db_path, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        # A WAL left beside an old snapshot would be replayed into the new file: remove it first.
        stale_wal = target.with_name(target.name + ".wal")
        stale_wal.unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(target.parent)
    log.info(
        "published snapshot %s (%.1f MB, %.1f s)", target, target.stat().st_size / 1e6, time.perf_counter() - started
    )
    return target


def open_snapshot(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot of `db_path` (never the live file)."""
    path = snapshot_path(Path(db_path))
    if not path.is_file():
        raise SnapshotError(
            f"no published snapshot of {db_path} at {path}: run `cbi snapshot publish` (`make build` does it)"
        )
    return duckdb.connect(str(path), read_only=True)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
