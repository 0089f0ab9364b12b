"""`cbi sync pull`: the shared warehouse's raw tables loaded into the local one — a load like any other.

Each raw table of the contract (`ingest.contracts.RAW_TABLES`; never the remote's catalogue) is read from the
remote and goes through the one load path (`ingest.load.upsert`): the same validation and quarantine, replaced
rows kept in `raw.<table>_history`, a row per table in `ops.ingest_runs` under one run row of the pull
(source `sync`). An empty value never replaces a loaded one, and rows the remote lacks stay.

- A remote table whose columns or types differ from the contract is an error (nothing is pulled).
- A pull that would delete local rows (the remote lacks their key) or empty local values (the remote holds NULL
  where the local table holds a value) is refused, naming the table and the counts, unless `allow_deletes` is
  set: then those rows are deleted and those values emptied, the old rows kept in `raw.<table>_history`.
- The remote's own history (`raw.<table>_history`) is appended where the local one lacks it, after the same
  validation (rejected rows to `ops.quarantine`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb

from cbi_core.secrets import redact
from ingest.contracts import LOAD_METADATA_COLUMNS, RAW_TABLES, RawTable
from ingest.load import (
    LoadError,
    _quarantine_frame,
    _utcnow,
    finish_run,
    start_run,
    upsert,
    validate_frame,
)
from ingest.sync import REMOTE_ALIAS, Mode, SyncError, TableSync, _attach, _table_exists, check_remote

log = logging.getLogger(__name__)
SOURCE = "sync"


@dataclass(frozen=True)
class Removals:
    """What merging the remote's table would take from the local one."""

    table: str
    rows_deleted: int  # local keys the remote lacks
    values_emptied: int  # local rows with a value where the remote's row holds NULL

    def __bool__(self) -> bool:
        return bool(self.rows_deleted or self.values_emptied)

    def describe(self) -> str:
        return f"{self.table}: {self.rows_deleted:,} row(s) deleted, {self.values_emptied:,} row(s) with values emptied"


def _remote(table: str) -> str:
    return f"{REMOTE_ALIAS}.raw.{table}"


def check_schema(con: duckdb.DuckDBPyConnection, table: RawTable, name: str | None = None) -> None:
    """Raise SyncError unless the remote's `raw.<name>` has the contract's columns and types (+ load metadata)."""
    name = name or table.name
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'raw'"
        " and table_name = ? order by column_index",
        [REMOTE_ALIAS, name],
    ).fetchall()
    found = {c.lower(): t.upper() for c, t in rows}
    expected = dict(table.columns)
    if name.endswith("_history"):
        expected |= {**LOAD_METADATA_COLUMNS, "_superseded_at": "TIMESTAMP", "_superseded_by_run_id": "VARCHAR"}
    wrong = [f"{c} {t} (remote: {found.get(c, 'missing')})" for c, t in expected.items() if found.get(c) != t]
    extra = [c for c in found if c not in expected and c not in LOAD_METADATA_COLUMNS]
    if wrong or extra:
        raise SyncError(
            f"raw.{name}: the remote's schema differs from the contract: "
            + "; ".join([*(f"expected {w}" for w in wrong), *(f"unexpected column {c}" for c in extra)])
            + "; nothing was pulled"
        )


def removals(con: duckdb.DuckDBPyConnection, table: RawTable) -> Removals:
    """Count what the remote's table would delete or empty in the local one (keys compared as typed)."""
    key = " and ".join(f"s.{k} = t.{k}" for k in table.key)
    emptied = " or ".join(f"(s.{c} is null and t.{c} is not null)" for c in table.value_columns) or "false"
    local = table.qualified_name
    deleted = con.execute(
        f"select count(*) from {local} t where not exists (select 1 from {_remote(table.name)} s where {key})"
    ).fetchone()
    nulled = con.execute(
        f"select count(*) from {local} t join {_remote(table.name)} s on {key} where {emptied}"
    ).fetchone()
    return Removals(local, int(deleted[0]) if deleted else 0, int(nulled[0]) if nulled else 0)


