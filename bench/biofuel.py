"""Does biofuel-policy information earn a place in ZL's volatility? `vol_biofuel` against the price-only members.

Reads the feature matrix of a warehouse built from the real files (`cbi ingest real-files`, then
`dbt build --exclude tag:ml`), replays `rw_ewma`, `range_ewma`, `range_har` and `vol_biofuel` walk-forward with
the production code (bench/distribution.py's `replay`: refit every `--refit` trading days, purged training
rows, `--cache` reused), and prints:

1. per horizon, `vol_biofuel`'s mean pinball loss as a ratio to each of the other three on the same rows, with
   its EWC standard error (`skill_ratio_se`) and the Diebold-Mariano p-value (`diebold_mariano`);
2. what the inputs hold: rows with a RIN price that still moves, and the biofuel bucket's news intensity;
3. ZL's daily returns standardised by `rw_ewma`'s volatility on the biofuel-policy days and the WASDE-free
   statutory RVO windows: mean z^2 on the days in the five trade dates before 30 November against all other days
   (ratio, with a standard error by years: the days of one year are one draw), and each member's forecast scale
   on the eve of the three largest policy moves as a ratio to `rw_ewma`'s;
4. two lighter variants, `range_ewma`'s variance times exp(a regression of log(realised / range_ewma variance)
   on the biofuel inputs, or on the RVO-deadline flag alone), walk-forward on the same refits (purged training
   rows, FHS quantiles as the members), against `range_ewma`.

    .venv/bin/python bench/biofuel.py --db real.duckdb [--cache bench-biofuel.parquet]
"""

from __future__ import annotations

import argparse
import logging

import duckdb
import numpy as np
import pandas as pd
from distribution import config, replay

from cbi_ml.dataset import KEY, RETURN_COLUMN, VOL_COLUMN, prepare_matrix, target_column
from cbi_ml.members import distribution
from cbi_ml.members.distribution import rvo_deadline_ahead
from cbi_ml.scoring import diebold_mariano, row_pinball, skill_ratio_se

MEMBERS = ["rw_ewma", "range_ewma", "range_har", "vol_biofuel"]
#: ZL's largest standardised moves of 2016-2024 that were biofuel-policy news (DISTRIBUTION_ANCHORS.md).
POLICY_DAYS = {"2016-11-23": "EPA final RVO 2017", "2022-12-01": "Set-rule proposal", "2023-06-21": "Set rule"}


def paired(l0: pd.DataFrame) -> pd.DataFrame:
    """vol_biofuel against each other member per horizon, on the rows both have."""
    out = []
    for horizon, part in l0.groupby("horizon", sort=False):
        days = int(part["horizon_days"].iloc[0])
        wide = part.pivot_table(index="as_of_date", columns="member", values=["q10", "q50", "q90", "y"])
        wide = wide.dropna()
        y = wide[("y", "vol_biofuel")].to_numpy()

        def loss(member: str, w: pd.DataFrame = wide, y: np.ndarray = y) -> np.ndarray:
            return row_pinball(y, np.column_stack([w[(c, member)].to_numpy() for c in ("q10", "q50", "q90")]))

        mine = loss("vol_biofuel")
        for other in MEMBERS[:-1]:
            base = loss(other)
            _, p = diebold_mariano(mine, base, days)
            se = skill_ratio_se(mine, base, days)
            out.append(
                {"horizon": horizon, "against": other, "n": len(y), "ratio": mine.mean() / base.mean(), "se": se}
                | {"dm_p": p}
            )
    return pd.DataFrame(out)


