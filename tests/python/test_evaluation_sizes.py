"""Is the uncertainty CBI reports the right size? Simulated overlapping h-day forecasts from a known process.

The outcome at row t is the sum of the next h daily log returns (overlapping h-day labels, as in the
warehouse). Two processes:
- i.i.d. normal returns and fixed P10/P50/P90 forecasts: losses with exactly the dependence of overlapping
  labels (MA(h - 1)) and nothing else (the skill ratio's standard error);
- GARCH(1,1) returns with Student-t(6) innovations (volatility clustering, heavy tails) and two forecasts whose
  loss differential persists for months under the overlap (the Diebold-Mariano test's size).
Everything is vectorised over replications and runs the production functions (`ratio_standard_error`,
`dm_test`; the scalar wrappers the backtest calls delegate to them).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kurtosis, norm

from cbi_ml.quantiles import QUANTILE_LEVELS
from cbi_ml.scoring import diebold_mariano, dm_test, ratio_standard_error, skill_ratio_se

DAILY_SD = 0.01
#: GARCH(1,1)-t: persistence 0.98 and a finite fourth moment (beta^2 + 2 alpha beta + 6 alpha^2 = 0.973 < 1,
#: 6 the kurtosis of a unit-variance t(6)), so that pinball losses have the variance a mean-based test needs.
GARCH_ALPHA, GARCH_BETA, GARCH_NU = 0.05, 0.93, 6


def overlapping_losses(h: int, n: int, reps: int, shifts: tuple[float, float], widths: tuple[float, float], seed):
    """Per-row mean pinball losses (reps x n) of two fixed quantile forecasts of overlapping h-day returns,
    each a normal with centre shift * sd and scale width * sd (sd = true h-day SD)."""
    rng = np.random.default_rng(seed)
    daily = rng.standard_normal((reps, n + h)) * DAILY_SD
    cum = np.cumsum(daily, axis=1)
    y = cum[:, h:] - cum[:, :-h]
    sd = DAILY_SD * np.sqrt(h)
    out = []
    for shift, width in zip(shifts, widths, strict=True):
        loss = np.zeros_like(y)
        for level in QUANTILE_LEVELS:
            err = y - sd * (shift + width * norm.ppf(level))
            loss += np.maximum(level * err, (level - 1) * err)
        out.append(loss / len(QUANTILE_LEVELS))
    return out


@pytest.mark.parametrize(("h", "n"), [(5, 252), (21, 252), (63, 756)])
def test_ratio_standard_error_matches_the_true_sampling_sd(h, n):
    reps = 2000
    # a calibrated forecast against one 50% too wide (ratio ~0.9): the SE of a real skill ratio
    loss, base = overlapping_losses(h, n, reps, shifts=(0.0, 0.0), widths=(1.0, 1.5), seed=h * 1000 + n)
    ratio = loss.mean(axis=1) / base.mean(axis=1)
    se = ratio_standard_error(loss, base, h)
    true_sd = ratio.std(ddof=1)
    measured = np.sqrt(np.mean(se**2)) / true_sd  # root mean square SE over the true SD
    # Monte Carlo error of `measured`: relative SE of a sample SD, sqrt((kurtosis + 2) / (4 R)), and of a root
    # mean square, sd(se^2) / (2 mean(se^2) sqrt(R)); the two are independent (SE and ratio are orthogonal
    # projections of the losses).
    mc = measured * np.sqrt((kurtosis(ratio) + 2) / (4 * reps) + (np.std(se**2) / (2 * np.mean(se**2))) ** 2 / reps)
    print(f"h={h} n={n}: rms SE / true SD = {measured:.3f} (MC SE {mc:.3f}), mean SE / SD = {se.mean() / true_sd:.3f}")
    assert mc < 0.02  # enough replications that the band below is not Monte Carlo noise
    # The EWC variance is unbiased for the variance of the mean up to the curvature of the spectrum over the
    # B lowest frequencies (under 5% by the choice of B) and the delta method's second-order terms; the old
    # moving-block bootstrap came to 0.80-0.87 here (h = 5 may pass; 21 and 63 fail).
    # Band: 1 - 0.10 (bias allowed) - 3 MC SE .. 1 + 3 MC SE.
    assert 0.90 - 3 * mc <= measured <= 1.0 + 3 * mc
    # the scalar the backtest calls is the same number
    assert skill_ratio_se(loss[0], base[0], h) == pytest.approx(se[0])


def garch_t_paths(reps: int, days: int, rng: np.random.Generator, burn: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(returns, conditional SD) of `reps` GARCH(1,1)-t paths of `days` days, daily unconditional SD `DAILY_SD`;
    sd[:, t] is known at the close of day t - 1."""
    omega = DAILY_SD**2 * (1 - GARCH_ALPHA - GARCH_BETA)
    z = rng.standard_t(GARCH_NU, size=(reps, days + burn)) / np.sqrt(GARCH_NU / (GARCH_NU - 2))
    var = np.full(reps, DAILY_SD**2)
    returns, sd = np.empty_like(z), np.empty_like(z)
    for t in range(days + burn):
        sd[:, t] = np.sqrt(var)
        returns[:, t] = sd[:, t] * z[:, t]
        var = omega + GARCH_ALPHA * returns[:, t] ** 2 + GARCH_BETA * var
    return returns[:, burn:], sd[:, burn:]


