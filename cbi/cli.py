"""`cbi`: the one command-line entry point (the composition root: every package meets here).

cbi sample      write the deterministic offline sample into the raw schema
cbi ingest      load real public sources into the raw schema
cbi forecasts   print the latest ZL forecast table (after `dbt build`)
cbi runs        show the most recent ingest runs
cbi backtest    walk-forward backtest of the whole stack
cbi panel       the price-only members, calibration and final choice on every futures root (docs/forecast.md)
cbi run         the orchestration's jobs in process (daily, weekly, quality, monitor)
cbi ops record  a dbt build run outside Dagster, recorded in the Dagster instance (`make build`)
cbi dashboard   the static dashboard; cbi snapshot: the read-only snapshot; cbi sync: the shared warehouse

Every failure ends in one line on stderr naming the source (and the field and row where there is one) and a
non-zero exit code; no traceback (`--verbose` logs the details).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from cbi.commands.backtest import backtest
from cbi.commands.common import one_line_errors
from cbi.commands.dashboard import dashboard_app, snapshot_app
from cbi.commands.forecasts import forecasts, runs
from cbi.commands.ingest import ingest_app
from cbi.commands.ops import ops_app
from cbi.commands.run import run_app
from cbi.commands.sample import sample
from cbi.commands.sync import sync_app
from cbi_core.secrets import RedactingFilter, install_redaction
from cbi_ml.panel.cli import panel

app = typer.Typer(help="CBI: a forecasting warehouse for CBOT soybean oil futures (ZL).", no_args_is_help=True)


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
    install_redaction()  # every record, including those Dagster stores and libraries' debug lines
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True)


app.add_typer(ingest_app, name="ingest")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(run_app, name="run")
app.add_typer(ops_app, name="ops")
app.add_typer(sync_app, name="sync")
app.command()(sample)
app.command()(backtest)
app.command()(one_line_errors(panel))
app.command()(forecasts)
app.command()(runs)

if __name__ == "__main__":
    app()
