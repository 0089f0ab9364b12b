"""Where the warehouse lives: one DuckDB file, shared by the CLI and `profiles.yml`."""

from __future__ import annotations

import os
from pathlib import Path

DUCKDB_PATH_ENV = "CBI_DUCKDB_PATH"
DEFAULT_DB_NAME = "cbi.duckdb"


def project_dir(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: cwd) holding `dbt_project.yml`, else cwd."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    return here


def duckdb_path() -> str:
    """`$CBI_DUCKDB_PATH` if set (a file path or an `md:` MotherDuck database), else `<project>/cbi.duckdb`."""
    configured = os.environ.get(DUCKDB_PATH_ENV)
    if configured:
        return configured
    return str(project_dir() / DEFAULT_DB_NAME)


#: Schemas of the warehouse. DuckDB names a database after its file, so a file called e.g. raw.duckdb would
#: make `raw.<table>` ambiguous between the database and the schema.
WAREHOUSE_SCHEMAS = ("raw", "ops", "staging", "intermediate", "features", "ml", "forecasts", "reference", "snapshots")


def checked_path(path: str) -> str:
    """`path`, unless its file name would clash with a schema name (then a clear error)."""
    if not path.startswith("md:"):
        stem = Path(path).name.split(".")[0].lower()
        if stem in WAREHOUSE_SCHEMAS:
            raise ValueError(
                f"the warehouse file {path!r} is named like the schema '{stem}': DuckDB would confuse the two; "
                f"choose another name (e.g. cbi.duckdb)"
            )
    return path
