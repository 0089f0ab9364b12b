"""Importers for source files a user holds: `cbi ingest fred|eia|epa|news --file PATH [--file PATH ...]`.

Every file goes through the same load path as the network connectors (validation, quarantine with file lines,
idempotency, `available_at` from the release calendar, revision history).

- FRED and EIA: the sources' own download (`observation_date,<SERIES>`, fredgraph CSV) or two columns
  `observation_date,value` whose series id is the file name's (`fred_DGS10.csv`, `eia_WCESTUS1.csv`,
  `eia_RWTC_daily.csv`) unless `--series` says otherwise. FRED "." rows are NULL (never replacing a loaded
  value). A FRED series outside the catalogue gets the release rule of its frequency, inferred from the dates.
  EIA codes of `EIA_SERIES` map to CBI's series names; other codes are stored under their lower-case code.
- EPA: a RIN price table in the shape `ingest.sources.epa.parse_rin_table` reads, including the EMTS weekly
  export (`transfer_week, transfer_year, rin_year, d_code, qap_service_type, rin_price_usd[, source_file]`).
- News: dated headline CSVs (`date, source, [commodity,] headline`); the feed is the file name's
  (`news_<feed>[_headlines...].csv`), the article id a hash of feed, date and headline.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ingest.files import file_problem, read_csv_text, read_text
from ingest.http import SourceError
from ingest.sources.base import Batch, Loaded, Window, check_name, in_window
from ingest.sources.eia import EIA_SERIES, eia_monthly_available_at, eia_weekly_available_at
from ingest.sources.fred import SERIES_FREQUENCY, parse_graph_csv

log = logging.getLogger(__name__)

_SERIES = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,39}$")
_FRED_NAME = re.compile(r"^fred_(?P<series>[A-Za-z0-9]+)(?:_[a-z]+)?\.csv(?:\.gz)?$", re.IGNORECASE)
_EIA_NAME = re.compile(r"^eia_(?P<series>[A-Za-z0-9]+)(?:_(?P<freq>daily|weekly|monthly))?\.csv(?:\.gz)?$")
_NEWS_NAME = re.compile(r"^news_(?P<feed>[a-z0-9]+(?:_[a-z0-9]+)*?)(?:_headlines.*)?\.csv(?:\.gz)?$")
EIA_UNITS = {"WCESTUS1": "MBBL", "WDISTUS1": "MBBL", "WCRSTUS1": "MBBL", "RWTC": "USD/BBL", "RBRTE": "USD/BBL"}
EIA_UNITS["RNGWHHD"] = "USD/MMBTU"


def files_problem(files: list[Path]) -> str | None:
    problems = [p for p in (file_problem(path) for path in files) if p]
    return "; ".join(problems) if problems else None


def infer_frequency(dates: pd.Series) -> str:
    """daily, weekly or monthly from the median gap between observations."""
    gaps = pd.Series(pd.to_datetime(dates, errors="coerce")).dropna().sort_values().diff().dt.days.dropna()
    gap = gaps.median() if len(gaps) else 1
    return "monthly" if gap >= 27 else "weekly" if gap >= 6 else "daily"


def _header_series(text: str) -> str | None:
    """The second field of the header when it names a series (the sources' own download), else None."""
    fields = [f.strip().strip('"') for f in text.partition("\n")[0].split(",")]
    return fields[1].upper() if len(fields) == 2 and fields[1].lower() != "value" else None


def _series_from(
    path: Path, pattern: re.Pattern, explicit: str | None, source: str, text: str
) -> tuple[str, str | None]:
    """The series id: --series, else the header's (a download), else the file name's; and a frequency hint."""
    match = pattern.match(path.name)
    freq = match.groupdict().get("freq") if match else None
    if explicit:
        series = explicit.strip().upper()
    elif _header_series(text):
        series = str(_header_series(text))
    elif match:
        series = match.group("series").upper()
    else:
        raise SourceError(source, f"cannot tell the series from the file name {path.name!r}: pass --series")
    if not _SERIES.fullmatch(series):
        raise SourceError(source, f"series {series!r} is not a valid series id (capitals, digits, '_')")
    return series, freq


def _two_columns(text: str, series: str, source: str) -> str:
    """The file's text with a `value` header renamed to the series (the fredgraph shape)."""
    head, _, rest = text.partition("\n")
    fields = [f.strip().strip('"') for f in head.split(",")]
    if len(fields) != 2:
        raise SourceError(source, f"expected 2 fields (observation_date, value or {series}), got {fields}")
    if fields[1].lower() == "value":
        head = f"{fields[0]},{series}"
    return f"{head}\n{rest}"


@dataclass
class FredFiles:
    files: list[Path]
    series: str | None = None
    name: str = "file"
    tables: tuple[str, ...] = ("fred_observations",)

    def available(self) -> str | None:
        if self.series and len(self.files) > 1:
            return "--series names one series: pass one --file with it"
        return files_problem(self.files)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} -> raw.fred_observations" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        for path in self.files:
            source = f"fred file {path.name}"
            text = read_text(path, source)
            series, _ = _series_from(path, _FRED_NAME, self.series, source, text)
            text = _two_columns(text, series, source)
            frequency = SERIES_FREQUENCY.get(series)
            if frequency is None:
                dates = read_csv_text(text, source, path).iloc[:, 0]
                frequency = infer_frequency(dates)
                log.info("%s: %s is not in the catalogue; its dates look %s", source, series, frequency)
            frame = parse_graph_csv(series, text, frequency=frequency, source=source)
            yield Batch("fred_observations", in_window(frame, "observation_date", window), source)


