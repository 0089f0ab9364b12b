"""The one load path every connector uses: validate, upsert in one transaction, record the run.

- Structural problems (missing or unexpected fields) reject the whole frame with a `LoadError`.
- Row problems (a value that does not parse, is not finite or lies outside its field's plausible range, a date
  outside 1900..2100, an empty or duplicate key, a zero or negative price, high below low, open or close outside
  [low, high]) send that row to `ops.quarantine` with the field, the value, the reason and the row (a file line
  or a data row, said in `row_kind`); the good rows load. With `strict=True` any row problem rejects the whole
  frame instead.
- An empty field is no value: a NULL (an empty CSV field, FRED's ".", EIA's empty value, a NULL from a sync
  remote) never replaces a value already loaded for the key; the loaded value stays.
- The merge is one transaction: a failure (or a killed process) leaves the previous state intact.
- It is idempotent: identical rows are left untouched, so a re-run inserts and updates nothing. A changed
  value replaces its row and the old version is kept in `raw.<table>_history` (revisions are never silent).
- Every attempt is recorded in `ops.ingest_runs`, as 'running' before it starts (a killed load stays visible).
"""

from __future__ import annotations

import json
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd

from cbi_core.calendar import chicago_date
from cbi_core.secrets import redact
from cbi_core.warehouse import execute
from ingest.contracts import (
    FIRST_BAR_DATE,
    FORMER_SOURCE_NAMES,
    LOAD_METADATA_COLUMNS,
    OPS_ADDED_COLUMNS,
    OPS_INGEST_RUNS_DDL,
    OPS_QUARANTINE_DDL,
    PLAUSIBLE_DATES,
    RAW_TABLES,
    RawTable,
)

log = logging.getLogger(__name__)

_NUMERIC_TYPES = {"DOUBLE", "BIGINT", "INTEGER"}
_TEMPORAL_TYPES = {"DATE", "TIMESTAMP"}
REJECT_COLUMNS = ["row_number", "row_kind", "field", "value", "reason"]
#: A frame may carry this column: the line of the source file each row came from (header = line 1). Row
#: numbers are then reported as file lines; without it, as data rows counted from 1.
LINE_COLUMN = "_line"
DATA_ROW, FILE_LINE = "data row", "file line"


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
    kind = reject.get("row_kind") or DATA_ROW
    return f"{source}: field '{reject['field']}' {kind} {reject['row_number']}: {reject['reason']}"


def _to_number(values: pd.Series) -> pd.Series:
    """Numbers as float64 (NaN where a value is not a number); never raises, whatever the objects are."""
    try:
        return pd.to_numeric(values, errors="coerce").astype("float64")
    except (TypeError, ValueError, OverflowError):

        def one(v: object) -> float:
            try:
                return float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError, OverflowError):
                return np.nan

        return values.map(one).astype("float64")


def _fmt_range(low: float, high: float) -> str:
    return f"[{low:,.10g}, {high:,.10g}]"


_CONTRACT_TAIL = re.compile(r"^(?:[FGHJKMNQUVXZ]\d{1,2}|\.[A-Za-z]\.\d+|=F)$")


def bar_problems(out: pd.DataFrame) -> list[tuple[pd.Series, str, str]]:
    """(mask, field, reason) of every bar that cannot exist: a trade date on a weekend, before `FIRST_BAR_DATE`
    or after today in Chicago; a contract that is not its root's (root + month code + year, or a continuous
    code such as ZL.c.0)."""
    days = pd.to_datetime(out["trade_date"], errors="coerce")
    today = pd.Timestamp(chicago_date(datetime.now(UTC)))
    roots = out["root"].astype("string").fillna("")
    contracts = out["contract"].astype("string").fillna("")
    foreign = [
        bool(c) and bool(r) and not (c.startswith(r) and _CONTRACT_TAIL.match(c[len(r) :]))
        for r, c in zip(roots, contracts, strict=True)
    ]
    return [
        (days.notna() & (days.dt.dayofweek >= 5), "trade_date", "not a trade date (a weekend)"),
        (days.notna() & (days < pd.Timestamp(FIRST_BAR_DATE)), "trade_date", f"before {FIRST_BAR_DATE}"),
        (days.notna() & (days > today), "trade_date", f"after today ({today:%Y-%m-%d}): a bar from the future"),
        (pd.Series(foreign, index=out.index), "contract", "the contract is not of the row's root"),
    ]


