"""One writer at a time: the run lock `<db_path>.run.json` held while an orchestrated run writes the warehouse.

The file holds `{"job", "run_id", "pid", "started_at"}` (ISO-8601 UTC) and is created atomically (O_EXCL), so two
runs can never both hold it. A run waits for the holder to finish (bounded); a lock left by a dead process on
this machine is taken over. `ingest.warehouse.connect` reads the same file to explain a busy warehouse.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.config import LOCK_POLL_S

log = logging.getLogger(__name__)


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse; the message says which, since when and with which pid."""


@dataclass(frozen=True)
class LockInfo:
    job: str
    run_id: str
    pid: int
    started_at: str  # ISO-8601 UTC

    def describe(self, db_path: str | Path) -> str:
        return (
            f"warehouse {db_path} is busy: {self.job} (run {self.run_id}) since {self.started_at}, pid {self.pid} "
            "-- wait for it or try again later"
        )


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.run.json")


def read_lock(db_path: str | Path) -> LockInfo | None:
    """The current holder, or None when the warehouse is free (an unreadable file counts as held by nobody)."""
    try:
        data = json.loads(lock_path(db_path).read_text())
        return LockInfo(str(data["job"]), str(data["run_id"]), int(data["pid"]), str(data["started_at"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _try_create(path: Path, info: LockInfo) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(info), handle)
    return True


def acquire(db_path: str | Path, job: str, run_id: str, wait_s: float = 0.0, poll_s: float = LOCK_POLL_S) -> LockInfo:
    """Take the lock for `job`/`run_id`, waiting up to `wait_s` seconds for the holder; else `WarehouseBusy`."""
    path = lock_path(db_path)
    info = LockInfo(job, run_id, os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"))
    deadline = time.monotonic() + max(wait_s, 0.0)
    announced = False
    while True:
        if _try_create(path, info):
            return info
        holder = read_lock(db_path)
        if holder is not None and holder.run_id == run_id and _alive(holder.pid):
            return holder  # this run holds it already (`cbi run` takes it before Dagster starts the run)
        if holder is not None and not _alive(holder.pid):
            log.warning("taking over the run lock of %s: pid %d is gone", holder.job, holder.pid)
            path.unlink(missing_ok=True)
            continue
        if time.monotonic() >= deadline:
            raise WarehouseBusy(holder.describe(db_path) if holder else f"warehouse {db_path} is busy")
        if not announced:
            log.info("waiting for the warehouse: %s", holder.describe(db_path) if holder else "busy")
            announced = True
        time.sleep(poll_s)


def release(db_path: str | Path, run_id: str) -> None:
    """Remove the lock if this run holds it (never another run's)."""
    holder = read_lock(db_path)
    if holder is not None and holder.run_id == run_id:
        lock_path(db_path).unlink(missing_ok=True)


@contextmanager
def run_lock(db_path: str | Path, job: str, run_id: str, wait_s: float = 0.0) -> Iterator[LockInfo]:
    """Hold the lock for the block; a block entered while this run already holds it leaves it held."""
    already = read_lock(db_path)
    info = acquire(db_path, job, run_id, wait_s)
    try:
        yield info
    finally:
        if not (already is not None and already.run_id == run_id):
            release(db_path, run_id)
