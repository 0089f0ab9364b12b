"""EPA RIN prices: the weekly average prices by D-code that EPA publishes with its RIN trade data.

EPA offers the table as a download on its "RIN Trades and Price Information" page; its address changes with
EPA's site, so CBI reads it from `CBI_EPA_RIN_URL` (or a local copy with `--file`). The parser accepts the
table's shape: a week column (week ending date), a fuel/D-code column and an average price column, either long
(one row per week and D-code) or wide (one price column per D-code, e.g. "D4", "D6"); or the EMTS weekly export
(`transfer_week, transfer_year, rin_year, d_code, qap_service_type, rin_price_usd`), which has several rows a
week (by RIN vintage year and QAP type): CBI keeps the current-year (`rin_year = transfer_year`) unverified
price, else the current-year price of the other QAP types averaged; a later export wins over an earlier one.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ingest.files import file_problem, read_csv_text, read_text
from ingest.http import SourceError, build_session, fetch
from ingest.release_times import epa_rin_available_at
from ingest.sources.base import Batch, Loaded, Window

log = logging.getLogger(__name__)
_D_CODE = re.compile(r"\bD\s?([3-7])\b", re.IGNORECASE)


def parse_rin_table(text: str, source: str = "epa") -> pd.DataFrame:
    """Weekly RIN prices in the raw contract's shape from EPA's CSV (pure); rows keep their file line."""
    if not text.strip():
        raise SourceError(source, "the CSV is empty")
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        raise SourceError(source, "is an HTML page, not EPA's RIN price CSV")
    frame = read_csv_text(text, source)
    columns = {c: c.strip().lower() for c in frame.columns if c != "_line"}
    if {"transfer_week", "d_code", "rin_price_usd", "rin_year", "transfer_year"} <= set(columns.values()):
        return _parse_emts(frame.rename(columns=columns), source)
    week = next((c for c, low in columns.items() if "week" in low or low in ("date", "period")), None)
    if week is None:
        raise SourceError(source, f"no week/date field among {list(frame.columns)}")
    wide = [c for c in frame.columns if _D_CODE.fullmatch(c.strip())]
    if wide:
        long = frame.melt(id_vars=[week, "_line"], value_vars=wide, var_name="code", value_name="price")
    else:
        code = next((c for c, low in columns.items() if "fuel" in low or "code" in low or "rin" in low), None)
        price = next((c for c, low in columns.items() if "price" in low), None)
        if code is None or price is None:
            raise SourceError(source, f"need a D-code and a price field, found {list(columns)}")
        long = frame.rename(columns={code: "code", price: "price"})[[week, "code", "price", "_line"]]
    codes = long["code"].astype("string").str.extract(_D_CODE)[0]
    long = long[codes.notna()].assign(rin_type="D" + codes[codes.notna()])
    dates = pd.to_datetime(long[week], errors="coerce")
    return pd.DataFrame(
        {
            "rin_type": long["rin_type"].to_numpy(),
            "week_ending_date": dates.dt.date.to_numpy(),
            "price_usd_per_rin": long["price"]
            .astype("string")
            .str.replace("$", "", regex=False)
            .str.replace(",", "", regex=False)
            .str.strip()
            .to_numpy(),
            "available_at": epa_rin_available_at(dates).to_numpy(),
            "_line": long["_line"].to_numpy(),
        }
    ).sort_values(["_line", "rin_type"], kind="stable", ignore_index=True)


def _parse_emts(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """One price per week and D-code from EPA's EMTS export (rule in the module docstring)."""
    frame = frame.copy()
    frame["_order"] = frame["source_file"].astype("string") if "source_file" in frame else ""
    current = frame[
        frame["rin_year"].astype("string").str.strip() == frame["transfer_year"].astype("string").str.strip()
    ]
    qap = current.get("qap_service_type", pd.Series("", index=current.index)).astype("string").str.lower()
    unverified = current[qap.str.strip() == "unverified"].sort_values(["_order", "_line"], kind="stable")
    chosen = unverified.drop_duplicates(["transfer_week", "d_code"], keep="last")
    others = current[
        ~current.set_index(["transfer_week", "d_code"]).index.isin(chosen.set_index(["transfer_week", "d_code"]).index)
    ]
    if len(others):
        prices = pd.to_numeric(others["rin_price_usd"], errors="coerce")
        averaged = (
            others.assign(_price=prices)
            .groupby(["transfer_week", "d_code"], as_index=False)
            .agg(rin_price_usd=("_price", "mean"), _line=("_line", "min"))
        )
        chosen = pd.concat([chosen, averaged], ignore_index=True)
    codes = chosen["d_code"].astype("string").str.extract(_D_CODE)[0]
    chosen = chosen[codes.notna()].assign(rin_type="D" + codes[codes.notna()])
    dates = pd.to_datetime(chosen["transfer_week"], errors="coerce")
    return pd.DataFrame(
        {
            "rin_type": chosen["rin_type"].to_numpy(),
            "week_ending_date": [
                d.date() if pd.notna(d) else r for d, r in zip(dates, chosen["transfer_week"], strict=True)
            ],
            "price_usd_per_rin": chosen["rin_price_usd"].astype("string").str.replace("$", "", regex=False).to_numpy(),
            "available_at": epa_rin_available_at(dates).to_numpy(),
            "_line": chosen["_line"].to_numpy(),
        }
    ).sort_values(["_line", "rin_type"], kind="stable", ignore_index=True)


@dataclass
class Epa:
    file: Path | list[Path] | None = None
    tables: tuple[str, ...] = ("epa_rin_prices",)

    @property
    def name(self) -> str:
        """The connector: `file` with --file, else EPA's page (`epa`)."""
        return "file" if self.file is not None else "epa"

    @property
    def url(self) -> str | None:
        return os.environ.get("CBI_EPA_RIN_URL") or None

    def available(self) -> str | None:
        if self.file is not None:
            problems = [p for p in (file_problem(f) for f in self._files) if p]
            return "; ".join(problems) if problems else None
        if not self.url:
            return (
                "set CBI_EPA_RIN_URL to the CSV download of EPA's 'RIN Trades and Price Information' page, "
                "or pass --file with a saved copy"
            )
        return None

    @property
    def _files(self) -> list[Path]:
        return list(self.file) if isinstance(self.file, list | tuple) else [self.file] if self.file else []

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"EPA weekly RIN prices from {f}" for f in self._files] or [f"EPA weekly RIN prices from {self.url}"]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        if self.file is not None:
            for path in self._files:
                source = f"epa file {path.name}"
                yield Batch("epa_rin_prices", parse_rin_table(read_text(path, source), source), source)
            return
        source = "epa"
        text = fetch(build_session(label=self.name), source, self.url, expect="csv").text
        yield Batch("epa_rin_prices", parse_rin_table(text, source), source)