def eia_daily_available_at(period: pd.Series) -> pd.Series:
    """EIA daily spot prices come out weekly, on Wednesday for the week before: the next Wednesday after the
    period's week (Monday to Sunday), 15:30 UTC."""
    day = pd.Series(pd.to_datetime(period)).dt.normalize()
    week_end = day + pd.to_timedelta(6 - day.dt.weekday, unit="D")
    return week_end + pd.Timedelta(days=3, hours=15, minutes=30)


@dataclass
class EiaFiles:
    files: list[Path]
    series: str | None = None
    name: str = "file"
    tables: tuple[str, ...] = ("eia_observations",)

    def available(self) -> str | None:
        if self.series and len(self.files) > 1:
            return "--series names one series: pass one --file with it"
        return files_problem(self.files)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} -> raw.eia_observations" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        by_code = {spec.code: name for name, spec in EIA_SERIES.items()}
        for path in self.files:
            source = f"eia file {path.name}"
            text = read_text(path, source)
            code, freq = _series_from(path, _EIA_NAME, self.series, source, text)
            frame = read_csv_text(_two_columns(text, code, source), source, path)
            date_field, value_field = frame.columns[0], frame.columns[1]
            dates = pd.to_datetime(frame[date_field], errors="coerce", format="%Y-%m-%d")
            frequency = freq or infer_frequency(dates)
            calendar = {"weekly": eia_weekly_available_at, "monthly": eia_monthly_available_at}
            available = calendar.get(frequency, eia_daily_available_at)(dates)
            out = pd.DataFrame(
                {
                    "series_id": by_code.get(code, code.lower()),
                    "period_date": [
                        d.date() if pd.notna(d) else raw for d, raw in zip(dates, frame[date_field], strict=True)
                    ],
                    "frequency": frequency,
                    "value": frame[value_field].replace({".": None}),
                    "units": EIA_UNITS.get(code),
                    "available_at": available.to_numpy(),
                    "_line": frame["_line"],
                }
            )
            yield Batch("eia_observations", in_window(out, "period_date", window), source)


def parse_headlines(feed: str, text: str, source: str) -> pd.DataFrame:
    """Rows of `raw.news_articles` from a dated headline CSV (pure)."""
    frame = read_csv_text(text, source)
    columns = {c.strip().lower(): c for c in frame.columns}
    missing = [c for c in ("date", "headline") if c not in columns]
    if missing:
        raise SourceError(source, f"missing field(s) {missing}; found {[c for c in frame.columns if c != '_line']}")
    dates = pd.to_datetime(frame[columns["date"]], errors="coerce", format="%Y-%m-%d")
    headlines = frame[columns["headline"]].astype("string").str.strip()
    ids = [
        hashlib.sha1(f"{feed}|{d}|{h}".encode()).hexdigest()[:16]
        for d, h in zip(frame[columns["date"]], headlines, strict=True)
    ]
    categories = frame[columns["commodity"]].astype("string") if "commodity" in columns else None
    return pd.DataFrame(
        {
            "article_id": ids,
            "feed": feed,
            "published_at": [d if pd.notna(d) else raw for d, raw in zip(dates, frame[columns["date"]], strict=True)],
            "title": headlines,
            "summary": None,
            "url": None,
            "categories": categories,
            # a headline dated without a time: known by the end of its day
            "available_at": (dates + pd.Timedelta(days=1)).to_numpy(),
            "_line": frame["_line"],
        }
    )


@dataclass
class NewsFiles:
    files: list[Path]
    feed: str | None = None
    name: str = "file"
    tables: tuple[str, ...] = ("news_articles",)

    def available(self) -> str | None:
        return files_problem(self.files)

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"read {p} -> raw.news_articles" for p in self.files]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        for path in self.files:
            source = f"news file {path.name}"
            match = _NEWS_NAME.match(path.name)
            feed = self.feed or (match.group("feed") if match else path.name.split(".")[0].lower())
            check_name("feed name", feed, source)
            frame = parse_headlines(feed, read_text(path, source), source)
            yield Batch("news_articles", in_window(frame, "published_at", window), source)


#: What `cbi ingest real-files DIR` loads, in order: (glob under DIR, importer).
REAL_FILE_SETS = (
    ("futures_daily_contracts.csv.gz", "futures"),
    ("macro/fred_*.csv", "fred"),
    ("macro/eia_*.csv", "eia"),
    ("macro/epa_*.csv", "epa"),
    ("macro/news_*.csv", "news"),
    ("macro/*_disagg_txt_*.zip", "cftc"),
    ("macro/[fc]_year*.txt", "cftc"),
    ("macro/usda_esr_*.json", "usda"),
    ("macro/usda_esr_*.csv", "usda"),
)


@dataclass
class RealFiles:
    """Every file set of a `data/real/`-shaped folder (see REAL_FILE_SETS)."""

    folder: Path
    found: dict[str, list[Path]] = field(default_factory=dict)

    def collect(self) -> dict[str, list[Path]]:
        if not self.folder.is_dir():
            raise SourceError("real-files", f"{self.folder} is not a directory")
        for pattern, kind in REAL_FILE_SETS:
            self.found.setdefault(kind, []).extend(sorted(self.folder.glob(pattern)))
        return {k: v for k, v in self.found.items() if v}
