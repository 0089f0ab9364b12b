"""The one load path every connector uses: validate, upsert in one transaction, record the run.

- Structural problems (missing or unexpected fields) reject the whole frame with a `LoadError`.
- Row problems (a value that does not parse, an empty or duplicate key, a zero or negative price, high below
  low) send that row to `ops.quarantine` with the field, the value and the reason; the good rows load. With
  `strict=True` any row problem rejects the whole frame instead.
- The merge is one transaction: a failure (or a killed process) leaves the previous state intact.
- It is idempotent: identical rows are left untouched, so a re-run inserts and updates nothing. A changed
  value replaces its row and the old version is kept in `raw.<table>_history` (revisions are never silent).
- Every attempt is recorded in `ops.ingest_runs`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from ingest.contracts import (
    LOAD_METADATA_COLUMNS,
    OPS_INGEST_RUNS_DDL,
    OPS_QUARANTINE_DDL,
    RAW_TABLES,
    RawTable,
)
from ingest.secrets import redact

log = logging.getLogger(__name__)

_NUMERIC_TYPES = {"DOUBLE", "BIGINT", "INTEGER"}
_TEMPORAL_TYPES = {"DATE", "TIMESTAMP"}
REJECT_COLUMNS = ["row_number", "field", "value", "reason"]


class LoadError(ValueError):
    """A frame was rejected; the message names the source, the field and the row."""


@dataclass(frozen=True)
class LoadResult:
    run_id: str
    table: str
    rows_read: int
    rows_inserted: int
    rows_updated: int
    rows_rejected: int = 0
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS), repr=False)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def describe_reject(source: str, reject: pd.Series) -> str:
    return f"{source}: field '{reject['field']}' row {reject['row_number']}: {reject['reason']}"


def validate_frame(frame: pd.DataFrame, table: RawTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `frame` into rows that satisfy the contract (typed, in contract column order) and rejects.

    Pure function. Raises `LoadError` for structural problems; returns one reject row per bad input row
    (`row_number` is the 0-based position in the input frame, `field` the first offending field).
    """
    src = table.source
    missing = [c for c in table.data_columns if c not in frame.columns]
    if missing:
        raise LoadError(f"{src}: {table.qualified_name} is missing field(s) {missing}")
    extra = [c for c in frame.columns if c not in table.data_columns]
    if extra:
        raise LoadError(f"{src}: {table.qualified_name} got unexpected field(s) {extra}")

    raw = frame.loc[:, table.data_columns].reset_index(drop=True)
    out = raw.copy()
    problems: dict[int, tuple[str, object, str]] = {}

    def flag(mask: pd.Series, col: str, reason: str) -> None:
        for row in mask[mask].index:
            problems.setdefault(int(row), (col, raw.at[row, col], reason))

    for col, dtype in table.columns.items():
        values = raw[col]
        if dtype in _NUMERIC_TYPES:
            parsed = pd.to_numeric(values, errors="coerce")
        elif dtype in _TEMPORAL_TYPES:
            parsed = pd.to_datetime(values, errors="coerce")
        else:
            parsed = values.astype("string")
        flag(parsed.isna() & values.notna(), col, f"not a valid {dtype}")
        if dtype == "DATE":
            parsed = parsed.dt.date
        elif dtype == "BIGINT":
            parsed = parsed.round().astype("Int64")
        out[col] = parsed

    for col in table.key:
        flag(out[col].isna(), col, "key field is empty")
    for col in table.positive:
        flag(pd.to_numeric(out[col], errors="coerce").le(0), col, "price must be > 0")
    for col in table.non_negative:
        flag(pd.to_numeric(out[col], errors="coerce").lt(0), col, "value must be >= 0")
    if {"high", "low"} <= set(table.columns):
        flag(out["high"].astype("Float64") < out["low"].astype("Float64"), "high", "high is below low")
    dupes = out.duplicated(list(table.key), keep="first")
    flag(dupes, table.key[0], f"duplicate key {list(table.key)}")

    rows = sorted(problems)
    rejects = pd.DataFrame(
        [
            {"row_number": r, "field": problems[r][0], "value": str(problems[r][1]), "reason": problems[r][2]}
            for r in rows
        ],
        columns=REJECT_COLUMNS,
    )
    for i, reject in rejects.iterrows():
        rejects.at[i, "reason"] = f"{reject['reason']} (got {reject['value']!r})"
    return out.drop(index=rows).reset_index(drop=True), rejects


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `raw` and `ops` schemas, every raw table of the contract and its history (idempotent)."""
    con.execute("create schema if not exists raw")
    con.execute("create schema if not exists ops")
    con.execute(OPS_INGEST_RUNS_DDL)
    con.execute(OPS_QUARANTINE_DDL)
    for table in RAW_TABLES.values():
        con.execute(table.ddl())
        con.execute(table.history_ddl())


def _record_run(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    cols = ", ".join(values)
    params = ", ".join("?" for _ in values)
    con.execute(f"insert or replace into ops.ingest_runs ({cols}) values ({params})", list(values.values()))


def record_failed_run(con: duckdb.DuckDBPyConnection, source: str, target_table: str, error: str) -> None:
    """Record a run that failed before anything could be loaded (a fetch or parse error)."""
    ensure_schemas(con)
    now = _utcnow()
    _record_run(
        con,
        {
            "run_id": uuid.uuid4().hex,
            "source": source,
            "target_table": target_table,
            "started_at": now,
            "finished_at": now,
            "rows_read": 0,
            "rows_inserted": 0,
            "rows_updated": 0,
            "rows_rejected": 0,
            "status": "failed",
            "error": redact(error)[:2000],
        },
    )


def upsert(con: duckdb.DuckDBPyConnection, table_name: str, frame: pd.DataFrame, strict: bool = False) -> LoadResult:
    """Validate `frame` and merge it into `raw.<table_name>` in one transaction (see the module docstring)."""
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
        clean, rejects = validate_frame(frame, table)
        if strict and not rejects.empty:
            raise LoadError(describe_reject(table.source, rejects.iloc[0]) + f" ({len(rejects)} bad row(s))")
        clean["_loaded_at"] = started_at
        clean["_run_id"] = run_id
        inserted, updated = _merge(con, table, clean, rejects, frame, run_id, started_at)
    except Exception as exc:
        message = redact(exc)
        _record_run(
            con,
            {
                **run,
                "finished_at": _utcnow(),
                "rows_inserted": 0,
                "rows_updated": 0,
                "rows_rejected": len(frame),
                "status": "failed",
                "error": message[:2000],
            },
        )
        log.error("load of %s failed: %s", table.qualified_name, message)
        if isinstance(exc, LoadError):
            raise LoadError(message) from None
        raise LoadError(f"{table.source}: load into {table.qualified_name} failed: {message}") from None

    error = None
    if not rejects.empty:
        error = f"{len(rejects)} row(s) quarantined; first: {describe_reject(table.source, rejects.iloc[0])}"
        log.warning("%s: %s (see ops.quarantine, run %s)", table.qualified_name, error, run_id)
    _record_run(
        con,
        {
            **run,
            "finished_at": _utcnow(),
            "rows_inserted": inserted,
            "rows_updated": updated,
            "rows_rejected": len(rejects),
            "status": "success" if rejects.empty else "partial",
            "error": error,
        },
    )
    log.info(
        "%s: read %d, inserted %d, updated %d, quarantined %d",
        table.qualified_name,
        len(frame),
        inserted,
        updated,
        len(rejects),
    )
    return LoadResult(run_id, table.qualified_name, len(frame), inserted, updated, len(rejects), rejects)


def _quarantine_frame(
    table: RawTable, rejects: pd.DataFrame, frame: pd.DataFrame, run_id: str, at: datetime
) -> pd.DataFrame:
    original = frame.reset_index(drop=True)
    records = [json.dumps(original.iloc[int(r)].to_dict(), default=str) for r in rejects["row_number"]]
    return pd.DataFrame(
        {
            "run_id": run_id,
            "source": table.source,
            "target_table": table.qualified_name,
            "row_number": rejects["row_number"].astype("int64"),
            "field": rejects["field"],
            "value": rejects["value"],
            "reason": rejects["reason"],
            "record_json": records,
            "quarantined_at": at,
        }
    )


def _merge(
    con: duckdb.DuckDBPyConnection,
    table: RawTable,
    clean: pd.DataFrame,
    rejects: pd.DataFrame,
    frame: pd.DataFrame,
    run_id: str,
    started_at: datetime,
) -> tuple[int, int]:
    target = table.qualified_name
    key_match = " and ".join(f"t.{k} = s.{k}" for k in table.key)
    changed = " or ".join(f"t.{c} is distinct from s.{c}" for c in table.value_columns) or "false"
    all_cols = ", ".join([*table.data_columns, *LOAD_METADATA_COLUMNS])
    con.register("_cbi_incoming", clean)
    con.register("_cbi_rejects", _quarantine_frame(table, rejects, frame, run_id, started_at))
    try:
        con.execute("begin transaction")
        try:
            con.execute(f"create or replace temp table _cbi_stage as select {all_cols} from _cbi_incoming")
            updated = con.execute(
                f"insert into {table.history_name} "
                f"select t.*, ?::timestamp, ? from {target} t join _cbi_stage s on {key_match} where {changed}",
                [started_at, run_id],
            ).fetchall()[0][0]
            con.execute(f"delete from {target} t using _cbi_stage s where {key_match} and ({changed})")
            inserted_total = con.execute(
                f"insert into {target} ({all_cols}) select {all_cols} from _cbi_stage s "
                f"where not exists (select 1 from {target} t where {key_match})"
            ).fetchall()[0][0]
            con.execute("insert into ops.quarantine select * from _cbi_rejects")
            con.execute("drop table _cbi_stage")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    finally:
        con.unregister("_cbi_incoming")
        con.unregister("_cbi_rejects")
    return int(inserted_total - updated), int(updated)
