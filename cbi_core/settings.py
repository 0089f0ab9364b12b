"""Where the warehouse lives: one DuckDB file, shared by every `cbi` command, the orchestration and dbt.

One rule, the one `profiles.yml` can express: `$CBI_DUCKDB_PATH` if set, else `cbi.duckdb` in the working
directory. A relative path is made absolute here, against the working directory, so a child started elsewhere
(dbt runs in the project folder) opens the same file: `dbt_env()` is the environment to start it with.
`project_dir()` finds the project (the folder of `dbt_project.yml`) for code that runs dbt outside a dbt model.
"""

from __future__ import annotations

import os
from pathlib import Path

DUCKDB_PATH_ENV = "CBI_DUCKDB_PATH"
DEFAULT_DB_NAME = "cbi.duckdb"


def project_dir(start: Path | None = None) -> Path:
    """The CBI project: the nearest directory at or above `start` (default: the working directory) holding
    `dbt_project.yml`; FileNotFoundError outside the project."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise FileNotFoundError(f"no dbt_project.yml in {here} or above: run from the CBI project (or pass its path)")


def is_remote(path: str) -> bool:
    """A MotherDuck database (`md:...`) or DuckDB's in-memory one: no file on this machine."""
    return path.startswith("md:") or path == ":memory:"


def duckdb_path() -> str:
    """`$CBI_DUCKDB_PATH` if set (a file, made absolute, or an `md:` MotherDuck database), else
    `<cwd>/cbi.duckdb`: the same file `profiles.yml` gives dbt started in the same folder."""
    configured = os.environ.get(DUCKDB_PATH_ENV, "").strip() or DEFAULT_DB_NAME
    return configured if is_remote(configured) else os.path.abspath(configured)


def dbt_env(db_path: str | None = None) -> dict[str, str]:
    """This process's environment with `CBI_DUCKDB_PATH` pinned to `db_path` (default: `duckdb_path()`), absolute:
    for a dbt child, whatever its working directory."""
    path = db_path or duckdb_path()
    return {**os.environ, DUCKDB_PATH_ENV: path if is_remote(path) else os.path.abspath(path)}


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
