"""Trade dates for the schedules: the project's CME calendar (`ingest.calendars`), in America/Chicago."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ingest.calendars import trading_days
from orchestration.config import TIMEZONE


def is_trade_date(day: date) -> bool:
    return len(trading_days(day, day)) == 1


def chicago_date(moment: datetime) -> date:
    """The calendar date in Chicago of `moment` (naive = UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZoneInfo(TIMEZONE)).date()
