"""The Record page: backtest skill and coverage, live monitoring, the leaderboard."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.components import (
    HORIZON_COLORS,
    Page,
    figure_html,
    horizons_in,
    note_html,
    num,
    pct,
    table_html,
    text,
)
from dashboard.data import WarehouseData
from dashboard.pages.common import CMD_BACKTEST, CMD_MONITOR, Body, empty, from_table, latest, page, reference_line
from dashboard.settings import COVERAGE_WINDOW


def latest_backtest(metrics: pd.DataFrame) -> str:
    """The run_key of the backtest covering the latest period (ties: the longest)."""
    runs = metrics.groupby("run_key", as_index=False).agg(end=("end_date", "max"), start=("start_date", "min"))
    return str(runs.sort_values(["end", "start"], ascending=[False, True])["run_key"].iloc[0])


def skill_figure(metrics: pd.DataFrame) -> go.Figure:
    horizons = horizons_in(metrics)
    fig = go.Figure()
    for model in [
        m
        for m in ("final", "ensemble", "stack", "ag_timeseries", "rw_ewma", "rw_empirical")
        if m in set(metrics["model"])
    ]:
        part = metrics[metrics["model"] == model].set_index("horizon").reindex(horizons)
        fig.add_trace(
            go.Scatter(
                x=horizons,
                y=part["skill_ratio"],
                name=model,
                mode="markers",
                marker={"size": 10},
                error_y={"type": "data", "array": (2 * part["skill_ratio_se"]).fillna(0).tolist()},
            )
        )
    reference_line(fig, 1.0, "better random walk")
    fig.update_layout(
        title="Pinball loss relative to the better random walk (error bars: ±2 SE, EWC)", scattermode="group"
    )
    fig.update_xaxes(title_text="horizon")
    fig.update_yaxes(title_text="pinball ratio (< 1 is better)")
    return fig


def rolling_coverage(predictions: pd.DataFrame, window: int = COVERAGE_WINDOW) -> pd.DataFrame:
    """Share of outcomes inside P10-P90 over the last `window` forecasts, per member and horizon."""
    parts = []
    for (member, horizon), part in predictions.groupby(["member", "horizon"]):
        part = part.sort_values("as_of_date")
        inside = ((part["y"] >= part["q10"]) & (part["y"] <= part["q90"])).astype(float)
        parts.append(
            pd.DataFrame(
                {
                    "as_of_date": part["as_of_date"].to_numpy(),
                    "member": member,
                    "horizon": horizon,
                    "coverage": inside.rolling(window, min_periods=window // 2).mean().to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def coverage_figure(coverage: pd.DataFrame, title: str) -> go.Figure:
    fig = go.Figure()
    for (member, horizon), part in coverage.groupby(["member", "horizon"]):
        fig.add_trace(
            go.Scatter(
                x=part["as_of_date"],
                y=part["coverage"],
                name=f"{member} {horizon}",
                mode="lines",
                line={"color": HORIZON_COLORS.get(horizon), "dash": "solid" if member == "final" else "dot"},
            )
        )
    reference_line(fig, 0.8, "nominal 80%")
    fig.update_layout(title=title)
    fig.update_xaxes(title_text="as-of date")
    fig.update_yaxes(title_text="share inside P10–P90", range=[0, 1])
    return fig


def monitoring_figure(monitoring: pd.DataFrame, metric: str, unit: str) -> go.Figure:
    part = monitoring[monitoring["metric"] == metric]
    window = part["window_days"].min()
    part = part[part["window_days"] == window]
    fig = go.Figure()
    for (model, horizon), rows in part.groupby(["model", "horizon"]):
        rows = rows.sort_values("evaluated_at")
        fig.add_trace(
            go.Scatter(
                x=rows["evaluated_at"],
                y=rows["value"],
                name=f"{model} {horizon}",
                mode="lines+markers",
                line={"color": HORIZON_COLORS.get(horizon), "dash": "solid" if model == "final" else "dot"},
            )
        )
    if metric == "coverage_80":
        reference_line(fig, 0.8, "nominal 80%")
    fig.update_layout(title=f"Live {metric}, rolling {window} days")
    fig.update_xaxes(title_text="evaluated at")
    fig.update_yaxes(title_text=unit)
    return fig


SKILL_COLUMNS = [
    ("model", "model", text),
    ("horizon", "horizon", text),
    ("n", "forecasts", num(0)),
    ("pinball_mean", "pinball", num(5)),
    ("coverage_80", "coverage 80%", pct(1)),
    ("skill_ratio", "ratio vs RW", num(3)),
    ("skill_ratio_se", "± SE", num(3)),
    ("dm_pvalue", "DM p", num(2)),
    ("verdict", "verdict", text),
]


def skill_body(metrics: pd.DataFrame) -> Body:
    """Backtest skill of the latest backtest against the random walks."""
    key = latest_backtest(metrics)
    run = metrics[metrics["run_key"] == key].sort_values("horizon_days")
    first = run.iloc[0]
    return Body(
        figure_html(skill_figure(run), "fig-skill") + table_html(run, SKILL_COLUMNS),
        f"Walk-forward backtest {text(first['start_date'])} to {text(first['end_date'])} (run {key}): mean "
        f"pinball loss divided by that of the better random walk on the same rows; a ratio within 2 SE of "
        f"1 is no gain.",
        figures=1,
    )


def coverage_body(predictions: pd.DataFrame, metrics: pd.DataFrame | None) -> Body:
    """Rolling 80% coverage of the backtest the skill section shows."""
    runs = predictions["run_key"].unique()
    key = latest_backtest(metrics) if not empty(metrics) and latest_backtest(metrics) in runs else runs[0]
    coverage = rolling_coverage(predictions[predictions["run_key"] == key])
    return Body(
        figure_html(
            coverage_figure(coverage, f"80% interval coverage, rolling {COVERAGE_WINDOW} forecasts"),
            "fig-coverage",
        ),
        "Share of backtest outcomes inside the forecast P10–P90 (solid: final, dotted: rw_ewma).",
        figures=1,
    )


LIVE_CHARTS = (
    ("pinball", "mean pinball loss (log return)", "fig-live-pinball"),
    ("coverage_80", "share inside P10–P90", "fig-live-coverage"),
)
LIVE_COLUMNS = [
    ("horizon", "horizon", text),
    ("model", "model", text),
    ("window_days", "window (days)", num(0)),
    ("metric", "metric", text),
    ("value", "value", num(4)),
    ("threshold", "threshold", num(4)),
    ("status", "status", text),
]


def live_body(monitoring: pd.DataFrame) -> Body:
    """Live pinball loss and coverage from the monitoring tables."""
    last = latest(monitoring, "evaluated_at").sort_values(["horizon", "model", "metric"])
    charts = [
        (metric, unit, key)
        for metric, unit, key in LIVE_CHARTS
        if monitoring.loc[monitoring["metric"] == metric, "value"].notna().any()
    ]
    figures = "".join(figure_html(monitoring_figure(monitoring, m, unit), key) for m, unit, key in charts)
    if not charts:  # only drift figures so far: no empty "rolling nan days" charts
        figures = note_html(
            "live pinball loss and coverage appear here once logged forecasts reach their target dates and a "
            "monitoring run scores them",
            CMD_MONITOR,
        )
    return Body(
        figures + table_html(last, LIVE_COLUMNS, status_column="status"),
        f"From the monitoring tables (run {text(last['run_id'].iloc[0])}, "
        f"{text(last['evaluated_at'].iloc[0])}): live forecasts scored once their target date passed.",
        figures=len(charts),
    )


def leaderboard_body(leaderboard: pd.DataFrame) -> Body:
    """AutoGluon's best model per member and horizon."""
    board = leaderboard_best(leaderboard)
    horizons = [h for h in horizons_in(leaderboard) if h in board.columns]
    return Body(
        table_html(board, [("member", "member", text)] + [(h, h, text) for h in horizons], key="member"),
        "AutoGluon's leaderboard of every saved predictor, its best model per member and horizon: the "
        "validation score is minus the loss (higher is better; tabular: pinball in volatility units on the "
        "purged tuning block).",
    )


