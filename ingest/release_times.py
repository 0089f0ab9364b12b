"""Release timing (`available_at`) rules, shared by the sample and the connectors (trade dates: `cbi_core.calendar`).

All timestamps are naive UTC. The release lags follow the table in ARCHITECTURE.md; connectors use these
functions whenever a source does not publish its own release time.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from pandas.tseries.holiday import AbstractHolidayCalendar, Holiday, nearest_workday


class FredHolidayCalendar(AbstractHolidayCalendar):
    """Federal Reserve holidays on which CME trades but H.10/H.15 series have no value."""

    rules = [
        Holiday("ColumbusDay", month=10, day=1, offset=pd.DateOffset(weekday=0)),
        Holiday("VeteransDay", month=11, day=11, observance=nearest_workday),
    ]


US_BDAY = pd.offsets.BDay()


def fred_holidays(start: date | str, end: date | str) -> pd.DatetimeIndex:
    return FredHolidayCalendar().holidays(pd.Timestamp(start), pd.Timestamp(end))


def _at(days: pd.Series | pd.DatetimeIndex, hour: int, minute: int = 0) -> pd.Series:
    s = pd.Series(pd.to_datetime(days))
    return s.dt.normalize() + pd.Timedelta(hours=hour, minutes=minute)


def futures_available_at(trade_date: pd.Series) -> pd.Series:
    """Daily bars: the same trade date, after the settlement (20:00 UTC)."""
    return _at(trade_date, 20)


def fred_daily_available_at(observation_date: pd.Series) -> pd.Series:
    """FRED daily series: the next business day, 15:00 UTC."""
    return _at(pd.Series(pd.to_datetime(observation_date)) + US_BDAY, 15)


def fred_weekly_available_at(observation_date: pd.Series, series_id: str) -> pd.Series:
    """NFCI (week ending Friday): the Wednesday after, 13:30 UTC; STLFSI4: the following Thursday, 15:00 UTC."""
    obs = pd.Series(pd.to_datetime(observation_date))
    if series_id == "NFCI":
        return _at(obs + pd.offsets.Week(weekday=2), 13, 30)
    return _at(obs + pd.offsets.Week(weekday=3), 15)


def fred_monthly_available_at(observation_date: pd.Series, series_id: str) -> pd.Series:
    """Monthly series dated the 1st of their month: UNRATE on the first Friday of the next month
    (the jobs report; BLS occasionally moves it a week later, which this rule does not know), CPI around the
    13th of the next month; both 12:30 UTC (08:30 ET)."""
    month_start = pd.Series(pd.to_datetime(observation_date)) + pd.offsets.MonthBegin(1)
    if series_id == "UNRATE":
        release = month_start - pd.Timedelta(days=1) + pd.offsets.Week(weekday=4)
    else:
        release = month_start + pd.Timedelta(days=12) + 0 * US_BDAY
    return _at(release, 12, 30)


def cftc_available_at(report_date: pd.Series) -> pd.Series:
    """COT positions as of Tuesday: released Friday of the same week, 15:30 ET (20:30 UTC)."""
    return _at(pd.Series(pd.to_datetime(report_date)) + pd.Timedelta(days=3), 20, 30)


def usda_export_sales_available_at(week_ending_date: pd.Series) -> pd.Series:
    """Week ending Thursday: released the following Thursday, 08:30 ET (12:30 UTC)."""
    return _at(pd.Series(pd.to_datetime(week_ending_date)) + pd.Timedelta(days=7), 12, 30)


def eia_monthly_available_at(period_date: pd.Series) -> pd.Series:
    """EIA monthly (Monthly Energy Review / biofuel tables): about two months after the period ends."""
    month_end = pd.Series(pd.to_datetime(period_date)) + pd.offsets.MonthEnd(0)
    return _at(month_end + pd.DateOffset(months=2), 15)


def epa_rin_available_at(week_ending_date: pd.Series) -> pd.Series:
    """EPA RIN price weeks appear in EPA's monthly update: the first business day on/after the 18th
    of the following month, 16:00 UTC."""
    nxt = pd.Series(pd.to_datetime(week_ending_date)) + pd.offsets.MonthBegin(1)
    release = nxt + pd.Timedelta(days=17) + 0 * US_BDAY
    return _at(release, 16)
