"""`cbi dashboard build|serve` and `cbi snapshot publish` (the site itself: `dashboard`)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from cbi.commands.common import DbOption
from cbi_core.settings import checked_path, duckdb_path
from cbi_core.snapshot import SnapshotError, publish_snapshot, snapshot_path
from dashboard.settings import DEFAULT_HOST, DEFAULT_OUT, DEFAULT_PORT

log = logging.getLogger(__name__)

dashboard_app = typer.Typer(
    help="The static dashboard (forecast, risk, drivers, record, data health) built from the published snapshot.",
    no_args_is_help=True,
)
snapshot_app = typer.Typer(help="The read-only snapshot of the warehouse that readers open.", no_args_is_help=True)

OutOption = Annotated[Path, typer.Option("--out", help="Directory of the site.")]


def _db(db: str | None) -> Path:
    return Path(checked_path(db or duckdb_path()))


@dashboard_app.command("build")
def build(db: DbOption = None, out: OutOption = DEFAULT_OUT) -> None:
    """Write the site from the published snapshot of the warehouse (never the live file)."""
    from dashboard.site import SiteError, build_site

    try:
        files = build_site(_db(db), out)
    except (SnapshotError, SiteError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"dashboard written: {files[0]} (+{len(files) - 1} pages); open it in a browser or `cbi dashboard serve`"
    )


@dashboard_app.command("serve")
def serve(
    out: OutOption = DEFAULT_OUT,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = DEFAULT_PORT,
) -> None:
    """Preview the built site on localhost (Ctrl-C stops)."""
    from dashboard.serve import make_server

    try:
        server = make_server(out, host, port)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"serving {Path(out).resolve()} at http://{server.server_address[0]}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@snapshot_app.command("publish")
def publish(db: DbOption = None) -> None:
    """Checkpoint the warehouse and atomically replace its read-only snapshot (run it after a write)."""
    try:
        path = publish_snapshot(_db(db))
    except SnapshotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"snapshot published: {path}")


@snapshot_app.command("path")
def path(db: DbOption = None) -> None:
    """Print where the snapshot of the warehouse lives (readers such as `make docs` open that file)."""
    try:
        typer.echo(str(snapshot_path(_db(db))))
    except SnapshotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
