"""Walk-forward skill of the cheap distribution members against `rw_ewma` and the realised-volatility oracle.

Reads the feature matrix of a built warehouse (futures are enough: `dbt build --exclude tag:ml`), replays the
members with the production code (`cbi_ml.evaluation.backtest.replay_members`: refit every `--refit` trading days,
purged training rows), and prints per horizon, on the same rows for every model: the mean pinball loss as a ratio to
`rw_ewma`, its standard error (EWC, `skill_ratio_se`), the 80% interval coverage, and the oracle ceiling (zero-mean
normal quantiles with the realised volatility of the coming window). Two walk-forward combinations are scored beside
the members: `best_so_far` (at each refit, the member with the lowest pinball loss on the earlier refits' rows whose
outcome was known by then) and the production layers `stack` / `ensemble` / `final`
(`cbi_ml.evaluation.backtest.combine_layers`). With `--timing` it also times `run_member` of each member on the
whole matrix: what a daily scoring build pays for it.

    .venv/bin/python bench/distribution.py --db bench-real.duckdb
"""

from __future__ import annotations

import argparse
import functools
import logging
import time
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cbi_ml.dataset import KEY, RETURN_COLUMN, prepare_matrix
from cbi_ml.evaluation import backtest
from cbi_ml.members.baselines import Z
from cbi_ml.members.distribution import DISTRIBUTION_MEMBERS, future_mean_square, gjr_h_day_variance
from cbi_ml.members.run import run_member
from cbi_ml.project import project_config
from cbi_ml.scoring import row_pinball, skill_ratio_se

REFERENCE = ("rw_ewma", "rw_empirical", "har")
#: DISTRIBUTION_ANCHORS.md: the oracle's ratio to rw_ewma on 2016-01..2024-06, and the issue's goal.
ANCHOR_ORACLE = {"1w": 0.946, "1m": 0.968, "3m": 0.957, "6m": 0.959}
GOAL = {"1w": 0.973, "1m": 0.984, "3m": 0.979, "6m": 0.980}


@functools.cache
def config():
    """The ML settings of dbt_project.yml (parsed once)."""
    return project_config()


def replay(matrix: pd.DataFrame, catalog: pd.DataFrame, members: list[str], args) -> pd.DataFrame:
    """The members' walk-forward rows, read from `--cache` for members already replayed with the same
    settings (a parquet file keyed by start, end, refit and the matrix's last date)."""
    key = f"{args.start}|{args.end}|{args.refit}|{matrix[KEY].max()}"
    cached = pd.DataFrame()
    if args.cache and Path(args.cache).is_file():
        cached = pd.read_parquet(args.cache)
        cached = cached[(cached["key"] == key) & cached["member"].isin(members)]
    todo = [m for m in members if m not in set(cached.get("member", []))]
    stored: dict[int, pd.DataFrame] = {}
    if todo:
        started = time.perf_counter()
        backtest.replay_members(
            matrix, catalog, config(), todo, args.start, args.end, args.refit, set(), stored.__setitem__
        )
        print(f"replayed {todo} in {time.perf_counter() - started:.1f} s")
    fresh = [stored[k].assign(refit=k, key=key) for k in sorted(stored)]
    out = pd.concat([cached, *fresh], ignore_index=True).assign(as_of_date=lambda f: pd.to_datetime(f["as_of_date"]))
    if args.cache and todo:
        everything = pd.read_parquet(args.cache) if Path(args.cache).is_file() else pd.DataFrame()
        keep = everything[~((everything.get("key") == key) & everything.get("member", pd.Series()).isin(todo))]
        pd.concat([keep, *fresh], ignore_index=True).to_parquet(args.cache, index=False)
    return out.drop(columns="key")


def oracle_rows(matrix: pd.DataFrame, l0: pd.DataFrame) -> pd.DataFrame:
    """Zero-mean normal quantiles with the realised volatility of each row's coming window (not a forecast)."""
    frame = prepare_matrix(matrix, config().ewma_lambda)
    by_date = pd.Series(range(len(frame)), index=pd.to_datetime(frame[KEY]))
    parts = []
    for (_, days), part in l0[l0["member"] == "rw_ewma"].groupby(["horizon", "horizon_days"]):
        realised = np.sqrt(future_mean_square(frame[RETURN_COLUMN], int(days)) * days)
        pos = by_date.loc[part["as_of_date"]].to_numpy()
        q = realised[pos][:, None] * Z[None, :]
        parts.append(part.assign(member="oracle", q10=q[:, 0], q50=q[:, 1], q90=q[:, 2]))
    return pd.concat(parts, ignore_index=True)


