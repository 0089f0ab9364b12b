"""One writer at a time: the run lock, held by an orchestrated run (and `cbi run`) while it writes the warehouse.

The lock is the operating system's: `fcntl.flock` on `<resolved db path>.run.json`. The kernel releases it
when the holder's process ends, however it ends (`kill -9` included), so a dead holder never leaves the warehouse
"busy"; a path reached through a symlink resolves to the same file, so it takes the same lock. The file's
content is only a description of the holder (`{"job", "run_id", "pid", "command", "started_at"}`) for the busy
message: it is read only while the file is locked, so an empty, truncated or stale file (a recycled pid) means
nothing.

Within one process the lock is re-entrant for the same run (`cbi run` takes it before Dagster starts the run,
whose lock resource then finds it held by the same run id); another run id in the same process is busy.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cbi_core.errors import WarehouseBusy, WarehouseError
from cbi_core.secrets import redact

log = logging.getLogger(__name__)

RUN_LOCK_SUFFIX = ".run.json"
POLL_S = 0.5  # how often a waiting run tries again


@dataclass(frozen=True)
class LockInfo:
    job: str
    run_id: str
    pid: int
    started_at: str  # ISO-8601 UTC
    command: str = ""

    def describe(self, db_path: str | Path) -> str:
        command = f" ({self.command})" if self.command else ""
        return (
            f"warehouse {db_path} is busy: {self.job} (run {self.run_id}) since {self.started_at}, "
            f"pid {self.pid}{command} -- wait for it or try again later"
        )


@dataclass
class _Held:
    fd: int
    info: LockInfo
    depth: int = 1
    interrupted: LockInfo | None = None  # the previous holder, if it ended without releasing the lock


#: Locks this process holds, by lock file.
_HELD: dict[Path, _Held] = {}


def lock_path(db_path: str | Path) -> Path:
    """The lock file of `db_path`, next to the file it resolves to (symlinks followed)."""
    return Path(f"{os.path.realpath(db_path)}{RUN_LOCK_SUFFIX}")


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WarehouseError(f"run lock {path} cannot be opened: {exc.strerror}") from None


def _try_lock(path: Path) -> int | None:
    """An fd holding the exclusive lock on `path`, or None if another process holds it. A file unlinked by its
    previous holder between our open and our lock is opened again (else two runs could hold two inodes)."""
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _describe_file(fd: int) -> LockInfo | None:
    try:
        data = json.loads(os.pread(fd, 65536, 0).decode())
        return LockInfo(**{k: data[k] for k in ("job", "run_id", "pid", "started_at")}, command=data.get("command", ""))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def holder(db_path: str | Path) -> LockInfo | None:
    """The run holding the lock, or None when nobody does (or the holder has not said who it is yet)."""
    path = lock_path(db_path)
    held = _HELD.get(path)
    if held is not None:
        return held.info
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # no file: nobody holds it
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # held by another process: its description is current
            return _describe_file(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # nobody holds it: whatever the file says is stale
    finally:
        os.close(fd)


def is_held_here(db_path: str | Path) -> bool:
    """Whether this process holds the lock of `db_path`."""
    return lock_path(db_path) in _HELD


def _busy(db_path: str | Path) -> WarehouseBusy:
    info = holder(db_path)
    if info is not None:
        return WarehouseBusy(info.describe(db_path))
    return WarehouseBusy(f"warehouse {db_path} is busy: another process holds {lock_path(db_path)} -- try again later")


def _take(path: Path, info: LockInfo) -> bool:
    held = _HELD.get(path)
    if held is not None:
        if held.info.run_id != info.run_id:
            return False
        held.depth += 1
        return True
    fd = _try_lock(path)
    if fd is None:
        return False
    previous = _describe_file(fd)  # a release removes the file: a description left in it is a run that died
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(info)).encode(), 0)
    _HELD[path] = _Held(fd, info, interrupted=previous if previous and previous.run_id != info.run_id else None)
    return True


def _command() -> str:
    """This process's command line, short: `cbi run daily` (`python -m cbi` counts as `cbi`), secrets redacted."""
    if not sys.argv:
        return ""
    program = Path(sys.argv[0])
    name = program.parent.name if program.name == "__main__.py" else program.name
    return redact(shlex.join([name, *sys.argv[1:]]))[:200]


def acquire(db_path: str | Path, job: str, run_id: str, wait_s: float = 0.0, poll_s: float = POLL_S) -> LockInfo:
    """Take the lock for `job`/`run_id`, waiting up to `wait_s` seconds for the holder; else `WarehouseBusy`."""
    path = lock_path(db_path)
    info = LockInfo(job, run_id, os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"), _command())
    deadline = time.monotonic() + max(wait_s, 0.0)
    announced = False
    while not _take(path, info):
        if time.monotonic() >= deadline:
            raise _busy(db_path)
        if not announced:
            log.info("waiting for the warehouse: %s", _busy(db_path))
            announced = True
        time.sleep(poll_s)
    return _HELD[path].info


def interrupted(db_path: str | Path) -> LockInfo | None:
    """The run that held the lock before this process took it and ended without letting go (killed, crashed),
    or None; known only while this process holds the lock."""
    held = _HELD.get(lock_path(db_path))
    return held.interrupted if held is not None else None


def release(db_path: str | Path, run_id: str) -> None:
    """Let go of the lock if this process holds it for `run_id` (never another run's)."""
    path = lock_path(db_path)
    held = _HELD.get(path)
    if held is None or held.info.run_id != run_id:
        return
    held.depth -= 1
    if held.depth:
        return
    del _HELD[path]
    path.unlink(missing_ok=True)  # while still locked: a waiting process re-opens the path it locks
    os.close(held.fd)


@contextmanager
def run_lock(db_path: str | Path, job: str, run_id: str, wait_s: float = 0.0) -> Iterator[LockInfo]:
    """Hold the lock for the block (re-entrant for the same run in this process)."""
    info = acquire(db_path, job, run_id, wait_s)
    try:
        yield info
    finally:
        release(db_path, run_id)
