"""The ingest side of the daily job: every `cbi ingest` source, run incrementally through the one load path.

A source that fails is recorded (`ops.ingest_runs`), reported and alerted; the others load all the same.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date

from cbi_core.secrets import redact
from cbi_core.warehouse import connect
from ingest.contents import holds_sample
from ingest.runner import describe_error, run_connector
from ingest.sources import CONNECTORS
from ingest.sources.base import Window
from orchestration.config import SOURCES_ENV

log = logging.getLogger(__name__)


SAMPLE_SKIP = "the warehouse holds the simulated sample (cbi sample): no real source is loaded into it"


@dataclass
class SourceOutcome:
    source: str
    status: str  # loaded | failed | skipped
    detail: str = ""
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> counts


def selected_sources() -> tuple[str, ...]:
    """Every source of `CONNECTORS`, or those `CBI_ORCHESTRATED_SOURCES` names (`none`: no source)."""
    value = os.environ.get(SOURCES_ENV, "").strip()
    if not value:
        return tuple(CONNECTORS)
    if value.lower() == "none":  # e.g. every source is loaded on the shared warehouse (CBI_SYNC_REMOTE)
        return ()
    chosen = tuple(s.strip() for s in value.split(",") if s.strip())
    unknown = sorted(set(chosen) - set(CONNECTORS))
    if unknown:
        raise ValueError(f"{SOURCES_ENV}: unknown source(s) {unknown}; known: {list(CONNECTORS)}")
    return chosen


def ingest_incrementally(source: str, db_path: str, today: date | None = None) -> SourceOutcome:
    """The daily job's load of one `CONNECTORS` source: incrementally (from what `db_path` holds to `today`), through
    its network connector. Never raises: a skip or a failure is an outcome (a failure is already recorded in
    ops.ingest_runs by the runner when it got that far)."""
    if source not in selected_sources():
        return SourceOutcome(source, "skipped", f"not in {SOURCES_ENV}")
    with connect(db_path) as con:
        sample = holds_sample(con)
    if sample:  # decided before any connector is built: nothing goes to the network
        return SourceOutcome(source, "skipped", SAMPLE_SKIP)
    connector = CONNECTORS[source].build()
    reason = connector.available()
    if reason:
        log.info("skipping %s: %s", source, reason)
        return SourceOutcome(source, "skipped", reason)
    try:
        with connect(db_path) as con:
            results = run_connector(con, connector, Window(None, today or date.today()))
    except Exception as exc:  # a broken source must not stop the others
        detail = redact(describe_error(source, exc))
        log.error("source %s failed: %s", source, detail)
        return SourceOutcome(source, "failed", detail)
    outcome = SourceOutcome(source, "loaded")
    for r in results:
        counts = outcome.rows.setdefault(r.table, {"read": 0, "inserted": 0, "updated": 0, "rejected": 0})
        counts["read"] += r.rows_read
        counts["inserted"] += r.rows_inserted
        counts["updated"] += r.rows_updated
        counts["rejected"] += r.rows_rejected
    return outcome
