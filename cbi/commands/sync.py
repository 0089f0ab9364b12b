"""`cbi sync pull|push`: the shared-warehouse copy commands (logic in `ingest.sync`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from cbi_core.secrets import redact
from cbi_core.settings import checked_path, duckdb_path
from cbi_core.warehouse import WarehouseError, check_db_path
from ingest.sync import SyncError, TableSync, push
from ingest.sync_pull import pull

sync_app = typer.Typer(
    help="Copy raw down from, and forecasts/ops up to, a shared warehouse (MotherDuck md:<db> or a DuckDB file).",
    no_args_is_help=True,
)
RemoteOption = Annotated[
    str, typer.Option("--remote", help="md:<database> (MotherDuck; token from MOTHERDUCK_TOKEN) or a DuckDB file.")
]
DbOption = Annotated[str | None, typer.Option("--db", help="Local DuckDB file (default: $CBI_DUCKDB_PATH).")]


def _report(title: str, results: list[TableSync]) -> None:
    table = Table(title=title)
    for column in ("table", "mode", "rows in source", "rows written", "status"):
        table.add_column(column, justify="right" if column.startswith("rows") else "left")
    for r in results:
        table.add_row(r.table, r.mode.value, f"{r.rows_source:,}", f"{r.rows_written:,}", r.status)
    Console(width=None if sys.stdout.isatty() else 160).print(table)


def _local(db: str | None, must_exist: bool) -> str:
    """The local warehouse path, checked (one clear error for a missing folder or, for push, a missing file)."""
    path = check_db_path(checked_path(db or duckdb_path()))
    if must_exist and not path.startswith("md:") and not Path(path).is_file():
        raise WarehouseError(f"warehouse {path} does not exist: nothing to push")
    return path


def _fail(exc: Exception) -> None:
    typer.echo(f"cbi sync: {redact(exc)}", err=True)
    raise typer.Exit(1) from None


@sync_app.command("pull")
def pull_command(
    remote: RemoteOption,
    db: DbOption = None,
    allow_deletes: Annotated[
        bool,
        typer.Option(
            "--allow-deletes",
            help="Let the pull delete local rows the remote lacks and empty values it emptied (kept in _history).",
        ),
    ] = False,
) -> None:
    """Load the remote's raw tables like any other load: validated, rejects quarantined, revisions kept in
    raw.<table>_history, a run in ops.ingest_runs; refused if it would delete or empty local values."""
    try:
        _report(f"pulled raw from {redact(remote)}", pull(_local(db, False), remote, allow_deletes))
    except (SyncError, ValueError, WarehouseError, duckdb.Error) as exc:
        _fail(exc)


@sync_app.command("push")
def push_command(remote: RemoteOption, db: DbOption = None) -> None:
    """Send forecasts (replaced) and ops records (new rows appended) to the remote."""
    try:
        _report(f"pushed forecasts, ops to {redact(remote)}", push(_local(db, True), remote))
    except (SyncError, ValueError, WarehouseError, duckdb.Error) as exc:
        _fail(exc)
