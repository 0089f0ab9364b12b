"""Databento historical API (`DATABENTO_API_KEY`): daily OHLCV for every outright contract of each root.

Requests `ohlcv-1d` for the parent symbol `<root>.FUT` on GLBX.MDP3 through the official client (its own
retries and authentication); the decoding is the same as for DBN files (`futures_bars.dbn_to_daily_bars`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd

from cbi_core.secrets import get_secret
from ingest.http import HttpLimits, SourceError
from ingest.sources.base import Batch, Loaded, Window, incremental_start
from ingest.sources.futures_bars import dbn_to_daily_bars
from ingest.sources.quotes import DEFAULT_ROOTS, invalid_roots

log = logging.getLogger(__name__)
DATASET = "GLBX.MDP3"


@dataclass
class DatabentoApi:
    roots: list[str] = field(default_factory=lambda: list(DEFAULT_ROOTS))
    name: str = "databento"
    tables: tuple[str, ...] = ("futures_ohlcv_daily",)

    def available(self) -> str | None:
        return invalid_roots(self.roots) or (
            None if get_secret("DATABENTO_API_KEY") else "DATABENTO_API_KEY is not set"
        )

    def _start(self, loaded: Loaded, window: Window, root: str):
        def outright(group: dict) -> bool:
            return group.get("root") == root and ".c." not in str(group.get("contract"))

        return incremental_start(loaded, window, "futures_ohlcv_daily", outright, lookback_days=3)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"{DATASET} ohlcv-1d {r}.FUT {self._start(loaded, window, r)}..{window.end}" for r in self.roots]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        import databento

        reason = self.available()
        if reason:
            raise SourceError(self.name, reason)
        limits = HttpLimits.from_env()
        deadline = time.monotonic() + limits.source_deadline_s
        client = databento.Historical(get_secret("DATABENTO_API_KEY"))
        client.timeseries.TIMEOUT = limits.timeout_s  # the client's per-read timeout (its default is 100 s)
        for root in self.roots:
            if time.monotonic() > deadline:
                raise SourceError(
                    f"futures (databento) {root}", f"not fetched: the source's {limits.source_deadline_s:g} s passed"
                )
            start = self._start(loaded, window, root)
            end = (pd.Timestamp(window.end) + pd.Timedelta(days=1)).date()
            try:
                store = client.timeseries.get_range(
                    dataset=DATASET,
                    schema="ohlcv-1d",
                    stype_in="parent",
                    symbols=[f"{root}.FUT"],
                    start=start.isoformat(),
                    end=end.isoformat(),
                )
            except Exception as exc:  # BentoError and HTTP errors from the client
                raise SourceError(f"futures (databento) {root}", f"request failed: {exc}") from None
            frame = dbn_to_daily_bars(store)
            yield Batch("futures_ohlcv_daily", frame[frame["root"] == root].reset_index(drop=True), f"Databento {root}")
