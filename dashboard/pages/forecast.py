"""The Forecast page (index.html): the price with the latest fan, the latest quantiles, past forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.components import (
    Page,
    Section,
    figure_html,
    horizons_in,
    note_html,
    num,
    pct,
    table_html,
    text,
)
from dashboard.data import WarehouseData
from dashboard.pages.common import CMD_MONITOR, Body, empty, from_table, latest, page
from dashboard.settings import HISTORY_DAYS


def label_sides(n: int) -> list[str]:
    """Where the labels of `n` horizon points go: left of their point (the last one stays inside the chart),
    above and below in turn (the 1w and 1m points lie a few pixels apart on a phone)."""
    return [("top left", "bottom left")[i % 2] for i in range(n)]


def fan_figure(market: pd.DataFrame, predictions: pd.DataFrame) -> go.Figure:
    """ZL close of the last two years, then the latest P10-P90 fan and P50 through the four horizons."""
    fig = go.Figure()
    as_of = pd.Timestamp(predictions["as_of_date"].iloc[0])
    history = market[pd.to_datetime(market["as_of_date"]) >= as_of - pd.Timedelta(days=HISTORY_DAYS)]
    history = history[pd.to_datetime(history["as_of_date"]) <= as_of]
    fig.add_trace(
        go.Scatter(
            x=history["as_of_date"],
            y=history["zl_close_cents_per_lb"],
            name="ZL close",
            mode="lines",
            line={"color": "#222", "width": 1.5},
        )
    )
    close = predictions["price_q50"].iloc[0] / np.exp(predictions["q50"].iloc[0])
    fan = predictions.sort_values("horizon_days")
    x = [as_of, *pd.to_datetime(fan["target_date"])]
    for column, name, fill in (("price_q90", "P90", None), ("price_q10", "P10–P90", "tonexty")):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[close, *fan[column]],
                name=name,
                mode="lines",
                line={"color": "rgba(214,39,40,0.5)", "width": 1},
                fill=fill,
                fillcolor="rgba(214,39,40,0.15)",
                showlegend=fill is not None,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[close, *fan["price_q50"]],
            name="P50",
            mode="lines+markers+text",
            text=["", *fan["horizon"]],
            textposition=["top center", *label_sides(len(fan))],
            line={"color": "#d62728", "dash": "dash"},
        )
    )
    fig.update_layout(title=f"ZL price and the forecast of {as_of:%Y-%m-%d}")
    fig.update_xaxes(title_text="date")
    fig.update_yaxes(title_text="ZL price (US cents/lb)")
    return fig


def past_forecasts(
    outcomes: pd.DataFrame | None, oof: pd.DataFrame | None, market: pd.DataFrame | None
) -> tuple[pd.DataFrame, str]:
    """Past final forecasts with what happened, in prices: (frame, where they come from).

    The live record (`ops.forecast_outcomes`, model 'final') when monitoring has run; otherwise the walk-forward
    out-of-fold forecasts of `ml.ml_final_predictions`, priced from the close at their as-of date."""
    columns = ["as_of_date", "horizon", "target_date", "p10", "p50", "p90", "realised_price"]
    if not empty(outcomes):
        live = outcomes[outcomes["model"] == "final"] if "final" in set(outcomes["model"]) else outcomes
        live = live.dropna(subset=["realised_price"])
        if not live.empty:
            return live[columns].sort_values(["horizon", "target_date"]), "live forecasts (ops.forecast_outcomes)"
    if empty(oof) or empty(market):
        return pd.DataFrame(columns=columns), ""
    close = market.set_index(pd.to_datetime(market["as_of_date"]))["zl_close_cents_per_lb"]
    frame = oof.dropna(subset=["y"]).copy()
    base = close.reindex(pd.to_datetime(frame["as_of_date"])).to_numpy()
    out = pd.DataFrame(
        {
            "as_of_date": frame["as_of_date"].to_numpy(),
            "horizon": frame["horizon"].to_numpy(),
            "target_date": frame["target_date"].to_numpy(),
            "p10": base * np.exp(frame["q10"].to_numpy()),
            "p50": base * np.exp(frame["q50"].to_numpy()),
            "p90": base * np.exp(frame["q90"].to_numpy()),
            "realised_price": base * np.exp(frame["y"].to_numpy()),
        }
    ).dropna(subset=["p50", "realised_price"])
    return out.sort_values(["horizon", "target_date"]), "walk-forward out-of-fold forecasts (ml.ml_final_predictions)"


def outcome_traces(part: pd.DataFrame, legend: bool) -> list[go.Scatter]:
    """One horizon's past forecasts: the P10-P90 band (P90 edge, then P10 filled up to it), P50 and the outcome."""
    x = part["target_date"]
    band = {"mode": "lines", "line": {"width": 0}}
    return [
        go.Scatter(x=x, y=part["p90"], showlegend=False, **band),
        go.Scatter(
            x=x,
            y=part["p10"],
            fill="tonexty",
            fillcolor="rgba(214,39,40,0.15)",
            name="forecast P10–P90",
            showlegend=legend,
            **band,
        ),
        go.Scatter(
            x=x,
            y=part["p50"],
            mode="lines",
            line={"color": "#d62728", "dash": "dash"},
            name="forecast P50",
            showlegend=legend,
        ),
        go.Scatter(
            x=x, y=part["realised_price"], mode="lines", line={"color": "#222"}, name="what happened", showlegend=legend
        ),
    ]


