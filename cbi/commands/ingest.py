"""`cbi ingest <source>`: real public sources into the raw schema, each through the one load path
(`ingest.runner`); every result reported, every failure one line and a row in ops.ingest_runs.

A source is what data (`futures`, `fred`, ...); its connector is where it comes from (options choose it: `--file`
the file importer, `--quotes` the keyless quote API; `ingest.sources.base`). Every option is defined once, below.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cbi.commands.common import DbOption, UsageError, console, fail, log, one_line_errors, parse_date
from cbi_core.secrets import get_secret, redact
from cbi_core.settings import duckdb_path
from cbi_core.warehouse import WarehouseError, check_db_path, connect
from ingest.http import SourceError
from ingest.load import LoadError, LoadResult, record_failed_run
from ingest.runner import describe_error, fetch_then_load
from ingest.sources import CONNECTORS
from ingest.sources.base import Connector, Window, describe
from ingest.sources.cftc import REPORTS, Cftc, CftcFiles
from ingest.sources.databento_api import DatabentoApi
from ingest.sources.epa import Epa
from ingest.sources.file_importers import EiaFiles, FredFiles, NewsFiles, RealFiles
from ingest.sources.fred import SERIES_FREQUENCY, Fred
from ingest.sources.futures_files import FuturesFiles
from ingest.sources.quotes import DEFAULT_ROOTS, Quotes
from ingest.sources.usda import UsdaFiles

ingest_app = typer.Typer(
    help="Load real public sources into the raw schema (idempotent, atomic per batch, recorded in ops.ingest_runs).",
    no_args_is_help=True,
)


StartOption = Annotated[
    str | None, typer.Option("--start", help="First date to fetch (default: incremental, from what is loaded).")
]
EndOption = Annotated[str | None, typer.Option("--end", help="Last date to fetch (default: today).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would be fetched; load nothing.")]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Reject a whole batch on any bad row (default: quarantine).")
]


def _files_option(what: str) -> Any:
    """The `--file` option (its one definition); `what` says which files the command reads."""
    return Annotated[list[Path] | None, typer.Option("--file", help=f"{what}; repeatable.")]


FilesOption = _files_option("Load this file instead of the network")
FuturesFilesOption = _files_option("DBN (.dbn/.dbn.zst), CSV or Parquet of daily bars")
CftcFilesOption = _files_option("A CFTC yearly disaggregated history file, zip or its txt")
UsdaFilesOption = _files_option("A FAS ESR export-sales download (the API's JSON, or CSV with its field names)")
EpaFilesOption = _files_option("A saved copy of EPA's RIN price CSV or EMTS weekly export")
RootsOption = Annotated[str | None, typer.Option(help="Roots for the API connectors, comma-separated.")]
QuotesOption = Annotated[
    bool, typer.Option("--quotes", help="Use the keyless quote API connector even if DATABENTO_API_KEY is set.")
]
FredSeriesOption = Annotated[
    str | None,
    typer.Option(
        help="Series ids, comma-separated (default: the feature catalogue's); with --file, the one series "
        "in the file (default: from the file name, fred_<SERIES>.csv)."
    ),
]
EiaSeriesOption = Annotated[
    str | None, typer.Option(help="With --file: the series code in the file (default: eia_<CODE>.csv).")
]
ReportTypesOption = Annotated[
    str | None,
    typer.Option(
        help=f"Comma-separated: {', '.join(REPORTS)} (default: both); with --file, the one report in the files "
        "(default: from the published name, fut_disagg_txt_<year>.zip / f_year.txt or com_... / c_year.txt)."
    ),
]
CommodityOption = Annotated[
    str | None,
    typer.Option(help="With --file: soybeans, soybean_meal or soybean_oil (default: each record's commodityCode)."),
]
RealFolderArgument = Annotated[Path, typer.Argument(help="A folder shaped like ../shared/data/real/ (with macro/).")]


def _window(start: str | None, end: str | None) -> Window:
    first, last = parse_date(start, "--start"), parse_date(end, "--end") or date.today()
    if first is not None and first > last:
        raise UsageError(f"--start {first} is after --end {last}")
    return Window(first, last)


#: A connector to build when the command runs: (source name, raw table, factory). Building it can fail (an
#: invalid CBI_NEWS_FEEDS); that failure is reported and recorded like any other.
Planned = tuple[str, str, Callable[[], Connector]]


def planned(source: str, build: Callable[[], Connector] | None = None) -> Planned:
    """Source `source` of `CONNECTORS` (its table), built by `build` (default: its network connector)."""
    spec = CONNECTORS[source]
    return (source, spec.table, build or spec.build)


def _record_failure(path: str, source: str, table: str, message: str, connector: str | None = None) -> None:
    """Best effort: a failure before a connector could start still gets its row in ops.ingest_runs."""
    try:
        with connect(path) as con:
            record_failed_run(con, source, table, message, connector)
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
            outcome = fetch_then_load(path, connector, window, dry_run=dry_run, strict=strict)
        except WarehouseError as exc:
            failures.append(str(exc))
            break  # the warehouse itself cannot be used: the next source would fail the same way
        except Exception as exc:
            message = describe_error(source, exc)
            if not isinstance(exc, SourceError | LoadError) and not dry_run:
                _record_failure(path, source, f"raw.{table}", message, connector.name)
            failures.append(message)
            continue
        if dry_run:
            console.print(f"[bold]{describe(connector)}[/] would fetch:")
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
        fail(failures[-1])


def _csv(value: str | None) -> list[str] | None:
    return [v.strip().upper() for v in value.split(",") if v.strip()] if value else None


@ingest_app.command("futures")
@one_line_errors
def ingest_futures(
    file: FuturesFilesOption = None,
    roots: RootsOption = None,
    quotes: QuotesOption = False,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """Futures daily bars, through one connector: files (--file), else the Databento API (DATABENTO_API_KEY), else
    the keyless quote API."""
    root_list = _csv(roots) or list(DEFAULT_ROOTS)
    if file:
        chosen = planned("futures", lambda: FuturesFiles(list(file)))
    elif get_secret("DATABENTO_API_KEY") and not quotes:
        chosen = planned("futures", lambda: DatabentoApi(root_list))
    else:
        chosen = planned("futures", lambda: Quotes(root_list))
    _run([chosen], start, end, dry_run, strict, db)


@ingest_app.command("fred")
@one_line_errors
def ingest_fred(
    series: FredSeriesOption = None,
    file: FilesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """FRED series: keyless CSV, or the API with ALFRED vintages when FRED_API_KEY is set, or --file downloads."""
    if file:
        chosen = planned("fred", lambda: FredFiles(list(file), series))
    else:
        chosen = planned("fred", lambda: Fred(_csv(series) or list(SERIES_FREQUENCY)))
    _run([chosen], start, end, dry_run, strict, db)


@ingest_app.command("cftc")
@one_line_errors
def ingest_cftc(
    report_types: ReportTypesOption = None,
    file: CftcFilesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """CFTC disaggregated Commitments of Traders for ZL, ZS, ZM (yearly history files, keyless), or --file."""
    types = [r.strip().lower() for r in (report_types or ",".join(REPORTS)).split(",") if r.strip()]
    if file:
        one = report_types.strip().lower() if report_types else None
        chosen = planned("cftc", lambda: CftcFiles(list(file), one))
    else:
        chosen = planned("cftc", lambda: Cftc(types))
    _run([chosen], start, end, dry_run, strict, db)


@ingest_app.command("usda")
@one_line_errors
def ingest_usda(
    file: UsdaFilesOption = None,
    commodity: CommodityOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """USDA FAS weekly export sales (soybeans, meal, oil; total and China). Needs USDA_FAS_API_KEY, or --file."""
    _run(
        [planned("usda", (lambda: UsdaFiles(list(file), commodity)) if file else None)], start, end, dry_run, strict, db
    )


@ingest_app.command("eia")
@one_line_errors
def ingest_eia(
    file: FilesOption = None,
    series: EiaSeriesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EIA API v2 biofuel production and petroleum stocks (needs EIA_API_KEY), or --file downloads."""
    _run([planned("eia", (lambda: EiaFiles(list(file), series)) if file else None)], start, end, dry_run, strict, db)


