"""`cbi sample`: the deterministic offline sample into the raw schema."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from tqdm import tqdm

from cbi.commands.common import DbOption, UsageError, console, one_line_errors, parse_date
from cbi_core.settings import duckdb_path
from cbi_core.warehouse import check_db_path, connect
from ingest.contents import SAMPLE, check_can_write, record_contents
from ingest.load import upsert
from ingest.sample import DEFAULT_SEED, DEFAULT_START, generate_sample


@one_line_errors
def sample(
    start: Annotated[str, typer.Option(help="First trade date (YYYY-MM-DD).")] = DEFAULT_START.isoformat(),
    end: Annotated[str | None, typer.Option(help="Last trade date (default: the last one before today).")] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed and dates give the same tables.")
    ] = DEFAULT_SEED,
    db: DbOption = None,
) -> None:
    """Generate the offline sample and upsert it into the raw tables (idempotent)."""
    path = check_db_path(db or duckdb_path())
    first, last = parse_date(start, "--start"), parse_date(end, "--end")
    if last is not None and first is not None and last < first:
        raise UsageError(f"--end {last} is before --start {first}")
    frames = generate_sample(first, last, seed)
    with connect(path) as con:
        check_can_write(con, SAMPLE, "cbi sample")
        results = [
            upsert(con, name, frame)
            for name, frame in tqdm(frames.items(), desc="loading raw tables", unit="table", disable=None)
        ]
        record_contents(con, SAMPLE, "cbi sample")
    table = Table(title=f"offline sample -> {path}")
    for col in ("table", "rows read", "inserted", "updated"):
        table.add_column(col, justify="right" if col != "table" else "left")
    for r in results:
        table.add_row(r.table, f"{r.rows_read:,}", f"{r.rows_inserted:,}", f"{r.rows_updated:,}")
    console.print(table)