def inputs(matrix: pd.DataFrame, db: str, start: str, end: str) -> pd.DataFrame:
    """Per year: rows whose RIN D4 price moved within the last 40 rows, and biofuel-tagged news articles."""
    frame = matrix[(matrix[KEY] >= pd.Timestamp(start)) & (matrix[KEY] <= pd.Timestamp(end))].copy()
    rin = pd.to_numeric(frame["rin_d4_usd"], errors="coerce")
    moving = rin.diff().ne(0).astype(int).rolling(40, min_periods=1).sum().gt(0) & rin.notna()
    frame = frame.assign(year=pd.to_datetime(frame[KEY]).dt.year, rin_moving=moving)
    years = frame.groupby("year").agg(rows=(KEY, "size"), rin_moving=("rin_moving", "sum"))
    with duckdb.connect(db, read_only=True) as con:
        news = con.sql(
            "select year(published_at) as year, count(*) as biofuel_articles "
            "from intermediate.int_news__bucket_tags where bucket = 'biofuel' group by 1"
        ).df()
    return years.join(news.set_index("year")).fillna(0).astype(int)


def deadline_effect(matrix: pd.DataFrame, start: str, end: str) -> tuple[float, float, int]:
    """Mean z^2 of daily returns in the five trade dates before 30 November over that of the other days, with a
    standard error over years (delta method on the per-year sums): (ratio, se, years)."""
    frame = prepare_matrix(matrix, config().ewma_lambda)
    z2 = (frame[RETURN_COLUMN] / frame[VOL_COLUMN].shift(1)) ** 2
    origin = pd.to_datetime(frame[KEY])
    inside = rvo_deadline_ahead(origin - pd.Timedelta(days=1), 5) > 0  # the day itself in the coming five
    keep = (origin >= pd.Timestamp(start)) & (origin <= pd.Timestamp(end)) & z2.notna()
    table = pd.DataFrame({"year": origin.dt.year, "z2": z2, "inside": inside})[keep]
    per_year = table.groupby(["year", "inside"])["z2"].agg(["sum", "count"]).unstack("inside")
    a_sum, a_n = per_year[("sum", True)], per_year[("count", True)]
    b_sum, b_n = per_year[("sum", False)], per_year[("count", False)]
    ratio = (a_sum.sum() / a_n.sum()) / (b_sum.sum() / b_n.sum())
    # delta method over years: the influence of year k on the ratio of means
    a_mean, b_mean = a_sum.sum() / a_n.sum(), b_sum.sum() / b_n.sum()
    influence = (a_sum - a_mean * a_n) / a_n.sum() / b_mean - ratio * (b_sum - b_mean * b_n) / b_n.sum() / b_mean
    k = len(per_year)
    return float(ratio), float(np.sqrt(k / (k - 1) * np.sum(influence**2))), k


def eve_of_events(l0: pd.DataFrame) -> pd.DataFrame:
    """Each member's 1w scale (q90 - q10) on the last forecast date before each policy day, over rw_ewma's."""
    week = l0[l0["horizon"] == "1w"].assign(width=lambda f: f["q90"] - f["q10"])
    wide = week.pivot_table(index="as_of_date", columns="member", values="width")
    rows = []
    for day, what in POLICY_DAYS.items():
        eve = wide.index[wide.index < pd.Timestamp(day)]
        if len(eve) == 0:
            continue
        at = wide.loc[eve.max()]
        rows.append({"policy day": day, "news": what} | {m: at[m] / at["rw_ewma"] for m in MEMBERS[1:]})
    return pd.DataFrame(rows)


def scaled_range_variance(frame: pd.DataFrame, days: int, train: np.ndarray, deadline_only: bool) -> np.ndarray:
    """range_ewma's h-day variance times exp(x b - b0), b fitted by OLS of log(realised / range_ewma variance)
    on the biofuel design (or its deadline flag alone) over `train` (the FHS multiplier absorbs the level)."""
    base = distribution.ewma_variance(distribution.daily_range_variance(frame)) * days
    realised = distribution.future_mean_square(frame[RETURN_COLUMN], days) * days
    design = distribution.biofuel_design(frame, days, train)
    if deadline_only:
        design = design[["rvo_deadline_ahead"]]
    x = np.column_stack([np.ones(len(design)), design.to_numpy(dtype=float)])
    y = np.log(np.maximum(realised, 1e-12) / base)
    ok = np.zeros(len(x), dtype=bool)
    ok[train] = True
    ok &= np.isfinite(x).all(axis=1) & np.isfinite(y)
    coef, *_ = np.linalg.lstsq(x[ok], y[ok], rcond=None)
    return base * np.exp(x @ coef - coef[0])


