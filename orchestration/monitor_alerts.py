"""The monitors' alerts: one per incident (a figure that enters `alert`, not every run it stays there), each
saying which feature group or model, by how much, since when, and what to do."""

from __future__ import annotations

import pandas as pd

KEY = ["horizon", "model", "window_days", "metric"]
KINDS = {
    "pinball_ratio_rw": "pinball",
    "kupiec_p": "coverage",
    "var95_breaches": "var",
    "var99_breaches": "var",
    "basel_zone": "var",
}
ACTIONS = {
    "drift": "check that group's sources for a break (cbi runs, the Data health page); if the move is real, the "
    "weekly retrain (cbi run weekly) brings it into the training window",
    "pinball": "the served forecast should fall back to the random walk (the final layer's choice, Record page); "
    "retrain (cbi run weekly) and compare on the Record page",
    "coverage": "the 80% interval misses too often or too seldom: check the calibration on the Record page and retrain",
    "var": "VaR exceptions beyond the Basel band: treat the VaR as understated until the retrain (cbi run weekly)",
}


def kind_of(metric: str) -> str | None:
    return "drift" if metric.startswith("psi_") else KINDS.get(metric)


def describe(row, since: str) -> str:
    """One alert line: what, by how much against which limit, since when (the reason in `detail` for drift)."""
    if row.metric.startswith("psi_"):
        what = f"feature group {row.metric.removeprefix('psi_')}: PSI {row.value:.2f} above its alert limit "
        what += f"{row.threshold:.2f}"
    elif row.metric == "pinball_ratio_rw":
        what = f"{row.model} {row.horizon}: pinball loss {row.value:.2f}x the better random walk's over the last "
        what += f"{row.window_days} forecasts (limit {row.threshold:.2f})"
    elif row.metric == "kupiec_p":
        what = f"{row.model} {row.horizon}: 80% coverage rejected over {row.window_days} forecasts (Kupiec p "
        what += f"{row.value:.3g} < {row.threshold:.3g})"
    else:
        what = f"{row.model} {row.horizon}: {row.metric} {row.value:.4g} over {row.window_days} forecasts "
        what += f"(limit {row.threshold:.4g})"
    detail = getattr(row, "detail", None)
    extra = f"; {detail}" if isinstance(detail, str) and detail else ""
    return f"{what}, since {since}{extra}"


def new_alerts(rows: pd.DataFrame, previous: pd.DataFrame, since: str) -> dict[str, list[str]]:
    """kind -> lines, for each figure in `alert` now that was not in `alert` in the previous run (`previous`:
    that run's rows, KEY and status; empty for the first run). A figure that stays in alert does not alert again."""
    alerting = rows[rows["status"] == "alert"]
    if not previous.empty:
        before = previous[previous["status"] == "alert"][KEY].drop_duplicates()
        merged = alerting.merge(before.assign(_ongoing=True), on=KEY, how="left")
        alerting = merged[merged["_ongoing"].isna()].drop(columns="_ongoing")
    out: dict[str, list[str]] = {}
    for row in alerting.itertuples():
        kind = kind_of(row.metric)
        if kind:
            out.setdefault(kind, []).append(describe(row, since))
    return out


def message(kind: str, lines: list[str]) -> tuple[str, str]:
    """(title, text) of one alert of `kind`."""
    title = f"{len(lines)} monitor(s) entered alert ({kind})"
    return title, "\n".join([*lines[:20], f"What to do: {ACTIONS[kind]}."])
