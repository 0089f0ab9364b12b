"""The close-price limit: how far below `rw_ewma` any forecast from close prices alone can get, measured on a
GJR-GARCH(1,1)-t fitted to a root's real returns (`arch`), and the share of that gap the served forecast closes.

For each root: fit the model to the root's back-adjusted daily log returns (the panel's price frame, from
`int_futures__continuous`), simulate `--paths` independent paths of `--days` days (after a burn-in), and score on
the same simulated days (mean pinball loss over q10/q50/q90 of the h-day log return, as a ratio to `rw_ewma`):
- `rw_ewma`: EWMA (lambda 0.94) volatility, zero-mean normal quantiles (CBI's random walk);
- `oracle`: the model's true conditional h-day variance (analytic, known at the forecast date) times the standardised
  quantiles of the simulated h-day returns: what a forecaster who knows the data-generating process and its
  parameters attains. It bounds the Bayes risk from above (exact if the h-day return were location-scale given the
  variance) and is the yardstick: a close-price forecast cannot beat it on average.
The standard error is that of the mean of the per-path ratios (independent paths). With `--panel DIR` (the output
of `cbi panel`) it prints, per root and pooled, the served skill and the share of the gap to the limit it closes,
(1 - served) / (1 - limit).

    .venv/bin/python bench/limit.py --db /tmp/panel/real.duckdb --roots ZL --panel /tmp/panel/out
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter
from scipy.stats import norm

from cbi_ml.members.distribution import gjr_h_day_variance
from cbi_ml.panel.command import price_frames, read_bars

HORIZONS = {"1w": 5, "1m": 21, "3m": 63, "6m": 126}
LEVELS = np.array([0.1, 0.5, 0.9])
LAMBDA = 0.94
BURN = 1000


def fit(returns: np.ndarray) -> dict[str, float]:
    """Zero-mean GJR-GARCH(1,1) with Student-t innovations on percent returns (maximum likelihood, `arch`)."""
    from arch import arch_model

    res = arch_model(100 * returns, mean="Zero", vol="GARCH", p=1, o=1, q=1, dist="t", rescale=False).fit(disp="off")
    p = res.params
    return {"omega": p["omega"], "alpha": p["alpha[1]"], "gamma": p["gamma[1]"], "beta": p["beta[1]"], "nu": p["nu"]}


def simulate(
    params: dict[str, float], paths: int, days: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(returns, next-day variance known at each day), each (days, paths), percent units, after a burn-in."""
    nu = params["nu"]
    z = rng.standard_t(nu, size=(days + BURN, paths)) / np.sqrt(nu / (nu - 2))
    phi = params["alpha"] + params["gamma"] / 2 + params["beta"]
    var = np.full(paths, params["omega"] / max(1 - phi, 1e-6))
    r = np.empty_like(z)
    nxt = np.empty_like(z)
    for t in range(len(z)):
        r[t] = np.sqrt(var) * z[t]
        var = params["omega"] + (params["alpha"] + params["gamma"] * (r[t] < 0)) * r[t] ** 2 + params["beta"] * var
        nxt[t] = var
    return r[BURN:], nxt[BURN:]


def pinball(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    diff = y[..., None] - q
    return np.maximum(LEVELS * diff, (LEVELS - 1) * diff).mean(axis=-1)


def limit_ratios(params: dict[str, float], r: np.ndarray, nxt: np.ndarray) -> dict[str, tuple[float, float]]:
    """Per horizon: (mean over paths of oracle / rw_ewma pinball, its SE over paths)."""
    n = len(r)
    ewma = lfilter([1 - LAMBDA], [1, -LAMBDA], r**2, axis=0, zi=np.full((1, r.shape[1]), LAMBDA * np.mean(r**2)))[0]
    csum = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(r, axis=0)])
    out = {}
    for label, days in HORIZONS.items():
        m = n - days
        y = csum[days + 1 : m + days + 1] - csum[1 : m + 1]  # days t+1..t+h, forecast at the end of day t
        v = gjr_h_day_variance(nxt[:m], params["omega"], params["alpha"], params["gamma"], params["beta"], 0.5, days)
        shape = np.quantile(y / np.sqrt(v), LEVELS)
        oracle = pinball(y, np.sqrt(v)[..., None] * shape)
        walk = pinball(y, np.sqrt(ewma[:m] * days)[..., None] * norm.ppf(LEVELS))
        ratios = oracle.mean(axis=0) / walk.mean(axis=0)
        out[label] = (float(ratios.mean()), float(ratios.std(ddof=1) / np.sqrt(len(ratios))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/cbi-panel/real.duckdb")
    parser.add_argument("--roots", default="ZL")
    parser.add_argument("--start", default="2010-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--paths", type=int, default=16)
    parser.add_argument("--days", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--panel", type=Path, default=None, help="a `cbi panel` output folder: gap shares")
    parser.add_argument("--out", type=Path, default=None, help="write the limits table here (CSV)")
    parser.add_argument("--limits", type=Path, default=None, help="read the limits from a CSV of --out instead")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 200)
    table = pd.read_csv(args.limits) if args.limits else simulate_limits(args)
    if args.out:
        table.to_csv(args.out, index=False)
    print(table.round(4).to_string(index=False))
    if args.panel:
        print(gap_shares(table, args.panel).round(4).to_string(index=False))


def simulate_limits(args: argparse.Namespace) -> pd.DataFrame:
    """The limits table of every root asked for (see the module docstring)."""
    roots = None if args.roots == "all" else args.roots.split(",")
    frames = price_frames(read_bars(args.db, roots), HORIZONS, LAMBDA, args.end)
    rows = []
    for k, (root, frame) in enumerate(frames.items()):
        days = frame["as_of_date"].between(pd.Timestamp(args.start), pd.Timestamp(args.end))
        returns = frame.loc[days, "zl_log_return_1d"].dropna().to_numpy()
        params = fit(returns)
        r, nxt = simulate(params, args.paths, args.days, np.random.default_rng(args.seed + k))
        for label, (ratio, se) in limit_ratios(params, r, nxt).items():
            rows.append({"root": root, "horizon": label, "limit": ratio, "limit_se": se, **params})
    print(f"{args.paths} paths x {args.days:,} simulated days per root")
    return pd.DataFrame(rows)


def gap_shares(limits: pd.DataFrame, panel: Path) -> pd.DataFrame:
    """Per root measured and pooled: served skill, the limit, and (1 - served) / (1 - limit)."""
    metrics = pd.read_csv(panel / "panel_metrics.csv").merge(limits, on=["root", "horizon"])
    summary = pd.read_csv(panel / "panel_summary.csv")
    pooled_limit = limits.groupby("horizon", as_index=False).agg(
        limit=("limit", "mean"), limit_se=("limit_se", lambda se: float(np.sqrt((se**2).sum())) / len(se))
    )
    pooled = summary.merge(pooled_limit, on="horizon").assign(root="pooled (mean limit of the roots)")
    both = pd.concat([metrics, pooled], ignore_index=True)
    both["gap_closed"] = (1 - both["skill"]) / (1 - both["limit"])
    return both[["root", "horizon", "skill", "skill_se", "limit", "limit_se", "gap_closed"]]


if __name__ == "__main__":
    main()
