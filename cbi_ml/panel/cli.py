"""`cbi panel`: the command-line face of the panel walk-forward (registered by the CLI root, `cbi/cli.py`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cbi_core.settings import checked_path, duckdb_path

OutOption = Annotated[Path, typer.Option(help="Folder for panel_metrics.csv, panel_summary.csv, panel_members.csv.")]
DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $CBI_DUCKDB_PATH or ./cbi.duckdb).")]


def panel(
    out: OutOption,
    start: Annotated[str, typer.Option(help="First forecast date scored.")] = "2017-01-01",
    end: Annotated[str, typer.Option(help="Last forecast date.")] = "2024-06-30",
    roots: Annotated[str | None, typer.Option(help="Comma-separated roots (default: every root held).")] = None,
    db: DbOption = None,
    refit_every: Annotated[int, typer.Option(help="Business days between refits.")] = 252,
    members: Annotated[
        str | None, typer.Option(help="Comma-separated price-only members (default: every registered one).")
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option(help="Also write the verdict ZL's final layer reads (seeds/panel_evidence.csv).")
    ] = None,
) -> None:
    """Walk-forward of the price-only members, their calibration and the final choice on every futures root the
    warehouse holds, point in time; pooled rates and skill with SEs that respect overlap and cross-market
    correlation (docs/forecast.md)."""
    from cbi_ml.panel.command import run_panel_command  # here: `cbi --help` need not import the ML stack
    from cbi_ml.panel.runner import PanelSettings

    path = checked_path(db or duckdb_path())
    if not Path(path).is_file():
        raise ValueError(f"warehouse {path} does not exist: load futures with `cbi ingest futures --file` first")
    chosen_roots = [r.strip().upper() for r in roots.split(",") if r.strip()] if roots else None
    settings = PanelSettings(start, end, refit_every=refit_every)
    chosen = [m.strip() for m in members.split(",")] if members else None
    result = run_panel_command(path, out, settings, roots=chosen_roots, members=chosen, evidence=evidence)
    console = Console() if sys.stdout.isatty() else Console(width=160)  # a pipe or file: unwrapped rows
    table = Table(title=f"panel {start}..{end}: pooled over {result.summary['roots'].max()} roots (± SE)")
    for column in ("horizon", "coverage80", "q10 hit", "q90 hit", "skill vs rw_ewma", "served"):
        table.add_column(column)
    for row in result.summary.itertuples():
        table.add_row(
            row.horizon,
            f"{row.coverage80:.3f} ± {row.coverage80_se:.3f}",
            f"{row.q10_hit:.3f} ± {row.q10_hit_se:.3f}",
            f"{row.q90_hit:.3f} ± {row.q90_hit_se:.3f}",
            f"{row.skill:.4f} ± {row.skill_se:.4f}",
            row.served,
        )
    console.print(table)
    console.print(f"tables: {out.resolve()}" + (f"; evidence: {evidence}" if evidence else ""))