@ingest_app.command("epa")
@one_line_errors
def ingest_epa(
    file: EpaFilesOption = None,
    start: StartOption = None,
    end: EndOption = None,
    dry_run: DryRunOption = False,
    strict: StrictOption = False,
    db: DbOption = None,
) -> None:
    """EPA weekly RIN prices by D-code (from CBI_EPA_RIN_URL or --file)."""
    _run([planned("epa", lambda: Epa(list(file) if file else None))], start, end, dry_run, strict, db)


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
    _run([planned("news", (lambda: NewsFiles(list(file))) if file else None)], start, end, dry_run, strict, db)


@ingest_app.command("real-files")
@one_line_errors
def ingest_real_files(
    folder: RealFolderArgument,
    strict: StrictOption = False,
    dry_run: DryRunOption = False,
    db: DbOption = None,
) -> None:
    """Build a warehouse from real files end to end: futures_daily_contracts.csv.gz, then macro/fred_*.csv,
    macro/eia_*.csv, macro/epa_*.csv, macro/news_*.csv, the CFTC history (macro/*_disagg_txt_*.zip or
    macro/f_year*.txt, c_year*.txt) and FAS ESR downloads (macro/usda_esr_*.json or .csv), those present (each
    through its file importer)."""
    found = RealFiles(folder).collect()
    if not found:
        raise SourceError("real-files", f"no known files under {folder} (see `cbi ingest real-files --help`)")
    importers: dict[str, Callable[[list[Path]], Connector]] = {
        "futures": FuturesFiles,
        "fred": FredFiles,
        "eia": EiaFiles,
        "epa": Epa,
        "news": NewsFiles,
        "cftc": CftcFiles,
        "usda": UsdaFiles,
    }
    chosen: list[Planned] = []
    for kind, paths in found.items():
        log.info("real-files: %s: %d file(s)", kind, len(paths))
        chosen.append(planned(kind, functools.partial(importers[kind], list(paths))))
    _run(chosen, None, None, dry_run, strict, db)


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
    runnable: list[Planned] = []
    for spec in CONNECTORS.values():
        name, reason = spec.name, None
        try:
            connector = spec.build()
            name, reason = describe(connector), connector.available()  # e.g. "futures (quotes)"
        except Exception:  # building fails (e.g. a bad CBI_NEWS_FEEDS): let _run report and record it
            pass
        if reason:
            log.warning("skipping %s: %s", name, reason)
        else:
            runnable.append(planned(spec.name))
    _run(runnable, start, end, dry_run, strict, db)
