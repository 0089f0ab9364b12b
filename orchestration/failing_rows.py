"""The rows behind a failed dbt test (a gate), for the alert: a test's compiled SQL selects its failing rows, so
the first few are read back and written as `column=value` (date, column, value: what to look at)."""

from __future__ import annotations

import logging

import duckdb

from cbi_core.secrets import redact

log = logging.getLogger(__name__)

EXAMPLES = 3  # failing rows quoted per failed test
VALUE_WIDTH = 40  # characters of one value
KEYS = ("root", "series_id", "source", "symbol", "contract", "feed")  # identifying columns quoted beside a date


def _cell(value: object) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def _shown(names: list[str], column: str | None) -> list[int]:
    """The columns to quote: with the tested column known, the dates and keys beside it, else every column."""
    if not column or column not in names:
        return list(range(len(names)))
    keep = [i for i, n in enumerate(names) if "date" in n or n in KEYS or n == column]
    return keep


def examples(
    con: duckdb.DuckDBPyConnection, compiled_sql: str, limit: int = EXAMPLES, column: str | None = None
) -> str:
    """The first `limit` rows `compiled_sql` (a dbt test's compiled code) returns, as `col=value, ...; ...`
    (with the tested `column` known: that column, the dates and keys); empty when it cannot be read back (the
    test errored, its relation is gone)."""
    if not compiled_sql or not compiled_sql.strip():
        return ""
    try:
        cursor = con.execute(f"select * from ({compiled_sql.strip().rstrip(';')}) as failing limit ?", [limit])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        log.info("failing rows not readable: %s", redact(str(exc).splitlines()[0] if str(exc) else exc))
        return ""
    shown = _shown(names, column)
    return "; ".join(", ".join(f"{names[i]}={_cell(row[i])}" for i in shown) for row in rows)


def failing_examples(con: duckdb.DuckDBPyConnection, run_results: dict, nodes: dict | None = None) -> dict[str, str]:
    """unique_id -> the first failing rows, for every test that failed or warned in `run_results` (`nodes`: the
    manifest's, for the tested column)."""
    out = {}
    for result in run_results.get("results", []):
        if result["unique_id"].startswith("test.") and str(result.get("status")) in ("fail", "warn"):
            column = (nodes or {}).get(result["unique_id"], {}).get("column_name")
            found = examples(con, result.get("compiled_code") or "", column=column)
            if found:
                out[result["unique_id"]] = found
    return out
