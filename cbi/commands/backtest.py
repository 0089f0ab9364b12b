"""`cbi backtest`: the walk-forward backtest of the whole stack (logic in `cbi_ml.evaluation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cbi.commands.common import DbOption, console, one_line_errors
from cbi_core.settings import checked_path, duckdb_path


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
