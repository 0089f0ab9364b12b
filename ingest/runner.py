"""Run a connector: check it can run, show its plan (--dry-run), or fetch its batches and load them.

`fetch_then_load(db_path, ...)` (what the CLI uses) never holds the warehouse while waiting on the network:
1. open the warehouse, record the run as 'running' (a killed run stays visible), read what is loaded, close;
2. fetch and parse every batch (HTTP waits bounded by `ingest.http.HttpLimits`), warehouse closed;
3. open the warehouse, load each batch in its own transaction, close the run as success, partial or failed.
Batches fetched before a failure still load; the failure is recorded and re-raised as one `SourceError` or
`LoadError` naming the source, the field and the row where there is one.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import duckdb
from tqdm import tqdm

from cbi_core.warehouse import WarehouseError, connect
from ingest.contents import REAL, check_can_write, record_contents
from ingest.http import SourceError
from ingest.load import LoadError, LoadResult, ensure_schemas, finish_run, record_failed_run, start_run, upsert
from ingest.sources.base import Batch, Connector, Loaded, Window, describe, source_of

log = logging.getLogger(__name__)


def describe_error(source: str, exc: BaseException) -> str:
    """One line for any failure: our errors as they are, anything else with its type and the source."""
    if isinstance(exc, SourceError | LoadError | WarehouseError):
        return str(exc)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{source}: {type(exc).__name__}{': ' + detail if detail else ''}"


def fetch_batches(connector: Connector, loaded: Loaded, window: Window) -> tuple[list[Batch], str | None]:
    """Every batch the connector yields, and the error that stopped it (None if it finished)."""
    batches: list[Batch] = []
    try:
        label = f"fetch {describe(connector)}"
        for batch in tqdm(connector.batches(loaded, window), desc=label, unit="batch", disable=None):
            batches.append(batch)
    except Exception as exc:  # every failure of a connector becomes one line naming it
        return batches, describe_error(describe(connector), exc)
    return batches, None


def load_batches(
    con: duckdb.DuckDBPyConnection,
    batches: list[Batch],
    strict: bool,
    parent_run_id: str | None,
    connector: str | None = None,
) -> tuple[list[LoadResult], str | None]:
    """Load each batch (one transaction each); stop at the first failure and return its message."""
    results: list[LoadResult] = []
    for batch in tqdm(batches, desc="load", unit="batch", disable=None):
        try:
            results.append(upsert(con, batch.table, batch.frame, strict, parent_run_id, batch.label, connector))
        except LoadError as exc:
            return results, str(exc)
    return results, None


def _close_run(con, run_id: str, results: list[LoadResult], error: str | None) -> None:
    rejected = sum(r.rows_rejected for r in results)
    status = "failed" if error else ("partial" if rejected else "success")
    if not error and rejected:
        error = f"{rejected} row(s) quarantined (see ops.quarantine)"
    finish_run(
        con,
        run_id,
        status,
        error,
        sum(r.rows_read for r in results),
        sum(r.rows_inserted for r in results),
        sum(r.rows_updated for r in results),
        rejected,
    )


def _record_real(con: duckdb.DuckDBPyConnection, connector: Connector, results: list[LoadResult]) -> None:
    """The warehouse now holds real data once a load wrote a row (ops.warehouse_contents)."""
    if any(r.rows_inserted or r.rows_updated for r in results):
        record_contents(con, REAL, f"cbi ingest {source_of(connector)}")


def fetch_then_load(
    db_path: str | Path, connector: Connector, window: Window, dry_run: bool = False, strict: bool = False
) -> list[LoadResult] | list[str]:
    """Fetch first, then load (see the module docstring); with `dry_run`, return the plan and write nothing."""
    target = f"raw.{connector.tables[0]}"
    if dry_run:
        reason = connector.available()
        if reason:
            raise SourceError(describe(connector), f"cannot run: {reason}")
        exists = str(db_path).startswith("md:") or Path(db_path).exists()
        if not exists:
            return connector.plan(Loaded(), window)
        with connect(db_path, read_only=True) as con:
            loaded = Loaded.read(con)
        return connector.plan(loaded, window)

    with connect(db_path) as con:
        check_can_write(con, REAL, f"cbi ingest {source_of(connector)}")
        run_id = start_run(con, source_of(connector), target, connector=connector.name)
        reason = connector.available()
        if reason:
            message = f"{describe(connector)}: cannot run: {reason}"
            finish_run(con, run_id, "failed", message)
            raise SourceError(describe(connector), f"cannot run: {reason}")
        loaded = Loaded.read(con)
    started = time.monotonic()
    batches, fetch_error = fetch_batches(connector, loaded, window)
    log.info("%s: fetched %d batch(es) in %.1f s", describe(connector), len(batches), time.monotonic() - started)
    with connect(db_path) as con:
        results, load_error = load_batches(con, batches, strict, run_id, connector.name)
        error = fetch_error or load_error
        _close_run(con, run_id, results, error)
        _record_real(con, connector, results)
    if fetch_error:
        raise SourceError.plain(describe(connector), fetch_error)
    if load_error:
        raise LoadError(load_error)
    return results


def run_connector(
    con: duckdb.DuckDBPyConnection, connector: Connector, window: Window, dry_run: bool = False, strict: bool = False
) -> list[LoadResult] | list[str]:
    """The same as `fetch_then_load` on a connection the caller holds (the daily job's ingest assets, tests): the
    warehouse stays open while fetching, so prefer `fetch_then_load` where another process may need it meanwhile."""
    reason = connector.available()
    if reason:
        raise SourceError(describe(connector), f"cannot run: {reason}")
    ensure_schemas(con)
    loaded = Loaded.read(con)
    if dry_run:
        return connector.plan(loaded, window)
    check_can_write(con, REAL, f"cbi ingest {source_of(connector)}")
    run_id = start_run(con, source_of(connector), f"raw.{connector.tables[0]}", connector=connector.name)
    batches, fetch_error = fetch_batches(connector, loaded, window)
    results, load_error = load_batches(con, batches, strict, run_id, connector.name)
    _close_run(con, run_id, results, fetch_error or load_error)
    _record_real(con, connector, results)
    if fetch_error:
        raise SourceError.plain(describe(connector), fetch_error)
    if load_error:
        raise LoadError(load_error)
    return results


__all__ = ["describe_error", "fetch_then_load", "record_failed_run", "run_connector"]
