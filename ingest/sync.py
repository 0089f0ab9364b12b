"""`cbi sync`: copy schemas between the local warehouse and a shared one (MotherDuck, or any DuckDB file).

The cloud layout (docs/scale_out.md): ingestion and the SQL models run on the shared database; training
runs on a local copy; forecasts and run records go back up.

- `pull` (`ingest.sync_pull`) loads the raw contract's tables from the remote through the one load path.
- `push` copies the local `forecasts` schema (each table replaced) and `ops` schema (rows the remote does not have
  yet are appended; the remote's own rows are never deleted, since ingest runs on the remote record there) up.

Each table is copied in one transaction of the database written to (DuckDB lets a transaction write to one
attached database): a failure leaves that table as it was. A table whose contents already equal the source is
left untouched, so a second run changes nothing. The remote is attached through a bound parameter; identifiers
are quoted; the tables copied come from the contract (pull) or the local catalogue (push).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb

from cbi_core.secrets import redact

log = logging.getLogger(__name__)

REMOTE_ALIAS = "cbi_remote"
_MD_DATABASE = re.compile(r"^md:[A-Za-z_][A-Za-z0-9_]*$")


class Mode(StrEnum):
    """How a table reaches its destination."""

    REPLACE = "replace"  # the destination becomes an exact copy
    APPEND = "append"  # rows the destination lacks are added; none are removed


#: What `push` sends and how. `forecasts` are produced only where training runs, so the local copy is complete;
#: `ops` tables are written in both places (ingest runs on the remote, training and monitoring locally).
PUSH_SCHEMAS: dict[str, Mode] = {"forecasts": Mode.REPLACE, "ops": Mode.APPEND}


class SyncError(RuntimeError):
    """A sync could not run or a table could not be copied; the message names the table."""


@dataclass(frozen=True)
class TableSync:
    table: str  # schema.table
    mode: Mode
    rows_source: int
    rows_written: int  # rows inserted into the destination (0 when unchanged)
    status: str  # copied | appended | unchanged


def quote_ident(name: str) -> str:
    """`name` as a double-quoted SQL identifier (embedded quotes doubled), whatever characters it holds."""
    escaped = name.replace('"', '""')
    return f'"{escaped}"'


_DUCKDB_MAGIC = (8, b"DUCK")  # every DuckDB database file holds these bytes at this offset


def check_remote(remote: str, *, must_exist: bool) -> str:
    """`remote` if it is `md:<database>` or a DuckDB file path (which must exist when reading from it); anything
    else (`:memory:`, a URL, another file) is refused, since it would report success and keep nothing."""
    shown = redact(remote)
    if remote.startswith("md:"):
        if not _MD_DATABASE.match(remote):
            raise SyncError(
                f"remote {shown!r}: a MotherDuck database is written md:<name> (letters, digits, _); "
                "the token comes from MOTHERDUCK_TOKEN, never from the name"
            )
        return remote
    if not remote.strip() or remote.startswith(":") or "://" in remote or "?" in remote:
        raise SyncError(f"remote {shown!r} is neither md:<database> nor a DuckDB file")
    path = Path(remote)
    if path.is_dir():
        raise SyncError(f"remote {shown!r} is a directory, not a DuckDB file")
    if path.is_file():
        offset, magic = _DUCKDB_MAGIC
        with path.open("rb") as f:
            head = f.read(offset + len(magic))
        if head[offset:] != magic:
            raise SyncError(f"remote {shown!r} is not a DuckDB database file")
    elif must_exist:
        raise SyncError(f"remote {shown!r} does not exist")
    elif not path.parent.is_dir():
        raise SyncError(f"remote {shown!r}: the folder {path.parent} does not exist")
    return remote


def _attach(con: duckdb.DuckDBPyConnection, remote: str, *, read_only: bool) -> None:
    options = " (READ_ONLY)" if read_only else ""
    try:
        con.execute(f"attach ? as {REMOTE_ALIAS}{options}", [remote])
    except duckdb.Error as exc:
        raise SyncError(redact(f"cannot open the remote warehouse {remote!r}: {exc}")) from None


def _table_exists(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
        [database, schema, table],
    ).fetchone()
    return bool(row and row[0])


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ?"
        " order by column_index",
        [database, schema, table],
    ).fetchall()
    return [r[0] for r in rows]


def _local_database(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("select current_database()").fetchone()
    assert row is not None
    return row[0]


def _ref(database: str, schema: str, table: str) -> str:
    return ".".join(quote_ident(p) for p in (database, schema, table))


def _same_rows(con: duckdb.DuckDBPyConnection, a: str, b: str, cols: str) -> bool:
    """Whether the two relations hold the same multiset of rows (over `cols`)."""
    row = con.execute(
        f"select (select count(*) from (select {cols} from {a} except all select {cols} from {b}))"
        f" + (select count(*) from (select {cols} from {b} except all select {cols} from {a}))"
    ).fetchone()
    return bool(row) and row[0] == 0


def _count(con: duckdb.DuckDBPyConnection, ref: str) -> int:
    row = con.execute(f"select count(*) from {ref}").fetchone()
    return int(row[0]) if row else 0


def copy_table(
    con: duckdb.DuckDBPyConnection,
    src: tuple[str, str, str],
    dst: tuple[str, str, str],
    mode: Mode,
    create_ddl: str | None = None,
) -> TableSync:
    """Copy one table from `src` to `dst` (database, schema, table) in one transaction of the destination.

    `create_ddl` creates a missing destination (keeping the contract's key); without it the destination is
    created with the source's column types.
    """
    name = f"{dst[1]}.{dst[2]}"
    src_ref, dst_ref = _ref(*src), _ref(*dst)
    src_cols = _columns(con, *src)
    rows_source = _count(con, src_ref)
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {quote_ident(dst[0])}.{quote_ident(dst[1])}")
        if not _table_exists(con, *dst):
            if create_ddl is not None:
                con.execute(create_ddl)
            else:
                con.execute(f"create table {dst_ref} as select * from {src_ref} limit 0")
        dst_cols = _columns(con, *dst)
        missing = [c for c in src_cols if c not in dst_cols]
        if missing:
            raise SyncError(f"{name}: the destination lacks column(s) {missing}; migrate it before syncing")
        cols = ", ".join(quote_ident(c) for c in src_cols)
        if mode is Mode.REPLACE:
            if _same_rows(con, src_ref, dst_ref, cols) and len(dst_cols) == len(src_cols):
                con.execute("rollback")
                return TableSync(name, mode, rows_source, 0, "unchanged")
            con.execute(f"delete from {dst_ref}")
            con.execute(f"insert into {dst_ref} ({cols}) select {cols} from {src_ref}")
            written, status = rows_source, "copied"
        else:
            before = _count(con, dst_ref)
            con.execute(
                f"insert into {dst_ref} ({cols}) select {cols} from {src_ref} except all select {cols} from {dst_ref}"
            )
            written = _count(con, dst_ref) - before
            status = "appended" if written else "unchanged"
        con.execute("commit")
    except (duckdb.Error, SyncError) as exc:
        con.execute("rollback")
        if isinstance(exc, SyncError):
            raise
        raise SyncError(f"{name}: copy failed, the table is unchanged: {exc}") from exc
    log.info("%s: %s (%d rows in source, %d written)", name, status, rows_source, written)
    return TableSync(name, mode, rows_source, written, status)


def push(local_db: str, remote: str, schemas: dict[str, Mode] | None = None) -> list[TableSync]:
    """Copy the local `forecasts` and `ops` tables (or `schemas`) up to `remote`, which is created if missing."""
    check_remote(remote, must_exist=False)
    plan = schemas or PUSH_SCHEMAS
    results: list[TableSync] = []
    with duckdb.connect(local_db) as con:
        _attach(con, remote, read_only=False)
        local = _local_database(con)
        for schema, mode in plan.items():
            tables = con.execute(
                "select table_name from duckdb_tables() where database_name = ? and schema_name = ?"
                " order by table_name",
                [local, schema],
            ).fetchall()
            if not tables:
                log.info("%s: no tables in the local warehouse, nothing to push", schema)
            for (table,) in tables:
                results.append(copy_table(con, (local, schema, table), (REMOTE_ALIAS, schema, table), mode))
    return results