def best_so_far(l0: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """At each refit, per horizon, the member with the lowest mean pinball loss on earlier refits' rows whose
    h-day outcome was known at the refit (rw_ewma until such rows exist)."""
    parts = []
    for _, part in l0[l0["member"].isin(members)].groupby("horizon"):
        days = int(part["horizon_days"].iloc[0])
        part = part.assign(loss=row_pinball(part["y"].to_numpy(), part[["q10", "q50", "q90"]].to_numpy()))
        dates = np.sort(part["as_of_date"].unique())
        for _, block in part.groupby("refit"):
            start = block["as_of_date"].min()
            start_pos = int(np.searchsorted(dates, start))
            known_until = dates[start_pos - days - 1] if start_pos - days - 1 >= 0 else None
            history = part[part["as_of_date"] <= known_until] if known_until is not None else part.iloc[:0]
            if history.empty:
                chosen = "rw_ewma"
            else:
                common = history.groupby("as_of_date")["member"].transform("nunique") == len(members)
                chosen = history[common].groupby("member")["loss"].mean().idxmin()
            parts.append(block[block["member"] == chosen].assign(member="best_so_far", source=chosen))
    return pd.concat(parts, ignore_index=True).drop(columns="loss")


def score(rows: pd.DataFrame) -> pd.DataFrame:
    """Per horizon and model on the rows every model has: ratio to rw_ewma, its EWC SE (`skill_ratio_se`), coverage."""
    out = []
    for horizon, part in rows.groupby("horizon", sort=False):
        days = int(part["horizon_days"].iloc[0])
        wide = part.pivot_table(index="as_of_date", columns="member", values=["q10", "q50", "q90"], aggfunc="first")
        common = wide.dropna().index
        y = part.groupby("as_of_date")["y"].first().loc[common].to_numpy()
        loss = {}
        for member in part["member"].unique():
            q = np.column_stack([wide[(c, member)].loc[common].to_numpy() for c in ("q10", "q50", "q90")])
            loss[member] = (row_pinball(y, q), float(np.mean((y >= q[:, 0]) & (y <= q[:, 2]))))
        base = loss["rw_ewma"][0]
        for member, (member_loss, coverage) in loss.items():
            same = member == "rw_ewma"
            out.append(
                {
                    "horizon": horizon,
                    "days": days,
                    "model": member,
                    "n": len(common),
                    "ratio": member_loss.mean() / base.mean(),
                    "se": 0.0 if same else skill_ratio_se(member_loss, base, days),
                    "coverage_80": coverage,
                }
            )
    return pd.DataFrame(out).sort_values(["days", "ratio"]).reset_index(drop=True)


def timing(matrix: pd.DataFrame, catalog: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    now = datetime(2024, 7, 1)
    rows = []
    for member in members:
        started = time.perf_counter()
        out = run_member(member, matrix, catalog, config(), now)
        rows.append({"member": member, "seconds": time.perf_counter() - started, "rows": len(out)})
    return pd.DataFrame(rows)


def simulated_ceiling(matrix: pd.DataFrame, n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """How much of the oracle's gap a perfect volatility model could close: simulate a GJR-GARCH-t with the
    parameters fitted to ZL's daily returns, where the true conditional h-day variance is known, and score
    (a) rw_ewma, (b) the true conditional volatility, (c) the realised-volatility oracle, with the same
    zero-mean normal quantiles."""
    from arch import arch_model
    from arch.univariate import GARCH, StudentsT, ZeroMean

    from cbi_ml.volatility import ewma_volatility

    frame = prepare_matrix(matrix, config().ewma_lambda)
    r = 100.0 * frame[RETURN_COLUMN].fillna(0.0).to_numpy()
    params = arch_model(r, mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t").fit(disp="off").params
    process = ZeroMean(volatility=GARCH(p=1, o=1, q=1), distribution=StudentsT(seed=np.random.default_rng(seed)))
    sim = process.simulate(params.to_numpy(), n, burn=1000)
    returns = pd.Series(sim["data"].to_numpy() / 100.0)
    x = sim["data"].to_numpy()
    model = ZeroMean(x, volatility=GARCH(p=1, o=1, q=1), distribution=StudentsT())
    p = params
    sigma2 = model.fix(p.to_numpy()).conditional_volatility ** 2
    next_day = p["omega"] + (p["alpha[1]"] + p["gamma[1]"] * (x < 0)) * x**2 + p["beta[1]"] * sigma2
    rows = []
    for horizon, days in config().horizons.items():
        # Student-t innovations are symmetric: E[z^2 1{z<0}] = 1/2
        true_var = gjr_h_day_variance(next_day, p["omega"], p["alpha[1]"], p["gamma[1]"], p["beta[1]"], 0.5, days)
        y = returns[::-1].rolling(days).sum()[::-1].shift(-1).to_numpy()
        scales = {
            "rw_ewma": ewma_volatility(returns).to_numpy() * np.sqrt(days),
            "true_conditional_vol": np.sqrt(true_var) / 100.0,
            "oracle": np.sqrt(future_mean_square(returns, days) * days),
        }
        ok = np.isfinite(y) & np.all([np.isfinite(v) for v in scales.values()], axis=0)
        ok[:500] = False
        loss = {m: row_pinball(y[ok], v[ok][:, None] * Z[None, :]).mean() for m, v in scales.items()}
        rows.append(
            {
                "horizon": horizon,
                "true_vol_ratio": loss["true_conditional_vol"] / loss["rw_ewma"],
                "oracle_ratio": loss["oracle"] / loss["rw_ewma"],
                "share_of_gap": (1 - loss["true_conditional_vol"] / loss["rw_ewma"])
                / (1 - loss["oracle"] / loss["rw_ewma"]),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="DuckDB file with features.daily_ml_matrix_zl built")
    parser.add_argument("--start", default="2016-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--refit", type=int, default=63, help="trading days between refits")
    parser.add_argument("--members", default=",".join(DISTRIBUTION_MEMBERS))
    parser.add_argument("--no-layers", action="store_true", help="skip the stacker/ensemble/final layers")
    parser.add_argument("--timing", action="store_true", help="also time run_member per member")
    parser.add_argument("--cache", default="", help="parquet file keeping replayed rows between runs")
    parser.add_argument("--simulate", action="store_true", help="also the GARCH-t simulation of the ceiling")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with duckdb.connect(args.db, read_only=True) as con:
        matrix = con.sql("select * from features.daily_ml_matrix_zl").df()
        catalog = con.sql("select * from features.feature_catalog").df()
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    everyone = list(dict.fromkeys([*REFERENCE, *members]))

    l0 = replay(matrix, catalog, everyone, args)
    rows = [l0, oracle_rows(matrix, l0), best_so_far(l0, everyone)]
    if not args.no_layers:
        layered = backtest.combine_layers(l0.drop(columns="refit"), matrix, config())
        rows.append(layered[layered["member"].isin(["stack", "ensemble", "final"])])
    scored = score(pd.concat(rows, ignore_index=True))

    pd.set_option("display.width", 160)
    for horizon, part in scored.groupby("horizon", sort=False):
        print(f"\n{horizon}: oracle anchor {ANCHOR_ORACLE.get(horizon)}, goal <= {GOAL.get(horizon)}")
        print(part.drop(columns=["horizon"]).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.simulate:
        print("\nsimulated GJR-GARCH-t fitted to ZL: ratio to rw_ewma of the true conditional volatility and of the")
        print("realised-volatility oracle (both zero-mean normal quantiles; 20,000 days):")
        print(simulated_ceiling(matrix).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.timing:
        print("\nrun_member on the whole matrix (what a daily scoring build pays per member):")
        print(timing(matrix, catalog, everyone).to_string(index=False, float_format=lambda v: f"{v:.2f}"))


if __name__ == "__main__":
    main()
