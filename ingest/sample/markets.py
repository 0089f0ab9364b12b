"""Simulated futures markets: correlated GARCH-t factors, crush and crack ties, contract curves.

Design (what makes it look like a market and what keeps it honest):
- Daily log returns `r = sigma_t * z_t`: `z` is a multivariate Student-t (nu = 5, one shared chi-square, so
  tails arrive together) with the cross-asset correlation of the real futures; `sigma_t` is a GARCH(1, 1)
  per root (volatility clustering). Means are zero: nothing predicts the direction of ZL.
- ZL and ZM are driftless random walks. ZS error-corrects towards the value of the products it crushes
  into (board crush is stationary), so the crush relationship holds ZL/ZM/ZS together without giving ZL
  any predictable component. HO and RB error-correct towards CL (stationary cracks); other roots revert
  very slowly to a long-run level so that 16 years stay in plausible price ranges.
- BRL (6L) and the euro (6E) move against the dollar index (DX).
- Each root has a contract cycle; every trade date writes the front and the next contract, with volume
  shifting to the next contract in the days before expiry, so a volume-based roll rule has work to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cbi_core.calendar import cme_bday, holidays
from ingest.release_times import futures_available_at
from ingest.sample.rng import stream

MONTH_CODES = "FGHJKMNQUVXZ"


@dataclass(frozen=True)
class RootSpec:
    root: str
    start_price: float
    ann_vol: float
    tick: float
    median_volume: float
    months: str
    carry: float  # annualised log basis of deferred contracts over the front
    expiry_rule: str  # "mid" (about the 14th of the contract month) or "prior" (20th of the month before)
    anchor: float | None = None  # long-run level for slow mean reversion; None = pure random walk


ROOTS: tuple[RootSpec, ...] = (
    RootSpec("ZL", 40.5, 0.23, 0.01, 41_000, "FHKNQUVZ", 0.03, "mid"),
    RootSpec("ZM", 300.0, 0.24, 0.1, 60_000, "FHKNQUVZ", 0.0, "mid"),
    RootSpec("ZS", 1000.0, 0.20, 0.25, 120_000, "FHKNQUX", 0.0, "mid"),
    RootSpec("CL", 80.0, 0.38, 0.01, 300_000, MONTH_CODES, 0.02, "prior", anchor=72.0),
    RootSpec("HO", 2.15, 0.32, 0.0001, 60_000, MONTH_CODES, 0.0, "prior"),
    RootSpec("RB", 2.05, 0.35, 0.0001, 60_000, MONTH_CODES, 0.0, "prior"),
    RootSpec("NG", 5.5, 0.50, 0.001, 120_000, MONTH_CODES, 0.08, "prior", anchor=3.2),
    RootSpec("HG", 3.3, 0.22, 0.0005, 60_000, "HKNUZ", 0.01, "mid", anchor=3.3),
    RootSpec("6L", 0.57, 0.15, 0.00005, 8_000, MONTH_CODES, -0.08, "mid", anchor=0.33),
    RootSpec("6E", 1.43, 0.085, 0.00005, 200_000, "HMUZ", 0.01, "mid", anchor=1.18),
    RootSpec("DX", 78.0, 0.075, 0.005, 20_000, "HMUZ", -0.01, "mid", anchor=94.0),
)
ROOT_INDEX = {spec.root: i for i, spec in enumerate(ROOTS)}

# Correlation of daily returns (SAMPLE_TARGETS.md where given, plausible values elsewhere).
_PAIRS: dict[tuple[str, str], float] = {
    ("ZL", "ZS"): 0.62,
    ("ZS", "ZM"): 0.84,
    ("ZL", "ZM"): 0.22,
    ("ZL", "CL"): 0.28,
    ("ZL", "HO"): 0.32,
    ("CL", "HO"): 0.80,
    ("CL", "RB"): 0.75,
    ("HO", "RB"): 0.78,
    ("ZL", "HG"): 0.29,
    ("ZL", "6L"): 0.19,
    ("HG", "6E"): 0.30,
    ("ZS", "CL"): 0.20,
    ("ZM", "CL"): 0.08,
    ("ZL", "RB"): 0.25,
    ("ZS", "HG"): 0.25,
    ("CL", "HG"): 0.30,
    ("HO", "HG"): 0.25,
    ("RB", "HG"): 0.22,
    ("6L", "HG"): 0.30,
    ("6L", "6E"): 0.40,
    ("6E", "DX"): -0.95,
    ("6L", "DX"): -0.45,
    ("HG", "DX"): -0.32,
    ("CL", "DX"): -0.20,
    ("ZL", "DX"): -0.15,
    ("ZS", "DX"): -0.12,
    ("ZS", "6L"): 0.12,
    ("CL", "6L"): 0.20,
    ("NG", "CL"): 0.14,
    ("NG", "HO"): 0.12,
    ("NG", "RB"): 0.08,
    ("NG", "ZL"): 0.06,
    ("CL", "6E"): 0.18,
    ("HO", "DX"): -0.18,
    ("RB", "DX"): -0.15,
    ("HO", "6E"): 0.15,
    ("RB", "6E"): 0.12,
    ("ZL", "6E"): 0.14,
    ("ZS", "6E"): 0.10,
    ("HO", "6L"): 0.15,
    ("RB", "6L"): 0.12,
    ("ZM", "6L"): 0.05,
    ("ZM", "HG"): 0.12,
    ("ZM", "DX"): -0.08,
}

GARCH_ALPHA, GARCH_BETA, STUDENT_NU = 0.08, 0.90, 8.0
CRUSH_LOG_MARGIN, CRUSH_SPEED = 0.088, 0.012  # ln(product value / ZS) and its daily error correction
CRACK_SPEED, ANCHOR_SPEED = 0.02, np.log(2) / 750


def correlation_matrix() -> np.ndarray:
    """Target correlation matrix, projected onto the nearest positive-definite matrix."""
    k = len(ROOTS)
    corr = np.eye(k)
    for (a, b), rho in _PAIRS.items():
        i, j = ROOT_INDEX[a], ROOT_INDEX[b]
        corr[i, j] = corr[j, i] = rho
    vals, vecs = np.linalg.eigh(corr)
    fixed = vecs @ np.diag(np.clip(vals, 1e-3, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def simulate_shocks(n: int, seed: int) -> np.ndarray:
    """Unit-variance, correlated, fat-tailed shocks of shape (n, k)."""
    k = len(ROOTS)
    chol = np.linalg.cholesky(correlation_matrix())
    normal = stream(seed, "markets.normal").standard_normal((n, k))
    chi2 = stream(seed, "markets.chi2").chisquare(STUDENT_NU, n)
    scale = np.sqrt((STUDENT_NU - 2.0) / chi2)
    return (normal @ chol.T) * scale[:, None]


def simulate_spot_paths(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log front prices (n, k) and the GARCH daily volatilities (n, k) that generated them."""
    z = simulate_shocks(n, seed)
    k = len(ROOTS)
    daily_var = np.array([(s.ann_vol**2) / 252.0 for s in ROOTS])
    omega = daily_var * (1.0 - GARCH_ALPHA - GARCH_BETA)
    sigma2 = np.empty((n, k))
    logp = np.empty((n, k))
    sigma2[0] = daily_var
    logp[0] = np.log([s.start_price for s in ROOTS])
    zl, zm, zs = ROOT_INDEX["ZL"], ROOT_INDEX["ZM"], ROOT_INDEX["ZS"]
    cl, ho, rb = ROOT_INDEX["CL"], ROOT_INDEX["HO"], ROOT_INDEX["RB"]
    anchors = np.array([np.log(s.anchor) if s.anchor else np.nan for s in ROOTS])
    has_anchor = ~np.isnan(anchors)
    crack_ho, crack_rb = np.log(1.12 / 42.0), np.log(1.05 / 42.0)  # ln(product $/gal per CL $/bbl)
    prev_r = np.zeros(k)
    for t in range(1, n):
        sigma2[t] = omega + GARCH_ALPHA * prev_r**2 + GARCH_BETA * sigma2[t - 1]
        r = np.sqrt(sigma2[t]) * z[t]
        prev = logp[t - 1]
        pull = np.zeros(k)
        pull[has_anchor] = -ANCHOR_SPEED * (prev[has_anchor] - anchors[has_anchor])
        product_value = np.log(100.0 * (0.022 * np.exp(prev[zm]) + 0.11 * np.exp(prev[zl])))
        pull[zs] = CRUSH_SPEED * (product_value - prev[zs] - CRUSH_LOG_MARGIN)
        pull[ho] = CRACK_SPEED * (prev[cl] + crack_ho - prev[ho])
        pull[rb] = CRACK_SPEED * (prev[cl] + crack_rb - prev[rb])
        logp[t] = prev + r + pull
        prev_r = r
    return logp, np.sqrt(sigma2)


