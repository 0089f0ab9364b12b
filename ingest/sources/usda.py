"""USDA FAS Export Sales Reporting (ESR) API: weekly export sales of soybeans, soybean meal and soybean oil,
in total (all countries) and to China. Needs a free key in `USDA_FAS_API_KEY` (sent as a header, never logged).
`UsdaFiles` (`cbi ingest usda --file`) reads the same records saved: the API's JSON list, or a CSV with its
field names (`commodityCode, countryCode, weekEndingDate, weeklyExports, currentMYNetSales, outstandingSales,
unitId, ...`), every country of a market year (the totals are sums over countries).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cbi_core.secrets import get_secret
from ingest.files import file_problem, read_csv_text, read_text
from ingest.http import SourceError, build_session, fetch_json
from ingest.release_times import usda_export_sales_available_at
from ingest.sources.base import Batch, Loaded, Window, equals, in_window, incremental_start

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


def read_esr_file(path: Path, source: str) -> list[dict]:
    """The ESR records of a saved download: the API's JSON list, or a CSV with its field names."""
    text = read_text(path, source, "ESR export")
    if path.name.lower().removesuffix(".gz").endswith(".json"):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(source, f"{path.name} is not JSON: {exc.msg} (line {exc.lineno})") from None
        if not isinstance(records, list):
            raise SourceError(source, f"{path.name} holds a JSON {type(records).__name__}, not a list of records")
        return records
    frame = read_csv_text(text, source, path).drop(columns="_line")
    if "unitId" in frame:  # the JSON's unitId is a number; parse_esr checks it
        frame["unitId"] = pd.to_numeric(frame["unitId"], errors="coerce")
    return frame.to_dict("records")


def esr_by_commodity(records: list[dict], commodity: str | None, source: str) -> dict[str, list[dict]]:
    """Records per CBI commodity: `--commodity`, else each record's `commodityCode` (801, 901, 902)."""
    if commodity:
        if commodity not in COMMODITIES:
            raise SourceError(source, f"unknown commodity {commodity!r}; choose from {list(COMMODITIES)}")
        return {commodity: records}
    names = {str(code): name for name, (code, _) in COMMODITIES.items()}
    out: dict[str, list[dict]] = {}
    for row, record in enumerate(records, start=1):
        code = str(record.get("commodityCode", "")).strip() if isinstance(record, dict) else ""
        if code not in names:
            raise SourceError(
                source,
                f"field 'commodityCode' record {row}: {code or 'missing'!r} is not soybeans (801), meal (901) or "
                "oil (902): pass --commodity",
            )
        out.setdefault(names[code], []).append(record)
    return out


@dataclass
class UsdaFiles:
    """`cbi ingest usda --file`: FAS ESR export-sales downloads (JSON or CSV with the API's field names)."""

    files: list[Path]
    commodity: str | None = None
    name: str = "file"
    tables: tuple[str, ...] = ("usda_export_sales",)

    def available(self) -> str | None:
        problems = [p for p in (file_problem(path) for path in self.files) if p]
        return "; ".join(problems) if problems else None

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} -> raw.usda_export_sales" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        for path in self.files:
            source = f"usda file {path.name}"
            for commodity, records in esr_by_commodity(read_esr_file(path, source), self.commodity, source).items():
                frame = parse_esr(commodity, records)
                yield Batch("usda_export_sales", in_window(frame, "week_ending_date", window), f"{source} {commodity}")
