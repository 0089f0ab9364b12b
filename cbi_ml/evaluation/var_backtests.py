"""Backtests of a value-at-risk forecast from its exceptions: pure functions, no database.

An *exception* (a hit, a violation) is a day whose realised return falls below minus the forecast VaR. With a
correct VaR at level `level` (e.g. 0.99), exceptions are independent Bernoulli draws with probability
p = 1 - level. Three standard checks:

- Kupiec (1995) proportion of failures (POF): likelihood ratio of the observed exception rate x/n against p.
  Tests the number of exceptions only. Its p-value is exact: the probability, under Binomial(n, p), of a count
  whose LR is at least the observed one. The usual chi-square(1) approximation rejects a correct VaR up to 17%
  of the time at nominal 5% when fewer than five exceptions are expected (9.5% for 250 days of a 99% VaR, 8.9%
  for 50 days at 95%) and up to 11% with 5-10 expected; the exact p-value never rejects more than 5%.
- Christoffersen (1998) independence: likelihood ratio of a first-order Markov chain of exceptions
  (P(hit | hit yesterday) may differ from P(hit | no hit yesterday)) against a constant hit rate, chi-square(1).
  Conditional coverage is the sum of the two statistics, chi-square(2). Both use 0 log 0 = 0: a state that is
  never left (no exception at all, or only exceptions) contributes nothing to either likelihood, so the
  independence LR is 0 there and conditional coverage is the POF statistic on the transitions.
- The Basel traffic light (Basel Committee, "Supervisory framework for the use of backtesting in conjunction
  with the internal models approach to market risk capital requirements", 1996): with 250 days of a 99% VaR,
  0-4 exceptions are green, 5-9 yellow, 10 or more red. The table comes from the binomial distribution: a count
  k is yellow once the probability of k or fewer exceptions under a correct model reaches 95%, and red once it
  reaches 99.99%. `traffic_light` applies that rule for any number of days n and any level, so it reproduces
  the Basel table at (n=250, 99%) and extends it sensibly (for 95% over 250 days: green 0-17, yellow 18-26,
  red 27+, as P(X <= 26) = 0.99984 < 99.99% <= P(X <= 27); tests/python/test_var_backtests.py).

Every test assumes the exceptions are of non-overlapping periods. Exceptions of overlapping h-day returns are
correlated by construction (one bad week produces h consecutive hits), so callers backtesting h-day VaR
should test every h-th forecast (`non_overlapping`), not every day.

No maintained Python package covers these three (`vartests` has Kupiec and the duration test but neither the
Markov independence test nor the traffic light, and little use), and each is a few lines of arithmetic on
binomial / chi-square distributions from scipy; the unit tests check them against hand-computed values and
the published Basel and Kupiec tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import xlogy
from scipy.stats import binom, chi2

#: Basel zone bounds on the cumulative binomial probability P(X <= k) (yellow from 95%, red from 99.99%).
YELLOW_FROM = 0.95
RED_FROM = 0.9999


def _check(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"VaR level must be in (0, 1), got {level}")
    return 1.0 - level


def exceptions(returns: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Boolean hits: realised `returns` below minus `var` (VaR as a positive loss of the same return).

    Rows where either is NaN are dropped (not counted as 'no exception')."""
    returns = np.asarray(returns, dtype=float)
    var = np.asarray(var, dtype=float)
    if returns.shape != var.shape:
        raise ValueError(f"returns and var differ in shape: {returns.shape} vs {var.shape}")
    keep = np.isfinite(returns) & np.isfinite(var)
    return returns[keep] < -var[keep]


def non_overlapping(hits: np.ndarray, horizon_days: int, offset: int = 0) -> np.ndarray:
    """Every `horizon_days`-th element from `offset`: the exceptions of non-overlapping h-day windows
    (for consecutive daily forecasts of h-day returns)."""
    step = max(int(horizon_days), 1)
    return np.asarray(hits)[offset::step]


def pof_statistic(n_exceptions: np.ndarray | int, n: int, p: float) -> np.ndarray:
    """Kupiec's LR = -2 [ log L(p) - log L(x/n) ] with L(q) = (1 - q)^(n - x) q^x, vectorised over counts x."""
    x = np.asarray(n_exceptions, dtype=float)
    phat = x / n
    restricted = xlogy(n - x, 1 - p) + xlogy(x, p)
    unrestricted = xlogy(n - x, 1 - phat) + xlogy(x, phat)
    return np.maximum(-2.0 * (restricted - unrestricted), 0.0)


def kupiec_pof(n_exceptions: int, n: int, level: float) -> tuple[float, float]:
    """(LR statistic, exact p-value) of Kupiec's proportion-of-failures test: x exceptions in n days at VaR
    `level`.

    The p-value is P(LR(X) >= LR(x)) for X ~ Binomial(n, 1 - level), summed over every count 0..n (a relative
    tolerance keeps counts whose LR ties the observed one up to rounding): exact at any n, where the chi-square(1)
    approximation over-rejects when few exceptions are expected (module docstring). NaN for n = 0."""
    p = _check(level)
    x, n = int(n_exceptions), int(n)
    if n <= 0:
        return float("nan"), float("nan")
    if not 0 <= x <= n:
        raise ValueError(f"exceptions {x} outside 0..{n}")
    lr = float(pof_statistic(x, n, p))
    counts = np.arange(n + 1)
    at_least_as_extreme = pof_statistic(counts, n, p) >= lr * (1 - 1e-9) - 1e-12
    p_value = float(binom.pmf(counts[at_least_as_extreme], n, p).sum())
    return lr, min(p_value, 1.0)


