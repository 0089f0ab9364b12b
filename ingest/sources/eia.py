"""EIA API v2 (`EIA_API_KEY`): biofuel production and petroleum stocks, paginated, one batch per series.

Which EIA routes feed which CBI series is configuration (`EIA_SERIES` below; extend it for more). The codes
shipped are the weekly petroleum stocks (WCESTUS1 crude excluding SPR, WDISTUS1 distillate) and monthly biodiesel
production from the Monthly Energy Review (mnemonic BDPRPUS). Renewable diesel and soybean-oil feedstock use come
from EIA's Monthly Biofuels Capacity and Feedstocks Update; add their route and facet here once confirmed in
EIA's API browser (the offline sample already writes `renewable_diesel_production` and
`soybean_oil_feedstock_use` under the same raw contract).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from cbi_core.secrets import get_secret
from ingest.http import SourceError, build_session, fetch_json
from ingest.release_times import eia_monthly_available_at
from ingest.sources.base import Batch, Loaded, Window, equals, incremental_start

log = logging.getLogger(__name__)
PAGE_SIZE = 5000


@dataclass(frozen=True)
class EiaSeries:
    route: str
    facet: str
    code: str
    frequency: str  # "weekly" or "monthly"


EIA_SERIES: dict[str, EiaSeries] = {
    "crude_oil_stocks_ex_spr": EiaSeries("petroleum/stoc/wstk", "series", "WCESTUS1", "weekly"),
    "distillate_stocks": EiaSeries("petroleum/stoc/wstk", "series", "WDISTUS1", "weekly"),
    "biodiesel_production": EiaSeries("total-energy", "msn", "BDPRPUS", "monthly"),
}


def base_url() -> str:
    return os.environ.get("CBI_EIA_BASE_URL", "https://api.eia.gov/v2")


def eia_weekly_available_at(period: pd.Series) -> pd.Series:
    """Weekly petroleum data for the week ending Friday: the Wednesday after, 10:30 ET (15:30 UTC)."""
    return pd.Series(pd.to_datetime(period)).dt.normalize() + pd.Timedelta(days=5, hours=15, minutes=30)


def parse_eia(series_id: str, spec: EiaSeries, payload: dict) -> tuple[pd.DataFrame, int]:
    """(rows of the raw contract, total rows the API reports) from one API v2 page (pure)."""
    source = f"eia {series_id}"
    response = payload.get("response") if isinstance(payload, dict) else None
    if not isinstance(response, dict):
        raise SourceError(source, f"no 'response' object in the API reply: {str(payload)[:200]}")
    records = response.get("data", [])
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceError(source, "API field 'response.data' is not a list of objects")
    data = pd.DataFrame(records)
    try:
        total = int(response.get("total", len(data)) or 0)
    except (TypeError, ValueError):
        raise SourceError(source, f"API field 'response.total' {response.get('total')!r} is not a count") from None
    columns = ["series_id", "period_date", "frequency", "value", "units", "available_at"]
    if data.empty:
        return pd.DataFrame(columns=columns), total
    for f in ("period", "value"):
        if f not in data:
            raise SourceError(source, f"data lacks field '{f}'")
    units_field = next((c for c in ("units", "value-units", "unit") if c in data), None)
    periods = pd.to_datetime(data["period"], errors="coerce")
    available = eia_weekly_available_at(periods) if spec.frequency == "weekly" else eia_monthly_available_at(periods)
    frame = pd.DataFrame(
        {
            "series_id": series_id,
            "period_date": periods.dt.date,
            "frequency": spec.frequency,
            "value": data["value"],
            "units": data[units_field] if units_field else None,
            "available_at": available.to_numpy(),
        }
    )
    return frame, total


@dataclass
class Eia:
    series: list[str] = field(default_factory=lambda: list(EIA_SERIES))
    name: str = "eia"
    tables: tuple[str, ...] = ("eia_observations",)

    def available(self) -> str | None:
        if get_secret("EIA_API_KEY") is None:
            return "EIA_API_KEY is not set (free key from EIA's open data registration)"
        unknown = [s for s in self.series if s not in EIA_SERIES]
        return f"unknown series {unknown}" if unknown else None

    def _start(self, loaded: Loaded, window: Window, series_id: str):
        return incremental_start(loaded, window, "eia_observations", equals(series_id=series_id), 100)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        lines = []
        for s in self.series:
            spec = EIA_SERIES[s]
            lines.append(f"{s}: {spec.route} {spec.facet}={spec.code} from {self._start(loaded, window, s)}")
        return lines

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        reason = self.available()
        if reason:
            raise SourceError(self.name, reason)
        key = get_secret("EIA_API_KEY")
        session = build_session(requests_per_second=2.0, label=self.name)
        for series_id in self.series:
            spec = EIA_SERIES[series_id]
            start = pd.Timestamp(self._start(loaded, window, series_id))
            fmt = "%Y-%m" if spec.frequency == "monthly" else "%Y-%m-%d"
            pages, offset = [], 0
            while True:
                params = {
                    "api_key": key,
                    "frequency": spec.frequency,
                    "data[0]": "value",
                    f"facets[{spec.facet}][]": spec.code,
                    "start": start.strftime(fmt),
                    "end": pd.Timestamp(window.end).strftime(fmt),
                    "sort[0][column]": "period",
                    "sort[0][direction]": "asc",
                    "offset": offset,
                    "length": PAGE_SIZE,
                }
                payload = fetch_json(session, f"eia {series_id}", f"{base_url()}/{spec.route}/data/", params=params)
                frame, total = parse_eia(series_id, spec, payload)
                pages.append(frame)
                offset += len(frame)
                if frame.empty or offset >= total:
                    break
            yield Batch("eia_observations", pd.concat(pages, ignore_index=True), f"EIA {series_id}")
