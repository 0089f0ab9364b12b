"""`cbi forecasts` and `cbi runs`: what the warehouse holds, read-only."""

from __future__ import annotations

import os
from typing import Annotated

import duckdb
import pandas as pd
import typer
from rich.table import Table

from cbi.commands.common import DbOption, console, one_line_errors
from cbi_core.settings import duckdb_path
from cbi_core.warehouse import WarehouseError, check_db_path, connect
from cbi_ml.combine.final import ALPHA, BLEND, DEFAULT_MEMBER
from cbi_ml.panel.choice import BASE as PANEL_BASE

#: The panel's verdict per horizon (the seed `panel_evidence`, loaded by `dbt seed` into the reference schema).
PANEL_EVIDENCE = "reference.panel_evidence"
#: ZL's members with forecasts (the panel's member serves only if ZL has it).
ZL_MEMBERS = "ml.l0_predictions"


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
        evidence = _optional(con, f"select * from {PANEL_EVIDENCE}")
        members = _optional(con, f"select distinct member from {ZL_MEMBERS}")
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
        "Prices in US cents per lb (CBOT soybean oil); returns are log returns over the horizon. "
        "method, per horizon: what is served and why."
    )
    zl_members = None if members is None else set(members["member"].astype(str))
    for line in served_notes(frame, evidence, zl_members):
        console.print(line, highlight=False)


def _optional(con: duckdb.DuckDBPyConnection, query: str) -> pd.DataFrame | None:
    """The frame of `query`, or None where its table does not exist (a warehouse built without it)."""
    try:
        return con.sql(query).df()
    except duckdb.CatalogException:
        return None


def served_notes(latest: pd.DataFrame, evidence: pd.DataFrame | None, members: set[str] | None) -> list[str]:
    """One line per horizon of `latest` (forecasts.zl_predictions): the method served and why, from the panel's
    verdict (`evidence`, the seed panel_evidence; None: not in the warehouse) and ZL's members (None: unknown).

    The final layer (`cbi_ml.combine.final`) starts from the member the panel served across markets, calibrated
    as the panel says (`DEFAULT_MEMBER` without a verdict or when ZL lacks that member), and leaves it only where
    ZL's own earlier out-of-fold record shows a ZL candidate beating it beyond the critical value."""
    verdicts = {} if evidence is None else {str(row.horizon): row for row in evidence.itertuples()}
    notes = []
    for row in latest.itertuples():
        method, verdict = str(row.forecast_method), verdicts.get(str(row.horizon))
        if verdict is None:
            start, why = DEFAULT_MEMBER, "no panel verdict for this horizon, so the final layer starts from it"
        elif members is not None and not set(str(verdict.served_member).split(BLEND)) <= members:
            start, why = DEFAULT_MEMBER, f"the panel's {verdict.served_member} is not one of ZL's members here"
        else:
            start, why = str(verdict.served_member), _panel_reason(verdict)
        if method == start:
            notes.append(f"{row.horizon}: {method}: {why}.")
        else:
            notes.append(
                f"{row.horizon}: {method}: on ZL's own earlier out-of-fold record it beat the starting point {start} "
                f"({why}) on pinball loss beyond the {ALPHA:.0%} max-t critical value."
            )
    return notes


def _panel_reason(verdict: tuple) -> str:
    """Why the panel served its member: the pooled skill of its best challenger against rw_ewma."""
    skill, se, critical = float(verdict.pooled_skill), float(verdict.pooled_skill_se), float(verdict.critical_value)
    evidence = (
        f"{verdict.best_member} at {skill:.3f} × {PANEL_BASE}'s pinball loss ± {se:.3f} EWC SE, "
        f"t = {(1 - skill) / se:.2f} against {critical:.2f}, B = {int(verdict.skill_dof)}"
    )
    years = f"{pd.Timestamp(verdict.first_date):%Y}-{pd.Timestamp(verdict.last_date):%Y}"
    markets = f"{int(verdict.roots)} markets {years}"
    scaled = f", intervals scaled by {float(verdict.scale_factor):.3f}" if verdict.calibration == "scale" else ""
    if verdict.served_member == PANEL_BASE:
        return f"no challenger beat it on the panel of {markets} (best: {evidence})"
    return f"chosen on the panel of {markets}: {evidence}{scaled}"


ERROR_WIDTH = 70  # characters of an error in `cbi runs` (one line; the full text is in the table)


def _short(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    line = " ".join(str(value).split())
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 1] + "…"


def _job_runs(con: duckdb.DuckDBPyConnection, limit: int) -> pd.DataFrame | None:
    try:
        return con.execute(
            "select job, started_at, round(seconds, 1) as seconds, status, steps, steps_warned as warned, "
            "steps_failed as failed, error from ops.job_runs order by started_at desc limit ?",
            [limit],
        ).df()
    except duckdb.CatalogException:
        return None


#: What `cbi runs` shows of a load: the source (what data) and its connector (where from), then the counts.
LOAD_COLUMNS = [
    "source",
    "connector",
    "target_table",
    "started_at",
    "rows_read",
    "rows_inserted",
    "rows_updated",
    "status",
    "pid",
    "error",
]


@one_line_errors
def runs(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="How many runs to show.")] = 20, db: DbOption = None
) -> None:
    """Show the latest job runs (ops.job_runs: daily, weekly, quality, monitor, with status and duration), then
    the latest loads (ops.ingest_runs; 'running' with no live process: a killed run). Errors on one line."""
    with connect(check_db_path(db or duckdb_path()), read_only=True) as con:
        jobs = _job_runs(con, limit)
        try:
            frame = con.execute("select * from ops.ingest_runs order by started_at desc limit ?", [limit]).df()
        except duckdb.CatalogException:
            raise WarehouseError("no ops.ingest_runs in this warehouse yet: nothing was loaded") from None
    frame = frame.reindex(columns=LOAD_COLUMNS)  # a warehouse from before `connector`: the column is empty
    if jobs is not None and not jobs.empty:
        jobs["error"] = jobs["error"].map(_short)
        console.print("job runs (ops.job_runs):")
        console.print(jobs.to_string(index=False), soft_wrap=True)
        console.print("\nloads (ops.ingest_runs):")
    running = frame["status"].eq("running")
    frame.loc[running, "status"] = [
        "running" if _process_alive(pid) else "running (no such process: killed?)" for pid in frame.loc[running, "pid"]
    ]
    frame["error"] = frame["error"].map(_short)
    frame["connector"] = frame["connector"].fillna("")
    console.print(frame.drop(columns="pid").to_string(index=False), soft_wrap=True)


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
