"""FRED: every series of the feature catalogue, keyless or through the API with ALFRED vintages.

- Keyless (default): the public graph CSV, `fredgraph.csv?id=<series>&cosd=<start>&coed=<end>`. It carries
  today's values only, so `available_at` comes from the release calendar and `realtime_start` is that date.
- With `FRED_API_KEY`: `fred/series/observations` with `realtime_start`/`realtime_end`, which returns every
  vintage in the window; each is kept as its own row (key series_id, observation_date, realtime_start), so
  revisions are history and a past as-of date sees the value it had then.
FRED's "." (no value that day) is stored as NULL for a date not loaded yet and never replaces a value already
loaded (an empty field is no value: `ingest.load`); anything else that is not a number is quarantined.
The file's dates must increase (fredgraph.csv is always sorted): a file out of order is rejected as a whole.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from cbi_core.secrets import get_secret
from ingest.http import SourceError, build_session, fetch, fetch_json
from ingest.release_times import fred_daily_available_at, fred_monthly_available_at, fred_weekly_available_at
from ingest.sources.base import Batch, Loaded, Window, equals, incremental_start

log = logging.getLogger(__name__)

#: Series of the feature catalogue and their publication frequency.
SERIES_FREQUENCY: dict[str, str] = {
    "DFF": "daily",
    "DFEDTARU": "daily",
    "DGS3MO": "daily",
    "DGS2": "daily",
    "DGS10": "daily",
    "T10Y2Y": "daily",
    "T10Y3M": "daily",
    "VIXCLS": "daily",
    "DEXBZUS": "daily",
    "DEXCHUS": "daily",
    "DEXMXUS": "daily",
    "DTWEXBGS": "daily",
    "NFCI": "weekly",
    "STLFSI4": "weekly",
    "UNRATE": "monthly",
    "CPIAUCSL": "monthly",
}
#: How far back an incremental run re-reads, to pick up revisions of recent periods.
LOOKBACK_DAYS = {"daily": 14, "weekly": 35, "monthly": 120}


def keyless_url() -> str:
    return os.environ.get("CBI_FRED_GRAPH_URL", "https://fred.stlouisfed.org/graph/fredgraph.csv")


def api_url() -> str:
    return os.environ.get("CBI_FRED_API_URL", "https://api.stlouisfed.org/fred/series/observations")


def release_available_at(series_id: str, observation_dates: pd.Series, frequency: str | None = None) -> pd.Series:
    frequency = frequency or SERIES_FREQUENCY.get(series_id, "daily")
    if frequency == "weekly":
        return fred_weekly_available_at(observation_dates, series_id)
    if frequency == "monthly":
        return fred_monthly_available_at(observation_dates, series_id)
    return fred_daily_available_at(observation_dates)


def parse_graph_csv(series_id: str, text: str, frequency: str | None = None, source: str | None = None) -> pd.DataFrame:
    """Rows of the raw contract from a fredgraph.csv body (pure; raises SourceError on a wrong file).

    `frequency` (daily, weekly, monthly) picks the release rule for a series outside the catalogue."""
    source = source or f"fred {series_id}"
    if not text.strip():
        raise SourceError(source, "the CSV is empty")
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        raise SourceError(source, "is an HTML page, not a fredgraph CSV")
    try:
        body = io.StringIO(text.rstrip() + "\n")  # trailing blank lines are harmless; inner ones are errors
        frame = pd.read_csv(body, dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SourceError(source, f"not a CSV: {exc}") from None
    if len(frame.columns) != 2:
        raise SourceError(source, f"expected 2 fields (date, {series_id}), got {list(frame.columns)}")
    date_field, value_field = frame.columns
    if value_field.strip().upper() != series_id:
        raise SourceError(source, f"field '{value_field}' is not the requested series {series_id}")
    dates = pd.to_datetime(frame[date_field], errors="coerce", format="%Y-%m-%d")
    lines = pd.Series(range(2, len(frame) + 2))  # the header is line 1
    if dates.isna().any():
        row = int(dates.isna().idxmax())
        raise SourceError(
            source, f"field '{date_field}' file line {lines[row]}: {frame[date_field].iloc[row]!r} is not a date"
        )
    backwards = dates.diff().dt.days.le(0)
    if backwards.any():
        row = int(backwards.idxmax())
        raise SourceError(
            source,
            f"field '{date_field}' file line {lines[row]}: date {dates.iloc[row].date()} is out of order "
            "(not after the line before)",
        )
    values = frame[value_field].str.strip().replace({".": None, "": None})
    available = release_available_at(series_id, dates, frequency)
    return pd.DataFrame(
        {
            "series_id": series_id,
            "observation_date": dates.dt.date,
            "value": values,
            "available_at": available.to_numpy(),
            "realtime_start": available.dt.date.to_numpy(),
            "_line": lines,
        }
    )


def parse_api_json(series_id: str, payload: dict) -> pd.DataFrame:
    """Rows (one per vintage) from a `fred/series/observations` JSON body (pure)."""
    source = f"fred {series_id}"
    if not isinstance(payload, dict):
        raise SourceError(source, f"API response is {type(payload).__name__}, expected a JSON object")
    if "observations" not in payload:
        raise SourceError(source, f"API response has no 'observations' (keys: {sorted(map(str, payload))[:8]})")
    observations = payload["observations"]
    if not isinstance(observations, list) or not all(isinstance(o, dict) for o in observations):
        raise SourceError(source, "API field 'observations' is not a list of objects")
    frame = pd.DataFrame(observations)
    if frame.empty:
        return pd.DataFrame(columns=["series_id", "observation_date", "value", "available_at", "realtime_start"])
    for column in ("date", "value", "realtime_start"):
        if column not in frame:
            raise SourceError(source, f"API observations lack field '{column}'")
    dates = pd.to_datetime(frame["date"], errors="coerce")
    vintage = pd.to_datetime(frame["realtime_start"], errors="coerce")
    released = release_available_at(series_id, dates)
    vintage_at = vintage + pd.Timedelta(hours=15)
    available = pd.concat([released, vintage_at], axis=1).max(axis=1)
    return pd.DataFrame(
        {
            "series_id": series_id,
            "observation_date": frame["date"],
            "value": frame["value"].replace({".": None}),
            "available_at": available.to_numpy(),
            "realtime_start": frame["realtime_start"],
        }
    )


@dataclass
class Fred:
    series: list[str] = field(default_factory=lambda: list(SERIES_FREQUENCY))
    name: str = "fred"
    tables: tuple[str, ...] = ("fred_observations",)

    def available(self) -> str | None:
        unknown = [s for s in self.series if s not in SERIES_FREQUENCY]
        return f"unknown series {unknown} (add them to SERIES_FREQUENCY with their frequency)" if unknown else None

    @property
    def uses_api(self) -> bool:
        return get_secret("FRED_API_KEY") is not None

    def _start(self, loaded: Loaded, window: Window, series_id: str) -> date:
        lookback = LOOKBACK_DAYS[SERIES_FREQUENCY[series_id]]
        return incremental_start(loaded, window, "fred_observations", equals(series_id=series_id), lookback)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        mode = "FRED API with vintages (FRED_API_KEY set)" if self.uses_api else "keyless fredgraph.csv"
        return [f"{s}: {self._start(loaded, window, s)}..{window.end} via {mode}" for s in self.series]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        reason = self.available()
        if reason:
            raise SourceError(self.name, reason)
        session = build_session(requests_per_second=2.0, label=self.name)
        key = get_secret("FRED_API_KEY")
        for series_id in self.series:
            start = self._start(loaded, window, series_id)
            if key:
                params = {
                    "series_id": series_id,
                    "api_key": key,
                    "file_type": "json",
                    "observation_start": start.isoformat(),
                    "observation_end": window.end.isoformat(),
                    "realtime_start": start.isoformat(),
                    "realtime_end": "9999-12-31",
                }
                payload = fetch_json(session, f"fred {series_id}", api_url(), params=params)
                frame = parse_api_json(series_id, payload)
            else:
                params = {"id": series_id, "cosd": start.isoformat(), "coed": window.end.isoformat()}
                response = fetch(session, f"fred {series_id}", keyless_url(), params=params, expect="csv")
                frame = parse_graph_csv(series_id, response.text)
            yield Batch("fred_observations", frame, f"FRED {series_id}")
