"""Check the CBOT trade-date calendar (cbi_core.calendar) against the real ZL daily bars; prints a table.

    .venv/bin/python bench/calendar_check.py [../shared/data/real/futures_daily_contracts.csv.gz]

Every date on which ZL traded must be a trade date; the calendar's trade dates without a ZL bar are listed
(source gaps of the Databento files, see the data's PROVENANCE.md). The superseded hand-written rules are
measured beside it for comparison (New Year's Day on a Saturday observed on the Monday).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    next_monday,
)

from cbi_core.calendar import trading_days

DEFAULT = Path(
    "../shared/data/real/futures_daily_contracts.csv.gz"
)  # relative to the repository, like bench/pipeline.py


class HandRules(AbstractHolidayCalendar):
    """The rules CBI used before (ingest/calendars.py `CmeHolidayCalendar`), kept here only to compare."""

    rules = [
        Holiday("NewYearsDay", month=1, day=1, observance=next_monday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("IndependenceDay", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas", month=12, day=25, observance=nearest_workday),
    ]


def _fmt(days: pd.DatetimeIndex, limit: int = 8) -> str:
    shown = ", ".join(d.strftime("%Y-%m-%d") for d in days[:limit])
    return shown + (f" (+{len(days) - limit})" if len(days) > limit else "") or "-"


def main(path: Path) -> None:
    bars = pd.read_csv(path, usecols=["root", "trade_date", "volume"])
    zl = bars[(bars["root"] == "ZL") & (bars["volume"] > 0)]
    traded = pd.DatetimeIndex(pd.to_datetime(zl["trade_date"].unique())).sort_values()
    first, last = traded.min(), traded.max()
    volume = zl.groupby("trade_date")["volume"].sum()
    calendars = {
        "cbi_core.calendar (CBOT_Agriculture)": trading_days(first, last),
        "old hand rules": pd.bdate_range(first, last, freq="C", holidays=HandRules().holidays(first, last)),
    }
    print(f"ZL bars with volume: {len(traded):,} dates, {first.date()} .. {last.date()}\n")
    print("| calendar | trade dates | ZL dates not a trade date | trade dates without a ZL bar |")
    print("| --- | ---: | --- | --- |")
    for name, days in calendars.items():
        missing = traded.difference(days)
        idle = days.difference(traded)
        described = ", ".join(f"{d.date()} ({volume[d.strftime('%Y-%m-%d')]:,} lots)" for d in missing) or "none"
        print(f"| {name} | {len(days):,} | {len(missing)}: {described} | {len(idle)}: {_fmt(idle)} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
