"""What every connector is: a name, the raw tables it writes, a plan (for --dry-run) and batches of frames.

A connector never writes to the database itself: it yields `(raw table, frame)` batches that the runner
loads through `ingest.load.upsert`, one transaction per batch, so every connector gets the same validation,
quarantine, idempotency, history and run records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Window:
    """The period to fetch. `start=None` means: incremental, from what is already loaded."""

    start: date | None
    end: date


@dataclass(frozen=True)
class Batch:
    table: str
    frame: pd.DataFrame
    label: str  # what the batch is, for logs and progress (e.g. "FRED DGS10")


class Connector(Protocol):
    name: str
    tables: tuple[str, ...]

    def available(self) -> str | None:
        """None if the connector can run here, else the reason it cannot (e.g. a missing API key)."""

    def plan(self, con: duckdb.DuckDBPyConnection, window: Window) -> list[str]:
        """Human-readable lines saying what would be fetched (the --dry-run output)."""

    def batches(self, con: duckdb.DuckDBPyConnection, window: Window) -> Iterator[Batch]:
        """Fetch and parse; yield one batch per request/file."""


def latest_loaded(con: duckdb.DuckDBPyConnection, table: str, date_column: str, where: str = "") -> date | None:
    """The latest period already in `raw.<table>` (optionally filtered), or None when nothing is loaded."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [table]
    ).fetchall()[0][0]
    if not exists:
        return None
    clause = f"where {where}" if where else ""
    value = con.execute(f"select max({date_column}) from raw.{table} {clause}").fetchall()[0][0]
    return pd.Timestamp(value).date() if value is not None else None


def incremental_start(
    con: duckdb.DuckDBPyConnection,
    window: Window,
    table: str,
    date_column: str,
    where: str = "",
    lookback_days: int = 0,
    default: date = date(2010, 1, 1),
) -> date:
    """`window.start` if given; else the latest loaded period minus a look-back (to pick up revisions of
    recent periods), else `default` for a first load."""
    if window.start is not None:
        return window.start
    latest = latest_loaded(con, table, date_column, where)
    if latest is None:
        return default
    return (pd.Timestamp(latest) - pd.Timedelta(days=lookback_days)).date()
