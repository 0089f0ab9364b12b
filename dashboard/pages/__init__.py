"""The five pages, one module each, every page a pure function of small frames (see `data.QUERIES` for where they
come from): `forecast`, `risk`, `drivers`, `record`, `health`; `common` holds what they share."""

from __future__ import annotations

from datetime import datetime

from dashboard.components import Page
from dashboard.data import WarehouseData
from dashboard.pages.drivers import drivers_page
from dashboard.pages.forecast import forecast_page
from dashboard.pages.health import health_page
from dashboard.pages.record import record_page
from dashboard.pages.risk import risk_page


def build_pages(data: WarehouseData, now: datetime) -> list[Page]:
    return [forecast_page(data), risk_page(data), drivers_page(data), record_page(data), health_page(data, now)]
