"""The Risk page: VaR and CVaR of a long ZL position, the Monte Carlo distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.components import (
    HORIZON_COLORS,
    Page,
    figure_html,
    horizons_in,
    num,
    pct,
    table_html,
    text,
    usd,
)
from dashboard.data import WarehouseData
from dashboard.pages.common import Body, empty, from_table, latest, page


def risk_table(risk: pd.DataFrame) -> pd.DataFrame:
    """VaR/CVaR at 95/99% as a loss in % of the position, price level and USD per contract, per horizon."""
    out = risk[["horizon", "horizon_days", "close_cents_per_lb"]].copy()
    for level in ("95", "99"):
        for kind in ("var", "cvar"):
            col = f"{kind}_{level}"
            out[f"{col}_pct"] = 1 - np.exp(-risk[f"{col}_ret"])
            out[f"{col}_price"] = risk[f"{col}_price"]
            out[f"{col}_usd"] = risk[f"{col}_usd_per_contract"]
    return out.sort_values("horizon_days")


def risk_bars(table: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for col, name, color in (
        ("var_95_usd", "VaR 95%", "#fdae61"),
        ("cvar_95_usd", "CVaR 95%", "#f46d43"),
        ("var_99_usd", "VaR 99%", "#d73027"),
        ("cvar_99_usd", "CVaR 99%", "#a50026"),
    ):
        fig.add_trace(go.Bar(x=table["horizon"], y=table[col], name=name, marker_color=color))
    # The bars are VaR (a loss exceeded with 5% / 1% probability) and CVaR (the mean loss beyond it): the title
    # names both, as the legend does.
    fig.update_layout(title="VaR and CVaR at 95% and 99%: loss of one long contract (60,000 lb)", barmode="group")
    fig.update_xaxes(title_text="horizon")
    fig.update_yaxes(title_text="loss (USD per contract)")
    return fig


def var_markers(x_95: float, x_99: float, axis: str) -> tuple[list[dict], list[dict]]:
    """The VaR 95% and 99% price lines of one subplot (`axis`: "" for the first, else its number) and their labels:
    VaR 99% lies left of VaR 95% (a lower price), so its label goes left of its line, the other's right."""
    shapes, notes = [], []
    for x, dash, label, side in ((x_95, "dash", "VaR 95%", "left"), (x_99, "dot", "VaR 99%", "right")):
        shapes.append(
            {
                "type": "line",
                "x0": x,
                "x1": x,
                "xref": f"x{axis}",
                "y0": 0,
                "y1": 1,
                "yref": f"y{axis} domain",
                "line": {"dash": dash, "color": "#a50026"},
            }
        )
        notes.append(
            {
                "x": x,
                "xref": f"x{axis}",
                "y": 1,
                "yref": f"y{axis} domain",
                "yanchor": "top",
                "xanchor": side,
                "text": label,
                "showarrow": False,
            }
        )
    return shapes, notes


def scenario_figure(scenarios: pd.DataFrame, risk: pd.DataFrame) -> go.Figure:
    horizons = horizons_in(scenarios)
    fig = make_subplots(rows=len(horizons), cols=1, subplot_titles=horizons)
    by_h = risk.set_index("horizon")
    shapes: list[dict] = []
    notes: list[dict] = []
    for i, horizon in enumerate(horizons, start=1):
        part = scenarios[scenarios["horizon"] == horizon]
        fig.add_trace(
            go.Histogram(
                x=part["price_cents_per_lb"],
                nbinsx=40,
                name=horizon,
                marker_color=HORIZON_COLORS.get(horizon, "#888"),
                showlegend=False,
            ),
            row=i,
            col=1,
        )
        if horizon in by_h.index:
            x_95, x_99 = (float(by_h.loc[horizon, c]) for c in ("var_95_price", "var_99_price"))
            lines, labels = var_markers(x_95, x_99, "" if i == 1 else str(i))
            shapes += lines
            notes += labels
        fig.update_yaxes(title_text="scenarios", row=i, col=1)
    fig.update_xaxes(title_text="ZL price at the horizon (cents/lb)", row=len(horizons), col=1)
    # layout shapes in one go: fig.add_vline per subplot is quadratic in plotly
    fig.update_layout(shapes=shapes, annotations=[*fig.layout.annotations, *notes])
    fig.update_layout(title="Monte Carlo distribution of the ZL price", height=200 + 200 * len(horizons))
    return fig


def var_body(risk: pd.DataFrame) -> Body:
    """The VaR/CVaR tables at 95% and 99% of the latest forecast and the bar chart."""
    table = risk_table(latest(risk))
    tables = ""
    for level in ("95", "99"):
        columns = [("horizon", "horizon", text), ("close_cents_per_lb", "close (¢/lb)", num(2))]
        for kind, label in (("var", "VaR"), ("cvar", "CVaR")):
            col = f"{kind}_{level}"
            columns += [
                (f"{col}_pct", f"{label} {level}% (%)", pct(1)),
                (f"{col}_price", f"{label} {level}% (¢/lb)", num(2)),
                (f"{col}_usd", f"{label} {level}% ($/contract)", usd),
            ]
        tables += table_html(table, columns, key="horizon")
    return Body(
        tables + figure_html(risk_bars(table), "fig-risk-bars"),
        "Value at risk (the loss exceeded with probability 5% or 1%) and CVaR (the mean loss beyond it) of one "
        "long ZL contract over each horizon, from Monte Carlo draws of the final forecast: as a share of the "
        "position, as the price it corresponds to, and in USD per contract (1 ¢/lb = $600).",
        figures=1,
    )


def scenarios_body(scenarios: pd.DataFrame, risk: pd.DataFrame) -> Body:
    draws = latest(scenarios)
    return Body(
        figure_html(scenario_figure(draws, latest(risk)), "fig-scenarios"),
        f"The stored sample ({len(draws) // max(1, draws['horizon'].nunique()):,} draws per horizon) of the "
        f"{int(latest(risk)['n_draws'].iloc[0]):,} the VaR is computed from.",
        figures=1,
    )


def risk_page(data: WarehouseData) -> Page:
    """VaR and CVaR, then the Monte Carlo distribution; only the note without risk figures."""
    sections = [from_table(data, "risk", "VaR and CVaR", var_body, "no risk figures in this warehouse yet")]
    if not empty(data.get("risk")):
        sections.append(
            from_table(
                data,
                "scenarios",
                "Monte Carlo distribution",
                lambda scenarios: scenarios_body(scenarios, data.get("risk")),
                "no scenarios stored",
            )
        )
    return page("risk", "Risk", "Risk of a long ZL position", sections)
