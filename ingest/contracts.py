"""The raw contract: every table that ingestion writes, its columns, types and natural key.

This module is the single source of truth for the `raw` schema. The offline sample generator and every
real connector produce frames with exactly these columns; `ingest.load` creates the tables from it and
rejects frames that do not match. dbt sources (`models/staging/*/_*__sources.yml`) document the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Columns every raw table carries, set by the loader (never by a connector).
LOAD_METADATA_COLUMNS: dict[str, str] = {"_loaded_at": "TIMESTAMP", "_run_id": "VARCHAR"}


@dataclass(frozen=True)
class RawTable:
    """One raw dataset: `raw.<name>` with typed columns and a natural key."""

    name: str
    source: str
    columns: dict[str, str]
    key: tuple[str, ...]
    description: str
    positive: tuple[str, ...] = ()  # columns that must be > 0 (prices); a row breaking it is quarantined
    non_negative: tuple[str, ...] = ()  # columns that must be >= 0
    #: Plausible [low, high] of every numeric column (inclusive); a value outside it, or not finite, is quarantined.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Exchange bars: the trade date is a weekday from `FIRST_BAR_DATE` to today (Chicago) and the contract
    #: belongs to the row's root (`ingest.load.bar_problems`).
    bars: bool = False

    @property
    def qualified_name(self) -> str:
        return f"raw.{self.name}"

    @property
    def history_name(self) -> str:
        """`raw.<name>_history`: every version a revision replaced, with when and by which run."""
        return f"raw.{self.name}_history"

    @property
    def data_columns(self) -> list[str]:
        """Columns a connector supplies (everything but the load metadata)."""
        return list(self.columns)

    @property
    def value_columns(self) -> list[str]:
        """Non-key data columns: a change in any of them is a revision of the row."""
        return [c for c in self.columns if c not in self.key]

    def ddl(self) -> str:
        cols = {**self.columns, **LOAD_METADATA_COLUMNS}
        body = ",\n    ".join(f"{name} {dtype}" for name, dtype in cols.items())
        key = ", ".join(self.key)
        return f"create table if not exists {self.qualified_name} (\n    {body},\n    primary key ({key})\n)"

    def history_ddl(self) -> str:
        cols = {
            **self.columns,
            **LOAD_METADATA_COLUMNS,
            "_superseded_at": "TIMESTAMP",
            "_superseded_by_run_id": "VARCHAR",
        }
        body = ",\n    ".join(f"{name} {dtype}" for name, dtype in cols.items())
        return f"create table if not exists {self.history_name} (\n    {body}\n)"


FUTURES_OHLCV_DAILY = RawTable(
    name="futures_ohlcv_daily",
    source="futures",
    columns={
        "root": "VARCHAR",
        "contract": "VARCHAR",
        "trade_date": "DATE",
        "open": "DOUBLE",
        "high": "DOUBLE",
        "low": "DOUBLE",
        "close": "DOUBLE",
        "volume": "BIGINT",
        "open_interest": "BIGINT",
        "available_at": "TIMESTAMP",
    },
    key=("root", "contract", "trade_date"),
    description="Daily OHLCV bars per futures contract, prices in exchange units.",
    positive=("open", "high", "low", "close"),
    non_negative=("volume", "open_interest"),
    # Prices in exchange units (ZL cents/lb ~20-120, ZS cents/bu ~500-1,800, CL $/bbl, 6L $/BRL ~0.2, DX ~100);
    # CME's busiest contracts trade a few million lots a day and hold tens of millions open.
    ranges={
        "open": (0.0, 100_000.0),
        "high": (0.0, 100_000.0),
        "low": (0.0, 100_000.0),
        "close": (0.0, 100_000.0),
        "volume": (0.0, 1e9),
        "open_interest": (0.0, 1e9),
    },
    bars=True,
)

FRED_OBSERVATIONS = RawTable(
    name="fred_observations",
    source="fred",
    columns={
        "series_id": "VARCHAR",
        "observation_date": "DATE",
        "value": "DOUBLE",
        "available_at": "TIMESTAMP",
        "realtime_start": "DATE",
    },
    key=("series_id", "observation_date", "realtime_start"),
    description="FRED/ALFRED observations; one row per vintage (realtime_start) so revisions are kept.",
    # Rates and spreads (-20..30 %), indices (VIX, NFCI, CPI ~300), FX (~0.1-30 per USD); wide enough for any
    # FRED series a user adds (GDP in $bn ~30,000), narrow enough to stop 1e308.
    ranges={"value": (-1e9, 1e9)},
)

CFTC_COT_DISAGGREGATED = RawTable(
    name="cftc_cot_disaggregated",
    source="cftc",
    columns={
        "report_date": "DATE",
        "market_code": "VARCHAR",
        "report_type": "VARCHAR",
        "open_interest": "BIGINT",
        "prod_merc_long": "BIGINT",
        "prod_merc_short": "BIGINT",
        "swap_long": "BIGINT",
        "swap_short": "BIGINT",
        "managed_money_long": "BIGINT",
        "managed_money_short": "BIGINT",
        "other_reportable_long": "BIGINT",
        "other_reportable_short": "BIGINT",
        "nonreportable_long": "BIGINT",
        "nonreportable_short": "BIGINT",
        "available_at": "TIMESTAMP",
    },
    key=("market_code", "report_type", "report_date"),
    non_negative=("open_interest",),
    # Positions in contracts: soy complex open interest is ~0.3-1.5 million; every position is >= 0.
    ranges={
        c: (0.0, 1e8)
        for c in (
            "open_interest",
            "prod_merc_long",
            "prod_merc_short",
            "swap_long",
            "swap_short",
            "managed_money_long",
            "managed_money_short",
            "other_reportable_long",
            "other_reportable_short",
            "nonreportable_long",
            "nonreportable_short",
        )
    },
    description="CFTC disaggregated positions (Tuesday; futures_only or futures_and_options), out Friday 15:30 ET.",
)

USDA_EXPORT_SALES = RawTable(
    name="usda_export_sales",
    source="usda",
    columns={
        "commodity": "VARCHAR",
        "destination": "VARCHAR",
        "week_ending_date": "DATE",
        "net_sales_mt": "DOUBLE",
        "exports_mt": "DOUBLE",
        "outstanding_sales_mt": "DOUBLE",
        "available_at": "TIMESTAMP",
    },
    key=("commodity", "destination", "week_ending_date"),
    non_negative=("exports_mt", "outstanding_sales_mt"),
    # Metric tons a week: US soybean exports peak ~3 million t; net sales can be negative (cancellations).
    ranges={
        "net_sales_mt": (-1e8, 1e8),
        "exports_mt": (0.0, 1e8),
        "outstanding_sales_mt": (0.0, 1e9),
    },
    description="USDA FAS weekly export sales (metric tons), week ending Thursday, released the next Thursday.",
)

EPA_RIN_PRICES = RawTable(
    name="epa_rin_prices",
    source="epa",
    columns={
        "rin_type": "VARCHAR",
        "week_ending_date": "DATE",
        "price_usd_per_rin": "DOUBLE",
        "available_at": "TIMESTAMP",
    },
    key=("rin_type", "week_ending_date"),
    non_negative=("price_usd_per_rin",),
    # USD per RIN: D4/D5/D6 have traded between ~$0.01 and ~$3; D3 up to ~$4.
    ranges={"price_usd_per_rin": (0.0, 100.0)},
    description="EPA EMTS weekly average RIN prices (USD per RIN), published in EPA's monthly update.",
)

EIA_OBSERVATIONS = RawTable(
    name="eia_observations",
    source="eia",
    columns={
        "series_id": "VARCHAR",
        "period_date": "DATE",
        "frequency": "VARCHAR",
        "value": "DOUBLE",
        "units": "VARCHAR",
        "available_at": "TIMESTAMP",
    },
    key=("series_id", "period_date"),
    description="EIA API v2 observations (biofuel production, feedstock use, stocks).",
    # Stocks in thousand barrels (~10^5-10^6), production in thousand b/d or million gallons.
    ranges={"value": (-1e9, 1e9)},
)

NEWS_ARTICLES = RawTable(
    name="news_articles",
    source="news",
    columns={
        "article_id": "VARCHAR",
        "feed": "VARCHAR",
        "published_at": "TIMESTAMP",
        "title": "VARCHAR",
        "summary": "VARCHAR",
        "url": "VARCHAR",
        "categories": "VARCHAR",
        "available_at": "TIMESTAMP",
    },
    key=("article_id",),
    description="News articles from RSS/Atom feeds; categories are a '|'-separated list.",
)

RAW_TABLES: dict[str, RawTable] = {
    t.name: t
    for t in (
        FUTURES_OHLCV_DAILY,
        FRED_OBSERVATIONS,
        CFTC_COT_DISAGGREGATED,
        USDA_EXPORT_SALES,
        EPA_RIN_PRICES,
        EIA_OBSERVATIONS,
        NEWS_ARTICLES,
    )
}

OPS_INGEST_RUNS_DDL = """
create table if not exists ops.ingest_runs (
    run_id VARCHAR primary key,
    source VARCHAR not null,
    connector VARCHAR,
    target_table VARCHAR not null,
    started_at TIMESTAMP not null,
    finished_at TIMESTAMP,
    rows_read BIGINT,
    rows_inserted BIGINT,
    rows_updated BIGINT,
    rows_rejected BIGINT,
    status VARCHAR not null,
    error VARCHAR,
    parent_run_id VARCHAR,
    pid INTEGER
)
"""

OPS_QUARANTINE_DDL = """
create table if not exists ops.quarantine (
    run_id VARCHAR not null,
    source VARCHAR not null,
    target_table VARCHAR not null,
    row_number BIGINT,
    field VARCHAR,
    value VARCHAR,
    reason VARCHAR not null,
    record_json VARCHAR,
    quarantined_at TIMESTAMP not null,
    row_kind VARCHAR
)
"""

#: Columns added after the first release: `ensure_schemas` adds them to older warehouses.
OPS_ADDED_COLUMNS: dict[str, dict[str, str]] = {
    "ops.ingest_runs": {"parent_run_id": "VARCHAR", "pid": "INTEGER", "connector": "VARCHAR"},
    "ops.quarantine": {"row_kind": "VARCHAR"},
}

#: `ops.ingest_runs.source` names what data a load wrote (`futures`, `fred`, ...; `RawTable.source`), `connector`
#: where it came from (`quotes`, `databento`, `file`, ...). Before `connector` existed, the futures source's
#: network loads were recorded under their connector's name: `ensure_schemas` moves those to `connector`.
FORMER_SOURCE_NAMES: dict[str, str] = {"quotes": "futures", "databento": "futures"}

#: Dates and timestamps outside this range are quarantined (a year 1023 or 9999 is a typo, not data).
PLAUSIBLE_DATES = ("1900-01-01", "2100-12-31")
#: CBOT listed soybean oil futures in July 1950: no bar of the roots CBI reads is older.
FIRST_BAR_DATE = "1950-07-01"
