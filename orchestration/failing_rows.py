"""The rows behind a failed dbt test (a gate), for the alert: a test's compiled SQL selects its failing rows, so
the first few are read back and written as `column=value` (date, column, value: what to look at)."""

from __future__ import annotations

import logging

import duckdb

from cbi_core.secrets import redact

log = logging.getLogger(__name__)

EXAMPLES = 3  # failing rows quoted per failed test
VALUE_WIDTH = 40  # characters of one value


def _cell(value: object) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 1] + "…"


def examples(con: duckdb.DuckDBPyConnection, compiled_sql: str, limit: int = EXAMPLES) -> str:
    """The first `limit` rows `compiled_sql` (a dbt test's compiled code) returns, as `col=value, ...; ...`;
    empty when it cannot be read back (the test errored, its relation is gone)."""
    if not compiled_sql or not compiled_sql.strip():
        return ""
    try:
        cursor = con.execute(f"select * from ({compiled_sql.strip().rstrip(';')}) as failing limit ?", [limit])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        log.info("failing rows not readable: %s", redact(str(exc).splitlines()[0] if str(exc) else exc))
        return ""
    return "; ".join(", ".join(f"{n}={_cell(v)}" for n, v in zip(names, row, strict=True)) for row in rows)


def failing_examples(con: duckdb.DuckDBPyConnection, run_results: dict) -> dict[str, str]:
    """unique_id -> the first failing rows, for every test that failed or warned in `run_results`."""
    out = {}
    for result in run_results.get("results", []):
        if result["unique_id"].startswith("test.") and str(result.get("status")) in ("fail", "warn"):
            found = examples(con, result.get("compiled_code") or "")
            if found:
                out[result["unique_id"]] = found
    return out
