"""The backtest report a person opens: one self-contained HTML page (plotly) with the metrics table, pinball
loss by horizon, interval coverage over time and a fan chart of the last year."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

#: The models drawn in the skill chart, in this order (those the run scored).
CHART_MODELS = ("final", "ensemble", "stack", "main", "ag_timeseries", "har", "rw_ewma", "rw_empirical")
METRIC_COLUMNS = [
    "model",
    "horizon",
    "n",
    "pinball_mean",
    "pinball_q10",
    "pinball_q50",
    "pinball_q90",
    "coverage_80",
    "width_80",
    "skill_ratio",
    "skill_ratio_se",
    "dm_pvalue",
    "verdict",
]
INTRODUCTION = (
    "<p>Walk-forward, purged, out-of-sample. Skill ratio = mean pinball loss / that of the better random "
    "walk on the same rows; its SE by the delta method with the equal-weighted cosine (EWC) long-run "
    "variance, which counts the autocorrelation of overlapping h-day losses. DM p-value: Diebold-Mariano "
    "test of equal mean loss with an EWC variance and Student-t critical values with B degrees of freedom "
    "(fixed-smoothing asymptotics; B = min(0.4 n^(2/3), 0.4 n / max(h, 63)): a loss differential may persist "
    "for a quarter; empty below 5 max(h, 63) rows). A ratio within 2 SE of 1 is no gain.</p>"
)


def render(
    metrics: pd.DataFrame,
    predictions: pd.DataFrame,
    prices: pd.DataFrame,
    path: Path,
    title: str,
    var_table: pd.DataFrame | None = None,
) -> Path:
    """Write the report for a run's `metrics`, layered `predictions` and ZL `prices` to `path`; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    horizons = list(dict.fromkeys(metrics.sort_values("horizon_days")["horizon"]))
    html = [
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>",
        f"<h1>{title}</h1>",
        INTRODUCTION,
        metrics[METRIC_COLUMNS].to_html(index=False, float_format=lambda v: f"{v:.4f}"),
        *_var_section(var_table),
        _skill_chart(metrics, horizons).to_html(full_html=False, include_plotlyjs="inline"),
        _coverage_chart(predictions, horizons).to_html(full_html=False, include_plotlyjs=False),
        _fan_chart(predictions, prices, horizons).to_html(full_html=False, include_plotlyjs=False),
        "</body></html>",
    ]
    path.write_text("\n".join(html))
    return path


def _skill_chart(metrics: pd.DataFrame, horizons: list[str]) -> go.Figure:
    """Skill ratio per model and horizon with 2-SE error bars."""
    import plotly.graph_objects as go

    shown = [m for m in CHART_MODELS if m in set(metrics["model"])]
    bars = go.Figure()
    for model in shown:
        part = metrics[metrics["model"] == model].set_index("horizon").reindex(horizons)
        bars.add_trace(
            go.Bar(
                name=model,
                x=horizons,
                y=part["skill_ratio"],
                error_y={"type": "data", "array": 2 * part["skill_ratio_se"]},
            )
        )
    bars.add_hline(y=1.0, line_dash="dash", annotation_text="better random walk")
    bars.update_layout(
        title="Mean pinball loss relative to the better random walk (bars: 2 standard errors)",
        barmode="group",
        yaxis_title="ratio (< 1 is better)",
    )
    return bars


def _coverage_chart(predictions: pd.DataFrame, horizons: list[str]) -> go.Figure:
    """Rolling 80% interval coverage of `final` and `rw_ewma`, one panel per horizon."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    coverage = make_subplots(rows=1, cols=len(horizons), subplot_titles=horizons, shared_yaxes=True)
    for i, horizon in enumerate(horizons, start=1):
        for model in ("final", "rw_ewma"):
            part = predictions[(predictions["member"] == model) & (predictions["horizon"] == horizon)].sort_values(
                "as_of_date"
            )
            if part.empty:
                continue
            inside = ((part["y"] >= part["q10"]) & (part["y"] <= part["q90"])).astype(float)
            coverage.add_trace(
                go.Scatter(
                    x=part["as_of_date"],
                    y=inside.rolling(126, min_periods=60).mean(),
                    name=f"{model} {horizon}",
                    mode="lines",
                    showlegend=i == 1,
                ),
                row=1,
                col=i,
            )
        coverage.add_hline(y=0.8, line_dash="dash", row=1, col=i)
    coverage.update_layout(title="80% interval coverage, rolling 126 forecasts (nominal 0.8)")
    return coverage


def _fan_chart(predictions: pd.DataFrame, prices: pd.DataFrame, horizons: list[str]) -> go.Figure:
    """The last year of `final` 1m forecasts (else the first horizon's) as prices at their target dates."""
    import plotly.graph_objects as go

    fan = go.Figure()
    label = "1m" if "1m" in horizons else horizons[0]
    final = predictions[(predictions["member"] == "final") & (predictions["horizon"] == label)].sort_values(
        "as_of_date"
    )
    if not final.empty:
        final = final[final["as_of_date"] >= final["as_of_date"].max() - pd.Timedelta(days=365)]
        close = prices.set_index("as_of_date")["zl_close_cents_per_lb"]
        base = close.reindex(final["as_of_date"]).to_numpy()
        target = final["as_of_date"] + pd.to_timedelta(np.ceil(final["horizon_days"] * 7 / 5), unit="D")
        for q, name in (("q90", "P90"), ("q50", "P50"), ("q10", "P10")):
            fan.add_trace(
                go.Scatter(
                    x=target,
                    y=base * np.exp(final[q]),
                    name=f"{label} {name}",
                    mode="lines",
                    fill="tonexty" if q == "q10" else None,
                )
            )
        realised = close[close.index >= target.min()]
        fan.add_trace(
            go.Scatter(x=realised.index, y=realised.to_numpy(), name="ZL close", mode="lines", line={"color": "black"})
        )
    fan.update_layout(title=f"Fan chart, last year: {label} forecasts plotted at their target date (cents/lb)")
    return fan


def _var_section(var_table: pd.DataFrame | None) -> list[str]:
    """The VaR backtest table with a note on what it tests."""
    if var_table is None or var_table.empty:
        return []
    shown = var_table.assign(level=var_table["level"].map(lambda v: f"{v:.0%}"))[
        [
            "model",
            "horizon",
            "level",
            "n",
            "exceptions",
            "expected",
            "kupiec_p",
            "independence_p",
            "cc_p",
            "zone",
            "n_all_rows",
            "rate_all_rows",
        ]
    ]
    return [
        "<h2>VaR backtest</h2>",
        "<p>VaR at 95% and 99% as the risk layer computes it: the split Student-t (nu = 5) through the "
        "forecast P10/P50/P90; an exception is a realised h-day log return below minus the VaR. The tests "
        "assume independent exceptions, so they use non-overlapping h-day windows (every h-th trading day): "
        "Kupiec proportion of failures (exact binomial p-value), Christoffersen independence (first-order "
        "Markov, chi-square 1) and conditional coverage (chi-square 2); with no exception the independence "
        "statistic is 0 (0 log 0 = 0) and conditional coverage is the proportion test alone. Zone: the Basel "
        "traffic light rule (yellow once P(X &le; k) reaches 95%, red at 99.99%, binomial with the window's n), "
        "which is the Basel table at 250 days and 99%. "
        "rate_all_rows: the exception rate over every daily forecast (overlapping windows; no test).</p>",
        shown.to_html(index=False, float_format=lambda v: f"{v:.3f}"),
    ]
