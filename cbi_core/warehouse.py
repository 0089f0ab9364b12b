"""Opening the warehouse and running SQL on it: one clear error for every way that can fail.

- `connect(db_path, read_only=False)` checks the path first (a directory, a missing folder, a name that clashes
  with a schema) and turns DuckDB's lock error into "warehouse ... is busy: <who holds it> — <what to do>",
  naming the run that holds the run lock (`cbi_core.lock`) when there is one, else the PID from DuckDB's message.
- `execute(con, sql, params)` runs exactly ONE statement with every value bound as a parameter: a text that
  holds several statements is refused before anything runs, so a value that slipped into SQL cannot chain a
  second statement (`DuckDBPyConnection.execute` would otherwise run them all).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from cbi_core import lock
from cbi_core.errors import WarehouseBusy, WarehouseError
from cbi_core.settings import checked_path

__all__ = ["WarehouseBusy", "WarehouseError", "check_db_path", "connect", "execute"]

_PID = re.compile(r"\(PID (\d+)\)")


def describe_holder(db_path: str | Path, duckdb_message: str) -> str:
    """Who holds the warehouse: the run holding the run lock (another process's), else DuckDB's PID."""
    holder = None if lock.is_held_here(db_path) else lock.holder(db_path)
    if holder is not None:
        command = f" ({holder.command})" if holder.command else ""
        return f"{holder.job} (run {holder.run_id}) since {holder.started_at}, pid {holder.pid}{command}"
    match = _PID.search(duckdb_message)
    return f"another process, pid {match.group(1)}" if match else "another process"


def check_db_path(db_path: str) -> str:
    """`db_path` if a warehouse can live there, else a `WarehouseError` naming the problem."""
    try:
        db_path = checked_path(db_path)
    except ValueError as exc:
        raise WarehouseError(str(exc)) from None
    if db_path.startswith("md:") or db_path == ":memory:":
        return db_path
    path = Path(db_path)
    if path.is_dir():
        raise WarehouseError(f"warehouse {db_path} is a directory, not a DuckDB file: pass a file path with --db")
    if not path.parent.exists():
        raise WarehouseError(f"warehouse {db_path}: folder {path.parent} does not exist")
    return db_path


def connect(db_path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a `WarehouseBusy` or `WarehouseError` with one clear line if it cannot be opened."""
    db_path = check_db_path(str(db_path))
    if read_only and not db_path.startswith("md:") and not Path(db_path).exists():
        raise WarehouseError(f"warehouse {db_path} does not exist yet: load something first (cbi sample/ingest)")
    try:
        return duckdb.connect(db_path, read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            raise WarehouseBusy(
                f"warehouse {db_path} is busy: {describe_holder(db_path, message)} — wait for it to finish, or stop "
                f"that process, then run this again (DuckDB allows one writer at a time)"
            ) from None
        raise WarehouseError(f"warehouse {db_path} cannot be opened: {message.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"warehouse {db_path} cannot be opened: {str(exc).splitlines()[0]}") from None


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run one statement with bound parameters; refuse a text that holds more than one statement."""
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise WarehouseError(f"refusing to run {len(statements)} statements in one call: {sql[:120]!r}")
    return con.execute(sql, params) if params is not None else con.execute(sql)
