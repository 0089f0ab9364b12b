"""`cbi`: the one command-line entry point.

cbi sample      write the deterministic offline sample into the raw schema
cbi forecasts   print the latest ZL forecast table (after `dbt build`)
cbi runs        show the most recent ingest runs

Every failure ends in one line on stderr naming the source (and the field and row where there is one) and a
non-zero exit code; no traceback (`--verbose` logs the details).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pandas as pd
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from tqdm import tqdm

from dashboard.cli import dashboard_app, snapshot_app
from ingest.http import SourceError
from ingest.load import LoadError, LoadResult, record_failed_run, upsert
from ingest.runner import describe_error, run_source
from ingest.sample import DEFAULT_SEED, DEFAULT_START, generate_sample
from ingest.secrets import RedactingFilter, get_secret, redact
from ingest.settings import checked_path, duckdb_path
from ingest.sources.base import Connector, Window
from ingest.sources.cftc import REPORTS, Cftc
from ingest.sources.databento_api import DatabentoApi
from ingest.sources.eia import Eia
from ingest.sources.epa import Epa
from ingest.sources.file_importers import EiaFiles, FredFiles, NewsFiles, RealFiles
from ingest.sources.fred import SERIES_FREQUENCY, Fred
from ingest.sources.futures_files import FuturesFiles
from ingest.sources.news import News
from ingest.sources.quotes import DEFAULT_ROOTS, Quotes
from ingest.sources.usda import Usda
from ingest.sync_cli import sync_app
from ingest.warehouse import WarehouseError, check_db_path, connect
from orchestration.cli import run_app

app = typer.Typer(help="CBI: a forecasting warehouse for CBOT soybean oil futures (ZL).", no_args_is_help=True)
ingest_app = typer.Typer(
    help="Load real public sources into the raw schema (idempotent, atomic per batch, recorded in ops.ingest_runs).",
    no_args_is_help=True,
)
app.add_typer(ingest_app, name="ingest")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(run_app, name="run")
app.add_typer(sync_app, name="sync")
# Tables stay readable when stdout is a file or a pipe (rich would otherwise assume 80 columns).
console = Console() if sys.stdout.isatty() else Console(width=160)
log = logging.getLogger("cbi")

DbOption = Annotated[str | None, typer.Option("--db", help="DuckDB file (default: $CBI_DUCKDB_PATH or ./cbi.duckdb).")]


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False) -> None:
    handler: logging.Handler
    if sys.stderr.isatty():
        handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:  # a file or a pipe: one unwrapped line per message, easy to grep
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)


class UsageError(ValueError):
    """A command-line value is wrong (exit code 2)."""


def _fail(message: str, code: int = 1) -> None:
    """The one line every failure ends with (stderr, no traceback), then exit `code`."""
    print(f"error: {redact(message)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any failure of `command` into one line on stderr and a non-zero exit (2 for bad options)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except UsageError as exc:
            _fail(str(exc), 2)
        except (SourceError, LoadError, WarehouseError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            _fail(f"{command.__name__}: interrupted", 130)
        except Exception as exc:  # the last resort: still one line, the details with --verbose
            log.debug("unexpected failure", exc_info=True)
            _fail(describe_error(f"cbi {command.__name__.replace('_', ' ')}", exc))

    return wrapper


def _parse_date(value: str | None, option: str = "--start") -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@app.command()
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
    first, last = _parse_date(start, "--start"), _parse_date(end, "--end")
    if last is not None and first is not None and last < first:
        raise UsageError(f"--end {last} is before --start {first}")
    frames = generate_sample(first, last, seed)
    with connect(path) as con:
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
    first, last = _parse_date(start, "--start"), _parse_date(end, "--end") or date.today()
    if first is not None and first > last:
        raise UsageError(f"--start {first} is after --end {last}")
    return Window(first, last)


#: A connector to build when the command runs: (source name, raw table, factory). Building it can fail (an
#: invalid CBI_NEWS_FEEDS); that failure is reported and recorded like any other.
Planned = tuple[str, str, Callable[[], Connector]]


def _record_failure(path: str, source: str, table: str, message: str) -> None:
    """Best effort: a failure before a connector could start still gets its row in ops.ingest_runs."""
    try:
        with connect(path) as con:
            record_failed_run(con, source, table, message)
    except WarehouseError as exc:
        log.warning("not recorded in ops.ingest_runs: %s", exc)


def _run(planned: list[Planned], start, end, dry_run: bool, strict: bool, db: str | None) -> None:
    """Run connectors in turn; report every result; exit non-zero if any could not run or failed."""
    path = check_db_path(db or duckdb_path())
    try:
        window = _window(start, end)
    except UsageError as exc:
        if not dry_run:
            for source, table, _ in planned:
                _record_failure(path, source, table, str(exc))
        raise
    failures: list[str] = []
    results: list[LoadResult] = []
    for source, table, build in planned:
        try:
            connector = build()
        except Exception as exc:
            message = describe_error(source, exc)
            if not dry_run:
                _record_failure(path, source, f"raw.{table}", message)
            failures.append(message)
            continue
        try:
            outcome = run_source(path, connector, window, dry_run=dry_run, strict=strict)
        except WarehouseError as exc:
            failures.append(str(exc))
            break  # the warehouse itself cannot be used: the next source would fail the same way
        except Exception as exc:
            message = describe_error(source, exc)
            if not isinstance(exc, SourceError | LoadError) and not dry_run:
                _record_failure(path, source, f"raw.{table}", message)
            failures.append(message)
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
        for message in failures[:-1]:
            print(f"error: {redact(message)}", file=sys.stderr, flush=True)
        _fail(failures[-1])


def _csv(value: str | None) -> list[str] | None:
    return [v.strip().upper() for v in value.split(",") if v.strip()] if value else None


@ingest_app.command("futures")
@one_line_errors
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
    table = "futures_ohlcv_daily"
    if file:
        planned: Planned = ("futures", table, lambda: FuturesFiles(list(file)))
    elif get_secret("DATABENTO_API_KEY") and not quotes:
        planned = ("databento", table, lambda: DatabentoApi(root_list))
    else:
        planned = ("quotes", table, lambda: Quotes(root_list))
    _run([planned], start, end, dry_run, strict, db)


FilesOption = Annotated[
    list[Path] | None, typer.Option("--file", help="Load this file instead of the network; repeatable.")
]


@ingest_app.command("fred")
@one_line_errors
def ingest_fred(
    series: Annotated[
        str | None,
        typer.Option(
            help="Series ids, comma-separated (default: the feature catalogue's); with --file, the one series "
            "in the file (default: from the file name, fred_<SERIES>.csv)."
        ),
    ] = None,
    file: FilesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """FRED series: keyless CSV, or the API with ALFRED vintages when FRED_API_KEY is set, or --file downloads."""
    if file:
        planned: Planned = ("fred", "fred_observations", lambda: FredFiles(list(file), series))
    else:
        planned = ("fred", "fred_observations", lambda: Fred(_csv(series) or list(SERIES_FREQUENCY)))
    _run([planned], start, end, dry_run, strict, db)


@ingest_app.command("cftc")
@one_line_errors
def ingest_cftc(
    report_types: Annotated[str, typer.Option(help=f"Comma-separated: {', '.join(REPORTS)}.")] = ",".join(REPORTS),
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """CFTC disaggregated Commitments of Traders for ZL, ZS, ZM (yearly history files, keyless)."""
    types = [r.strip().lower() for r in report_types.split(",") if r.strip()]
    _run([("cftc", "cftc_cot_disaggregated", lambda: Cftc(types))], start, end, dry_run, strict, db)


@ingest_app.command("usda")
@one_line_errors
def ingest_usda(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """USDA FAS weekly export sales (soybeans, meal, oil; total and China). Needs USDA_FAS_API_KEY."""
    _run([("usda", "usda_export_sales", Usda)], start, end, dry_run, strict, db)


@ingest_app.command("eia")
@one_line_errors
def ingest_eia(
    file: FilesOption = None,
    series: Annotated[
        str | None, typer.Option(help="With --file: the series code in the file (default: eia_<CODE>.csv).")
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EIA API v2 biofuel production and petroleum stocks (needs EIA_API_KEY), or --file downloads."""
    build = (lambda: EiaFiles(list(file), series)) if file else Eia
    _run([("eia", "eia_observations", build)], start, end, dry_run, strict, db)


