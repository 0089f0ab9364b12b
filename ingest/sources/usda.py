"""USDA FAS Export Sales Reporting (ESR) API: weekly export sales of soybeans, soybean meal and soybean oil,
in total (all countries) and to China. Needs a free key in `USDA_FAS_API_KEY` (sent as a header, never logged).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from cbi_core.secrets import get_secret
from ingest.http import SourceError, build_session, fetch_json
from ingest.release_times import usda_export_sales_available_at
from ingest.sources.base import Batch, Loaded, Window, equals, incremental_start

log = logging.getLogger(__name__)

#: Our commodity name -> (ESR commodity code, first month of its marketing year).
COMMODITIES = {"soybeans": (801, 9), "soybean_meal": (901, 10), "soybean_oil": (902, 10)}
CHINA_COUNTRY_CODE = 5700
METRIC_TONS_UNIT_ID = 1


def base_url() -> str:
    return os.environ.get("CBI_USDA_ESR_BASE_URL", "https://api.fas.usda.gov/api/esr")


def marketing_years(start: pd.Timestamp, end: pd.Timestamp, first_month: int) -> list[int]:
    """ESR market years (named by their starting calendar year) that overlap [start, end]."""

    def year_of(ts: pd.Timestamp) -> int:
        return ts.year if ts.month >= first_month else ts.year - 1

    return list(range(year_of(pd.Timestamp(start)), year_of(pd.Timestamp(end)) + 1))


def parse_esr(commodity: str, records: list) -> pd.DataFrame:
    """Weekly rows (ALL and CHINA) of the raw contract from one market year's ESR records (pure)."""
    source = f"usda {commodity}"
    if not isinstance(records, list):
        raise SourceError(source, f"expected a JSON list of records, got {type(records).__name__}")
    columns = [
        "commodity",
        "destination",
        "week_ending_date",
        "net_sales_mt",
        "exports_mt",
        "outstanding_sales_mt",
        "available_at",
    ]
    if not records:
        return pd.DataFrame(columns=columns)
    if not all(isinstance(r, dict) for r in records):
        raise SourceError(source, "expected a JSON list of objects")
    frame = pd.DataFrame(records)
    needed = ["weekEndingDate", "countryCode", "weeklyExports", "currentMYNetSales", "outstandingSales"]
    missing = [f for f in needed if f not in frame]
    if missing:
        raise SourceError(source, f"records lack field(s) {missing}")
    if "unitId" in frame and not frame["unitId"].eq(METRIC_TONS_UNIT_ID).all():
        row = int((~frame["unitId"].eq(METRIC_TONS_UNIT_ID)).idxmax())
        raise SourceError(source, f"field 'unitId' row {row}: {frame['unitId'].iloc[row]} is not metric tons")
    for f in ("weeklyExports", "currentMYNetSales", "outstandingSales"):
        numbers = pd.to_numeric(frame[f], errors="coerce")
        bad = numbers.isna() & frame[f].notna()
        if bad.any():  # a sum over countries cannot quarantine one country: the whole week would be wrong
            row = int(bad.idxmax())
            raise SourceError(source, f"field '{f}' data row {row + 1}: {frame[f].iloc[row]!r} is not a number")
        frame[f] = numbers
    frame["week"] = pd.to_datetime(frame["weekEndingDate"], errors="coerce").dt.normalize()
    if frame["week"].isna().any():
        row = int(frame["week"].isna().idxmax())
        raise SourceError(
            source, f"field 'weekEndingDate' data row {row + 1}: {frame['weekEndingDate'].iloc[row]!r} is not a date"
        )
    sums = {
        "net_sales_mt": ("currentMYNetSales", "sum"),
        "exports_mt": ("weeklyExports", "sum"),
        "outstanding_sales_mt": ("outstandingSales", "sum"),
    }
    total = frame.groupby("week", as_index=False).agg(**sums).assign(destination="ALL")
    china = frame[frame["countryCode"].astype(str) == str(CHINA_COUNTRY_CODE)]
    china = china.groupby("week", as_index=False).agg(**sums).assign(destination="CHINA")
    out = pd.concat([total, china], ignore_index=True)
    out["commodity"] = commodity
    out["week_ending_date"] = out["week"].dt.date
    out["available_at"] = usda_export_sales_available_at(out["week"]).to_numpy()
    return out[columns]


@dataclass
class Usda:
    commodities: list[str] = field(default_factory=lambda: list(COMMODITIES))
    name: str = "usda"
    tables: tuple[str, ...] = ("usda_export_sales",)

    def available(self) -> str | None:
        if get_secret("USDA_FAS_API_KEY") is None:
            return "USDA_FAS_API_KEY is not set (free key: the FAS Open Data API registration)"
        unknown = [c for c in self.commodities if c not in COMMODITIES]
        return f"unknown commodities {unknown}; choose from {list(COMMODITIES)}" if unknown else None

    def _years(self, loaded: Loaded, window: Window, commodity: str) -> list[int]:
        start = incremental_start(loaded, window, "usda_export_sales", equals(commodity=commodity), lookback_days=28)
        return marketing_years(pd.Timestamp(start), pd.Timestamp(window.end), COMMODITIES[commodity][1])

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [
            f"{c} (ESR {COMMODITIES[c][0]}): market years {self._years(loaded, window, c)}" for c in self.commodities
        ]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        reason = self.available()
        if reason:
            raise SourceError(self.name, reason)
        key = get_secret("USDA_FAS_API_KEY")
        session = build_session(requests_per_second=1.0, label=self.name)
        headers = {"X-API-KEY": key, "API_KEY": key}
        for commodity in self.commodities:
            code = COMMODITIES[commodity][0]
            for year in self._years(loaded, window, commodity):
                url = f"{base_url()}/exports/commodityCode/{code}/allCountries/marketYear/{year}"
                records = fetch_json(session, f"usda {commodity} {year}", url, kind=list, headers=headers)
                yield Batch("usda_export_sales", parse_esr(commodity, records), f"USDA {commodity} MY{year}")
