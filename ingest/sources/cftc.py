"""CFTC Commitments of Traders, disaggregated report, for ZL, ZS and ZM (keyless): from the network (`Cftc`) or
from the same files saved (`CftcFiles`, `cbi ingest cftc --file`).

The CFTC's yearly history files (`fut_disagg_txt_<year>.zip` futures only, `com_disagg_txt_<year>.zip`
futures and options combined) hold every Tuesday of the year; the current year's file is republished with each
Friday release, so an incremental run re-reads the current year.
"""

from __future__ import annotations

import io
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ingest.files import file_problem, read_bytes, read_text
from ingest.http import SourceError, build_session, fetch
from ingest.release_times import cftc_available_at
from ingest.sources.base import Batch, Loaded, Window, in_window, incremental_start

log = logging.getLogger(__name__)

#: CFTC contract market codes of the CBOT soy complex.
MARKETS = {"007601": "ZL", "005602": "ZS", "026603": "ZM"}
REPORTS = {"futures_only": "fut_disagg_txt_{year}.zip", "futures_and_options": "com_disagg_txt_{year}.zip"}

#: Our column <- the history file's column (after lower-casing and collapsing repeated underscores).
FIELDS = {
    "report_date": "report_date_as_yyyy-mm-dd",
    "cftc_code": "cftc_contract_market_code",
    "open_interest": "open_interest_all",
    "prod_merc_long": "prod_merc_positions_long_all",
    "prod_merc_short": "prod_merc_positions_short_all",
    "swap_long": "swap_positions_long_all",
    "swap_short": "swap_positions_short_all",
    "managed_money_long": "m_money_positions_long_all",
    "managed_money_short": "m_money_positions_short_all",
    "other_reportable_long": "other_rept_positions_long_all",
    "other_reportable_short": "other_rept_positions_short_all",
    "nonreportable_long": "nonrept_positions_long_all",
    "nonreportable_short": "nonrept_positions_short_all",
}


def base_url() -> str:
    return os.environ.get("CBI_CFTC_BASE_URL", "https://www.cftc.gov/files/dea/history")


def _normalise(name: str) -> str:
    return re.sub(r"_+", "_", name.strip().lower())


