"""Is the uncertainty CBI reports the right size? Simulated overlapping h-day forecasts from a known process.

Daily log returns are iid normal; the outcome at row t is the sum of the next h returns (overlapping h-day
labels, as in the warehouse). Forecasts are fixed P10/P50/P90, so the losses have exactly the dependence of
overlapping labels (MA(h - 1)) and nothing else. Everything is vectorised over replications and runs the
production functions (`ratio_standard_error`, `dm_test`; the scalar wrappers the backtest calls delegate to
them).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kurtosis, norm

from cbi_ml.quantiles import QUANTILE_LEVELS
from cbi_ml.scoring import diebold_mariano, dm_test, ratio_standard_error, skill_ratio_se

DAILY_SD = 0.01


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


@pytest.mark.parametrize(("h", "n"), [(5, 1000), (21, 252), (63, 504)])
def test_diebold_mariano_size_on_overlapping_losses(h, n):
    reps = 2000
    # equal expected loss: the same forecast shifted up and down by 0.3 SD (mirror images for a symmetric
    # outcome and symmetric quantile levels)
    loss, base = overlapping_losses(h, n, reps, shifts=(0.3, -0.3), widths=(1.0, 1.0), seed=h * 7 + n)
    _, p, dof = dm_test(loss, base, h)
    size = float(np.mean(p < 0.05))
    binomial_se = np.sqrt(0.05 * 0.95 / reps)  # 0.49%: the band is +-5 binomial SE around nominal
    print(f"h={h} n={n}: DM size {size:.3f} at nominal 0.05 (binomial SE {binomial_se:.4f}, {dof} dof)")
    assert 0.025 <= size <= 0.075
    assert diebold_mariano(loss[0], base[0], h) == pytest.approx((float(_[0]), float(p[0])))


def test_diebold_mariano_sees_a_real_difference():
    loss, base = overlapping_losses(21, 504, 400, shifts=(0.0, 0.0), widths=(1.0, 1.8), seed=5)
    _, p, _ = dm_test(loss, base, 21)
    assert np.mean(p < 0.05) > 0.5  # power against a 1.8x too wide baseline in two years of 1m forecasts


def test_too_few_rows_give_no_standard_error():
    loss, base = overlapping_losses(63, 300, 1, shifts=(0.0, 0.0), widths=(1.0, 1.5), seed=1)
    assert np.isnan(skill_ratio_se(loss[0], base[0], 63))  # 300 < 5 * 63
    assert np.isnan(diebold_mariano(loss[0], base[0], 63)[1])
