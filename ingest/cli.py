"""`cbi`: the one command-line entry point.

cbi sample      write the deterministic offline sample into the raw schema
cbi forecasts   print the latest ZL forecast table (after `dbt build`)
cbi runs        show the most recent ingest runs
"""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from tqdm import tqdm

from ingest.http import SourceError
from ingest.load import LoadResult, upsert
from ingest.runner import run_connector
from ingest.sample import DEFAULT_SEED, DEFAULT_START, generate_sample
from ingest.secrets import RedactingFilter, get_secret
from ingest.settings import checked_path, duckdb_path
from ingest.sources.base import Connector, Window
from ingest.sources.cftc import REPORTS, Cftc
from ingest.sources.databento_api import DatabentoApi
from ingest.sources.eia import Eia
from ingest.sources.epa import Epa
from ingest.sources.fred import SERIES_FREQUENCY, Fred
from ingest.sources.futures_files import FuturesFiles
from ingest.sources.news import News
from ingest.sources.quotes import DEFAULT_ROOTS, Quotes
from ingest.sources.usda import Usda
from ingest.sync_cli import sync_app

app = typer.Typer(help="CBI: a forecasting warehouse for CBOT soybean oil futures (ZL).", no_args_is_help=True)
ingest_app = typer.Typer(
    help="Load real public sources into the raw schema (idempotent, atomic per batch, recorded in ops.ingest_runs).",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")
app.add_typer(sync_app, name="sync")
# Tables stay readable when stdout is a file or a pipe (rich would otherwise assume 80 columns).
console = Console() if sys.stdout.isatty() else Console(width=160)
log = logging.getLogger("cbi")

DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $CBI_DUCKDB_PATH or ./cbi.duckdb).")]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    handler = RichHandler(console=Console(stderr=True), show_path=False)
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", handlers=[handler])


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
    path = checked_path(db or duckdb_path())
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


StartOption = Annotated[
    str | None, typer.Option("--start", help="First date to fetch (default: incremental, from what is loaded).")
]
EndOption = Annotated[str | None, typer.Option("--end", help="Last date to fetch (default: today).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would be fetched; load nothing.")]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Reject a whole batch on any bad row (default: quarantine).")
]


def _window(start: str | None, end: str | None) -> Window:
    return Window(_parse_date(start), _parse_date(end) or date.today())


def _run(connectors: list[Connector], start, end, dry_run: bool, strict: bool, db: str | None) -> None:
    """Run connectors in turn; report every result; exit non-zero if any could not run or failed."""
    window = _window(start, end)
    failures: list[str] = []
    results: list[LoadResult] = []
    with duckdb.connect(checked_path(db or duckdb_path())) as con:
        for connector in connectors:
            try:
                outcome = run_connector(con, connector, window, dry_run=dry_run, strict=strict)
            except SourceError as exc:
                log.error("%s", exc)
                failures.append(str(exc))
                continue
            if dry_run:
                console.print(f"[bold]{connector.name}[/] would fetch:")
                for line in outcome:
                    console.print(f"  {line}")
            else:
                results.extend(outcome)
    if results:
        table = Table(title="ingest results")
        for col in ("table", "rows read", "inserted", "updated", "quarantined"):
            table.add_column(col, justify="left" if col == "table" else "right")
        for r in results:
            table.add_row(
                r.table, f"{r.rows_read:,}", f"{r.rows_inserted:,}", f"{r.rows_updated:,}", f"{r.rows_rejected:,}"
            )
        console.print(table)
    if failures:
        raise typer.Exit(1)


def _csv(value: str | None) -> list[str] | None:
    return [v.strip().upper() for v in value.split(",") if v.strip()] if value else None


