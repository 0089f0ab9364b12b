"""The five pages, each a pure function of small frames (see `data.QUERIES` for where they come from)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.components import (
    HORIZON_COLORS,
    Page,
    Section,
    figure_html,
    horizons_in,
    not_run,
    note_html,
    num,
    pct,
    table_html,
    text,
    usd,
)
from dashboard.data import WarehouseData
from dashboard.settings import COVERAGE_WINDOW, HISTORY_DAYS

BUCKETS = ("crush", "china", "fx", "fed", "tariff", "biofuel", "energy", "volatility")
USD_PER_CENT_PER_LB = 600  # one ZL contract is 60,000 lb
LOADED = ("success", "partial")  # ops.ingest_runs statuses of a load that wrote rows
CMD_BUILD = "make build"
CMD_BACKTEST = "cbi backtest"
CMD_MONITOR = "cbi run monitor"
CMD_QUALITY = "cbi run quality"


def _empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


def latest(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    """The rows of the latest `column` value."""
    return frame[frame[column] == frame[column].max()]


def reference_line(fig: go.Figure, y: float, label: str) -> None:
    """A dashed horizontal line across the plot with a label (cheaper than plotly's add_hline)."""
    fig.add_shape(type="line", x0=0, x1=1, xref="paper", y0=y, y1=y, yref="y", line={"dash": "dash", "color": "#555"})
    fig.add_annotation(x=1, xref="paper", y=y, yref="y", text=label, showarrow=False, xanchor="right", yanchor="bottom")


# --------------------------------------------------------------------------------------------------- Forecast
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
            textposition="top center",
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
    if not _empty(outcomes):
        live = outcomes[outcomes["model"] == "final"] if "final" in set(outcomes["model"]) else outcomes
        live = live.dropna(subset=["realised_price"])
        if not live.empty:
            return live[columns].sort_values(["horizon", "target_date"]), "live forecasts (ops.forecast_outcomes)"
    if _empty(oof) or _empty(market):
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


def outcomes_figure(past: pd.DataFrame) -> go.Figure:
    horizons = horizons_in(past)
    fig = make_subplots(rows=len(horizons), cols=1, shared_xaxes=False, subplot_titles=horizons)
    for i, horizon in enumerate(horizons, start=1):
        part = past[past["horizon"] == horizon].sort_values("target_date")
        first = i == 1
        fig.add_trace(
            go.Scatter(x=part["target_date"], y=part["p90"], mode="lines", line={"width": 0}, showlegend=False),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=part["target_date"],
                y=part["p10"],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(214,39,40,0.15)",
                name="forecast P10–P90",
                showlegend=first,
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=part["target_date"],
                y=part["p50"],
                mode="lines",
                line={"color": "#d62728", "dash": "dash"},
                name="forecast P50",
                showlegend=first,
            ),
            row=i,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=part["target_date"],
                y=part["realised_price"],
                mode="lines",
                line={"color": "#222"},
                name="what happened",
                showlegend=first,
            ),
            row=i,
            col=1,
        )
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


def forecast_page(data: WarehouseData) -> Page:
    page = Page("index", "Forecast", "ZL forecast")
    predictions, market = data.get("predictions"), data.get("market")
    if _empty(predictions):
        page.sections.append(Section("Latest forecast", note_html("no forecast in this warehouse yet", CMD_BUILD)))
        return page
    last = latest(predictions).sort_values("horizon_days")
    if _empty(market):
        page.sections.append(not_run("Price and drivers", "forecasts.zl_market_history", CMD_BUILD))
    else:
        fig = figure_html(fan_figure(market, last), "fig-fan")
        page.sections.append(
            Section(
                "Price and forecast",
                fig,
                "The ZL front-contract close of the last two years and the latest forecast: the shaded fan spans "
                "P10 to P90 at each horizon's target date, the dashed line the median (P50).",
                figures=1,
            )
        )
    table = table_html(
        last,
        [
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
        ],
        key="horizon",
    )
    page.sections.append(
        Section(
            "Latest forecast",
            table,
            "Quantiles of the ZL price at the target date (US cents per lb) and of the log return from the as-of "
            "close. method: the model the quantiles come from, the simplest that earned its place on walk-forward "
            "pinball loss.",
        )
    )
    past, origin = past_forecasts(data.get("forecast_outcomes"), data.get("oof_final"), market)
    if past.empty:
        page.sections.append(
            Section("Past forecasts against what happened", note_html("no scored past forecasts yet", CMD_MONITOR))
        )
    else:
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
        page.sections.append(
            Section(
                "Past forecasts against what happened",
                figure_html(outcomes_figure(past), "fig-outcomes") + summary,
                f"Source: {origin}.{live_note}",
                figures=1,
            )
        )
    return page