def read_history_zip(content: bytes, source: str) -> tuple[str, str]:
    """(member name, text) of the report inside one yearly history zip (`f_year.txt` or `c_year.txt`)."""
    if not content.strip():
        raise SourceError(source, "the body is empty, not a zip archive")
    if content.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        raise SourceError(source, "is an HTML page, not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [n for n in archive.namelist() if n.lower().endswith(".txt")]
        if not members:
            raise SourceError(source, f"zip holds no .txt report (members: {archive.namelist()[:5]})")
        return members[0], archive.read(members[0]).decode("latin-1")
    # zipfile raises NotImplementedError for a compression method it cannot read: a bad file, like the others
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise SourceError(source, f"is not a readable zip archive (truncated or an error page?): {exc}") from None


def parse_history_text(text: str, report_type: str, source: str, member: str = "the report") -> pd.DataFrame:
    """Rows of the raw contract for the soy complex from one yearly history report (comma-separated, the
    CFTC's column names) (pure)."""
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(source, f"{member} is not a CSV report: {exc}") from None
    raw["_line"] = range(2, len(raw) + 2)  # the header is line 1 (no quoted line breaks in COT reports)
    raw.columns = [_normalise(c) if c != "_line" else c for c in raw.columns]
    missing = [f for f in FIELDS.values() if f not in raw.columns]
    if missing:
        raise SourceError(source, f"missing field(s) {missing}")
    frame = raw[[*FIELDS.values(), "_line"]].rename(columns={v: k for k, v in FIELDS.items()})
    frame["cftc_code"] = frame["cftc_code"].str.strip().str.zfill(6)
    frame = frame[frame["cftc_code"].isin(MARKETS)].copy()
    frame["market_code"] = frame.pop("cftc_code").map(MARKETS)
    frame["report_type"] = report_type
    for column in FIELDS:
        if column not in ("report_date", "cftc_code"):
            frame[column] = frame[column].str.strip().str.replace(",", "", regex=False)
    dates = pd.to_datetime(frame["report_date"], errors="coerce")
    frame["available_at"] = cftc_available_at(dates).to_numpy()
    return frame.reset_index(drop=True)


def parse_history_zip(content: bytes, report_type: str, source: str) -> pd.DataFrame:
    """Rows of the raw contract for the soy complex from one yearly history zip (pure)."""
    member, text = read_history_zip(content, source)
    return parse_history_text(text, report_type, source, member)


@dataclass
class Cftc:
    report_types: list[str] = field(default_factory=lambda: ["futures_only", "futures_and_options"])
    name: str = "cftc"
    tables: tuple[str, ...] = ("cftc_cot_disaggregated",)

    def available(self) -> str | None:
        unknown = [r for r in self.report_types if r not in REPORTS]
        return f"unknown report type(s) {unknown}; choose from {list(REPORTS)}" if unknown else None

    def _years(self, loaded: Loaded, window: Window) -> list[int]:
        start = incremental_start(loaded, window, "cftc_cot_disaggregated", lookback_days=7)
        return list(range(start.year, window.end.year + 1))

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [
            f"{base_url()}/{REPORTS[r].format(year=y)}" for r in self.report_types for y in self._years(loaded, window)
        ]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        reason = self.available()
        if reason:
            raise SourceError(self.name, reason)
        session = build_session(requests_per_second=1.0, label=self.name)
        for report_type in self.report_types:
            for year in self._years(loaded, window):
                url = f"{base_url()}/{REPORTS[report_type].format(year=year)}"
                source = f"cftc {report_type} {year}"
                response = fetch(session, source, url)
                frame = parse_history_zip(response.content, report_type, source)
                yield Batch("cftc_cot_disaggregated", frame, source)


#: The report type a CFTC history file holds, from its published name: `fut_disagg_txt_<year>.zip` (inside:
#: `f_year.txt`) futures only, `com_disagg_txt_<year>.zip` (`c_year.txt`) futures and options combined.
_FILE_REPORT = re.compile(r"^(?P<kind>fut|com|f|c)_(?:disagg_txt_.*\.zip|year.*\.txt)$", re.IGNORECASE)


def file_report_type(path: Path, explicit: str | None, source: str) -> str:
    """--report-type, else the report type the file's published name says."""
    if explicit:
        if explicit not in REPORTS:
            raise SourceError(source, f"unknown report type {explicit!r}; choose from {list(REPORTS)}")
        return explicit
    match = _FILE_REPORT.match(path.name)
    if not match:
        raise SourceError(
            source,
            f"cannot tell the report from the file name {path.name!r} (fut_disagg_txt_<year>.zip, "
            "com_disagg_txt_<year>.zip, f_year.txt or c_year.txt): pass --report-type",
        )
    return "futures_only" if match.group("kind").lower() in ("fut", "f") else "futures_and_options"


@dataclass
class CftcFiles:
    """`cbi ingest cftc --file`: the CFTC's yearly disaggregated history as published, the zip or its txt."""

    files: list[Path]
    report_type: str | None = None
    name: str = "file"
    tables: tuple[str, ...] = ("cftc_cot_disaggregated",)

    def available(self) -> str | None:
        problems = [p for p in (file_problem(path) for path in self.files) if p]
        return "; ".join(problems) if problems else None

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} -> raw.cftc_cot_disaggregated" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        for path in self.files:
            source = f"cftc file {path.name}"
            report_type = file_report_type(path, self.report_type, source)
            if path.suffix.lower() == ".zip":
                frame = parse_history_zip(read_bytes(path, source), report_type, source)
            else:
                frame = parse_history_text(read_text(path, source, "COT report"), report_type, source, path.name)
            yield Batch("cftc_cot_disaggregated", in_window(frame, "report_date", window), source)
