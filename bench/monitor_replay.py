"""Replay the feature-drift monitor day by day over a warehouse's history and count its alerts.

    .venv/bin/python bench/monitor_replay.py --db /tmp/real.duckdb [--start 2016-01-04] [--end 2024-12-31]

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

from orchestration import monitoring  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--start", default="2016-01-04")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--train-lag", type=int, default=126, help="rows between the training end and the day")
    args = parser.parse_args()
    started = time.perf_counter()
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