def validate_frame(frame: pd.DataFrame, table: RawTable) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split `frame` into rows that satisfy the contract (typed, in contract column order) and rejects.

    Pure function. Raises `LoadError` for structural problems; returns one reject row per bad input row:
    `row_number` counts data rows from 1 (`row_kind` "data row"), or is the file line the row came from when the
    frame has a `_line` column (`row_kind` "file line"); `field` is the first offending field.
    Every numeric value must parse, be finite and lie in the field's plausible range (`RawTable.ranges`); a
    bar's open and close must lie within [low, high]; dates must lie in `PLAUSIBLE_DATES`.
    """
    src = table.source
    lines = frame[LINE_COLUMN].reset_index(drop=True) if LINE_COLUMN in frame.columns else None
    frame = frame.drop(columns=[LINE_COLUMN]) if lines is not None else frame
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
        for row in mask[mask.fillna(False).astype(bool)].index:
            problems.setdefault(int(row), (col, raw.at[row, col], reason))

    first_date, last_date = (pd.Timestamp(d) for d in PLAUSIBLE_DATES)
    for col, dtype in table.columns.items():
        values = raw[col]
        present = values.notna()
        if dtype in _NUMERIC_TYPES:
            parsed = _to_number(values)
            flag(parsed.isna() & present, col, f"not a valid {dtype}")
            infinite = ~np.isfinite(parsed) & parsed.notna()
            flag(infinite, col, "not a finite number")
            low, high = table.ranges.get(col, (-1e15, 1e15))
            flag(
                parsed.notna() & ~infinite & ((parsed < low) | (parsed > high)),
                col,
                f"outside the plausible range {_fmt_range(low, high)}",
            )
            if dtype in {"BIGINT", "INTEGER"}:
                safe = parsed.where(np.isfinite(parsed) & (parsed.abs() < 9e15))
                parsed = safe.round().astype("Int64")
        elif dtype in _TEMPORAL_TYPES:
            parsed = pd.to_datetime(values, errors="coerce")
            flag(parsed.isna() & present, col, f"not a valid {dtype}")
            flag(
                parsed.notna() & ((parsed < first_date) | (parsed > last_date)),
                col,
                f"outside the plausible dates {PLAUSIBLE_DATES[0]}..{PLAUSIBLE_DATES[1]}",
            )
            if dtype == "DATE":
                parsed = parsed.dt.date
        else:
            parsed = values.astype("string")
        out[col] = parsed

    for col in table.key:
        flag(out[col].isna(), col, "key field is empty")
    for col in table.positive:
        flag(pd.to_numeric(out[col], errors="coerce").le(0), col, "price must be > 0")
    for col in table.non_negative:
        flag(pd.to_numeric(out[col], errors="coerce").lt(0), col, "value must be >= 0")
    if {"high", "low"} <= set(table.columns):
        high, low = out["high"].astype("Float64"), out["low"].astype("Float64")
        flag(high < low, "high", "high is below low")
        for col in ("open", "close"):
            if col in table.columns:
                value = out[col].astype("Float64")
                flag((value < low) | (value > high), col, f"{col} is outside [low, high]")
    if table.bars:
        for mask, col, reason in bar_problems(out):
            flag(mask, col, reason)
    dupes = out.duplicated(list(table.key), keep="first")
    flag(dupes, table.key[0], f"duplicate key {list(table.key)}")

    rows = sorted(problems)
    kind = FILE_LINE if lines is not None else DATA_ROW
    rejects = pd.DataFrame(
        [
            {
                "row_number": int(lines.iloc[r]) if lines is not None and pd.notna(lines.iloc[r]) else r + 1,
                "row_kind": kind,
                "field": problems[r][0],
                "value": str(problems[r][1]),
                "reason": problems[r][2],
                "_position": r,
            }
            for r in rows
        ],
        columns=[*REJECT_COLUMNS, "_position"],
    )
    for i, reject in rejects.iterrows():
        rejects.at[i, "reason"] = f"{reject['reason']} (got {reject['value']!r})"
    return out.drop(index=rows).reset_index(drop=True), rejects


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    """Create the `raw` and `ops` schemas, every raw table of the contract and its history (idempotent)."""
    execute(con, "create schema if not exists raw")
    execute(con, "create schema if not exists ops")
    execute(con, OPS_INGEST_RUNS_DDL)
    execute(con, OPS_QUARANTINE_DDL)
    for table_name, columns in OPS_ADDED_COLUMNS.items():
        for column, dtype in columns.items():
            execute(con, f"alter table {table_name} add column if not exists {column} {dtype}")
    for former, source in FORMER_SOURCE_NAMES.items():  # a connector's name recorded as the source: move it
        execute(
            con,
            "update ops.ingest_runs set connector = coalesce(connector, source), source = ? where source = ?",
            [source, former],
        )
    for table in RAW_TABLES.values():
        execute(con, table.ddl())
        execute(con, table.history_ddl())


def _record_run(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    cols = ", ".join(values)  # column names come from this module, never from input
    params = ", ".join("?" for _ in values)
    execute(con, f"insert or replace into ops.ingest_runs ({cols}) values ({params})", list(values.values()))


def start_run(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target_table: str,
    run_id: str | None = None,
    parent_run_id: str | None = None,
    connector: str | None = None,
) -> str:
    """Record a run of `source` (what data, e.g. futures) through `connector` (where from, e.g. quotes) as
    'running' now (a run killed later stays visible as such); return its id."""
    ensure_schemas(con)
    run_id = run_id or uuid.uuid4().hex
    _record_run(
        con,
        {
            "run_id": run_id,
            "source": source,
            "connector": connector,
            "target_table": target_table,
            "started_at": _utcnow(),
            "status": "running",
            "parent_run_id": parent_run_id,
            "pid": os.getpid(),
        },
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    error: str | None = None,
    rows_read: int = 0,
    rows_inserted: int = 0,
    rows_updated: int = 0,
    rows_rejected: int = 0,
) -> None:
    """Close a run started with `start_run` (status success, partial or failed)."""
    execute(
        con,
        "update ops.ingest_runs set finished_at = ?, status = ?, error = ?, rows_read = ?, rows_inserted = ?, "
        "rows_updated = ?, rows_rejected = ? where run_id = ?",
        [
            _utcnow(),
            status,
            redact(error)[:2000] if error else None,
            rows_read,
            rows_inserted,
            rows_updated,
            rows_rejected,
            run_id,
        ],
    )


def record_failed_run(
    con: duckdb.DuckDBPyConnection, source: str, target_table: str, error: str, connector: str | None = None
) -> None:
    """Record a run that failed before anything could be loaded (a fetch or parse error)."""
    run_id = start_run(con, source, target_table, connector=connector)
    finish_run(con, run_id, "failed", error)


def upsert(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    frame: pd.DataFrame,
    strict: bool = False,
    parent_run_id: str | None = None,
    label: str | None = None,
    connector: str | None = None,
) -> LoadResult:
    """Validate `frame` and merge it into `raw.<table_name>` in one transaction (see the module docstring).

    `label` names the batch in errors (default: the table's source); `parent_run_id` links the batch's row in
    ops.ingest_runs to the source run it belongs to, `connector` says where the batch came from.
    """
    table = RAW_TABLES[table_name]
    source = label or table.source
    run_id = start_run(con, table.source, table.qualified_name, parent_run_id=parent_run_id, connector=connector)
    started_at = _utcnow()
    rows_read = len(frame)
    try:
        clean, rejects = validate_frame(frame, table)
        if strict and not rejects.empty:
            raise LoadError(
                describe_reject(source, rejects.iloc[0]) + f" ({len(rejects)} bad row(s); --strict rejects the batch)"
            )
        clean["_loaded_at"] = started_at
        clean["_run_id"] = run_id
        inserted, updated = _merge(con, table, clean, rejects, frame, run_id, started_at)
    except Exception as exc:
        message = redact(exc)
        if not isinstance(exc, LoadError):
            message = f"{source}: load into {table.qualified_name} failed: {type(exc).__name__}: {message}"
        finish_run(con, run_id, "failed", message, rows_read, 0, 0, rows_read)
        log.debug("load of %s failed: %s", table.qualified_name, message)
        raise LoadError(message) from None

    error = None
    if not rejects.empty:
        error = f"{len(rejects)} row(s) quarantined; first: {describe_reject(source, rejects.iloc[0])}"
        log.warning("%s: %s (see ops.quarantine, run %s)", table.qualified_name, error, run_id)
    status = "success" if rejects.empty else "partial"
    finish_run(con, run_id, status, error, rows_read, inserted, updated, len(rejects))
    log.info(
        "%s: read %d, inserted %d, updated %d, quarantined %d",
        table.qualified_name,
        rows_read,
        inserted,
        updated,
        len(rejects),
    )
    return LoadResult(run_id, table.qualified_name, rows_read, inserted, updated, len(rejects), rejects)


def _quarantine_frame(
    table: RawTable, rejects: pd.DataFrame, frame: pd.DataFrame, run_id: str, at: datetime
) -> pd.DataFrame:
    original = frame.reset_index(drop=True)
    positions = rejects["_position"] if "_position" in rejects else rejects["row_number"] - 1
    records = [redact(json.dumps(original.iloc[int(r)].to_dict(), default=str)) for r in positions]
    return pd.DataFrame(
        {
            "run_id": run_id,
            "source": table.source,
            "target_table": table.qualified_name,
            "row_number": rejects["row_number"].astype("int64"),
            "row_kind": rejects["row_kind"].astype("string"),
            "field": rejects["field"],
            "value": rejects["value"].map(redact),
            "reason": rejects["reason"].map(redact),
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
    # Every identifier below comes from the contract (ingest/contracts.py); every value is bound or registered.
    target = table.qualified_name
    key_match = " and ".join(f"t.{k} = s.{k}" for k in table.key)
    changed = " or ".join(f"t.{c} is distinct from s.{c}" for c in table.value_columns) or "false"
    all_cols = ", ".join([*table.data_columns, *LOAD_METADATA_COLUMNS])
    con.register("_cbi_incoming", clean)
    con.register("_cbi_rejects", _quarantine_frame(table, rejects, frame, run_id, started_at))
    try:
        execute(con, "begin transaction")
        try:
            execute(con, f"create or replace temp table _cbi_stage as select {all_cols} from _cbi_incoming")
            for col in table.value_columns:  # an empty field is no value: it never replaces a loaded value
                execute(
                    con,
                    f"update _cbi_stage s set {col} = t.{col} from {target} t "
                    f"where {key_match} and s.{col} is null and t.{col} is not null",
                )
            updated = execute(
                con,
                f"insert into {table.history_name} "
                f"select t.*, ?::timestamp, ? from {target} t join _cbi_stage s on {key_match} where {changed}",
                [started_at, run_id],
            ).fetchall()[0][0]
            execute(con, f"delete from {target} t using _cbi_stage s where {key_match} and ({changed})")
            inserted_total = execute(
                con,
                f"insert into {target} ({all_cols}) select {all_cols} from _cbi_stage s "
                f"where not exists (select 1 from {target} t where {key_match})",
            ).fetchall()[0][0]
            execute(con, "insert into ops.quarantine by name select * from _cbi_rejects")
            execute(con, "drop table _cbi_stage")
            execute(con, "commit")
        except Exception:
            execute(con, "rollback")
            raise
    finally:
        con.unregister("_cbi_incoming")
        con.unregister("_cbi_rejects")
    return int(inserted_total - updated), int(updated)
