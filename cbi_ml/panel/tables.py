"""The panel's tables: per root and horizon (`panel_metrics.csv`), pooled per horizon (`panel_summary.csv`) and
every member's pooled skill (`panel_members.csv`), from the scored rows of the layers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_ml.panel.choice import BASE
from cbi_ml.panel.stats import hit_rates, masked_pinball, newey_west_se, pooled_skill, rate_with_se
from cbi_ml.panel.walk import columns_of
from cbi_ml.scoring import ratio_standard_error

RATES = ("coverage80", "q10_hit", "q90_hit")


def method_mix(names: np.ndarray) -> str:
    """'range_ewma 62%, rw_ewma 38%': the share of rows each method served."""
    counts = pd.Series(names).value_counts(normalize=True)
    return ", ".join(f"{name} {share:.0%}" for name, share in counts.items())


def scored_frame(wide: pd.DataFrame, served: np.ndarray, names: np.ndarray, start: str) -> pd.DataFrame:
    """The rows from `start` on, with the served quantiles, the served name and the raw `rw_ewma` losses."""
    base = wide[columns_of(BASE)].to_numpy(dtype=float)
    y = wide["y"].to_numpy(dtype=float)
    out = wide[["root", "horizon", "days", "as_of_date", "y"]].assign(
        served=names,
        loss=masked_pinball(y, served),
        base_loss=masked_pinball(y, base),
        **hit_rates(y, served),
    )
    return out[out["as_of_date"] >= pd.Timestamp(start)].reset_index(drop=True)


def root_metrics(scored: pd.DataFrame) -> pd.DataFrame:
    """panel_metrics: per root and horizon, n, the three rates with Newey-West SEs (lag 2h), the served skill vs
    `rw_ewma` with its EWC SE, and the served method mix."""
    rows = []
    for (root, horizon), g in scored.groupby(["root", "horizon"], sort=True):
        days = int(g["days"].iloc[0])
        ok = g["loss"].notna() & g["base_loss"].notna()
        row = {"root": root, "horizon": horizon, "days": days, "n": int(ok.sum())}
        for rate in RATES:
            row[rate] = float(g.loc[ok, rate].mean())
            row[f"{rate}_se"] = newey_west_se(g.loc[ok, rate].to_numpy(), 2 * days)
        loss, base = g.loc[ok, "loss"].to_numpy(), g.loc[ok, "base_loss"].to_numpy()
        row["skill"] = float(loss.mean() / base.mean()) if ok.any() else np.nan
        row["skill_se"] = float(ratio_standard_error(loss, base, days)) if ok.any() else np.nan
        row["served"] = method_mix(g.loc[ok, "served"].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def pooled_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """panel_summary: per horizon, pooled over roots on the pooled daily series (see `panel.stats`)."""
    rows = []
    for horizon, g in scored.groupby("horizon", sort=False):
        days = int(g["days"].iloc[0])
        g = g[g["loss"].notna() & g["base_loss"].notna()]
        dates, roots = g["as_of_date"].to_numpy(), g["root"].to_numpy()
        row = {"horizon": horizon, "days": days, "roots": g["root"].nunique(), "dates": len(np.unique(dates))}
        row["n"] = len(g)
        for rate in RATES:
            row[rate], row[f"{rate}_se"] = rate_with_se(g[rate].to_numpy(), dates, days)
        skill, se, dof = pooled_skill(g["loss"].to_numpy(), g["base_loss"].to_numpy(), roots, dates, days)
        row.update(skill=skill, skill_se=se, skill_dof=dof, served=method_mix(g["served"].to_numpy()))
        rows.append(row)
    return pd.DataFrame(rows)


def member_summary(wide: pd.DataFrame, calibrated: dict[str, np.ndarray], start: str, calibration: str) -> pd.DataFrame:
    """Every member's pooled skill vs raw `rw_ewma` and its coverage, raw and calibrated, on the scored rows of one
    horizon."""
    keep = (wide["as_of_date"] >= pd.Timestamp(start)).to_numpy()
    y = wide["y"].to_numpy(dtype=float)[keep]
    roots, dates = wide["root"].to_numpy()[keep], wide["as_of_date"].to_numpy()[keep]
    days = int(wide["days"].iloc[0])
    base = masked_pinball(y, wide[columns_of(BASE)].to_numpy(dtype=float)[keep])
    rows = []
    for member, cal in calibrated.items():
        for label, q in (("none", wide[columns_of(member)].to_numpy(dtype=float)[keep]), (calibration, cal[keep])):
            loss = masked_pinball(y, q)
            skill, se, dof = pooled_skill(loss, base, roots, dates, days)
            coverage, coverage_se = rate_with_se(hit_rates(y, q)["coverage80"], dates, days)
            roots_better = _roots_better(loss, base, roots)
            rows.append(
                dict(
                    horizon=wide["horizon"].iloc[0],
                    member=member,
                    calibration=label,
                    skill=skill,
                    skill_se=se,
                    skill_dof=dof,
                    coverage80=coverage,
                    coverage80_se=coverage_se,
                    roots_better=roots_better,
                )
            )
    return pd.DataFrame(rows).drop_duplicates(["member", "calibration"])


def _roots_better(loss: np.ndarray, base: np.ndarray, roots: np.ndarray) -> str:
    """'18/28': roots on which the member's mean loss is below the base's (rows where both exist)."""
    frame = pd.DataFrame({"root": roots, "a": loss, "b": base}).dropna()
    means = frame.groupby("root")[["a", "b"]].mean()
    return f"{int((means['a'] < means['b']).sum())}/{len(means)}"
