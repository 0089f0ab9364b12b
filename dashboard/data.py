"""What the dashboard reads: a fixed list of public tables (schemas forecasts, ml and ops) from the snapshot.

A table that does not exist yet (no backtest run, no monitoring run) is None, and its page section says how to
produce it. Only identifiers from this module's list are formatted into SQL."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

#: The schemas the dashboard may read: the public contracts and the operational record, nothing protected.
ALLOWED_SCHEMAS = ("forecasts", "ml", "ops")

#: name -> (table, query). `{table}` is the only thing formatted in; every query reads only its own table.
QUERIES: dict[str, tuple[str, str]] = {
    "predictions": ("forecasts.zl_predictions", "select * from {table} order by as_of_date, horizon_days"),
    "risk": ("forecasts.zl_risk", "select * from {table} order by as_of_date, horizon_days"),
    "scenarios": ("forecasts.monte_carlo_scenarios", "select * from {table} order by horizon_days, scenario"),
    "market": ("forecasts.zl_market_history", "select * from {table} order by as_of_date"),
    "oof_final": (
        "ml.ml_final_predictions",
        "select as_of_date, horizon, horizon_days, fold, q10, q50, q90, y, source, target_date from {table} "
        "where member = 'final' and fold >= 0 order by horizon_days, as_of_date",
    ),
    "ensemble_weights": ("ml.ensemble_weights", "select * from {table}"),
    "feature_importance": ("ml.feature_importance", "select * from {table}"),
    "leaderboard": ("ml.leaderboard", "select * from {table}"),
    "backtest_metrics": ("ml.backtest_metrics", "select * from {table}"),
    "backtest_predictions": (
        "ml.backtest_predictions",
        "select run_key, as_of_date, horizon, horizon_days, member, q10, q50, q90, y from {table} "
        "where member in ('final', 'rw_ewma') and y is not null",
    ),
    "forecast_outcomes": ("ops.forecast_outcomes", "select * from {table}"),
    "model_monitoring": ("ops.model_monitoring", "select * from {table}"),
    "data_quality": ("ops.data_quality_results", "select * from {table}"),
    "ingest_runs": ("ops.ingest_runs", "select * from {table} order by started_at desc"),
    "quarantine": ("ops.quarantine", "select * from {table} order by quarantined_at desc"),
    "contents": ("ops.warehouse_contents", "select * from {table}"),  # the sample or real sources (ingest.contents)
}


@dataclass
class WarehouseData:
    """The frames the pages are built from (None: the table does not exist in the snapshot)."""

    frames: dict[str, pd.DataFrame | None]
    published_at: datetime | None = None
    source: str = ""
    missing: list[str] = field(default_factory=list)

    def get(self, name: str) -> pd.DataFrame | None:
        return self.frames.get(name)


def existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables where table_schema in (?, ?, ?)",
        list(ALLOWED_SCHEMAS),
    ).fetchall()
    return {r[0] for r in rows}


def load(con: duckdb.DuckDBPyConnection, published_at: datetime | None = None, source: str = "") -> WarehouseData:
    """Read every table of `QUERIES` that exists; the others are None (listed in `missing`)."""
    present = existing_tables(con)
    frames: dict[str, pd.DataFrame | None] = {}
    missing = []
    for name, (table, sql) in QUERIES.items():
        if table.split(".")[0] not in ALLOWED_SCHEMAS:  # a guard on this module's own list
            raise ValueError(f"dashboard query {name} reads {table}, outside {ALLOWED_SCHEMAS}")
        if table not in present:
            frames[name] = None
            missing.append(table)
            continue
        frames[name] = con.execute(sql.format(table=table)).df()
        log.debug("read %s: %d rows", table, len(frames[name]))
    if missing:
        log.info("not in the snapshot yet (their sections say how to produce them): %s", ", ".join(missing))
    return WarehouseData(frames, published_at, source, missing)
