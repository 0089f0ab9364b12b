"""What every connector is: a name, the raw tables it writes, a plan (for --dry-run) and batches of frames.

The words: a *source* is what data (`futures`, `fred`, `cftc`, ...: the `source` of the raw tables it writes,
`ingest.contracts`, and the name in `cbi ingest <source>`); a *connector* is where it comes from: the source's
own service (named like the source: `fred`, `cftc`, ...), for futures the `databento` API or the keyless `quotes`
API, and `file` for every file importer. `ops.ingest_runs` records both (`source`, `connector`).

A connector never touches the database: it yields `(raw table, frame)` batches that the runner loads through
`ingest.load.upsert`, one transaction per batch, so every connector gets the same validation, quarantine,
idempotency, history and run records. What a connector needs to know about the warehouse (the latest period
loaded, for incremental runs) it gets from `Loaded`, read once before fetching, so the warehouse is never held
open while a connector waits on the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import duckdb
import pandas as pd

from cbi_core.warehouse import execute
from ingest.contracts import RAW_TABLES

#: Per raw table: the period column and the columns the latest loaded period is kept per.
PERIOD_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "futures_ohlcv_daily": ("trade_date", ("root", "contract")),
    "fred_observations": ("observation_date", ("series_id",)),
    "cftc_cot_disaggregated": ("report_date", ("market_code", "report_type")),
    "usda_export_sales": ("week_ending_date", ("commodity",)),
    "epa_rin_prices": ("week_ending_date", ("rin_type",)),
    "eia_observations": ("period_date", ("series_id",)),
    "news_articles": ("published_at", ("feed",)),
}

#: A name a user may give (a futures root, a feed name): letters, digits, '_', '-' and '.', at most 40.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def check_name(kind: str, value: str, source: str) -> str:
    """`value` if it is a plain name (used in URLs, labels and bound SQL values), else a clear error."""
    from ingest.http import SourceError

    if not isinstance(value, str) or not _SAFE_NAME.fullmatch(value):
        raise SourceError(source, f"{kind} {value!r} is not a valid name (letters, digits, '_', '-', '.')")
    return value


@dataclass(frozen=True)
class Window:
    """The period to fetch. `start=None` means: incremental, from what is already loaded."""

    start: date | None
    end: date


@dataclass(frozen=True)
class Batch:
    table: str
    frame: pd.DataFrame
    label: str  # what the batch is, for logs, errors and progress (e.g. "fred DGS10")


@dataclass(frozen=True)
class Loaded:
    """The latest period loaded per raw table and group (e.g. per FRED series), read before any fetch."""

    latest: dict[str, list[tuple[dict[str, object], date]]] = field(default_factory=dict)

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection | None) -> Loaded:
        """Read the latest periods (an empty state for `None`: nothing loaded yet)."""
        if con is None:
            return cls()
        found: dict[str, list[tuple[dict[str, object], date]]] = {}
        for table, (period, groups) in PERIOD_COLUMNS.items():
            exists = execute(
                con,
                "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?",
                [table],
            ).fetchall()[0][0]
            if not exists:
                continue
            cols = ", ".join(groups)  # identifiers from PERIOD_COLUMNS only
            rows = execute(con, f"select {cols}, max({period}) from raw.{table} group by all").fetchall()
            found[table] = [
                (dict(zip(groups, row[:-1], strict=True)), pd.Timestamp(row[-1]).date())
                for row in rows
                if row[-1] is not None
            ]
        return cls(found)

    def latest_period(self, table: str, match: Callable[[dict[str, object]], bool] | None = None) -> date | None:
        """The latest period loaded in `raw.<table>` among the groups `match` accepts (all by default)."""
        dates = [d for group, d in self.latest.get(table, []) if match is None or match(group)]
        return max(dates) if dates else None


class Connector(Protocol):
    name: str
    tables: tuple[str, ...]

    def available(self) -> str | None:
        """None if the connector can run here, else the reason it cannot (e.g. a missing API key)."""

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        """Human-readable lines saying what would be fetched (the --dry-run output)."""

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        """Fetch and parse; yield one batch per request/file."""


def source_of(connector: Connector) -> str:
    """The source `connector` loads: that of the raw table it writes (`futures` for quotes, databento, file)."""
    return RAW_TABLES[connector.tables[0]].source


def describe(connector: Connector) -> str:
    """How messages name a connector's run: its source, with the connector when that is not the source's own
    service: `fred`, `futures (quotes)`, `futures (databento)`, `cftc (file)`."""
    source = source_of(connector)
    return source if connector.name == source else f"{source} ({connector.name})"


def equals(**values: object) -> Callable[[dict[str, object]], bool]:
    """A `Loaded` group filter: every named column equals its value."""
    return lambda group: all(group.get(k) == v for k, v in values.items())


def incremental_start(
    loaded: Loaded,
    window: Window,
    table: str,
    match: Callable[[dict[str, object]], bool] | None = None,
    lookback_days: int = 0,
    default: date = date(2010, 1, 1),
) -> date:
    """`window.start` if given; else the latest loaded period minus a look-back (to pick up revisions of
    recent periods), else `default` for a first load."""
    if window.start is not None:
        return window.start
    latest = loaded.latest_period(table, match)
    if latest is None:
        return default
    return (pd.Timestamp(latest) - pd.Timedelta(days=lookback_days)).date()


def in_window(frame: pd.DataFrame, column: str, window: Window) -> pd.DataFrame:
    """Rows of `window` (rows whose date does not parse stay, for the loader to quarantine)."""
    days = pd.to_datetime(frame[column], errors="coerce")
    keep = days.isna() | (days <= pd.Timestamp(window.end) + pd.Timedelta(days=1))
    if window.start is not None:
        keep &= days.isna() | (days >= pd.Timestamp(window.start))
    return frame.loc[keep].reset_index(drop=True)
