"""The backtest report a person opens: one self-contained HTML page (plotly) with the metrics table, pinball
loss by horizon, interval coverage over time and a fan chart of the last year."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def render(metrics: pd.DataFrame, predictions: pd.DataFrame, prices: pd.DataFrame, path: Path, title: str) -> Path:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    path.parent.mkdir(parents=True, exist_ok=True)
    horizons = list(dict.fromkeys(metrics.sort_values("horizon_days")["horizon"]))
    shown = [
        m
        for m in ("final", "ensemble", "stack", "main", "ag_timeseries", "har", "rw_ewma", "rw_empirical")
        if m in set(metrics["model"])
    ]

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
        title="Mean pinball loss relative to the better random walk (bars: 2 block-bootstrap SE)",
        barmode="group",
        yaxis_title="ratio (< 1 is better)",
    )

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

    table = metrics[
        [
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
    ]
    html = [
        f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>",
        f"<h1>{title}</h1>",
        "<p>Walk-forward, purged, out-of-sample. Skill ratio = mean pinball loss / that of the better random "
        "walk on the same rows; SE from a moving-block bootstrap (blocks of h days); DM p-value with "
        "Newey-West variance (lag h-1). A ratio within 2 SE of 1 is no gain.</p>",
        table.to_html(index=False, float_format=lambda v: f"{v:.4f}"),
        bars.to_html(full_html=False, include_plotlyjs="inline"),
        coverage.to_html(full_html=False, include_plotlyjs=False),
        fan.to_html(full_html=False, include_plotlyjs=False),
        "</body></html>",
    ]
    path.write_text("\n".join(html))
    return path
