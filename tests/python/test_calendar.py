"""The CBOT trade-date calendar (cbi_core.calendar) on dates checked against real ZL trades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cbi_core.calendar import add_trade_days, is_trade_date, roll_forward, trading_days
from cbi_ml.dataset import target_dates

# Dates on which ZL traded in the real Databento bars (contracts): New Year's Day on a Saturday is not moved to
# the Monday; 2018-12-05 (day of mourning) closed equities and rates, not grains; Christmas Eve and the Friday
# after Thanksgiving are (short) trade dates.
ZL_TRADED = {
    "2011-01-03": 41_070,
    "2022-01-03": 27_767,
    "2018-12-05": 25_121,
    "2010-12-31": None,
    "2021-12-31": None,
    "2019-12-24": None,
    "2023-11-24": None,
}
# Weekdays without any ZL bar in the real data that are exchange holidays (source gaps such as 2014-06-11 are not).
HOLIDAYS = [
    "2011-01-17",  # Martin Luther King Jr. Day
    "2012-04-06",  # Good Friday
    "2016-12-26",  # Christmas (Sunday) observed on Monday
    "2017-01-02",  # New Year's Day (Sunday) observed on Monday
    "2020-07-03",  # Independence Day (Saturday) observed on Friday
    "2021-12-24",  # Christmas (Saturday) observed on Friday
    "2022-06-20",  # Juneteenth (Sunday) observed on Monday
    "2023-06-19",  # Juneteenth
    "2024-03-29",  # Good Friday
]


def test_days_zl_traded_are_trade_dates():
    assert is_trade_date(list(ZL_TRADED)).all()


def test_exchange_holidays_are_not_trade_dates():
    assert not is_trade_date(HOLIDAYS).any()


def test_trading_days_skip_weekends_and_holidays_only():
    days = trading_days("2021-12-20", "2022-01-07")
    assert [d.strftime("%m-%d") for d in days] == [
        "12-20", "12-21", "12-22", "12-23", "12-27", "12-28", "12-29", "12-30", "12-31",
        "01-03", "01-04", "01-05", "01-06", "01-07",
    ]  # fmt: skip


def test_roll_forward_moves_weekends_and_holidays_to_the_next_trade_date():
    rolled = roll_forward(["2011-01-01", "2011-01-03", "2022-06-19", "2022-06-20", "2024-07-04"])
    assert [str(d) for d in rolled] == ["2011-01-03", "2011-01-03", "2022-06-21", "2022-06-21", "2024-07-05"]


def test_target_dates_count_trade_dates_across_new_year():
    as_of = pd.Series(pd.to_datetime(["2010-12-30", "2021-12-30", "2021-12-30", "2022-06-17"]))
    got = target_dates(as_of, pd.Series([2, 1, 2, 1]))
    assert [d.isoformat() for d in got] == ["2011-01-03", "2021-12-31", "2022-01-03", "2022-06-21"]


def test_target_dates_six_months_past_today_are_covered():
    today = pd.Timestamp.today().normalize()
    target = add_trade_days([today], 126)[0]
    assert pd.Timestamp(target) > today + pd.Timedelta(days=170)
    assert is_trade_date([target]).all()


def test_dates_outside_the_covered_span_raise():
    with pytest.raises(ValueError, match="outside the covered dates"):
        trading_days("2009-06-01", "2010-02-01")
    with pytest.raises(ValueError, match="target date"):
        add_trade_days(["2045-12-20"], np.array([126]))