@ingest_app.command("futures")
def ingest_futures(
    file: Annotated[
        list[Path] | None, typer.Option("--file", help="DBN (.dbn/.dbn.zst), CSV or Parquet of daily bars; repeatable.")
    ] = None,
    roots: Annotated[str | None, typer.Option(help="Roots for the API sources, comma-separated.")] = None,
    quotes: Annotated[
        bool, typer.Option("--quotes", help="Use the keyless quote API even if DATABENTO_API_KEY is set.")
    ] = False,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """Futures daily bars: from files, else the Databento API (DATABENTO_API_KEY), else the keyless quote API."""
    root_list = _csv(roots) or list(DEFAULT_ROOTS)
    if file:
        connector: Connector = FuturesFiles(list(file))
    elif get_secret("DATABENTO_API_KEY") and not quotes:
        connector = DatabentoApi(root_list)
    else:
        connector = Quotes(root_list)
    _run([connector], start, end, dry_run, strict, db)


@ingest_app.command("fred")
def ingest_fred(
    series: Annotated[
        str | None, typer.Option(help="Series ids, comma-separated (default: the feature catalogue's).")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """FRED series: keyless CSV, or the API with ALFRED vintages when FRED_API_KEY is set."""
    _run([Fred(_csv(series) or list(SERIES_FREQUENCY))], start, end, dry_run, strict, db)


@ingest_app.command("cftc")
def ingest_cftc(
    report_types: Annotated[str, typer.Option(help=f"Comma-separated: {', '.join(REPORTS)}.")] = ",".join(REPORTS),
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """CFTC disaggregated Commitments of Traders for ZL, ZS, ZM (yearly history files, keyless)."""
    _run([Cftc([r.strip().lower() for r in report_types.split(",")])], start, end, dry_run, strict, db)


@ingest_app.command("usda")
def ingest_usda(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """USDA FAS weekly export sales (soybeans, meal, oil; total and China). Needs USDA_FAS_API_KEY."""
    _run([Usda()], start, end, dry_run, strict, db)


@ingest_app.command("eia")
def ingest_eia(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EIA API v2 biofuel production and petroleum stocks. Needs EIA_API_KEY."""
    _run([Eia()], start, end, dry_run, strict, db)


@ingest_app.command("epa")
def ingest_epa(
    file: Annotated[Path | None, typer.Option("--file", help="A saved copy of EPA's RIN price CSV.")] = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EPA weekly RIN prices by D-code (from CBI_EPA_RIN_URL or --file)."""
    _run([Epa(file)], start, end, dry_run, strict, db)


@ingest_app.command("news")
def ingest_news(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """News articles from RSS/Atom feeds (Farm Policy News, farmdoc daily; CBI_NEWS_FEEDS to change)."""
    _run([News()], start, end, dry_run, strict, db)


@ingest_app.command("all")
def ingest_all(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """Every network source; those that cannot run here (no key) are skipped with one line each."""
    candidates: list[Connector] = [
        DatabentoApi() if get_secret("DATABENTO_API_KEY") else Quotes(),
        Fred(),
        Cftc(),
        Usda(),
        Eia(),
        Epa(),
        News(),
    ]
    runnable = []
    for connector in candidates:
        reason = connector.available()
        if reason:
            log.warning("skipping %s: %s", connector.name, reason)
        else:
            runnable.append(connector)
    _run(runnable, start, end, dry_run, strict, db)


@app.command()
def backtest(
    start: Annotated[str, typer.Option(help="First as_of_date to forecast.")] = "2016-01-01",
    end: Annotated[str, typer.Option(help="Last as_of_date to forecast.")] = "2024-06-30",
    refit_every: Annotated[int, typer.Option(help="Trading days between refits.")] = 63,
    preset: Annotated[str | None, typer.Option(help="AutoGluon preset (default: the cbi_ml var's).")] = None,
    time_limit: Annotated[int | None, typer.Option(help="Seconds per AutoGluon fit.")] = None,
    members: Annotated[str, typer.Option(help="Comma-separated L0 members, or 'all'.")] = "all",
    report: Annotated[
        Path | None, typer.Option(help="HTML report path (default: reports/backtest_<start>_<end>.html).")
    ] = None,
    db: DbOption = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Run the fits as Ray tasks: auto, local, or ray://host:port (default: $CBI_RAY_ADDRESS)."),
    ] = None,
) -> None:
    """Walk-forward backtest of the whole stack (same code as production); writes ml.backtest_predictions,
    ml.backtest_metrics and an HTML report. Interrupt at any time: a re-run continues from the last refit."""
    from cbi_ml.backtest_runner import run_backtest_command
    from cbi_ml.distributed import ray_address as ray_address_setting

    run_backtest_command(
        checked_path(db or duckdb_path()),
        start,
        end,
        refit_every,
        preset,
        time_limit,
        members,
        report or Path("reports") / f"backtest_{start}_{end}.html",
        console,
        ray_address=ray_address_setting(ray_address),
    )


@app.command()
def forecasts(db: DbOption = None) -> None:
    """Print the latest forecast table written by `dbt build` (forecasts.zl_predictions)."""
    path = checked_path(db or duckdb_path())
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
    for col in ("horizon", "target date", "P10", "P50", "P90", "P10 ret", "P50 ret", "P90 ret", "method"):
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
            row.forecast_method,
        )
    console.print(table)
    console.print(
        "Prices in US cents per lb (CBOT soybean oil); returns are log returns over the horizon. method: the model "
        "the quantiles come from, the simplest one that earned its place on walk-forward pinball loss."
    )


@app.command()
def runs(limit: Annotated[int, typer.Option(help="How many runs to show.")] = 20, db: DbOption = None) -> None:
    """Show the most recent loads recorded in ops.ingest_runs."""
    with duckdb.connect(checked_path(db or duckdb_path()), read_only=True) as con:
        frame = con.sql(
            "select source, target_table, started_at, rows_read, rows_inserted, rows_updated, status, error "
            f"from ops.ingest_runs order by started_at desc limit {int(limit)}"
        ).df()
    console.print(frame.to_string(index=False))


if __name__ == "__main__":
    app()