# ------------------------------------------------------------------------------------------------------- Risk
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
    fig.update_layout(
        title="Loss of one long contract (60,000 lb) not exceeded with 95% / 99% probability", barmode="group"
    )
    fig.update_xaxes(title_text="horizon")
    fig.update_yaxes(title_text="loss (USD per contract)")
    return fig


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
            axis = "" if i == 1 else str(i)
            for col, dash, label in (("var_95_price", "dash", "VaR 95%"), ("var_99_price", "dot", "VaR 99%")):
                x = float(by_h.loc[horizon, col])
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
                    {"x": x, "xref": f"x{axis}", "y": 1, "yref": f"y{axis} domain", "text": label, "showarrow": False}
                )
        fig.update_yaxes(title_text="scenarios", row=i, col=1)
    fig.update_xaxes(title_text="ZL price at the horizon (cents/lb)", row=len(horizons), col=1)
    # layout shapes in one go: fig.add_vline per subplot is quadratic in plotly
    fig.update_layout(shapes=shapes, annotations=[*fig.layout.annotations, *notes])
    fig.update_layout(title="Monte Carlo distribution of the ZL price", height=200 + 200 * len(horizons))
    return fig


def risk_page(data: WarehouseData) -> Page:
    page = Page("risk", "Risk", "Risk of a long ZL position")
    risk, scenarios = data.get("risk"), data.get("scenarios")
    if _empty(risk):
        page.sections.append(Section("VaR and CVaR", note_html("no risk figures in this warehouse yet", CMD_BUILD)))
        return page
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
    page.sections.append(
        Section(
            "VaR and CVaR",
            tables + figure_html(risk_bars(table), "fig-risk-bars"),
            "Value at risk (the loss exceeded with probability 5% or 1%) and CVaR (the mean loss beyond it) of one "
            "long ZL contract over each horizon, from Monte Carlo draws of the final forecast: as a share of the "
            "position, as the price it corresponds to, and in USD per contract (1 ¢/lb = $600).",
            figures=1,
        )
    )
    if _empty(scenarios):
        page.sections.append(Section("Monte Carlo distribution", note_html("no scenarios stored", CMD_BUILD)))
    else:
        page.sections.append(
            Section(
                "Monte Carlo distribution",
                figure_html(scenario_figure(latest(scenarios), latest(risk)), "fig-scenarios"),
                f"The stored sample ({len(latest(scenarios)) // max(1, latest(scenarios)['horizon'].nunique()):,} "
                f"draws per horizon) of the {int(latest(risk)['n_draws'].iloc[0]):,} the VaR is computed from.",
                figures=1,
            )
        )
    return page


