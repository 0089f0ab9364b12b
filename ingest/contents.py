"""What a warehouse holds: the simulated offline sample (`cbi sample`) or real sources (the connectors and file
importers), recorded in `ops.warehouse_contents` by whatever writes the raw tables, so nothing mixes them.

A warehouse that holds the sample refuses a real load (and the daily run skips its sources without touching the
network); one that holds real data refuses the sample. A warehouse written before this record existed holds no
row: it is treated as unknown and nothing is refused (re-running `cbi sample` on a sample warehouse records it).
"""

from __future__ import annotations

import duckdb

from cbi_core.errors import WarehouseError
from cbi_core.warehouse import execute

SAMPLE = "sample"  # the deterministic simulated market of `cbi sample`
REAL = "real"  # data from the real sources (APIs, feeds, files)
DESCRIPTIONS = {
    SAMPLE: "the simulated offline sample (`cbi sample`)",
    REAL: "data from real sources (`cbi ingest ...`)",
}

CONTENTS_DDL = """
create table if not exists ops.warehouse_contents (
    contents varchar primary key,
    first_written_at timestamp not null,
    last_written_at timestamp not null,
    last_writer varchar not null
)
"""


class MixedContents(WarehouseError):
    """A write would put the simulated sample and real data in one warehouse."""


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return execute(con, sql, ["ops", "warehouse_contents"]).fetchone()[0] > 0


def warehouse_contents(con: duckdb.DuckDBPyConnection) -> set[str]:
    """What the warehouse records holding: a subset of {SAMPLE, REAL} (empty: nothing recorded)."""
    if not _exists(con):
        return set()
    return {row[0] for row in execute(con, "select contents from ops.warehouse_contents").fetchall()}


def holds_sample(con: duckdb.DuckDBPyConnection) -> bool:
    return SAMPLE in warehouse_contents(con)


def check_can_write(con: duckdb.DuckDBPyConnection, contents: str, writer: str) -> None:
    """Raise `MixedContents` when `writer` (writing `contents`) would mix the sample with real data."""
    other = (set(DESCRIPTIONS) - {contents}) & warehouse_contents(con)
    if other:
        held = DESCRIPTIONS[other.pop()]
        raise MixedContents(
            f"{writer}: this warehouse holds {held}; writing {DESCRIPTIONS[contents]} into it would mix the two. "
            "Use another warehouse (--db or CBI_DUCKDB_PATH)."
        )


def record_contents(con: duckdb.DuckDBPyConnection, contents: str, writer: str) -> None:
    """Record that `writer` wrote `contents` into the raw tables (idempotent; keeps the first time)."""
    check_can_write(con, contents, writer)
    execute(con, "create schema if not exists ops")
    execute(con, CONTENTS_DDL)
    execute(
        con,
        """
        insert into ops.warehouse_contents as t
        values (?, now()::timestamp, now()::timestamp, ?)
        on conflict (contents) do update set last_written_at = excluded.last_written_at,
            last_writer = excluded.last_writer
        """,
        [contents, writer],
    )