def transition_counts(hits: np.ndarray) -> tuple[int, int, int, int]:
    """(n00, n01, n10, n11): number of days with state j following a day with state i (0 = no hit)."""
    h = np.asarray(hits, dtype=bool).astype(int)
    prev, cur = h[:-1], h[1:]
    return (
        int(np.sum((prev == 0) & (cur == 0))),
        int(np.sum((prev == 0) & (cur == 1))),
        int(np.sum((prev == 1) & (cur == 0))),
        int(np.sum((prev == 1) & (cur == 1))),
    )


def christoffersen_independence(hits: np.ndarray) -> tuple[float, float]:
    """(LR statistic, p-value) of Christoffersen's independence test, chi-square(1) under the null.

    Compares a Markov chain with pi01 = n01 / (n00 + n01) and pi11 = n11 / (n10 + n11) against one hit rate
    pi = (n01 + n11) / (n - 1), with 0 log 0 = 0. A state that is never left (no hit at all, or only hits)
    contributes nothing to either likelihood, so the LR is 0 and the p-value 1: such a series holds no evidence of
    clustering. NaN for fewer than two days (no transition)."""
    n00, n01, n10, n11 = transition_counts(hits)
    if n00 + n01 + n10 + n11 == 0:
        return float("nan"), float("nan")
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    # xlogy: x log y with 0 log 0 = 0 (the likelihood of a transition that never happened)
    restricted = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    unrestricted = xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11)
    lr = max(-2.0 * (restricted - unrestricted), 0.0)
    return float(lr), float(chi2.sf(lr, 1))


def conditional_coverage(hits: np.ndarray, level: float) -> tuple[float, float]:
    """(LR statistic, p-value) of Christoffersen's conditional coverage test: Kupiec POF + independence,
    chi-square(2) (asymptotic). The POF part uses the n - 1 transitions, as in Christoffersen (1998), so that the
    two parts add up to one likelihood ratio. With no exception (or only exceptions) the independence part is 0
    (0 log 0 = 0) and the statistic is the POF one. NaN for fewer than two days."""
    h = np.asarray(hits, dtype=bool)
    lr_ind, _ = christoffersen_independence(h)
    if not np.isfinite(lr_ind):
        return float("nan"), float("nan")
    lr_pof, _ = kupiec_pof(int(h[1:].sum()), len(h) - 1, level)
    lr = lr_pof + lr_ind
    return float(lr), float(chi2.sf(lr, 2))


def zone_bounds(n: int, level: float) -> tuple[int, int]:
    """(first yellow count, first red count) for n days at VaR `level` by the Basel rule on P(X <= k)."""
    p = _check(level)
    k = np.arange(int(n) + 1)
    cdf = binom.cdf(k, int(n), p)
    # A relative tolerance keeps tabulated boundary values (P(X <= 10) = 0.99992 at n = 250, 99%) on the side
    # the Basel table puts them whatever the floating-point rounding of the cdf.
    yellow = k[cdf >= YELLOW_FROM - 1e-12]
    red = k[cdf >= RED_FROM - 1e-12]
    return int(yellow[0]) if len(yellow) else int(n) + 1, int(red[0]) if len(red) else int(n) + 1


def traffic_light(n_exceptions: int, n: int, level: float = 0.99) -> str:
    """'green' / 'yellow' / 'red' for `n_exceptions` in `n` days of a VaR at `level` (Basel rule, generalised
    to any n and level through the binomial cumulative probability; see the module docstring)."""
    if n <= 0:
        return "n/a"
    yellow, red = zone_bounds(n, level)
    x = int(n_exceptions)
    return "red" if x >= red else "yellow" if x >= yellow else "green"


@dataclass(frozen=True)
class VarBacktest:
    level: float
    n: int
    exceptions: int
    expected: float
    rate: float
    kupiec_lr: float
    kupiec_p: float
    independence_lr: float
    independence_p: float
    cc_lr: float
    cc_p: float
    zone: str

    def as_dict(self) -> dict:
        return asdict(self)


def backtest(hits: np.ndarray, level: float) -> VarBacktest:
    """All three checks on one series of exceptions (already non-overlapping)."""
    h = np.asarray(hits, dtype=bool)
    n, x = len(h), int(h.sum())
    kupiec_lr, kupiec_p = kupiec_pof(x, n, level)
    ind_lr, ind_p = christoffersen_independence(h)
    cc_lr, cc_p = conditional_coverage(h, level)
    return VarBacktest(
        level=level,
        n=n,
        exceptions=x,
        expected=n * (1 - level),
        rate=x / n if n else float("nan"),
        kupiec_lr=kupiec_lr,
        kupiec_p=kupiec_p,
        independence_lr=ind_lr,
        independence_p=ind_p,
        cc_lr=cc_lr,
        cc_p=cc_p,
        zone=traffic_light(x, n, level),
    )