def persistent_ar(reps: int, n: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-variance Gaussian AR(1) paths, started in their stationary distribution."""
    x = np.empty((reps, n))
    x[:, 0] = rng.standard_normal(reps)
    shocks = rng.standard_normal((reps, n)) * np.sqrt(1 - rho**2)
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + shocks[:, t]
    return x


def garch_losses(h: int, n: int, reps: int, seed: int, rho: float = 0.98, shift: float = 0.3, widths=(1.0, 1.0)):
    """Per-row mean pinball losses (reps x n) of two forecasts of overlapping h-day GARCH-t returns, both scaled
    by the true conditional SD s_t sqrt(h): centres shift (1 + x_t) s and shift (1 - x_t) s, widths as given,
    where x_t is a persistent AR(1) independent of the returns. One forecast is better while x_t > 0, the other
    while x_t < 0, for weeks at a time (AR 0.98); since x and -x have one distribution, the expected losses are
    exactly equal (with equal widths): a true null with a persistent, heteroskedastic, heavy-tailed
    differential."""
    rng = np.random.default_rng(seed)
    returns, sd = garch_t_paths(reps, n + h, rng)
    cum = np.concatenate([np.zeros((reps, 1)), np.cumsum(returns, axis=1)], axis=1)
    y = cum[:, h : n + h] - cum[:, :n]  # returns of days t .. t + h - 1, forecast with sd[:, t]
    scale = sd[:, :n] * np.sqrt(h)
    x = persistent_ar(reps, n, rho, rng)
    out = []
    for sign, width in zip((1.0, -1.0), widths, strict=True):
        centre = shift * (1 + sign * x) * scale
        loss = np.zeros_like(y)
        for level in QUANTILE_LEVELS:
            err = y - centre - width * scale * norm.ppf(level)
            loss += np.maximum(level * err, (level - 1) * err)
        out.append(loss / len(QUANTILE_LEVELS))
    return out


@pytest.mark.parametrize(("h", "n"), [(5, 1000), (21, 1000), (63, 2000)])
def test_diebold_mariano_size_under_a_persistent_garch_loss_differential(h, n):
    """Nominal 5%, band [2.5%, 7.5%], 2,000 replications: binomial SE of the rejection rate 0.49% at 5%, so the
    band is 5 SE wide each side and a test rejecting 8% fails by 6 SE. Without `DM_MEMORY` (0.4 n^(2/3) cosine
    terms) the rates were 15.9% / 8.0% / 6.1%: h = 5 and h = 21 fail."""
    reps = 2000
    loss, base = garch_losses(h, n, reps, seed=h * 7 + n)
    stat, p, dof = dm_test(loss, base, h)
    size = float(np.mean(p < 0.05))
    se = np.sqrt(size * (1 - size) / reps)
    print(f"h={h} n={n}: DM size {size:.3f} +- {se:.3f} at nominal 0.05 ({dof} dof)")
    assert 0.025 <= size <= 0.075
    assert diebold_mariano(loss[0], base[0], h) == pytest.approx((float(stat[0]), float(p[0])))


@pytest.mark.parametrize(("h", "n"), [(5, 1000), (21, 504), (63, 504)])
def test_diebold_mariano_size_on_iid_overlapping_losses(h, n):
    reps = 2000
    # equal expected loss: the same forecast shifted up and down by 0.3 SD (mirror images for a symmetric
    # outcome and symmetric quantile levels)
    loss, base = overlapping_losses(h, n, reps, shifts=(0.3, -0.3), widths=(1.0, 1.0), seed=h * 7 + n)
    _, p, dof = dm_test(loss, base, h)
    size = float(np.mean(p < 0.05))
    print(f"h={h} n={n}: DM size {size:.3f} at nominal 0.05 (binomial SE 0.0049, {dof} dof)")
    assert 0.025 <= size <= 0.075


def test_diebold_mariano_sees_a_real_difference():
    loss, base = overlapping_losses(21, 504, 400, shifts=(0.0, 0.0), widths=(1.0, 1.8), seed=5)
    _, p, _ = dm_test(loss, base, 21)
    assert np.mean(p < 0.05) > 0.5  # power against a 1.8x too wide baseline in two years of 1m forecasts


def test_too_few_rows_give_no_standard_error():
    loss, base = overlapping_losses(63, 300, 1, shifts=(0.0, 0.0), widths=(1.0, 1.5), seed=1)
    assert np.isnan(skill_ratio_se(loss[0], base[0], 63))  # 300 < 5 * 63
    assert np.isnan(diebold_mariano(loss[0], base[0], 63)[1])
    # the DM test allows a quarter's memory whatever the horizon: 5 * 63 rows at least, at 1w too
    assert np.isfinite(skill_ratio_se(loss[0], base[0], 5)) and np.isnan(diebold_mariano(loss[0], base[0], 5)[1])
