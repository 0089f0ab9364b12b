"""Size and power of CBI's tests, measured by simulation: the figures of docs/statistics.md.

- Diebold-Mariano (`cbi_ml.scoring.dm_test`): rejection rate at nominal 5% under a true null on (a) i.i.d.
  returns with mirror-image forecasts, (b) the GARCH-t process with a persistent loss differential of
  `tests/python/test_evaluation_sizes.py`, (c) two natural forecasts of GARCH-t returns (EWMA volatility
  lambda 0.94 against 0.985, the differential centred on its mean over an independent run: a skewed
  differential), each with the rule before `DM_MEMORY` (memory 1) and with it; power against a forecast 1.2x /
  1.5x too wide on the GARCH process.
- The skill ratio's standard error (`scoring.ratio_standard_error`) on the same persistent GARCH-t process
  (forecasts 1.0 and 1.2 wide): root-mean-square SE / true SD and how often the ratio is within two SE of its
  mean, with the skill ratio's B and with the DM's memory floor.
- Kupiec (`var_backtests.kupiec_pof`): exact size of the exact p-value and of the chi-square(1) one.
- Christoffersen conditional coverage: size on Bernoulli exceptions (chi-square(2), asymptotic).

Every rate is printed with its binomial standard error sqrt(r (1 - r) / reps).

    .venv/bin/python bench/size_power.py [--reps 2000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import binom, chi2, norm
from scipy.stats import t as student_t

import cbi_ml.scoring as scoring
from cbi_ml.evaluation.var_backtests import conditional_coverage, kupiec_pof, pof_statistic
from cbi_ml.quantiles import QUANTILE_LEVELS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from test_evaluation_sizes import garch_losses, garch_t_paths, overlapping_losses  # noqa: E402

CASES = ((5, 1000), (21, 1000), (63, 2000), (5, 2000), (21, 504), (63, 504))


def _rate(p: np.ndarray) -> str:
    r = float(np.mean(p < 0.05))
    return f"{r:.3f} ± {np.sqrt(r * (1 - r) / len(p)):.3f}"


def _dm_p(d: np.ndarray, h: int, memory: int) -> np.ndarray:
    dof = scoring.ewc_dof(d.shape[-1], h, memory)
    if dof < 2:
        return np.full(d.shape[0], np.nan)
    stat = d.mean(axis=-1) / np.sqrt(scoring.ewc_variance(d, dof))
    return 2 * student_t.sf(np.abs(stat), dof)


def _ewma_sd(returns: np.ndarray, lam: float) -> np.ndarray:
    """EWMA volatility known at the close of day t - 1 (column t), started at the first 50 days' variance."""
    var = np.mean(returns[:, :50] ** 2, axis=1)
    out = np.empty_like(returns)
    for t in range(returns.shape[1]):
        out[:, t] = np.sqrt(var)
        var = lam * var + (1 - lam) * returns[:, t] ** 2
    return out


def _natural_pair(h: int, n: int, reps: int, seed: int) -> np.ndarray:
    returns, _ = garch_t_paths(reps, n + h, np.random.default_rng(seed))
    cum = np.concatenate([np.zeros((reps, 1)), np.cumsum(returns, axis=1)], axis=1)
    y = cum[:, h : n + h] - cum[:, :n]
    losses = []
    for lam in (0.94, 0.985):
        scale = _ewma_sd(returns, lam)[:, :n] * np.sqrt(h)
        loss = sum(np.maximum(q * (e := y - scale * norm.ppf(q)), (q - 1) * e) for q in QUANTILE_LEVELS)
        losses.append(loss / len(QUANTILE_LEVELS))
    return losses[0] - losses[1]