@ingest_app.command("epa")
@one_line_errors
def ingest_epa(
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", help="A saved copy of EPA's RIN price CSV or EMTS weekly export; repeatable."),
    ] = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EPA weekly RIN prices by D-code (from CBI_EPA_RIN_URL or --file)."""
    _run([("epa", "epa_rin_prices", lambda: Epa(list(file) if file else None))], start, end, dry_run, strict, db)


@ingest_app.command("news")
@one_line_errors
def ingest_news(
    file: FilesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """News articles from RSS/Atom feeds (Farm Policy News, farmdoc daily; CBI_NEWS_FEEDS to change), or --file
    headline CSVs (date, source, [commodity,] headline; the feed is the file name's, news_<feed>_....csv)."""
    build = (lambda: NewsFiles(list(file))) if file else News
    _run([("news", "news_articles", build)], start, end, dry_run, strict, db)


@ingest_app.command("real-files")
@one_line_errors
def ingest_real_files(
    folder: Annotated[Path, typer.Argument(help="A folder shaped like ../shared/data/real/ (with macro/).")],
    strict: StrictOption = False,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """Build a warehouse from real files end to end: futures_daily_contracts.csv.gz, then macro/fred_*.csv,
    macro/eia_*.csv, macro/epa_*.csv and macro/news_*.csv (each through its file importer)."""
    found = RealFiles(folder).collect()
    if not found:
        raise SourceError("real-files", f"no known files under {folder} (see `cbi ingest real-files --help`)")
    builders: dict[str, tuple[str, Callable[[list[Path]], Connector]]] = {
        "futures": ("futures_ohlcv_daily", FuturesFiles),
        "fred": ("fred_observations", FredFiles),
        "eia": ("eia_observations", EiaFiles),
        "epa": ("epa_rin_prices", Epa),
        "news": ("news_articles", NewsFiles),
    }
    planned: list[Planned] = []
    for kind, paths in found.items():
        table, build = builders[kind]
        log.info("real-files: %s: %d file(s)", kind, len(paths))
        planned.append((kind, table, functools.partial(build, list(paths))))
    _run(planned, None, None, dry_run, strict, db)


@ingest_app.command("all")
@one_line_errors
def ingest_all(
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """Every network source; those that cannot run here (no key) are skipped with one line each."""
    candidates: list[Planned] = [
        ("databento", "futures_ohlcv_daily", DatabentoApi)
        if get_secret("DATABENTO_API_KEY")
        else ("quotes", "futures_ohlcv_daily", Quotes),
        ("fred", "fred_observations", Fred),
        ("cftc", "cftc_cot_disaggregated", Cftc),
        ("usda", "usda_export_sales", Usda),
        ("eia", "eia_observations", Eia),
        ("epa", "epa_rin_prices", Epa),
        ("news", "news_articles", News),
    ]
    runnable: list[Planned] = []
    for source, table, build in candidates:
        try:
            reason = build().available()
        except Exception:  # building fails (e.g. a bad CBI_NEWS_FEEDS): let _run report and record it
            reason = None
        if reason:
            log.warning("skipping %s: %s", source, reason)
        else:
            runnable.append((source, table, build))
    _run(runnable, start, end, dry_run, strict, db)


@app.command()
@one_line_errors
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
    vars: Annotated[
        str | None, typer.Option("--vars", help="dbt vars as for `dbt build --vars`, e.g. '{\"cbi_ml\": {...}}'.")
    ] = None,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Run the fits as Ray tasks: auto, local, or ray://host:port (default: $CBI_RAY_ADDRESS)."),
    ] = None,
) -> None:
    """Walk-forward backtest of the whole stack (same code as production); writes ml.backtest_predictions,
    ml.backtest_metrics and an HTML report. Interrupt at any time: a re-run continues from the last refit."""
    from cbi_ml.distributed import ray_address as ray_address_setting
    from cbi_ml.evaluation.backtest_command import run_backtest_command

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
        vars=vars,
        ray_address=ray_address_setting(ray_address),
    )


