"""`cbi`: the one command-line entry point.

cbi sample      write the deterministic offline sample into the raw schema
cbi forecasts   print the latest ZL forecast table (after `dbt build`)
cbi runs        show the most recent ingest runs
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from tqdm import tqdm

from ingest.load import upsert
from ingest.sample import DEFAULT_SEED, DEFAULT_START, generate_sample
from ingest.settings import duckdb_path

app = typer.Typer(help="CBI: a forecasting warehouse for CBOT soybean oil futures (ZL).", no_args_is_help=True)
console = Console()
log = logging.getLogger("cbi")

DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $CBI_DUCKDB_PATH or ./cbi.duckdb).")]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=Console(stderr=True), show_path=False)],
    )


def _parse_date(value: str | None) -> date | None:
    return datetime.strptime(value, "%Y-%m-%d").date() if value else None


@app.command()
def sample(
    start: Annotated[str, typer.Option(help="First trade date (YYYY-MM-DD).")] = DEFAULT_START.isoformat(),
    end: Annotated[str | None, typer.Option(help="Last trade date (default: the last one before today).")] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and dates give the same tables.")
    ] = DEFAULT_SEED,
    db: DbOption = None,
) -> None:
    """Generate the offline sample and upsert it into the raw tables (idempotent)."""
    path = db or duckdb_path()
    frames = generate_sample(_parse_date(start), _parse_date(end), seed)
    with duckdb.connect(path) as con:
        results = [
            upsert(con, name, frame)
            for name, frame in tqdm(frames.items(), desc="loading raw tables", unit="table", disable=None)
        ]
    table = Table(title=f"offline sample -> {path}")
    for col in ("table", "rows read", "inserted", "updated"):
        table.add_column(col, justify="right" if col != "table" else "left")
    for r in results:
        table.add_row(r.table, f"{r.rows_read:,}", f"{r.rows_inserted:,}", f"{r.rows_updated:,}")
    console.print(table)


@app.command()
def forecasts(db: DbOption = None) -> None:
    """Print the latest forecast table written by `dbt build` (forecasts.zl_predictions)."""
    path = db or duckdb_path()
    with duckdb.connect(path, read_only=True) as con:
        try:
            frame = con.sql(
                "select * from forecasts.zl_predictions where as_of_date = "
                "(select max(as_of_date) from forecasts.zl_predictions) order by horizon_days"
            ).df()
        except duckdb.CatalogException as exc:
            console.print(f"[red]No forecasts in {path}: run `dbt build` first ({exc}).")
            raise typer.Exit(1) from exc
    if frame.empty:
        console.print(f"[red]forecasts.zl_predictions in {path} is empty.")
        raise typer.Exit(1)
    first = frame.iloc[0]
    table = Table(title=f"ZL forecast as of {first.as_of_date:%Y-%m-%d} (run {first.model_run_id})")
    for col in ("horizon", "target date", "P10", "P50", "P90", "P10 ret", "P50 ret", "P90 ret"):
        table.add_column(col, justify="right")
    for row in frame.itertuples():
        table.add_row(
            row.horizon,
            f"{row.target_date:%Y-%m-%d}",
            f"{row.price_q10:.2f}",
            f"{row.price_q50:.2f}",
            f"{row.price_q90:.2f}",
            f"{row.q10:+.2%}",
            f"{row.q50:+.2%}",
            f"{row.q90:+.2%}",
        )
    console.print(table)
    console.print("Prices in US cents per lb (CBOT soybean oil); returns are log returns over the horizon.")


@app.command()
def runs(limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20, db: DbOption = None) -> None:
    """Show the most recent loads recorded in ops.ingest_runs."""
    with duckdb.connect(db or duckdb_path(), read_only=True) as con:
        frame = con.sql(
            "select source, target_table, started_at, rows_read, rows_inserted, rows_updated, status, error "
            f"from ops.ingest_runs order by started_at desc limit {int(limit)}"
        ).df()
    console.print(frame.to_string(index=False))


if __name__ == "__main__":
    app()
