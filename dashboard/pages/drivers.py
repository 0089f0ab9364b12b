"""The Drivers page: bucket scores, feature importance by bucket, ensemble weights."""

from __future__ import annotations

from html import escape

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from dashboard.components import (
    HORIZON_COLORS,
    Page,
    Section,
    figure_html,
    horizons_in,
    num,
    table_html,
    text,
)
from dashboard.data import WarehouseData
from dashboard.pages.common import Body, empty, from_table, latest, page
from dashboard.settings import FIGURE_HEIGHT, HISTORY_DAYS

SCORE_SUFFIX = "_score"
#: Forecast methods that are a random walk: the served quantiles use no member, weight or feature.
RANDOM_WALKS = ("rw_ewma", "rw_empirical")
#: Forecast methods that combine members (with the weights below); any other method is one member's forecast.
COMBINATIONS = ("ensemble", "calibrated", "stack")
#: One distinguishable colour per member (plotly's 26-colour Alphabet palette: the 16 members and room to grow).
MEMBER_COLOURS = tuple(qualitative.Alphabet)
LEGEND_PER_ROW, LEGEND_ROW_PX = 2, 19  # legend entries a row at 390 px, and a row's height


def buckets_in(market: pd.DataFrame) -> list[str]:
    """The buckets whose scores `forecasts.zl_market_history` holds, in its column order.

    That model writes one `<bucket>_score` column per entry of the project's one list (`cbi_buckets` in
    dbt_project.yml), so the page follows that list without a copy of it."""
    return [c.removesuffix(SCORE_SUFFIX) for c in market.columns if c.endswith(SCORE_SUFFIX)]


def scores_figure(market: pd.DataFrame) -> go.Figure:
    """One small panel per bucket (0-100), last two years."""
    buckets = buckets_in(market)
    end = pd.to_datetime(market["as_of_date"]).max()
    recent = market[pd.to_datetime(market["as_of_date"]) >= end - pd.Timedelta(days=HISTORY_DAYS)]
    rows = (len(buckets) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, shared_xaxes=True, subplot_titles=buckets, vertical_spacing=0.06)
    for k, bucket in enumerate(buckets):
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
    members = sorted(weights["member"].unique())  # colours fixed by the full member list, not the non-zero ones
    for member in sorted(frame["member"].unique()):
        part = frame[frame["member"] == member].set_index("slot").reindex(slots)
        # 0, not NaN, where a member has no weight: plotly.js stacks nothing onto a NaN base
        colour = MEMBER_COLOURS[members.index(member) % len(MEMBER_COLOURS)]
        fig.add_trace(go.Bar(x=slots, y=part["weight"].fillna(0.0), name=member, marker_color=colour))
    # the legend takes a row per two members on a phone: the figure grows by that, so the bars keep their height
    rows = -(-frame["member"].nunique() // LEGEND_PER_ROW)
    fig.update_layout(
        title="Ensemble weights per horizon and quantile", barmode="stack", height=FIGURE_HEIGHT + LEGEND_ROW_PX * rows
    )
    fig.update_xaxes(title_text="horizon and quantile")
    fig.update_yaxes(title_text="weight (share, sums to 1)", range=[0, 1])
    return fig


def _kind(method: str) -> str:
    if method in RANDOM_WALKS:
        return "the random walk"
    return "the blend (the average of the quantiles) of two members" if "+" in method else "the single member"


def served_note(predictions: pd.DataFrame | None) -> Section | None:
    """One plain sentence per horizon whose served forecast (the latest `forecast_method`) is one member, not a
    combination (a random walk, or the member or blend the panel of futures markets chose, such as `vol_avg` or
    `har+rw_ewma`): the weights
    and importance below then describe the members, not the served forecast."""
    if empty(predictions):
        return None
    served = latest(predictions).set_index("horizon")["forecast_method"].astype(str)
    singles = [h for h in horizons_in(served.reset_index()) if served[h] not in COMBINATIONS]
    if not singles:
        return None
    lines = "".join(
        f'<li data-key="served:{escape(h)}">At {escape(h)} the served forecast is {_kind(served[h])} '
        f"<code>{escape(served[h])}</code>.</li>"
        for h in singles
    )
    return Section(
        "Which forecast is served",
        f'<ul class="served">{lines}</ul><p>No ensemble weight enters one member\'s forecast, and the importance is '
        f"the tabular members' mean: at {escape(', '.join(singles))} the importance and weights below describe the "
        "members, not the served forecast.</p>",
        "The final layer serves the member the panel of futures markets chose for the horizon (the random walk "
        "rw_ewma unless another beat it there), or a ZL candidate (the ensemble, its calibration or the best "
        "member so far) where ZL's own out-of-fold record showed it beating that member on pinball loss "
        "(the command cbi forecasts prints the evidence).",
    )


def scores_body(market: pd.DataFrame) -> Body:
    """The bucket scores' panels and the latest score of each bucket."""
    buckets = buckets_in(market)
    last = market.dropna(subset=[f"{b}{SCORE_SUFFIX}" for b in buckets], how="all").iloc[-1:]
    scores = pd.DataFrame({"bucket": buckets, "score": [last[f"{b}{SCORE_SUFFIX}"].iloc[0] for b in buckets]})
    return Body(
        figure_html(scores_figure(market), "fig-scores")
        + table_html(scores, [("bucket", "bucket", text), ("score", "latest score (0–100)", num(0))], "bucket"),
        f"Each bucket's score (0–100) is the mean trailing 252-day percentile rank of its documented "
        f"drivers, from past data only; latest as of {text(last['as_of_date'].iloc[0])}.",
        figures=1,
    )


def importance_body(importance: pd.DataFrame) -> Body:
    return Body(
        figure_html(importance_figure(importance_by_bucket(importance)), "fig-importance"),
        "How much worse the tabular members forecast (pinball loss, volatility units) when a group of "
        "features is shuffled on the latest out-of-fold window. Around zero: the group adds nothing.",
        figures=1,
    )


def weights_body(weights: pd.DataFrame) -> Body:
    return Body(
        figure_html(weights_figure(weights), "fig-weights"),
        "Greedy forward selection (Caruana) on walk-forward pinball loss: the share of each member in the "
        "ensemble, per horizon and quantile.",
        figures=1,
    )


def drivers_page(data: WarehouseData) -> Page:
    return page(
        "drivers",
        "Drivers",
        "What drives the forecast",
        [
            served_note(data.get("predictions")),
            from_table(data, "market", "Bucket scores", scores_body, "no bucket scores yet"),
            from_table(
                data,
                "feature_importance",
                "Feature importance by bucket",
                importance_body,
                "no feature importance stored yet",
            ),
            from_table(data, "ensemble_weights", "Ensemble weights", weights_body, "no ensemble weights stored yet"),
        ],
    )