def record_page(data: WarehouseData) -> Page:
    metrics = data.get("backtest_metrics")
    return page(
        "record",
        "Record",
        "Track record",
        [
            from_table(
                data,
                "backtest_metrics",
                "Backtest skill against the random walks",
                skill_body,
                "no backtest metrics yet",
                CMD_BACKTEST,
            ),
            from_table(
                data,
                "backtest_predictions",
                "Coverage over time (backtest)",
                lambda predictions: coverage_body(predictions, metrics),
                "no scored backtest forecasts yet",
                CMD_BACKTEST,
            ),
            from_table(
                data,
                "model_monitoring",
                "Live pinball loss and coverage",
                live_body,
                "no monitoring figures yet",
                CMD_MONITOR,
            ),
            from_table(data, "leaderboard", "Leaderboard", leaderboard_body, "no leaderboard stored yet"),
        ],
    )


def leaderboard_best(leaderboard: pd.DataFrame) -> pd.DataFrame:
    """One row per member, one column per horizon: the best model's validation score and name."""
    best = leaderboard.sort_values("score_val", ascending=False).groupby(["member", "horizon"], as_index=False).first()
    best["cell"] = [f"{s:.4f} ({m})" for s, m in zip(best["score_val"], best["model"], strict=True)]
    return best.pivot(index="member", columns="horizon", values="cell").reset_index()
