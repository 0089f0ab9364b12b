"""Keyless daily bars for continuous front contracts from a public quote API (Yahoo Finance chart API).

For users with neither Databento files nor a key. The series is the unadjusted front month (`ZL=F`): the
contract behind it is not published, so rows are stored as the continuous contract `<root>.c.0` and roll gaps
stay in its returns. Prefer Databento (per-contract bars) for anything that trains models.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

import pandas as pd

from ingest.http import SourceError, build_session, fetch_json
from ingest.sources.base import Batch, Loaded, Window, equals, incremental_start
from ingest.sources.futures_bars import continuous_contract, finish_daily

log = logging.getLogger(__name__)

DEFAULT_ROOTS = ["ZL", "ZS", "ZM", "CL", "HO", "RB", "NG", "HG", "6L", "6E", "DX"]
#: A futures root: 1 to 4 capital letters or digits (ZL, 6E); nothing else reaches a URL or the database.
ROOT_PATTERN = re.compile(r"^[A-Z0-9]{1,4}$")


def invalid_roots(roots: list[str]) -> str | None:
    """None if every root looks like a CME root, else the reason (for `available()`)."""
    bad = [r for r in roots if not isinstance(r, str) or not ROOT_PATTERN.fullmatch(r)]
    return f"invalid root(s) {bad}: a root is 1 to 4 capital letters or digits (e.g. ZL, 6E)" if bad else None


def base_url() -> str:
    return os.environ.get("CBI_QUOTES_BASE_URL", "https://query1.finance.yahoo.com/v8/finance/chart")


def parse_chart(root: str, payload: dict) -> pd.DataFrame:
    """Daily bars from a chart API JSON body (pure); a malformed body is one `SourceError`."""
    source = f"futures (quotes) {root}=F"
    try:
        return _parse_chart(root, payload, source)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError) as exc:
        raise SourceError(source, f"malformed chart response: {type(exc).__name__}: {exc}") from None


def _parse_chart(root: str, payload: dict, source: str) -> pd.DataFrame:
    chart = payload.get("chart") if isinstance(payload, dict) else None
    if not chart:
        raise SourceError(source, "response has no 'chart' object")
    if chart.get("error"):
        raise SourceError(source, f"API error: {chart['error']}")
    results = chart.get("result") or []
    if not results:
        raise SourceError(source, "response has no result")
    result = results[0]
    stamps = result.get("timestamp") or []
    quote = (result.get("indicators", {}).get("quote") or [{}])[0]
    missing = [f for f in ("open", "high", "low", "close", "volume") if f not in quote]
    if stamps and missing:
        raise SourceError(source, f"quote lacks field(s) {missing}")
    tz = result.get("meta", {}).get("exchangeTimezoneName") or "America/Chicago"
    frame = pd.DataFrame({f: quote.get(f, []) for f in ("open", "high", "low", "close", "volume")})
    frame["trade_date"] = pd.to_datetime(stamps, unit="s", utc=True).tz_convert(tz).tz_localize(None).normalize()
    frame = frame.dropna(subset=["close"])  # the API pads days without a bar with nulls
    frame["root"] = root
    frame["contract"] = continuous_contract(root)
    return finish_daily(frame.drop_duplicates("trade_date", keep="last"))


@dataclass
class Quotes:
    roots: list[str] = field(default_factory=lambda: list(DEFAULT_ROOTS))
    name: str = "quotes"
    tables: tuple[str, ...] = ("futures_ohlcv_daily",)

    def available(self) -> str | None:
        return invalid_roots(self.roots)

    def _start(self, loaded: Loaded, window: Window, root: str):
        match = equals(root=root, contract=continuous_contract(root))
        return incremental_start(loaded, window, "futures_ohlcv_daily", match, lookback_days=5)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [
            f"{r}=F daily bars {self._start(loaded, window, r)}..{window.end} from {base_url()}" for r in self.roots
        ]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        reason = invalid_roots(self.roots)
        if reason:
            raise SourceError(self.name, reason)
        session = build_session(requests_per_second=0.5, label=self.name)
        for root in self.roots:
            start = datetime.combine(self._start(loaded, window, root), time(), tzinfo=UTC)
            end = datetime.combine(window.end, time(23, 59), tzinfo=UTC)
            params = {"period1": int(start.timestamp()), "period2": int(end.timestamp()), "interval": "1d"}
            payload = fetch_json(session, f"futures (quotes) {root}=F", f"{base_url()}/{root}=F", params=params)
            yield Batch("futures_ohlcv_daily", parse_chart(root, payload), f"futures (quotes) {root}=F")
