"""VaR backtests against hand-computed values and the published Basel and Kupiec tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, chi2

from cbi_ml.evaluation.var_backtests import (
    backtest,
    christoffersen_independence,
    conditional_coverage,
    exceptions,
    kupiec_pof,
    non_overlapping,
    pof_statistic,
    traffic_light,
    transition_counts,
    zone_bounds,
)


def test_kupiec_hand_computed():
    # x = 5 of n = 250 at 99%: log L(0.01) = 245 ln .99 + 5 ln .01 = -25.488185,
    # log L(0.02) = 245 ln .98 + 5 ln .02 = -24.509780; LR = 2 * 0.978405 = 1.956810; P(chi2_1 > LR) = 0.16185.
    lr, p = kupiec_pof(5, 250, 0.99)
    assert lr == pytest.approx(1.956810, rel=1e-5)
    # exact p-value: the counts whose LR is at least 1.9568 are 0 (LR 5.03) and 5 or more (LR(4) = 0.77,
    # LR(1) = 1.18): P(X = 0) + P(X >= 5) = 0.081059 + 0.107812 = 0.188871 (chi-square(1) would say 0.16185)
    assert p == pytest.approx(0.188871, abs=1e-5)
    # exactly the expected rate: no evidence against the model
    assert kupiec_pof(25, 500, 0.95) == pytest.approx((0.0, 1.0))
    # no exception at all in 250 days at 99%: LR = -2 * 250 ln .99 = 5.025168; counts as extreme: 0 and 7 or
    # more (LR(6) = 3.56, LR(7) = 5.50): p = 0.081059 + 0.013701 = 0.094760, where chi-square(1) says 0.025
    assert kupiec_pof(0, 250, 0.99) == pytest.approx((5.025168, 0.094760), rel=1e-5)
    assert np.isnan(kupiec_pof(0, 0, 0.99)[0])
    with pytest.raises(ValueError):
        kupiec_pof(3, 2, 0.99)
    with pytest.raises(ValueError):
        kupiec_pof(1, 10, 99)


@pytest.mark.parametrize(
    ("p", "n", "low", "high"),
    [
        # Kupiec (1995) / Jorion, "Value at Risk": non-rejection regions of the POF test at 5% significance.
        (0.01, 510, 2, 10),
        (0.01, 1000, 5, 16),
        (0.025, 510, 7, 20),
        (0.025, 1000, 16, 35),
        (0.05, 255, 7, 20),
        (0.05, 510, 17, 35),
        (0.05, 1000, 38, 64),
        (0.10, 255, 17, 35),
        (0.10, 510, 39, 64),
        (0.10, 1000, 82, 119),
    ],
)
def test_kupiec_statistic_matches_published_non_rejection_regions(p, n, low, high):
    """The published regions are those of the LR statistic against chi-square(1)."""
    accepted = [x for x in range(n + 1) if chi2.sf(kupiec_pof(x, n, 1 - p)[0], 1) > 0.05]
    assert (min(accepted), max(accepted)) == (low, high)
    assert accepted == list(range(low, high + 1))


@pytest.mark.parametrize(("n", "p"), [(250, 0.01), (50, 0.05), (12, 0.2), (510, 0.01), (1000, 0.05), (40, 0.2)])
def test_kupiec_exact_p_value_holds_its_size_where_chi_square_does_not(n, p):
    """Exact size, summed over every count: P(p-value < 5%) under Binomial(n, p) never exceeds 5%. The chi-square
    approximation rejects a correct 99% VaR 9.5% of 250-day years and 8.8% of 12 days at 80% coverage."""
    counts = np.arange(n + 1)
    mass = binom.pmf(counts, n, p)
    exact = np.array([kupiec_pof(x, n, 1 - p)[1] for x in counts])
    assert mass[exact < 0.05].sum() <= 0.05
    asymptotic = chi2.sf(pof_statistic(counts, n, p), 1)
    if n * p < 5:  # few expected exceptions: the approximation is far off
        assert mass[asymptotic < 0.05].sum() > 0.08


def test_christoffersen_independence_hand_computed():
    hits = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    assert transition_counts(hits) == (7, 1, 1, 2)
    # pi01 = 1/8, pi11 = 2/3, pi = 3/11:
    # restricted 8 ln(8/11) + 3 ln(3/11) = -6.445478; unrestricted 7 ln(7/8) + ln(1/8) + ln(1/3) + 2 ln(2/3)
    # = -4.923703; LR = 3.043550, P(chi2_1 > LR) = 0.08106.
    lr, p = christoffersen_independence(hits)
    assert lr == pytest.approx(3.043550, rel=1e-5)
    assert p == pytest.approx(0.08106, abs=1e-4)
    # hits spread evenly: transition rates equal the overall rate, LR = 0
    even = np.array([0, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
    assert transition_counts(even) == (4, 2, 2, 1)
    assert christoffersen_independence(even)[0] == pytest.approx(0.0, abs=1e-12)
    # no hit at all (or only hits): one state is never left, 0 log 0 = 0, no evidence of clustering
    assert christoffersen_independence(np.zeros(100, dtype=bool)) == (0.0, 1.0)
    assert christoffersen_independence(np.ones(100, dtype=bool)) == (0.0, 1.0)
    # a single hit on the last day: the hit state is reached but never left
    last = np.zeros(20, dtype=bool)
    last[-1] = True
    assert transition_counts(last) == (18, 1, 0, 0)
    assert christoffersen_independence(last)[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(christoffersen_independence(np.zeros(1, dtype=bool))[0])  # no transition


def test_conditional_coverage_is_pof_on_transitions_plus_independence():
    hits = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    lr, p = conditional_coverage(hits, 0.95)
    pof = kupiec_pof(3, 11, 0.95)[0]
    assert lr == pytest.approx(pof + 3.043550, rel=1e-5)
    assert p == pytest.approx(chi2.sf(lr, 2))


def test_conditional_coverage_with_no_exception_is_the_pof_part():
    """A year of a 99% VaR without one exception: the independence part is 0 (0 log 0 = 0), the statistic is
    -2 * 249 ln 0.99 = 5.005067 on the 249 transitions, chi-square(2) p-value 0.081877 (NaN before)."""
    lr, p = conditional_coverage(np.zeros(250, dtype=bool), 0.99)
    assert lr == pytest.approx(5.005067, rel=1e-6)
    assert p == pytest.approx(0.081877, abs=1e-6)
    result = backtest(np.zeros(250, dtype=bool), 0.99)
    assert (result.independence_lr, result.independence_p) == (0.0, 1.0)
    assert result.cc_p == pytest.approx(p)


def test_basel_traffic_light_reproduces_the_1996_table():
    # Basel Committee (1996), table 1: 250 observations of a 99% VaR.
    zones = [traffic_light(k, 250, 0.99) for k in range(13)]
    assert zones == ["green"] * 5 + ["yellow"] * 5 + ["red"] * 3
    assert zone_bounds(250, 0.99) == (5, 10)


def test_traffic_light_generalised():
    # 95% over 250 days: P(X <= 17) = 0.9212 < 0.95 <= P(X <= 18) = 0.9526;
    # P(X <= 26) = 0.99984 < 0.9999 <= P(X <= 27) = 0.99993
    assert zone_bounds(250, 0.95) == (18, 27)
    # more days move the bounds up in proportion; fewer days down
    assert zone_bounds(1000, 0.99) == (15, 24)
    assert traffic_light(0, 30, 0.99) == "green"
    # 30 days at 99%: P(X <= 0) = 0.7397, P(X <= 1) = 0.9639, P(X <= 3) = 0.99978, P(X <= 4) = 0.999988
    assert [traffic_light(k, 30, 0.99) for k in range(6)] == ["green"] + ["yellow"] * 3 + ["red"] * 2
    assert traffic_light(0, 0, 0.99) == "n/a"


def test_exceptions_and_non_overlapping():
    returns = np.array([-0.05, 0.01, np.nan, -0.02, -0.10])
    var = np.array([0.04, 0.04, 0.04, np.nan, 0.08])
    assert exceptions(returns, var).tolist() == [True, False, True]
    assert non_overlapping(np.arange(10), 3).tolist() == [0, 3, 6, 9]
    assert non_overlapping(np.arange(10), 3, offset=1).tolist() == [1, 4, 7]
    with pytest.raises(ValueError):
        exceptions(returns, var[:2])


def test_backtest_summary_and_size_under_the_null():
    rng = np.random.default_rng(3)
    six = np.zeros(250, dtype=bool)
    six[[10, 50, 51, 120, 200, 240]] = True
    result = backtest(six, 0.99)
    assert (result.n, result.exceptions, result.rate) == (250, 6, pytest.approx(0.024))
    assert result.expected == pytest.approx(2.5)
    assert result.zone == "yellow"  # 5-9 exceptions in the Basel table
    assert (result.kupiec_lr, result.kupiec_p) == kupiec_pof(6, 250, 0.99)
    assert (result.independence_lr, result.independence_p) == christoffersen_independence(six)
    # a correct 95% VaR: the exact POF test rejects at most 5% of years; its exact size at n = 250 is the
    # binomial mass of the rejected counts (4.62%); 4,000 simulated years match it within 3 binomial SE
    counts = np.arange(251)
    size = binom.pmf(counts, 250, 0.05)[np.array([kupiec_pof(x, 250, 0.95)[1] < 0.05 for x in counts])].sum()
    assert 0.04 < size <= 0.05
    hits = rng.random((4000, 250)) < 0.05
    rejections = np.mean([kupiec_pof(int(h.sum()), 250, 0.95)[1] < 0.05 for h in hits])
    assert abs(rejections - size) < 3 * np.sqrt(size * (1 - size) / 4000)
    # clustered exceptions are caught by the independence test
    clustered = np.zeros(500, dtype=bool)
    clustered[100:110] = clustered[300:310] = True
    assert christoffersen_independence(clustered)[1] < 1e-6


def test_closed_form_var_is_the_risk_layers_monte_carlo_var():
    from cbi_ml.risk import risk_row, value_at_risk

    row, _ = risk_row(-0.05, 0.01, 0.04, 40.0, 400_000, seed=1)
    for level, tag in ((0.95, "95"), (0.99, "99")):
        assert float(value_at_risk(-0.05, 0.01, 0.04, level)) == pytest.approx(row[f"var_{tag}_ret"], rel=0.01)


def test_non_overlapping_rows_skip_h_trading_days_and_gaps():
    from cbi_ml.evaluation.scoreboard import non_overlapping_rows

    assert non_overlapping_rows(np.arange(12), 5).tolist() == [0, 5, 10]
    # a gap in the forecasts: the next window starts at the first row at least h days on
    assert non_overlapping_rows(np.array([0, 1, 2, 7, 8, 9, 12, 13]), 5).tolist() == [0, 3, 6]


def test_backtest_var_table_on_known_forecasts():
    """Daily forecasts of 5-day returns from the true distribution (so the VaR is right) and a second model
    whose quantiles are half as wide (so its VaR is far too small)."""
    from scipy.stats import t as student_t

    from cbi_ml.evaluation.scoreboard import var_backtests
    from cbi_ml.risk import NU

    rng = np.random.default_rng(21)
    h, n = 5, 5000
    daily = rng.standard_t(NU, size=n + h) * 0.01
    y = np.convolve(daily, np.ones(h), mode="valid")[1 : n + 1]
    dates = pd.bdate_range("2010-01-04", periods=n)
    scale = 0.01 * np.sqrt(h)  # sum of 5 t draws is not t, but close enough in the 5%/1% tails for this check
    rows = []
    for member, width in (("final", 1.0), ("rw_ewma", 0.5)):
        q = width * scale * student_t.ppf([0.1, 0.5, 0.9], NU)
        rows.append(
            pd.DataFrame(
                {"as_of_date": dates, "horizon": "1w", "horizon_days": h, "member": member, "y": y}
                | {c: q[i] for i, c in enumerate(("q10", "q50", "q90"))}
            )
        )
    table = var_backtests(pd.concat(rows, ignore_index=True)).set_index(["model", "level"])
    assert len(table) == 4 and (table["n"] == n // h).all() and (table["n_all_rows"] == n).all()
    good, bad = table.loc[("final", 0.99)], table.loc[("rw_ewma", 0.99)]
    assert abs(good["rate_all_rows"] - 0.01) < 0.006
    assert bad["exceptions"] > 3 * bad["expected"] and bad["kupiec_p"] < 1e-6 and bad["zone"] == "red"
    # the row's numbers are the module's tests on the non-overlapping exceptions, recomputed here
    from cbi_ml.risk import value_at_risk

    var = value_at_risk(*(rows[0][c].to_numpy() for c in ("q10", "q50", "q90")), 0.99)
    hits = (y < -var)[::h]
    assert good["exceptions"] == hits.sum()
    assert good["kupiec_p"] == pytest.approx(kupiec_pof(int(hits.sum()), len(hits), 0.99)[1])
    assert good["zone"] == traffic_light(int(hits.sum()), len(hits), 0.99)