@app.command()
@one_line_errors
def forecasts(db: DbOption = None) -> None:
    """Print the latest forecast table written by `dbt build` (forecasts.zl_predictions)."""
    path = check_db_path(db or duckdb_path())
    with connect(path, read_only=True) as con:
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
@one_line_errors
def runs(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many runs to show.")] = 20, db: DbOption = None
) -> None:
    """Show the most recent loads recorded in ops.ingest_runs ('running' with no live process: a killed run)."""
    with connect(check_db_path(db or duckdb_path()), read_only=True) as con:
        try:
            frame = con.execute(
                "select source, target_table, started_at, rows_read, rows_inserted, rows_updated, status, pid, error "
                "from ops.ingest_runs order by started_at desc limit ?",
                [limit],
            ).df()
        except duckdb.CatalogException:
            raise WarehouseError("no ops.ingest_runs in this warehouse yet: nothing was loaded") from None
    running = frame["status"].eq("running")
    frame.loc[running, "status"] = [
        "running" if _process_alive(pid) else "running (no such process: killed?)" for pid in frame.loc[running, "pid"]
    ]
    console.print(frame.drop(columns="pid").to_string(index=False))


def _process_alive(pid: object) -> bool:
    """Whether process `pid` exists on this machine (a run recorded elsewhere counts as alive)."""
    if pid is None or pd.isna(pid):
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


if __name__ == "__main__":
    app()