def dm_table(reps: int) -> None:
    print("Diebold-Mariano rejection rate at nominal 5% (± binomial SE)")
    print(f"{'process':<34}{'h':>4}{'n':>6}  {'memory 1 (before)':>18}  {'DM_MEMORY 63':>16}")
    for h, n in CASES:
        iid = np.subtract(*overlapping_losses(h, n, reps, (0.3, -0.3), (1.0, 1.0), seed=h * 7 + n))
        persistent = np.subtract(*garch_losses(h, n, reps, seed=h * 7 + n))
        natural = _natural_pair(h, n, reps, seed=h * 7 + n)
        natural -= _natural_pair(h, n, reps, seed=h * 7 + n + 99_991).mean()
        for name, d in (("iid, mirror forecasts", iid), ("GARCH-t, persistent (the test)", persistent)) + (
            ("GARCH-t, EWMA 0.94 vs 0.985", natural),
        ):
            print(f"{name:<34}{h:>4}{n:>6}  {_rate(_dm_p(d, h, 1)):>18}  {_rate(_dm_p(d, h, 63)):>16}")
    print("\nPower on the GARCH-t process (one forecast too wide): rejection rate at 5%")
    print(f"{'width':>6}{'h':>4}{'n':>6}  {'loss ratio':>10}  {'memory 1 (before)':>18}  {'DM_MEMORY 63':>16}")
    for width in (1.2, 1.5):
        for h, n in CASES[:3]:
            loss, base = garch_losses(h, n, reps, seed=h * 11 + n, shift=0.0, widths=(1.0, width))
            ratio, d = loss.mean() / base.mean(), loss - base
            print(f"{width:>6}{h:>4}{n:>6}  {ratio:>10.3f}  {_rate(_dm_p(d, h, 1)):>18}  {_rate(_dm_p(d, h, 63)):>16}")


def ratio_se_table(reps: int) -> None:
    print("\nSkill ratio SE on the GARCH-t process with a persistent differential (widths 1.0 and 1.2)")
    print(f"{'h':>4}{'n':>6}{'true SD':>9}  {'memory':>6}{'B':>4}  {'rms SE / SD':>11}  {'within 2 SE':>11}")
    for h, n in CASES[:3]:
        loss, base = garch_losses(h, n, reps, seed=h * 13 + n, widths=(1.0, 1.2))
        ratio = loss.mean(axis=1) / base.mean(axis=1)
        sd = ratio.std(ddof=1)
        for memory in (1, scoring.DM_MEMORY):
            dof = scoring.ewc_dof(n, h, memory)
            d = loss - ratio[:, None] * base
            se = np.sqrt(scoring.ewc_variance(d, dof)) / base.mean(axis=1)
            within, rms = np.mean(np.abs(ratio - ratio.mean()) <= 2 * se), np.sqrt(np.mean(se**2)) / sd
            print(f"{h:>4}{n:>6}{sd:>9.4f}  {memory:>6}{dof:>4}  {rms:>11.3f}  {within:>11.3f}")


def kupiec_table() -> None:
    print("\nKupiec POF: exact size at nominal 5% (binomial mass of the rejected counts)")
    print(f"{'n':>6}{'VaR level':>10}{'expected':>10}  {'exact p':>8}  {'chi-square(1)':>13}")
    for n, p in ((250, 0.01), (250, 0.05), (50, 0.05), (12, 0.2), (40, 0.2), (510, 0.01), (1000, 0.05)):
        counts = np.arange(n + 1)
        mass = binom.pmf(counts, n, p)
        exact = np.array([kupiec_pof(x, n, 1 - p)[1] for x in counts])
        asymptotic = chi2.sf(pof_statistic(counts, n, p), 1)
        sizes = mass[exact < 0.05].sum(), mass[asymptotic < 0.05].sum()
        print(f"{n:>6}{1 - p:>10.2f}{n * p:>10.1f}  {sizes[0]:>8.4f}  {sizes[1]:>13.4f}")


def cc_table(reps: int) -> None:
    print("\nChristoffersen conditional coverage (chi-square(2)): rejection rate at 5% on correct Bernoulli hits")
    rng = np.random.default_rng(7)
    for n, p in ((250, 0.01), (250, 0.05), (1000, 0.01), (60, 0.2)):
        hits = rng.random((reps, n)) < p
        pvals = np.array([conditional_coverage(h, 1 - p)[1] for h in hits])
        print(f"n={n:>5} level={1 - p:.2f}: {_rate(pvals)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    dm_table(args.reps)
    ratio_se_table(args.reps)
    kupiec_table()
    cc_table(args.reps)


if __name__ == "__main__":
    main()
