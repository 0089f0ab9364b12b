"""`cbi run daily|weekly|quality|monitor`: the orchestration's jobs executed in process, for cron or a CI
scheduler (`orchestration.runs`).

A run holds the warehouse's run lock; by default a command started while another run holds it stops at once
with the busy error (exit 75), `--wait SECONDS` queues it behind the other run instead (cron lines should use it).
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from cbi.commands.common import console
from cbi_core.calendar import chicago_date, is_trade_day
from cbi_core.errors import WarehouseBusy
from orchestration.runs import execute, step_report

run_app = typer.Typer(
    help="Run an orchestration job in process: daily, weekly, quality, monitor (the jobs `make ops` schedules).",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)

JOB_NAMES = {
    "daily": "daily_forecast",
    "weekly": "weekly_retrain",
    "quality": "data_quality",
    "monitor": "model_monitoring",
}


def _finite_wait(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{value!r} is not a number of seconds >= 0")
    return value


def _budget(value: str | None) -> dict | None:
    """The --budget JSON object, or None; a clear usage error when it is not one."""
    if not value:
        return None
    try:
        budget = json.loads(value)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON ({exc.msg} at character {exc.pos}): {value[:60]!r}") from None
    if not isinstance(budget, dict):
        raise typer.BadParameter(f"must be a JSON object of cbi_ml keys, got {type(budget).__name__}")
    return budget


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        help="Seconds to wait for a run that holds the warehouse (default: fail at once).",
        callback=_finite_wait,
    ),
]
TradeDatesOption = Annotated[
    bool, typer.Option("--trade-dates-only", help="Do nothing unless today is a CME trade date in Chicago (for cron).")
]
ArtifactsOption = Annotated[
    str, typer.Option("--artifacts-dir", help="Saved models folder (default: the cbi_ml var's artifacts_dir).")
]


STATUS_STYLE = {"success": "green", "warned": "yellow", "failed": "red", "skipped": "dim"}


def _report(result) -> None:
    rows = step_report(result)
    warned = sum(r.status == "warned" for r in rows)
    verdict = ("success" + (f", {warned} step(s) warned" if warned else "")) if result.success else "FAILED"
    table = Table(title=f"{result.job_def.name} run {result.run_id}: {verdict}")
    for col in ("step", "status", "note"):
        table.add_column(col, overflow="fold")
    for row in rows:
        style = STATUS_STYLE.get(row.status, "")
        table.add_row(row.step, f"[{style}]{row.status}[/]" if style else row.status, row.note)
    console.print(table)


def _run(
    name: str,
    wait: float,
    artifacts_dir: str = "",
    budget: dict | None = None,
    trade_dates_only: bool = False,
    ray_address: str = "",
) -> None:
    today = chicago_date(datetime.now(UTC))
    if trade_dates_only and not is_trade_day(today):
        console.print(f"{today} is not a CME trade date: nothing to run")
        return

    try:
        result = execute(JOB_NAMES[name], wait, artifacts_dir, budget, ray_address)
    except WarehouseBusy as exc:
        console.print(f"[red]{exc}", soft_wrap=True)
        raise typer.Exit(75) from None  # EX_TEMPFAIL: try again later
    _report(result)
    if not result.success:
        raise typer.Exit(1)


@run_app.command("daily")
def run_daily(
    wait: WaitOption = 0.0, artifacts_dir: ArtifactsOption = "", trade_dates_only: TradeDatesOption = False
) -> None:
    """Ingest every source incrementally, dbt build scoring with the serving models, log forecasts, monitor."""
    _run("daily", wait, artifacts_dir, trade_dates_only=trade_dates_only)


@run_app.command("weekly")
def run_weekly(
    wait: WaitOption = 0.0,
    artifacts_dir: ArtifactsOption = "",
    budget: Annotated[
        str | None,
        typer.Option(
            help="Training budget as a JSON object (cbi_ml keys); default: the production budget.", callback=_budget
        ),
    ] = None,
    ray_address: Annotated[
        str,
        typer.Option(help="Run the fits as Ray tasks: auto, local, or ray://host:port (default: $CBI_RAY_ADDRESS)."),
    ] = "",
) -> None:
    """Retrain every member, then the champion/challenger gate (new models serve only if not worse)."""
    _run("weekly", wait, artifacts_dir, budget, ray_address=ray_address)  # type: ignore[arg-type]


@run_app.command("quality")
def run_quality(wait: WaitOption = 0.0, trade_dates_only: TradeDatesOption = False) -> None:
    """Source freshness, the gates and load timeliness in six dimensions -> ops.data_quality_results."""
    _run("quality", wait, trade_dates_only=trade_dates_only)


@run_app.command("monitor")
def run_monitor(
    wait: WaitOption = 0.0, artifacts_dir: ArtifactsOption = "", trade_dates_only: TradeDatesOption = False
) -> None:
    """Join past forecasts to outcomes; pinball vs random walks, coverage, VaR, drift -> ops.model_monitoring."""
    _run("monitor", wait, artifacts_dir, trade_dates_only=trade_dates_only)
