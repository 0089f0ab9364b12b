"""Replay the monitors day by day over a warehouse's history and count their alerts.

    .venv/bin/python bench/monitor_replay.py --db /tmp/real.duckdb [--start 2016-01-04] [--end 2024-12-31]
    .venv/bin/python bench/monitor_replay.py --forecasts --db /tmp/w/cbi.duckdb

Feature drift (the default) is described first; the forecast monitors (`--forecasts`) after it.

The warehouse needs `features.daily_ml_matrix_zl` and `features.feature_catalog` (for the real futures:
`cbi ingest real-files /path/to/real` into a fresh warehouse, then
`dbt build --select +daily_ml_matrix_zl +feature_catalog --exclude tag:ml`). Every trade date from --start to
--end is one daily run: the current window is the last `psi_current_days` rows, the reference the
`psi_reference_days` rows up to the serving models' training end, taken as --train-lag rows before the day (the
6-month label must be known) and moved every `psi_history_step` rows (monthly; the weekly retrain moves it
weekly, which the replay approximates so that successive bands share their past windows). Two rules are
compared, with the project's settings (`orchestration.config.THRESHOLDS`):

- fixed: the fixed band (`Thresholds.psi`) for every group, as before;
- own history: `monitoring.drift_band` on the group's own past windows (the rule the monitor now uses).

An incident is a run of consecutive days in alert; with one alert per incident (`monitor_alerts.new_alerts`) the
alerts a month are incidents / months. Printed as a table per group and in total; SE over months (the monthly
counts' SD / sqrt(months)), which understates it when incidents cluster.

Forecast monitors (`--forecasts`; the warehouse needs the ML layer built: `ml.l0_predictions`,
`ml.ml_final_predictions`, `features.daily_ml_matrix_zl`): the walk-forward out-of-fold forecasts of every model
the daily job logs (the L0 members, ensemble, calibrated, final) stand for the forecasts the daily runs would
have logged -- forecasts performing exactly as validated, as prices like `ops.forecast_log`, the final one with
its VaR (`cbi_ml.risk.value_at_risk`, the closed form the Monte Carlo VaR converges to). Every trade date from
the first out-of-fold date on is one monitoring run: the outcomes known that day (target date <= the day) go
through `monitoring.forecast_metrics` and `monitor_alerts.new_alerts` against the previous day's figures, as
`cbi run monitor` does. An alert is one message per group (pinball, coverage, var) and run; alerts a month per
group with the SE over months, and the figures (model, horizon, window) behind them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cbi_ml.dataset import CLOSE_COLUMN, target_dates  # noqa: E402
from cbi_ml.project import project_config  # noqa: E402
from cbi_ml.risk import value_at_risk  # noqa: E402
from orchestration import monitor_alerts, monitoring, ops_tables  # noqa: E402
from orchestration.config import THRESHOLDS, Thresholds  # noqa: E402


def read(db: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    with duckdb.connect(db, read_only=True) as con:
        matrix = con.execute("select * from features.daily_ml_matrix_zl order by as_of_date").df()
        catalog = con.execute("select feature_name, bucket from features.feature_catalog").df()
    groups = {
        str(g): [f for f in names if f in matrix.columns] for g, names in catalog.groupby("bucket")["feature_name"]
    }
    return matrix.reset_index(drop=True), {g: f for g, f in groups.items() if f}


class Replay:
    """The group PSI of windows ending at a row, cached (the bands of successive weeks share their windows)."""

    def __init__(self, matrix: pd.DataFrame, groups: dict[str, list[str]], thresholds: Thresholds):
        self.matrix, self.groups, self.t = matrix, groups, thresholds
        self.cache: dict[tuple[str, int], float] = {}

    def window_psi(self, group: str, end: int) -> float:
        key = (group, end)
        if key not in self.cache:
            cur, ref = self.t.psi_current_days, self.t.psi_reference_days
            frame, features = self.matrix, self.groups[group]
            per = monitoring.group_psi(
                frame.iloc[end - cur - ref : end - cur], frame.iloc[end - cur : end], features, self.t.psi_bins
            )
            self.cache[key] = float(np.mean(list(per.values()))) if per else float("nan")
        return self.cache[key]

    def band(self, group: str, stop: int) -> monitoring.Band:
        cur, ref, step = self.t.psi_current_days, self.t.psi_reference_days, self.t.psi_history_step
        history = np.array([self.window_psi(group, end) for end in range(stop, cur + ref - 1, -step)])
        return monitoring.drift_band(history[np.isfinite(history)], self.t)

    def current_psi(self, group: str, day: int, stop: int) -> float:
        """PSI of the 63 rows ending at `day` (inclusive) against the reference rows ending at `stop`."""
        cur, ref = self.t.psi_current_days, self.t.psi_reference_days
        frame, features = self.matrix, self.groups[group]
        per = monitoring.group_psi(
            frame.iloc[max(0, stop - ref) : stop], frame.iloc[day + 1 - cur : day + 1], features, self.t.psi_bins
        )
        return float(np.mean(list(per.values()))) if per else float("nan")


def replay(matrix: pd.DataFrame, groups: dict[str, list[str]], start: str, end: str, lag: int) -> pd.DataFrame:
    """One row per day and group: the PSI and its status under both rules."""
    engine = Replay(matrix, groups, THRESHOLDS)
    dates = pd.to_datetime(matrix["as_of_date"])
    days = np.flatnonzero((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end)))
    rows = []
    for day in days:
        step = THRESHOLDS.psi_history_step
        stop = (int(day) - lag) // step * step  # on a grid of psi_history_step rows: the bands share their windows
        for group in groups:
            value = engine.current_psi(group, int(day), stop)
            band = engine.band(group, stop)
            rows.append(
                {
                    "date": dates.iloc[day],
                    "group": group,
                    "psi": value,
                    "fixed": THRESHOLDS.psi.status(value),
                    "own_history": band.status(value),
                    "alert_limit": band.alert,
                }
            )
    return pd.DataFrame(rows)


def starts(days: pd.DataFrame, rule: str) -> pd.Series:
    """Per row: True where the group enters alert under `rule` (an incident starts: one alert is sent)."""
    days = days.sort_values(["group", "date"])
    alert = days[rule] == "alert"
    before = alert.groupby(days["group"]).shift(1, fill_value=False)
    return (alert & ~before).reindex(days.index)


def summarise(days: pd.DataFrame) -> pd.DataFrame:
    months = days["date"].dt.to_period("M")
    every_month = months.unique()
    started = {rule: starts(days, rule) for rule in ("fixed", "own_history")}
    out = []
    for group in [*sorted(days["group"].unique()), "all groups"]:
        mask = days["group"] == group if group != "all groups" else pd.Series(True, index=days.index)
        row: dict[str, object] = {"group": group}
        for rule, new in started.items():
            monthly = new[mask].groupby(months[mask]).sum().reindex(every_month, fill_value=0)
            if group == "all groups":
                monthly = monthly / days["group"].nunique()  # per group, averaged over the groups
            row[f"{rule}: alert days %"] = 100 * float((days.loc[mask, rule] == "alert").mean())
            row[f"{rule}: alerts/month"] = float(monthly.mean())
            row[f"{rule}: SE"] = float(monthly.std(ddof=1) / np.sqrt(len(monthly)))
        out.append(row)
    return pd.DataFrame(out)


def read_forecasts(db: str, horizons: dict[str, int]) -> pd.DataFrame:
    """The out-of-fold forecasts of every logged model joined to their outcomes, as the monitor sees them."""
    with duckdb.connect(db, read_only=True) as con:
        oof = con.execute(
            "select as_of_date, horizon, horizon_days, member as model, q10, q50, q90 from ml.l0_predictions "
            "where fold >= 0 union all by name "
            "select as_of_date, horizon, horizon_days, member as model, q10, q50, q90 from ml.ml_final_predictions "
            "where fold >= 0"
        ).df()
        closes = con.execute(f"select as_of_date, {CLOSE_COLUMN} as close from features.daily_ml_matrix_zl").df()
        realised = ops_tables.realised_outcomes(con, horizons)
    for frame in (oof, closes):
        frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    frame = oof[oof["horizon"].isin(list(horizons))].merge(closes, on="as_of_date", how="inner")
    frame = frame.drop_duplicates(["as_of_date", "horizon", "model"], keep="last")
    for q, p in (("q10", "p10"), ("q50", "p50"), ("q90", "p90")):
        frame[p] = frame["close"] * np.exp(frame[q].astype(float))
    frame["target_date"] = target_dates(frame["as_of_date"], frame["horizon_days"])
    final = frame["model"] == "final"
    for level in THRESHOLDS.var_levels:
        var = value_at_risk(frame["q10"], frame["q50"], frame["q90"], level)
        frame[f"var_{round(level * 100)}_ret"] = np.where(final, var, np.nan)
    return monitoring.join_outcomes(frame, realised)


def replay_forecasts(
    outcomes: pd.DataFrame, horizons: dict[str, int], start: str, end: str, every: int = 1
) -> pd.DataFrame:
    """One row per monitoring run and figure in alert (run, group, KEY, `new`: it entered alert that run), and one
    per alert message sent (`message`: True; `monitor_alerts.new_alerts` against the previous run's figures)."""
    from cbi_core.calendar import is_trade_day

    window = max(THRESHOLDS.windows)
    outcomes = outcomes.sort_values("target_date").reset_index(drop=True)
    known_by = pd.to_datetime(outcomes["target_date"]).to_numpy()
    first = pd.to_datetime(outcomes["target_date"]).min()
    runs = pd.bdate_range(max(first, pd.Timestamp(start)), min(pd.Timestamp(end), pd.Timestamp(known_by.max())))
    previous = pd.DataFrame(columns=[*monitor_alerts.KEY, "status"])
    out: list[dict] = []
    for day in [d for d in runs if is_trade_day(d.date())][::every]:
        known = outcomes.iloc[: int(np.searchsorted(known_by, day.to_datetime64(), side="right"))]
        recent = [
            frame[frame["as_of_date"].isin(np.sort(frame["as_of_date"].unique())[-window:])]
            for _, frame in known.groupby("horizon")
        ]
        rows = monitoring.forecast_metrics(pd.concat(recent), horizons, THRESHOLDS) if recent else pd.DataFrame()
        out.append({"run": day, "group": None, "message": False})  # every run counts, alerts or not
        if rows.empty:
            continue
        ongoing = previous[previous["status"] == "alert"][monitor_alerts.KEY].assign(ongoing=True)
        alerting = rows[rows["status"] == "alert"].merge(ongoing, on=monitor_alerts.KEY, how="left")
        for row in alerting.itertuples():
            figure = {"horizon": row.horizon, "model": row.model, "window_days": row.window_days, "metric": row.metric}
            out.append({"run": day, "group": monitor_alerts.kind_of(row.metric), **figure, "new": pd.isna(row.ongoing)})
        for kind in monitor_alerts.new_alerts(rows, previous, day.date().isoformat()):
            out.append({"run": day, "group": kind, "message": True})
        previous = rows[[*monitor_alerts.KEY, "status"]]
    frame = pd.DataFrame(out)
    frame["message"] = frame["message"].astype("boolean").fillna(False).astype(bool)
    frame["new"] = frame.get("new", pd.Series(False, index=frame.index)).astype("boolean").fillna(False).astype(bool)
    return frame


def summarise_forecasts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Per monitor group: share of runs with a figure in alert, alert messages a month (SE over months), the
    figures that entered alert and how many of them were the served forecast's (`final`)."""
    runs = alerts.drop_duplicates("run")["run"]
    months = runs.dt.to_period("M").unique()
    out = []
    for group in ("pinball", "coverage", "var"):
        figures = alerts[(alerts["group"] == group) & ~alerts["message"]]
        sent = alerts[(alerts["group"] == group) & alerts["message"]]
        monthly = sent["run"].dt.to_period("M").value_counts().reindex(months, fill_value=0)
        entered = figures[figures["new"]]
        out.append(
            {
                "group": group,
                "runs in alert %": 100 * figures["run"].nunique() / len(runs),
                "alerts/month": float(monthly.mean()),
                "SE": float(monthly.std(ddof=1) / np.sqrt(len(monthly))),
                "figures entering alert": len(entered),
                "of the final forecast": int((entered["model"] == "final").sum()),
            }
        )
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--start", default="2016-01-04")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--train-lag", type=int, default=126, help="rows between the training end and the day")
    parser.add_argument("--forecasts", action="store_true", help="replay the forecast monitors, not feature drift")
    parser.add_argument(
        "--every", type=int, default=1, help="forecasts: one monitoring run every this many trade dates"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    if args.forecasts:
        horizons = dict(project_config(project_dir=ROOT).horizons)
        outcomes = read_forecasts(args.db, horizons)
        alerts = replay_forecasts(outcomes, horizons, args.start, args.end, args.every)
        runs = alerts.drop_duplicates("run")["run"]
        models = outcomes["model"].nunique()
        print(f"forecast monitor replay on {args.db}: {runs.min().date()} to {runs.max().date()}, {len(runs)} runs, ")
        print(
            f"{runs.dt.to_period('M').nunique()} months, {models} models, a run every {args.every} trade date(s), ",
            end="",
        )
        print(f"{time.perf_counter() - started:.0f} s\n")
        print(summarise_forecasts(alerts).to_markdown(index=False, floatfmt=".2f"))
        entered = alerts[alerts["new"]]
        print("\nfigures entering alert, by group, metric, model and horizon:\n")
        print(entered.groupby(["group", "metric", "model", "horizon"]).size().to_string())
        return
    matrix, groups = read(args.db)
    days = replay(matrix, groups, args.start, args.end, args.train_lag)
    table = summarise(days)
    first, last = days["date"].min().date(), days["date"].max().date()
    runs, months = days["date"].nunique(), days["date"].dt.to_period("M").nunique()
    print(f"feature drift replay on {args.db}: {first} to {last}, {runs} daily runs, {len(groups)} groups, ")
    print(f"{months} months, train lag {args.train_lag} rows, {time.perf_counter() - started:.0f} s\n")
    print(table.to_markdown(index=False, floatfmt=".2f"))


if __name__ == "__main__":
    main()
