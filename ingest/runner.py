"""Run a connector: check it can run, show its plan (--dry-run), or load its batches one transaction each."""

from __future__ import annotations

import logging

import duckdb
from tqdm import tqdm

from ingest.http import SourceError
from ingest.load import LoadResult, ensure_schemas, record_failed_run, upsert
from ingest.sources.base import Connector, Window

log = logging.getLogger(__name__)


def run_connector(
    con: duckdb.DuckDBPyConnection, connector: Connector, window: Window, dry_run: bool = False, strict: bool = False
) -> list[LoadResult] | list[str]:
    """Load everything `connector` fetches for `window`; with `dry_run`, return its plan instead.

    Batches already loaded stay loaded when a later one fails (each is atomic); the failure is recorded in
    ops.ingest_runs and re-raised as a SourceError naming the source.
    """
    reason = connector.available()
    if reason:
        raise SourceError(connector.name, f"cannot run: {reason}")
    ensure_schemas(con)
    if dry_run:
        return connector.plan(con, window)
    results: list[LoadResult] = []
    target = f"raw.{connector.tables[0]}"
    try:
        for batch in tqdm(connector.batches(con, window), desc=f"ingest {connector.name}", unit="batch", disable=None):
            results.append(upsert(con, batch.table, batch.frame, strict=strict))
    except SourceError as exc:
        record_failed_run(con, connector.name, target, str(exc))
        raise
    return results