def apply_removals(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: str) -> int:
    """Delete the local rows the remote lacks and empty the values it emptied (validated remote rows only);
    every row changed is kept in the history first. One transaction; returns the rows changed."""
    key = " and ".join(f"s.{k} = t.{k}" for k in table.key)
    local, history, remote = table.qualified_name, table.history_name, _remote(table.name)
    emptied = " or ".join(f"(s.{c} is null and t.{c} is not null)" for c in table.value_columns) or "false"
    gone = f"not exists (select 1 from {remote} s where {key})"
    nulled = f"exists (select 1 from _cbi_pulled s where {key} and ({emptied}))"
    con.execute("begin transaction")
    try:
        changed = con.execute(
            f"insert into {history} select t.*, ?::timestamp, ? from {local} t where {gone} or {nulled}",
            [_utcnow(), run_id],
        ).fetchall()[0][0]
        con.execute(f"delete from {local} t where {gone}")
        for col in table.value_columns:
            con.execute(
                f"update {local} t set {col} = null, _run_id = ? from _cbi_pulled s "
                f"where {key} and s.{col} is null and t.{col} is not null",
                [run_id],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return int(changed)


def _pull_table(
    con: duckdb.DuckDBPyConnection, table: RawTable, label: str, run_id: str, allow: bool
) -> tuple[TableSync, int]:
    """Load one remote table through `upsert` (then apply its removals when allowed); the result and rejects."""
    frame = con.execute(f"select {', '.join(table.data_columns)} from {_remote(table.name)}").df()
    result = upsert(con, table.name, frame, parent_run_id=run_id, label=f"{label} raw.{table.name}")
    written = result.rows_inserted + result.rows_updated
    if allow:
        clean, _ = validate_frame(frame, table)
        con.register("_cbi_pulled", clean)
        try:
            written += apply_removals(con, table, run_id)
        finally:
            con.unregister("_cbi_pulled")
    status = "loaded" if written else "unchanged"
    return TableSync(table.qualified_name, Mode.APPEND, len(frame), written, status), result.rows_rejected


def _pull_history(con: duckdb.DuckDBPyConnection, table: RawTable, run_id: str) -> tuple[TableSync, int] | None:
    """Append the remote's history rows the local history lacks; rows failing validation go to quarantine."""
    name = f"{table.name}_history"
    if not _table_exists(con, REMOTE_ALIAS, "raw", name):
        return None
    check_schema(con, table, name)
    columns = [*table.data_columns, *LOAD_METADATA_COLUMNS, "_superseded_at", "_superseded_by_run_id"]
    remote = con.execute(f"select {', '.join(columns)} from {REMOTE_ALIAS}.raw.{name}").df()
    clean, rejects = validate_frame(remote[table.data_columns], table)
    kept = remote.drop(index=rejects["_position"].astype(int).tolist()).reset_index(drop=True)
    kept[table.data_columns] = clean[table.data_columns]
    con.register("_cbi_history", kept)
    con.register("_cbi_rejects", _quarantine_frame(table, rejects, remote[table.data_columns], run_id, _utcnow()))
    try:
        con.execute("begin transaction")
        before = con.execute(f"select count(*) from {table.history_name}").fetchone()[0]
        con.execute(
            f"insert into {table.history_name} select * from _cbi_history except all select * from {table.history_name}"
        )
        written = con.execute(f"select count(*) from {table.history_name}").fetchone()[0] - before
        con.execute("insert into ops.quarantine by name select * from _cbi_rejects")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_cbi_history")
        con.unregister("_cbi_rejects")
    status = "appended" if written else "unchanged"
    return TableSync(table.history_name, Mode.APPEND, len(remote), int(written), status), len(rejects)


def _plan(con: duckdb.DuckDBPyConnection, allow: bool) -> list[RawTable]:
    """The raw tables the remote holds, after checking every schema and (unless `allow`) that nothing is lost."""
    tables = [t for t in RAW_TABLES.values() if _table_exists(con, REMOTE_ALIAS, "raw", t.name)]
    for table in tables:
        check_schema(con, table)
    lost = [r for r in (removals(con, t) for t in tables) if r]
    if lost and not allow:
        raise SyncError(
            "the remote would delete or empty local values ("
            + "; ".join(r.describe() for r in lost)
            + "); nothing was pulled. Pass --allow-deletes to apply them (old rows kept in raw.<table>_history)"
        )
    return tables


def pull(local_db: str, remote: str, allow_deletes: bool = False) -> list[TableSync]:
    """Load the remote's raw tables into `local_db` (module docstring); SyncError if the pull is refused."""
    check_remote(remote, must_exist=True)
    label = f"sync pull {redact(remote)}"
    results: list[TableSync] = []
    rejected = 0
    with duckdb.connect(local_db) as con:
        run_id = start_run(con, SOURCE, "raw")
        try:
            _attach(con, remote, read_only=True)
            for table in _plan(con, allow_deletes):
                loaded, rejects = _pull_table(con, table, label, run_id, allow_deletes)
                results.append(loaded)
                rejected += rejects
                history = _pull_history(con, table, run_id)
                if history is not None:
                    results.append(history[0])
                    rejected += history[1]
        except (SyncError, LoadError, duckdb.Error) as exc:
            finish_run(con, run_id, "failed", f"{label}: {exc}")
            raise SyncError(redact(exc)) from None
        written = sum(r.rows_written for r in results)
        status = "partial" if rejected else "success"
        error = f"{rejected} row(s) quarantined" if rejected else None
        finish_run(con, run_id, status, error, sum(r.rows_source for r in results), written, 0, rejected)
    return results
