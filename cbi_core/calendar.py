"""The CBOT agricultural trade-date calendar (soybean oil and the other grain/oilseed futures), one for all of CBI.

The holidays come from a maintained exchange calendar, `pandas_market_calendars`' "CBOT_Agriculture"
(CME Group's grain and oilseed schedule, ad hoc closures included), instead of hand-written rules. Checked
against every ZL trade in the real Databento bars 2010-06..2024-06 (`bench/calendar_check.py`), with one
correction: the library closes 2018-12-05 (national day of mourning, when CME's equity and interest-rate
markets closed), but grains traded a full session that day (ZL 25,121 contracts in 19 hourly bars).

Coverage: from 2010-01-01 (the library's ad hoc closures are incomplete before; CBI's history starts in 2010)
to `LAST_DATE`. Past today the calendar is the exchange's regular holiday rules: a closure announced later
(a day of mourning) is not known in advance, so a forecast target date may fall on it and the trade date after
it is one day later than the target. A date outside the coverage raises `ValueError` rather than being guessed.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pandas.tseries.offsets import CustomBusinessDay

CALENDAR_NAME = "CBOT_Agriculture"
EXCHANGE_TIMEZONE = "America/Chicago"  # the exchange's clock: trade dates and the schedules run on it
FIRST_DATE = date(2010, 1, 1)
LAST_DATE = date(2045, 12, 31)
#: Days the library marks closed on which CBOT grains and oilseeds did trade (seen in the real bars).
GRAIN_TRADE_DATES_MARKED_CLOSED = (date(2018, 12, 5),)


@cache
def holidays() -> np.ndarray:
    """Weekdays between FIRST_DATE and LAST_DATE without a trade date (datetime64[D], sorted)."""
    import pandas_market_calendars as mcal  # a heavy import (about 2 s): only when a calendar is needed

    calendar = mcal.get_calendar(CALENDAR_NAME)
    open_days = calendar.valid_days(FIRST_DATE.isoformat(), LAST_DATE.isoformat()).tz_localize(None).normalize()
    weekdays = pd.bdate_range(FIRST_DATE, LAST_DATE)
    closed = weekdays.difference(open_days).difference(pd.DatetimeIndex(GRAIN_TRADE_DATES_MARKED_CLOSED))
    return np.asarray(closed.values.astype("datetime64[D]"))


@cache
def cme_bday() -> CustomBusinessDay:
    """A pandas business-day offset over the trade dates (for offsets such as `date - cme_bday()`)."""
    return CustomBusinessDay(holidays=holidays())


def _days(dates: pd.Series | pd.DatetimeIndex | list, what: str) -> np.ndarray:
    days = pd.to_datetime(pd.Series(dates)).to_numpy().astype("datetime64[D]")
    check_covered(days, what)
    return days


def check_covered(days: np.ndarray, what: str) -> None:
    """Raise ValueError if any date lies outside the calendar's coverage."""
    valid = days[~np.isnat(days)]
    if len(valid) == 0:
        return
    first, last = np.datetime64(FIRST_DATE, "D"), np.datetime64(LAST_DATE, "D")
    outside = valid[(valid < first) | (valid > last)]
    if len(outside):
        raise ValueError(
            f"CBOT calendar: {what} {outside.min()}..{outside.max()} lies outside the covered dates "
            f"{FIRST_DATE}..{LAST_DATE}"
        )


def trading_days(start: date | str, end: date | str) -> pd.DatetimeIndex:
    """Trade dates between `start` and `end` inclusive."""
    _days([start, end], "range")
    return pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq=cme_bday())


def is_trade_date(dates: pd.Series | pd.DatetimeIndex | list) -> np.ndarray:
    """True where a date is a trade date."""
    return np.is_busday(_days(dates, "date"), holidays=holidays())


def roll_forward(dates: pd.Series | pd.DatetimeIndex | list) -> np.ndarray:
    """Each date itself if it is a trade date, else the next trade date (datetime64[D])."""
    return np.busday_offset(_days(dates, "date"), 0, roll="forward", holidays=holidays())


def add_trade_days(dates: pd.Series | pd.DatetimeIndex | list, days: pd.Series | np.ndarray | int) -> np.ndarray:
    """The trade date `days` trade dates after each date (a non-trade date first rolls forward)."""
    shifted = np.busday_offset(_days(dates, "date"), np.asarray(days), roll="forward", holidays=holidays())
    check_covered(shifted, "target date")
    return shifted


def is_trade_day(day: date) -> bool:
    """Whether one calendar date is a trade date."""
    return bool(is_trade_date([day])[0])


def chicago_date(moment: datetime) -> date:
    """The calendar date at the exchange (America/Chicago) of `moment` (naive = UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(EXCHANGE_TIMEZONE)).date()
