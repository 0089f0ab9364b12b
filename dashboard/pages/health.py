"""The Data health page: freshness per source, ingest runs, quarantined rows, gate and quality checks."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from dashboard.components import (
    Page,
    Section,
    figure_html,
    num,
    table_html,
    text,
)
from dashboard.data import WarehouseData
from dashboard.pages.common import CMD_QUALITY, CMD_SAMPLE, Body, empty, from_table, page

LOADED = ("success", "partial")  # ops.ingest_runs statuses of a load that wrote rows


def freshness(runs: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Per source: its last run, that run's status, the last successful load and its age in hours at `now`."""
    rows = []
    for source, part in runs.groupby("source"):
        part = part.sort_values("started_at")
        ok = part[part["status"].isin(LOADED)]
        last_ok = ok["finished_at"].max() if not ok.empty else pd.NaT
        rows.append(
            {
                "source": source,
                "tables": part["target_table"].nunique(),
                "last_run": part["started_at"].iloc[-1],
                "last_status": part["status"].iloc[-1],
                "last_success": last_ok,
                "age_hours": (pd.Timestamp(now) - pd.Timestamp(last_ok)).total_seconds() / 3600
                if pd.notna(last_ok)
                else float("nan"),
            }
        )
    return pd.DataFrame(rows).sort_values("source")


def quality_figure(results: pd.DataFrame) -> go.Figure:
    counts = results.groupby(["dimension", "status"]).size().unstack(fill_value=0)
    fig = go.Figure()
    for status, color in (
        ("pass", "#1a9850"),
        ("ok", "#1a9850"),
        ("warn", "#fdae61"),
        ("alert", "#d73027"),
        ("fail", "#d73027"),
        ("error", "#a50026"),
    ):
        if status in counts.columns:
            fig.add_trace(go.Bar(x=counts.index, y=counts[status], name=status, marker_color=color))
    for status in counts.columns:
        if status not in ("pass", "ok", "warn", "alert", "fail", "error"):
            fig.add_trace(go.Bar(x=counts.index, y=counts[status], name=status))
    fig.update_layout(title="Checks of the latest quality run by dimension and status", barmode="stack")
    fig.update_xaxes(title_text="dimension")
    fig.update_yaxes(title_text="checks (count)")
    return fig


QUARANTINE_COUNT_COLUMNS = [
    ("source", "source", text),
    ("target_table", "table", text),
    ("field", "field", text),
    ("reason", "reason", text),
    ("size", "rows", num(0)),
]
QUARANTINE_ROW_COLUMNS = [
    ("quarantined_at", "quarantined (UTC)", text),
    ("source", "source", text),
    ("row_number", "row", num(0)),
    ("field", "field", text),
    ("value", "value", text),
    ("reason", "reason", text),
]


def quarantine_body(quarantine: pd.DataFrame) -> Body:
    """Rows the loader kept out of the raw tables, by reason, then the latest 20."""
    counts = quarantine.groupby(["source", "target_table", "field", "reason"], as_index=False, dropna=False).size()
    return Body(
        table_html(counts.sort_values("size", ascending=False), QUARANTINE_COUNT_COLUMNS)
        + table_html(quarantine.head(20), QUARANTINE_ROW_COLUMNS),
        f"{len(quarantine):,} rows kept out of the raw tables by the loader, by reason; then the latest 20.",
    )


PASSING = ("ok", "pass")  # statuses of a check that holds; every other status is shown first
SEVERITY = ("error", "fail", "alert", "warn")  # the order failing checks are listed in (unknown statuses last)
CHECK_COLUMNS = [
    ("dimension", "dimension", text),
    ("check_name", "check", text),
    ("target", "target", text),
    ("status", "status", text),
    ("observed", "observed", num(3)),
    ("threshold", "threshold", num(3)),
    ("message", "message", text),
]


def checks(n: int) -> str:
    return f"{n:,} check" if n == 1 else f"{n:,} checks"


def checks_html(last: pd.DataFrame) -> str:
    """The checks of one run: those that do not pass first, worst first, in full; the passing ones folded into a
    <details> element that says how many they are."""
    passing = last["status"].isin(PASSING)
    failing = last[~passing].assign(_rank=lambda f: f["status"].map({s: i for i, s in enumerate(SEVERITY)}))
    failing = failing.sort_values(["_rank", "dimension", "check_name"], na_position="last")
    if failing.empty:
        head = '<p class="ok-note" data-key="failing-checks">every check passed</p>'
    else:
        head = f'<p data-key="failing-checks"><strong>{checks(len(failing))} not passing</strong></p>' + table_html(
            failing, CHECK_COLUMNS, status_column="status"
        )
    ok = last[passing].sort_values(["dimension", "check_name"])
    if ok.empty:
        return head
    return (
        head + f'<details data-key="passing-checks"><summary>{checks(len(ok))} passing</summary>'
        f"{table_html(ok, CHECK_COLUMNS, status_column='status')}</details>"
    )


def quality_body(quality: pd.DataFrame) -> Body:
    """The latest quality run: the chart by dimension, then the failing checks, the passing ones folded."""
    last = quality[quality["run_id"] == quality.sort_values("checked_at")["run_id"].iloc[-1]]
    return Body(
        figure_html(quality_figure(last), "fig-quality") + checks_html(last),
        f"The latest quality run ({text(last['run_id'].iloc[0])}, {text(last['checked_at'].max())}): "
        "source freshness and the gates in six dimensions. Checks that do not pass come first; the passing ones "
        "are folded below them.",
        figures=1,
    )


FRESHNESS_COLUMNS = [
    ("source", "source", text),
    ("tables", "tables", num(0)),
    ("last_run", "last run (UTC)", text),
    ("last_status", "last status", text),
    ("last_success", "last success (UTC)", text),
    ("age_hours", "age (hours)", num(1)),
]
RUN_COLUMNS = [
    ("source", "source", text),
    ("target_table", "table", text),
    ("started_at", "started (UTC)", text),
    ("rows_read", "read", num(0)),
    ("rows_inserted", "inserted", num(0)),
    ("rows_updated", "updated", num(0)),
    ("rows_rejected", "rejected", num(0)),
    ("status", "status", text),
    ("error", "error", text),
]


def ingest_sections(data: WarehouseData, now: datetime) -> list[Section]:
    """Freshness per source and the last 20 ingest runs (ops.ingest_runs); one note while there are none."""

    def freshness_body(runs: pd.DataFrame) -> Body:
        fresh = table_html(freshness(runs, now), FRESHNESS_COLUMNS, key="source", status_column="last_status")
        return Body(fresh, f"From ops.ingest_runs; ages at {now:%Y-%m-%d %H:%M} UTC.")

    fresh = from_table(
        data, "ingest_runs", "Freshness per source", freshness_body, "no ingest runs recorded yet", CMD_SAMPLE
    )
    if empty(data.get("ingest_runs")):
        return [fresh]
    return [
        fresh,
        Section("Last ingest runs", table_html(data.get("ingest_runs").head(20), RUN_COLUMNS, status_column="status")),
    ]


def health_page(data: WarehouseData, now: datetime) -> Page:
    # what fails leads: the gate and quality checks (failing ones first), then freshness, loads and quarantine
    return page(
        "health",
        "Data health",
        "Data health",
        [
            from_table(
                data, "data_quality", "Gate and quality checks", quality_body, "no quality checks yet", CMD_QUALITY
            ),
            ingest_sections(data, now),
            from_table(data, "quarantine", "Quarantined rows", quarantine_body, "no quarantined rows", None),
        ],
    )
