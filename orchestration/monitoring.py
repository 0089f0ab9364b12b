"""Model monitoring as pure functions (frames in, frames out; no database): forecasts joined to outcomes,
rolling pinball loss against the random walks, 80% coverage with Kupiec's test, VaR exceptions with the Basel
traffic light, and feature drift (PSI by feature group). Thresholds come from `orchestration.config`.

Forecasts of h-day returns issued every day overlap: one bad week makes h consecutive misses. The coverage and
VaR tests therefore use every h-th forecast (`cbi_ml.evaluation.var_backtests.non_overlapping`), as their independence
assumption requires; pinball and coverage figures use every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binom

from cbi_ml.evaluation.var_backtests import exceptions, kupiec_pof, non_overlapping, traffic_light, zone_bounds
from cbi_ml.scoring import row_pinball
from orchestration.config import Band, Thresholds

MONITORING_COLUMNS = ["horizon", "model", "window_days", "metric", "value", "threshold", "status"]
OUTCOME_COLUMNS = [
    "as_of_date",
    "horizon",
    "target_date",
    "model",
    "p10",
    "p50",
    "p90",
    "realised_price",
    "pinball",
    "covered_80",
]
ZONES = {"green": 0, "yellow": 1, "red": 2}


def join_outcomes(forecasts: pd.DataFrame, realised: pd.DataFrame) -> pd.DataFrame:
    """Every logged forecast whose outcome is known, with its pinball loss and whether it fell in [P10, P90].

    `forecasts`: as_of_date, horizon, target_date, model, p10, p50, p90 (prices, cents/lb) [+ var_95_ret,
    var_99_ret, close]. `realised`: as_of_date, horizon, realised_price, realised_return (the h-day log return
    of the back-adjusted series from as_of_date, the models' own target). Pinball is in cents/lb."""
    merged = forecasts.merge(realised, on=["as_of_date", "horizon"], how="inner")
    merged = merged[merged["realised_price"].notna()].copy()
    q = merged[["p10", "p50", "p90"]].to_numpy(dtype=float)
    y = merged["realised_price"].to_numpy(dtype=float)
    merged["pinball"] = row_pinball(y, q) if len(merged) else []
    merged["covered_80"] = (y >= q[:, 0]) & (y <= q[:, 2]) if len(merged) else []
    return merged.sort_values(["horizon", "model", "as_of_date"]).reset_index(drop=True)


def _row(horizon: str, model: str, window: int, metric: str, value: float, band_or_limit, status: str | None = None):
    threshold = band_or_limit.threshold() if isinstance(band_or_limit, Band) else float(band_or_limit)
    if status is None:
        status = band_or_limit.status(value) if isinstance(band_or_limit, Band) else "ok"
    return {
        "horizon": horizon,
        "model": model,
        "window_days": int(window),
        "metric": metric,
        "value": float(value),
        "threshold": threshold,
        "status": status,
    }


def _zone_status(zone: str) -> str:
    return {"green": "ok", "yellow": "warn", "red": "alert"}.get(zone, "ok")


def forecast_metrics(outcomes: pd.DataFrame, horizon_days: dict[str, int], thresholds: Thresholds) -> pd.DataFrame:
    """Rolling-window figures per horizon and model over the last `w` evaluated as_of_dates (w in
    `thresholds.windows`): pinball, pinball_ratio_rw (against the better random walk on the same dates),
    coverage_80 and kupiec_p; for forecasts carrying VaR (var_95_ret, var_99_ret and realised_return):
    var95_breaches, var99_breaches and basel_zone (0 green, 1 yellow, 2 red)."""
    rows: list[dict] = []
    for horizon, by_horizon in outcomes.groupby("horizon", sort=True):
        days = int(horizon_days[horizon])
        dates = np.sort(by_horizon["as_of_date"].unique())
        for window in thresholds.windows:
            in_window = by_horizon[by_horizon["as_of_date"].isin(dates[-window:])]
            if in_window["as_of_date"].nunique() < thresholds.min_rows:
                continue
            losses = in_window.pivot_table(index="as_of_date", columns="model", values="pinball", aggfunc="first")
            walks = [w for w in thresholds.random_walks if w in losses.columns]
            for model, frame in in_window.groupby("model", sort=True):
                frame = frame.sort_values("as_of_date")
                pinball = float(frame["pinball"].mean())
                rows.append(_row(horizon, model, window, "pinball", pinball, np.nan, "ok"))
                if walks:
                    paired = losses[list(dict.fromkeys([model, *walks]))].dropna()
                    if len(paired) >= thresholds.min_rows:
                        best_rw = min(float(paired[w].mean()) for w in walks)
                        ratio = float(paired[model].mean()) / best_rw if best_rw > 0 else np.nan
                        rows.append(
                            _row(horizon, model, window, "pinball_ratio_rw", ratio, thresholds.pinball_ratio_rw)
                        )
                covered = frame["covered_80"].to_numpy(dtype=bool)
                rows.append(
                    _row(horizon, model, window, "coverage_80", covered.mean(), thresholds.coverage_level, "ok")
                )
                misses = non_overlapping(~covered, days)
                _, p_value = kupiec_pof(int(misses.sum()), len(misses), thresholds.coverage_level)
                rows.append(_row(horizon, model, window, "kupiec_p", p_value, thresholds.kupiec_p))
                rows.extend(_var_rows(frame, horizon, model, window, days, thresholds))
    out = pd.DataFrame(rows, columns=MONITORING_COLUMNS)
    # Only the served forecast alerts (Thresholds.served_models): a member that loses to the random walk or
    # misses its coverage is what validation already showed, and the final layer acts on it; it warns.
    out.loc[~out["model"].isin(thresholds.served_models) & (out["status"] == "alert"), "status"] = "warn"
    return out


def _var_rows(frame: pd.DataFrame, horizon: str, model: str, window: int, days: int, thresholds: Thresholds):
    out = []
    if "realised_return" not in frame:
        return out
    for level in thresholds.var_levels:
        column = f"var_{round(level * 100)}_ret"
        if column not in frame or frame[column].isna().all():
            continue
        hits = non_overlapping(exceptions(frame["realised_return"].to_numpy(), frame[column].to_numpy()), days)
        n, x = len(hits), int(hits.sum())
        zone = traffic_light(x, n, level)
        _, red = zone_bounds(n, level)
        judged = red_means_wrong(n, level, thresholds.kupiec_p.alert)
        status = _zone_status(zone) if judged or zone != "red" else "warn"
        out.append(_row(horizon, model, window, f"var{round(level * 100)}_breaches", x, red, status))
        if level == max(thresholds.var_levels):
            basel = _row(horizon, model, window, "basel_zone", ZONES.get(zone, 0), thresholds.basel_zone)
            out.append(basel if judged or basel["status"] != "alert" else {**basel, "status": "warn"})
    return out


def red_means_wrong(n: int, level: float, alpha: float) -> bool:
    """Whether `n` independent outcomes are enough for the red zone to mean a wrong VaR: a correct one lands
    there with probability at most `alpha` (the alert significance of the coverage test). The Basel table is
    built for 250 days; over a few outcomes its rule degenerates (one outcome, one exception of a 95% VaR:
    "red", which a correct VaR gives 5% of the time), so such a window warns at most."""
    _, red = zone_bounds(n, level)
    return red <= n and float(binom.sf(red - 1, n, 1.0 - level)) <= alpha


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of `current` against `reference`: sum (c - r) ln(c / r) over the reference's
    quantile bins (shares floored at `eps`). NaN when either side has no finite value or the reference is
    constant."""
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    reference = reference[np.isfinite(reference)]
    current = current[np.isfinite(current)]
    if len(reference) == 0 or len(current) == 0:
        return float("nan")
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    if len(edges) == 0:
        return float("nan")
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=len(edges) + 1) / len(reference)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / len(current)
    r, c = np.maximum(r, eps), np.maximum(c, eps)
    return float(np.sum((c - r) * np.log(c / r)))


def group_psi(reference: pd.DataFrame, current: pd.DataFrame, features: list[str], bins: int) -> dict[str, float]:
    """PSI of each of `features` (finite values only): current window against the reference window."""
    values = {f: psi(reference[f].to_numpy(dtype=float), current[f].to_numpy(dtype=float), bins) for f in features}
    return {f: v for f, v in values.items() if np.isfinite(v)}


def psi_columns(reference: np.ndarray, current: np.ndarray, bins: int = 10, eps: float = 1e-4) -> np.ndarray:
    """`psi` of every column at once (the same figure: a repeated quantile edge only adds bins empty on both
    sides, which add nothing). NaN for a column without a finite value on either side."""
    finite_r, finite_c = np.isfinite(reference), np.isfinite(current)
    n_r, n_c = finite_r.sum(axis=0), finite_c.sum(axis=0)
    out = np.full(reference.shape[1], np.nan)
    usable = (n_r > 0) & (n_c > 0)
    if not usable.any():
        return out
    ref, cur = reference[:, usable], current[:, usable]
    levels = np.linspace(0, 1, bins + 1)[1:-1]
    whole = finite_r[:, usable].all(axis=0)  # np.quantile where nothing is missing: nanquantile is slow
    edges = np.empty((bins - 1, ref.shape[1]))
    edges[:, whole] = np.quantile(ref[:, whole], levels, axis=0)
    edges[:, ~whole] = np.nanquantile(np.where(np.isfinite(ref[:, ~whole]), ref[:, ~whole], np.nan), levels, axis=0)
    # bin of x: how many edges are <= x (searchsorted side="right"); non-finite values counted in no bin
    r_bin = (ref[:, None, :] >= edges[None, :, :]).sum(axis=1)
    c_bin = (cur[:, None, :] >= edges[None, :, :]).sum(axis=1)
    r_share = np.stack([((r_bin == k) & finite_r[:, usable]).sum(axis=0) for k in range(bins)]) / n_r[usable]
    c_share = np.stack([((c_bin == k) & finite_c[:, usable]).sum(axis=0) for k in range(bins)]) / n_c[usable]
    r_share, c_share = np.maximum(r_share, eps), np.maximum(c_share, eps)
    out[usable] = np.sum((c_share - r_share) * np.log(c_share / r_share), axis=0)
    return out


def mean_psi(reference: np.ndarray, current: np.ndarray, bins: int) -> float:
    """The mean PSI over the columns (features) of two row windows, finite values only (NaN: none)."""
    values = psi_columns(reference, current, bins)
    finite = values[np.isfinite(values)]
    return float(np.mean(finite)) if len(finite) else float("nan")


def drift_history(frame: pd.DataFrame, features: list[str], stop: int, thresholds: Thresholds) -> np.ndarray:
    """The group's PSI in every past window the data allows, ending at row `stop` (exclusive) and stepping back
    `psi_history_step` rows: what the statistic looks like when nothing is wrong, on the features' own history."""
    cur, ref = thresholds.psi_current_days, thresholds.psi_reference_days
    values = frame[features].to_numpy(dtype=float)  # once: slicing a wide frame per window costs more than PSI
    out = [
        mean_psi(values[end - cur - ref : end - cur], values[end - cur : end], thresholds.psi_bins)
        for end in range(stop, cur + ref - 1, -thresholds.psi_history_step)
    ]
    return np.asarray([v for v in out if np.isfinite(v)], dtype=float)


def drift_band(history: np.ndarray, thresholds: Thresholds) -> Band:
    """The warn and alert limits of a group's PSI: the `psi_warn_quantile` and `psi_alert_quantile` of its own
    history, never below the fixed band (`Thresholds.psi`); the fixed band alone with too little history."""
    if len(history) < thresholds.psi_min_history:
        return thresholds.psi
    warn = max(float(np.quantile(history, thresholds.psi_warn_quantile)), thresholds.psi.warn)
    alert = max(float(np.quantile(history, thresholds.psi_alert_quantile)), thresholds.psi.alert, warn)
    return Band(warn=warn, alert=alert)


def drift_detail(reference: pd.DataFrame, current: pd.DataFrame, per: dict[str, float], band: Band) -> str:
    """What an alert says: the feature that moved most, by how much (PSI and mean shift in reference SDs)."""
    top = max(per, key=per.get)
    sd = float(np.nanstd(reference[top].to_numpy(dtype=float)))
    shift = (np.nanmean(current[top].to_numpy(dtype=float)) - np.nanmean(reference[top].to_numpy(dtype=float))) / sd
    moved = f"mean {shift:+.1f} SD" if sd > 0 and np.isfinite(shift) else "mean shift undefined"
    return (
        f"most moved: {top} (PSI {per[top]:.2f}, {moved}) of {len(per)} feature(s); band warn {band.warn:.2f}, "
        f"alert {band.alert:.2f} from the group's own history"
    )


def feature_drift(
    matrix: pd.DataFrame, catalog: pd.DataFrame, train_end: pd.Timestamp | None, thresholds: Thresholds
) -> pd.DataFrame:
    """PSI per feature group (`feature_catalog.bucket`): the mean over the group's features of the PSI of the
    last `psi_current_days` rows against the `psi_reference_days` rows up to `train_end` (the training
    window of the serving models; default: the rows just before the current window), judged against the band of
    the group's own history up to `train_end` (`drift_band`). A `detail` column names the feature that moved most
    (not stored; the alert text)."""
    frame = matrix.sort_values("as_of_date").reset_index(drop=True)
    dates = pd.to_datetime(frame["as_of_date"])
    current = frame.iloc[-thresholds.psi_current_days :]
    end = pd.Timestamp(train_end) if train_end is not None else dates.iloc[-thresholds.psi_current_days - 1]
    reference = frame[dates <= end].iloc[-thresholds.psi_reference_days :]
    stop = int((dates <= end).sum())
    rows = []
    for group, names in catalog.groupby("bucket", sort=True)["feature_name"]:
        features = [f for f in names if f in frame.columns]
        per = group_psi(reference, current, features, thresholds.psi_bins)
        if not per:
            continue
        band = drift_band(drift_history(frame, features, stop, thresholds), thresholds)
        row = _row("all", "features", len(current), f"psi_{group}", float(np.mean(list(per.values()))), band)
        rows.append({**row, "detail": drift_detail(reference, current, per, band)})
    return pd.DataFrame(rows, columns=[*MONITORING_COLUMNS, "detail"])
