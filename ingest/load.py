"""The one load path every connector uses: validate, upsert in one transaction, record the run.

A load is atomic (one transaction: a failure leaves the previous state untouched) and idempotent
(rows whose key and values already exist are left as they are, so a re-run inserts and updates nothing).
Every attempt, successful or not, is recorded in `ops.ingest_runs`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from ingest.contracts import LOAD_METADATA_COLUMNS, OPS_INGEST_RUNS_DDL, RAW_TABLES, RawTable

log = logging.getLogger(__name__)

_NUMERIC_TYPES = {"DOUBLE", "BIGINT", "INTEGER"}
_TEMPORAL_TYPES = {"DATE", "TIMESTAMP"}


class LoadError(ValueError):
    """A frame was rejected; the message names the source, the field and the row."""


@dataclass(frozen=True)
class LoadResult:
    run_id: str
    table: str
    rows_read: int
    rows_inserted: int
    rows_updated: int


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def validate_frame(frame: pd.DataFrame, table: RawTable) -> pd.DataFrame:
    """Return `frame` with the contract's columns in order and types coerced, or raise `LoadError`.

    Pure function: it checks columns, key completeness, key uniqueness and that every value parses as
    its declared type, and reports the first offending row (0-based position in the input frame).
    """
    src = table.source
    missing = [c for c in table.data_columns if c not in frame.columns]
    if missing:
        raise LoadError(f"{src}: {table.qualified_name} is missing field(s) {missing}")
    extra = [c for c in frame.columns if c not in table.data_columns]
    if extra:
        raise LoadError(f"{src}: {table.qualified_name} got unexpected field(s) {extra}")

    out = frame.loc[:, table.data_columns].reset_index(drop=True).copy()
    for col, dtype in table.columns.items():
        raw = out[col]
        if dtype in _NUMERIC_TYPES:
            parsed = pd.to_numeric(raw, errors="coerce")
        elif dtype in _TEMPORAL_TYPES:
            parsed = pd.to_datetime(raw, errors="coerce")
        else:
            parsed = raw.astype("string")
        bad = parsed.isna() & raw.notna()
        if bad.any():
            row = int(bad.idxmax())
            raise LoadError(f"{src}: field '{col}' row {row}: {raw.iloc[row]!r} is not a valid {dtype}")
        if dtype == "DATE":
            parsed = parsed.dt.date
        elif dtype == "BIGINT":
            parsed = parsed.round().astype("Int64")
        out[col] = parsed

    for col in table.key:
        nulls = out[col].isna()
        if nulls.any():
            raise LoadError(f"{src}: key field '{col}' row {int(nulls.idxmax())} is empty")
    dupes = out.duplicated(list(table.key), keep="first")
    if dupes.any():
        row = int(dupes.idxmax())
        key = {k: str(out.at[row, k]) for k in table.key}
        raise LoadError(f"{src}: duplicate key {key} at row {row} (field(s) {list(table.key)})")
    return out


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `raw` and `ops` schemas and every raw table of the contract (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists ops")
    con.execute(OPS_INGEST_RUNS_DDL)
    for table in RAW_TABLES.values():
        con.execute(table.ddl())


def _record_run(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    cols = ", ".join(values)
    params = ", ".join("?" for _ in values)
    con.execute(f"insert or replace into ops.ingest_runs ({cols}) values ({params})", list(values.values()))


def upsert(con: duckdb.DuckDBPyConnection, table_name: str, frame: pd.DataFrame) -> LoadResult:
    """Validate `frame` and merge it into `raw.<table_name>` in one transaction.

    New keys are inserted; keys whose values changed are replaced (counted as updated); identical rows are
    untouched, so their `_loaded_at`/`_run_id` keep pointing at the load that first wrote them.
    """
    table = RAW_TABLES[table_name]
    run_id = uuid.uuid4().hex
    started_at = _utcnow()
    ensure_schemas(con)
    run = {
        "run_id": run_id,
        "source": table.source,
        "target_table": table.qualified_name,
        "started_at": started_at,
        "rows_read": len(frame),
    }
    try:
        clean = validate_frame(frame, table)
        clean["_loaded_at"] = started_at
        clean["_run_id"] = run_id
        inserted, updated = _merge(con, table, clean)
    except Exception as exc:
        _record_run(
            con,
            {
                **run,
                "finished_at": _utcnow(),
                "rows_inserted": 0,
                "rows_updated": 0,
                "rows_rejected": len(frame),
                "status": "failed",
                "error": str(exc)[:2000],
            },
        )
        log.error("load of %s failed: %s", table.qualified_name, exc)
        if isinstance(exc, LoadError):
            raise
        raise LoadError(f"{table.source}: load into {table.qualified_name} failed: {exc}") from exc

    _record_run(
        con,
        {
            **run,
            "finished_at": _utcnow(),
            "rows_inserted": inserted,
            "rows_updated": updated,
            "rows_rejected": 0,
            "status": "success",
            "error": None,
        },
    )
    log.info("%s: read %d, inserted %d, updated %d", table.qualified_name, len(frame), inserted, updated)
    return LoadResult(run_id, table.qualified_name, len(frame), inserted, updated)


def _merge(con: duckdb.DuckDBPyConnection, table: RawTable, clean: pd.DataFrame) -> tuple[int, int]:
    target = table.qualified_name
    key_match = " and ".join(f"t.{k} = s.{k}" for k in table.key)
    changed = " or ".join(f"t.{c} is distinct from s.{c}" for c in table.value_columns) or "false"
    all_cols = ", ".join([*table.data_columns, *LOAD_METADATA_COLUMNS])
    con.register("_cbi_incoming", clean)
    try:
        con.execute("begin transaction")
        try:
            con.execute(f"create or replace temp table _cbi_stage as select {all_cols} from _cbi_incoming")
            updated = con.execute(
                f"select count(*) from _cbi_stage s join {target} t on {key_match} where {changed}"
            ).fetchall()[0][0]
            con.execute(f"delete from {target} t using _cbi_stage s where {key_match} and ({changed})")
            inserted_total = con.execute(
                f"insert into {target} ({all_cols}) select {all_cols} from _cbi_stage s "
                f"where not exists (select 1 from {target} t where {key_match})"
            ).fetchall()[0][0]
            con.execute("drop table _cbi_stage")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    finally:
        con.unregister("_cbi_incoming")
    return int(inserted_total - updated), int(updated)