def light_variants(matrix: pd.DataFrame, start: str, end: str, refit: int) -> pd.DataFrame:
    """The two scaled-range variants against range_ewma, walk-forward: refit every `refit` rows from `start`,
    training rows whose h-day target ended before the refit."""
    frame = prepare_matrix(matrix, config().ewma_lambda)
    dates = pd.to_datetime(frame[KEY])
    span = np.flatnonzero((dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end)))
    refits = [*span[::refit], span.max() + 1]
    out = []
    for horizon, days in config().horizons.items():
        y = frame[target_column(days)].to_numpy(dtype=float)
        parts: dict[str, list[np.ndarray]] = {"range_ewma": [], "biofuel inputs": [], "deadline only": []}
        for first, stop in zip(refits[:-1], refits[1:], strict=True):
            train = np.arange(0, max(first - days, 0))
            train = train[np.isfinite(y[train])]
            rows = np.arange(first, stop)
            parts["range_ewma"].append(distribution.distribution_quantiles("range_ewma", frame, days, train, rows))
            for name, only in (("biofuel inputs", False), ("deadline only", True)):
                scale = np.sqrt(scaled_range_variance(frame, days, train, only))
                multiplier = distribution.fhs_multiplier(y[train], scale[train])
                parts[name].append(distribution.fhs_quantiles(scale[rows], multiplier))
        rows = np.concatenate([np.arange(a, b) for a, b in zip(refits[:-1], refits[1:], strict=True)])
        known = np.isfinite(y[rows])
        loss = {k: row_pinball(y[rows][known], np.concatenate(v)[known]) for k, v in parts.items()}
        for name in ("biofuel inputs", "deadline only"):
            ratio = loss[name].mean() / loss["range_ewma"].mean()
            se = skill_ratio_se(loss[name], loss["range_ewma"], days)
            p = diebold_mariano(loss[name], loss["range_ewma"], days)[1]
            out.append({"horizon": horizon, "range_ewma x exp(...)": name, "ratio": ratio, "se": se, "dm_p": p})
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="DuckDB file with features.daily_ml_matrix_zl built")
    parser.add_argument("--start", default="2016-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--refit", type=int, default=63, help="trading days between refits")
    parser.add_argument("--cache", default="", help="parquet file keeping replayed rows between runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with duckdb.connect(args.db, read_only=True) as con:
        matrix = con.sql("select * from features.daily_ml_matrix_zl order by as_of_date").df()
        catalog = con.sql("select * from features.feature_catalog").df()
    matrix[KEY] = pd.to_datetime(matrix[KEY])
    l0 = replay(matrix, catalog, MEMBERS, args)
    fmt = {"float_format": lambda v: f"{v:.3f}", "index": False}
    print("vol_biofuel: mean pinball loss / the other member's, same rows, ± EWC SE, Diebold-Mariano p")
    print(paired(l0).to_string(**fmt))
    print("\nWhat the biofuel inputs hold, per year (rows of the matrix):")
    print(inputs(matrix, args.db, args.start, args.end).to_string())
    ratio, se, years = deadline_effect(matrix, args.start, args.end)
    print(
        f"\nDaily z^2 in the five trade dates before 30 November / other days: {ratio:.2f} ± {se:.2f} ({years} years)"
    )
    print("\n1w interval width on the eve of the policy days, as a ratio to rw_ewma's:")
    print(eve_of_events(l0).to_string(**fmt))
    print("\nrange_ewma scaled by the biofuel inputs, against range_ewma (same refits, ± EWC SE, DM p):")
    print(light_variants(matrix, args.start, args.end, args.refit).to_string(**fmt))


if __name__ == "__main__":
    main()
