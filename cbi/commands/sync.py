"""`cbi sync pull|push`: the shared-warehouse copy commands (logic in `ingest.sync`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cbi_core.settings import checked_path, duckdb_path
from ingest.sync import SyncError, TableSync, pull, push

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


def _fail(exc: Exception) -> None:
    typer.echo(f"cbi sync: {exc}", err=True)
    raise typer.Exit(1) from exc


@sync_app.command("pull")
def pull_command(remote: RemoteOption, db: DbOption = None) -> None:
    """Replace the local raw tables with the remote's (one transaction per table; unchanged tables untouched)."""
    try:
        _report(f"pulled raw from {remote}", pull(checked_path(db or duckdb_path()), remote))
    except (SyncError, ValueError) as exc:
        _fail(exc)


@sync_app.command("push")
def push_command(remote: RemoteOption, db: DbOption = None) -> None:
    """Send forecasts (replaced) and ops records (new rows appended) to the remote."""
    try:
        _report(f"pushed forecasts, ops to {remote}", push(checked_path(db or duckdb_path()), remote))
    except (SyncError, ValueError) as exc:
        _fail(exc)
