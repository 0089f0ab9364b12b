"""Trade dates for the schedules: the project's CBOT calendar (`cbi_core.calendar`), in America/Chicago."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from cbi_core.calendar import is_trade_date as _is_trade_date
from orchestration.config import TIMEZONE


def is_trade_date(day: date) -> bool:
    return bool(_is_trade_date([day])[0])


def chicago_date(moment: datetime) -> date:
    """The calendar date in Chicago of `moment` (naive = UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(TIMEZONE)).date()