# ---------------------------------------------------------------------------------------------------- Drivers
def scores_figure(market: pd.DataFrame) -> go.Figure:
    """One small panel per bucket (0-100), last two years."""
    end = pd.to_datetime(market["as_of_date"]).max()
    recent = market[pd.to_datetime(market["as_of_date"]) >= end - pd.Timedelta(days=HISTORY_DAYS)]
    rows = (len(BUCKETS) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, shared_xaxes=True, subplot_titles=BUCKETS, vertical_spacing=0.06)
    for k, bucket in enumerate(BUCKETS):
        row, col = k // 2 + 1, k % 2 + 1
        fig.add_trace(
            go.Scatter(
                x=recent["as_of_date"],
                y=recent[f"{bucket}_score"],
                name=bucket,
                mode="lines",
                line={"width": 1.2, "color": "#1f5f8b"},
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        fig.update_yaxes(range=[0, 100], row=row, col=col, title_text="score (0–100)" if col == 1 else None)
    fig.update_xaxes(title_text="date", row=rows)
    fig.update_layout(title="Bucket scores, last two years", height=160 + 170 * rows)
    return fig


def importance_by_bucket(importance: pd.DataFrame) -> pd.DataFrame:
    """Mean permutation importance per feature group and horizon, over the tabular members."""
    return (
        importance.groupby(["feature_group", "horizon"], as_index=False)["importance"]
        .mean()
        .sort_values(["horizon", "importance"], ascending=[True, False])
    )


def importance_figure(by_bucket: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    for horizon in horizons_in(by_bucket):
        part = by_bucket[by_bucket["horizon"] == horizon]
        fig.add_trace(
            go.Bar(
                x=part["feature_group"],
                y=part["importance"],
                name=horizon,
                marker_color=HORIZON_COLORS.get(horizon, "#888"),
            )
        )
    fig.update_layout(title="Permutation importance by feature group (mean over tabular members)", barmode="group")
    fig.update_xaxes(title_text="feature group")
    fig.update_yaxes(title_text="pinball loss increase (vol units)")
    return fig


def weights_figure(weights: pd.DataFrame) -> go.Figure:
    frame = weights[weights["weight"] > 0].copy()
    order = {h: i for i, h in enumerate(horizons_in(frame))}
    frame["slot"] = frame["horizon"] + " P" + (frame["quantile_level"] * 100).round().astype(int).astype(str)
    frame = frame.sort_values(["horizon", "quantile_level"], key=lambda c: c.map(order) if c.name == "horizon" else c)
    slots = list(dict.fromkeys(frame["slot"]))
    fig = go.Figure()
    for member in sorted(frame["member"].unique()):
        part = frame[frame["member"] == member].set_index("slot").reindex(slots)
        # 0, not NaN, where a member has no weight: plotly.js stacks nothing onto a NaN base
        fig.add_trace(go.Bar(x=slots, y=part["weight"].fillna(0.0), name=member))
    fig.update_layout(title="Ensemble weights per horizon and quantile", barmode="stack")
    fig.update_xaxes(title_text="horizon and quantile")
    fig.update_yaxes(title_text="weight (share, sums to 1)", range=[0, 1])
    return fig


def drivers_page(data: WarehouseData) -> Page:
    page = Page("drivers", "Drivers", "What drives the forecast")
    market = data.get("market")
    if _empty(market):
        page.sections.append(not_run("Price and drivers", "forecasts.zl_market_history", CMD_BUILD))
    else:
        last = market.dropna(subset=[f"{b}_score" for b in BUCKETS], how="all").iloc[-1:]
        scores = pd.DataFrame({"bucket": BUCKETS, "score": [last[f"{b}_score"].iloc[0] for b in BUCKETS]})
        page.sections.append(
            Section(
                "Bucket scores",
                figure_html(scores_figure(market), "fig-scores")
                + table_html(scores, [("bucket", "bucket", text), ("score", "latest score (0–100)", num(0))], "bucket"),
                f"Each bucket's score (0–100) is the mean trailing 252-day percentile rank of its documented "
                f"drivers, from past data only; latest as of {text(last['as_of_date'].iloc[0])}.",
                figures=1,
            )
        )
    importance = data.get("feature_importance")
    if _empty(importance):
        page.sections.append(
            Section("Feature importance by bucket", note_html("no feature importance stored yet", CMD_BUILD))
        )
    else:
        page.sections.append(
            Section(
                "Feature importance by bucket",
                figure_html(importance_figure(importance_by_bucket(importance)), "fig-importance"),
                "How much worse the tabular members forecast (pinball loss, volatility units) when a group of "
                "features is shuffled on the latest out-of-fold window. Around zero: the group adds nothing.",
                figures=1,
            )
        )
    weights = data.get("ensemble_weights")
    if _empty(weights):
        page.sections.append(Section("Ensemble weights", note_html("no ensemble weights stored yet", CMD_BUILD)))
    else:
        page.sections.append(
            Section(
                "Ensemble weights",
                figure_html(weights_figure(weights), "fig-weights"),
                "Greedy forward selection (Caruana) on walk-forward pinball loss: the share of each member in the "
                "ensemble, per horizon and quantile.",
                figures=1,
            )
        )
    return page


# ----------------------------------------------------------------------------------------------------- Record
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


def record_page(data: WarehouseData) -> Page:
    page = Page("record", "Record", "Track record")
    metrics, predictions = data.get("backtest_metrics"), data.get("backtest_predictions")
    if _empty(metrics):
        page.sections.append(not_run("Backtest skill against the random walks", "ml.backtest_metrics", CMD_BACKTEST))
    else:
        key = latest_backtest(metrics)
        run = metrics[metrics["run_key"] == key].sort_values("horizon_days")
        first = run.iloc[0]
        page.sections.append(
            Section(
                "Backtest skill against the random walks",
                figure_html(skill_figure(run), "fig-skill")
                + table_html(
                    run,
                    [
                        ("model", "model", text),
                        ("horizon", "horizon", text),
                        ("n", "forecasts", num(0)),
                        ("pinball_mean", "pinball", num(5)),
                        ("coverage_80", "coverage 80%", pct(1)),
                        ("skill_ratio", "ratio vs RW", num(3)),
                        ("skill_ratio_se", "± SE", num(3)),
                        ("dm_pvalue", "DM p", num(2)),
                        ("verdict", "verdict", text),
                    ],
                ),
                f"Walk-forward backtest {text(first['start_date'])} to {text(first['end_date'])} (run {key}): mean "
                f"pinball loss divided by that of the better random walk on the same rows; a ratio within 2 SE of "
                f"1 is no gain.",
                figures=1,
            )
        )
    if _empty(predictions):
        page.sections.append(not_run("Coverage over time (backtest)", "ml.backtest_predictions", CMD_BACKTEST))
    else:
        runs = predictions["run_key"].unique()
        key = latest_backtest(metrics) if not _empty(metrics) and latest_backtest(metrics) in runs else runs[0]
        coverage = rolling_coverage(predictions[predictions["run_key"] == key])
        page.sections.append(
            Section(
                "Coverage over time (backtest)",
                figure_html(
                    coverage_figure(coverage, f"80% interval coverage, rolling {COVERAGE_WINDOW} forecasts"),
                    "fig-coverage",
                ),
                "Share of backtest outcomes inside the forecast P10–P90 (solid: final, dotted: rw_ewma).",
                figures=1,
            )
        )
    monitoring = data.get("model_monitoring")
    if _empty(monitoring):
        page.sections.append(not_run("Live pinball loss and coverage", "ops.model_monitoring", CMD_MONITOR))
    else:
        last = latest(monitoring, "evaluated_at").sort_values(["horizon", "model", "metric"])
        page.sections.append(
            Section(
                "Live pinball loss and coverage",
                figure_html(
                    monitoring_figure(monitoring, "pinball", "mean pinball loss (log return)"), "fig-live-pinball"
                )
                + figure_html(monitoring_figure(monitoring, "coverage_80", "share inside P10–P90"), "fig-live-coverage")
                + table_html(
                    last,
                    [
                        ("horizon", "horizon", text),
                        ("model", "model", text),
                        ("window_days", "window (days)", num(0)),
                        ("metric", "metric", text),
                        ("value", "value", num(4)),
                        ("threshold", "threshold", num(4)),
                        ("status", "status", text),
                    ],
                    status_column="status",
                ),
                f"From the monitoring tables (run {text(last['run_id'].iloc[0])}, "
                f"{text(last['evaluated_at'].iloc[0])}): live forecasts scored once their target date passed.",
                figures=2,
            )
        )
    leaderboard = data.get("leaderboard")
    if _empty(leaderboard):
        page.sections.append(Section("Leaderboard", note_html("no leaderboard stored yet", CMD_BUILD)))
    else:
        board = leaderboard_best(leaderboard)
        horizons = [h for h in horizons_in(leaderboard) if h in board.columns]
        page.sections.append(
            Section(
                "Leaderboard",
                table_html(board, [("member", "member", text)] + [(h, h, text) for h in horizons], key="member"),
                "AutoGluon's leaderboard of every saved predictor, its best model per member and horizon: the "
                "validation score is minus the loss (higher is better; tabular: pinball in volatility units on the "
                "purged tuning block).",
            )
        )
    return page


def leaderboard_best(leaderboard: pd.DataFrame) -> pd.DataFrame:
    """One row per member, one column per horizon: the best model's validation score and name."""
    best = leaderboard.sort_values("score_val", ascending=False).groupby(["member", "horizon"], as_index=False).first()
    best["cell"] = [f"{s:.4f} ({m})" for s, m in zip(best["score_val"], best["model"], strict=True)]
    return best.pivot(index="member", columns="horizon", values="cell").reset_index()


# ------------------------------------------------------------------------------------------------ Data health
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
        ("fail", "#d73027"),
        ("error", "#a50026"),
    ):
        if status in counts.columns:
            fig.add_trace(go.Bar(x=counts.index, y=counts[status], name=status, marker_color=color))
    for status in counts.columns:
        if status not in ("pass", "ok", "warn", "fail", "error"):
            fig.add_trace(go.Bar(x=counts.index, y=counts[status], name=status))
    fig.update_layout(title="Checks of the latest quality run by dimension and status", barmode="stack")
    fig.update_xaxes(title_text="dimension")
    fig.update_yaxes(title_text="checks (count)")
    return fig


def health_page(data: WarehouseData, now: datetime) -> Page:
    page = Page("health", "Data health", "Data health")
    runs = data.get("ingest_runs")
    if _empty(runs):
        page.sections.append(Section("Freshness per source", note_html("no ingest runs recorded yet", "cbi sample")))
    else:
        page.sections.append(
            Section(
                "Freshness per source",
                table_html(
                    freshness(runs, now),
                    [
                        ("source", "source", text),
                        ("tables", "tables", num(0)),
                        ("last_run", "last run (UTC)", text),
                        ("last_status", "last status", text),
                        ("last_success", "last success (UTC)", text),
                        ("age_hours", "age (hours)", num(1)),
                    ],
                    key="source",
                    status_column="last_status",
                ),
                f"From ops.ingest_runs; ages at {now:%Y-%m-%d %H:%M} UTC.",
            )
        )
        page.sections.append(
            Section(
                "Last ingest runs",
                table_html(
                    runs.head(20),
                    [
                        ("source", "source", text),
                        ("target_table", "table", text),
                        ("started_at", "started (UTC)", text),
                        ("rows_read", "read", num(0)),
                        ("rows_inserted", "inserted", num(0)),
                        ("rows_updated", "updated", num(0)),
                        ("rows_rejected", "rejected", num(0)),
                        ("status", "status", text),
                        ("error", "error", text),
                    ],
                    status_column="status",
                ),
            )
        )
    quarantine = data.get("quarantine")
    if _empty(quarantine):
        body = note_html("no quarantined rows" if quarantine is not None else "ops.quarantine does not exist yet")
        page.sections.append(Section("Quarantined rows", body))
    else:
        counts = quarantine.groupby(["source", "target_table", "field", "reason"], as_index=False, dropna=False).size()
        page.sections.append(
            Section(
                "Quarantined rows",
                table_html(
                    counts.sort_values("size", ascending=False),
                    [
                        ("source", "source", text),
                        ("target_table", "table", text),
                        ("field", "field", text),
                        ("reason", "reason", text),
                        ("size", "rows", num(0)),
                    ],
                )
                + table_html(
                    quarantine.head(20),
                    [
                        ("quarantined_at", "quarantined (UTC)", text),
                        ("source", "source", text),
                        ("row_number", "row", num(0)),
                        ("field", "field", text),
                        ("value", "value", text),
                        ("reason", "reason", text),
                    ],
                ),
                f"{len(quarantine):,} rows kept out of the raw tables by the loader, by reason; then the latest 20.",
            )
        )
    quality = data.get("data_quality")
    if _empty(quality):
        page.sections.append(not_run("Gate and quality checks", "ops.data_quality_results", CMD_QUALITY))
    else:
        last = quality[quality["run_id"] == quality.sort_values("checked_at")["run_id"].iloc[-1]]
        last = last.sort_values(["status", "dimension", "check_name"])
        page.sections.append(
            Section(
                "Gate and quality checks",
                figure_html(quality_figure(last), "fig-quality")
                + table_html(
                    last,
                    [
                        ("dimension", "dimension", text),
                        ("check_name", "check", text),
                        ("target", "target", text),
                        ("status", "status", text),
                        ("observed", "observed", num(3)),
                        ("threshold", "threshold", num(3)),
                        ("message", "message", text),
                    ],
                    status_column="status",
                ),
                f"The latest quality run ({text(last['run_id'].iloc[0])}, {text(last['checked_at'].max())}): "
                "source freshness and the gates in six dimensions.",
                figures=1,
            )
        )
    return page


def build_pages(data: WarehouseData, now: datetime) -> list[Page]:
    return [forecast_page(data), risk_page(data), drivers_page(data), record_page(data), health_page(data, now)]