def contract_schedule(spec: RootSpec, first_year: int, last_year: int) -> pd.DataFrame:
    """Contracts of `spec` with their last trade dates, ordered by expiry."""
    rows = []
    for year in range(first_year, last_year + 1):
        for code in spec.months:
            month = MONTH_CODES.index(code) + 1
            if spec.expiry_rule == "mid":
                last = pd.Timestamp(year, month, 15) - cme_bday()
            else:
                last = pd.Timestamp(year, month, 1) - pd.DateOffset(months=1) + pd.Timedelta(days=19)
                last = last - 0 * cme_bday()
            rows.append({"contract": f"{spec.root}{code}{year % 100:02d}", "last_trade_date": last})
    return pd.DataFrame(rows).sort_values("last_trade_date", ignore_index=True)


def _round_to_tick(x: np.ndarray, tick: float) -> np.ndarray:
    decimals = max(0, int(np.ceil(-np.log10(tick))) + 1)
    return np.round(np.round(x / tick) * tick, decimals)


def futures_bars(days: pd.DatetimeIndex, logp: np.ndarray, sigma: np.ndarray, seed: int) -> pd.DataFrame:
    """Daily bars for the front and next contract of every root on every trade date, given the simulated
    log spot prices and daily volatilities of `simulate_spot_paths`."""
    n = len(days)
    day_index = days.values.astype("datetime64[D]")
    frames = []
    for j, spec in enumerate(ROOTS):
        sched = contract_schedule(spec, days[0].year, days[-1].year + 2)
        ltd = sched["last_trade_date"].values.astype("datetime64[D]")
        front = np.searchsorted(ltd, day_index, side="left")
        gen = stream(seed, f"bars.{spec.root}")
        noise = gen.standard_normal((n, 5))
        spot_close = np.exp(logp[:, j])
        sig = sigma[:, j]
        prev_close = np.concatenate([[spot_close[0]], spot_close[:-1]])
        open_rel = prev_close * np.exp(0.2 * sig * noise[:, 0]) / spot_close
        high_rel = np.maximum(open_rel, 1.0) * np.exp(np.abs(noise[:, 1]) * 0.6 * sig)
        low_rel = np.minimum(open_rel, 1.0) * np.exp(-np.abs(noise[:, 2]) * 0.6 * sig)
        activity = np.exp(0.35 * noise[:, 3] + 0.5 * (np.abs(noise[:, 4]) - 0.8))
        total_volume = spec.median_volume * activity
        oi_noise = stream(seed, f"oi.{spec.root}").standard_normal(n)
        log_oi = np.empty(n)
        log_oi[0] = 0.0
        for t in range(1, n):
            log_oi[t] = 0.995 * log_oi[t - 1] + 0.03 * oi_noise[t]
        total_oi = 8.0 * spec.median_volume * np.exp(log_oi)
        basis_noise = stream(seed, f"basis.{spec.root}").standard_normal((n, 2)) * 0.0006
        for leg in (0, 1):
            idx = front + leg
            days_left = np.busday_count(day_index, ltd[front], holidays=holidays())
            front_share = np.clip((days_left - 2) / 10.0, 0.04, 0.92)
            share = front_share if leg == 0 else 1.0 - front_share
            tau = (ltd[idx] - day_index).astype(float) / 365.0
            close = spot_close * np.exp(spec.carry * tau + (basis_noise[:, 1] if leg else 0.0))
            c = _round_to_tick(close, spec.tick)
            o = _round_to_tick(close * open_rel, spec.tick)
            h = np.maximum(_round_to_tick(close * high_rel, spec.tick), np.maximum(o, c))
            lo = np.minimum(_round_to_tick(close * low_rel, spec.tick), np.minimum(o, c))
            frames.append(
                pd.DataFrame(
                    {
                        "root": spec.root,
                        "contract": sched["contract"].values[idx],
                        "trade_date": days,
                        "open": o,
                        "high": h,
                        "low": lo,
                        "close": c,
                        "volume": np.maximum(1, np.round(total_volume * share)).astype("int64"),
                        "open_interest": np.round(total_oi * np.clip(share + 0.05, 0, 1)).astype("int64"),
                    }
                )
            )
    bars = pd.concat(frames, ignore_index=True)
    bars["available_at"] = futures_available_at(bars["trade_date"]).values
    bars["trade_date"] = bars["trade_date"].dt.date
    return bars.sort_values(["root", "trade_date", "contract"], ignore_index=True)
