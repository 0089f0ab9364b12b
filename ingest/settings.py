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