def outcomes_figure(past: pd.DataFrame) -> go.Figure:
    """Per horizon, a panel of past forecasts at their target date against the realised price."""
    horizons = horizons_in(past)
    fig = make_subplots(rows=len(horizons), cols=1, shared_xaxes=False, subplot_titles=horizons)
    for i, horizon in enumerate(horizons, start=1):
        part = past[past["horizon"] == horizon].sort_values("target_date")
        for trace in outcome_traces(part, legend=i == 1):
            fig.add_trace(trace, row=i, col=1)
        fig.update_yaxes(title_text="cents/lb", row=i, col=1)
    fig.update_xaxes(title_text="target date")
    fig.update_layout(title="Past forecasts at their target date against the realised price")
    fig.update_layout(height=200 + 220 * len(horizons))
    return fig


def outcome_summary(past: pd.DataFrame) -> pd.DataFrame:
    """Per horizon: forecasts scored, share of outcomes inside P10-P90, mean absolute P50 error (cents/lb)."""
    rows = []
    for horizon in horizons_in(past):
        part = past[past["horizon"] == horizon]
        inside = (part["realised_price"] >= part["p10"]) & (part["realised_price"] <= part["p90"])
        rows.append(
            {
                "horizon": horizon,
                "n": len(part),
                "coverage_80": inside.mean(),
                "mae_p50": (part["realised_price"] - part["p50"]).abs().mean(),
                "first": part["target_date"].min(),
                "last": part["target_date"].max(),
            }
        )
    return pd.DataFrame(rows)


def fan_body(market: pd.DataFrame, last: pd.DataFrame) -> Body:
    return Body(
        figure_html(fan_figure(market, last), "fig-fan"),
        "The ZL front-contract close of the last two years and the latest forecast: the shaded fan spans "
        "P10 to P90 at each horizon's target date, the dashed line the median (P50).",
        figures=1,
    )


LATEST_COLUMNS = [
    ("horizon", "horizon", text),
    ("target_date", "target date", text),
    ("price_q10", "P10 (¢/lb)", num(2)),
    ("price_q50", "P50 (¢/lb)", num(2)),
    ("price_q90", "P90 (¢/lb)", num(2)),
    ("q10", "P10 return", pct(2)),
    ("q50", "P50 return", pct(2)),
    ("q90", "P90 return", pct(2)),
    ("forecast_method", "method", text),
    ("model_run_id", "run", text),
    ("as_of_date", "as of", text),
]


def latest_body(predictions: pd.DataFrame) -> Body:
    return Body(
        table_html(latest(predictions).sort_values("horizon_days"), LATEST_COLUMNS, key="horizon"),
        "Quantiles of the ZL price at the target date (US cents per lb) and of the log return from the as-of "
        "close. method: the model the quantiles come from: the member the panel of futures markets chose for the "
        "horizon, or a ZL candidate that beat it on ZL's own out-of-fold pinball loss (the command cbi forecasts "
        "prints the evidence).",
    )


def forecast_page(data: WarehouseData) -> Page:
    """The price with the latest fan, the latest quantiles, past forecasts; only the note without a forecast."""
    latest_section = from_table(
        data, "predictions", "Latest forecast", latest_body, "no forecast in this warehouse yet"
    )
    if empty(data.get("predictions")):
        return page("index", "Forecast", "ZL forecast", [latest_section])
    last = latest(data.get("predictions")).sort_values("horizon_days")
    market = data.get("market")
    return page(
        "index",
        "Forecast",
        "ZL forecast",
        [
            from_table(data, "market", "Price and forecast", lambda m: fan_body(m, last), "no ZL prices yet"),
            latest_section,
            past_section(past_forecasts(data.get("forecast_outcomes"), data.get("oof_final"), market)),
        ],
    )


def past_section(past_and_origin: tuple[pd.DataFrame, str]) -> Section:
    """Past final forecasts against the realised price, with a summary per horizon."""
    past, origin = past_and_origin
    if past.empty:
        return Section("Past forecasts against what happened", note_html("no scored past forecasts yet", CMD_MONITOR))
    summary = table_html(
        outcome_summary(past),
        [
            ("horizon", "horizon", text),
            ("n", "forecasts", num(0)),
            ("coverage_80", "inside P10–P90 (nominal 80%)", pct(1)),
            ("mae_p50", "mean |P50 − realised| (¢/lb)", num(2)),
            ("first", "first target", text),
            ("last", "last target", text),
        ],
        key="horizon",
    )
    live_note = "" if origin.startswith("live") else " The live record replaces them once monitoring has run."
    return Section(
        "Past forecasts against what happened",
        figure_html(outcomes_figure(past), "fig-outcomes") + summary,
        f"Source: {origin}.{live_note}",
        figures=1,
    )
