"""One warehouse path for everything: what dbt opens through `profiles.yml` is what `cbi_core.settings` gives the
CLI and the orchestration, from any working directory, and a dbt child started elsewhere opens the same file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dbt.config.profile import read_profile
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from cbi_core.settings import DUCKDB_PATH_ENV, dbt_env, duckdb_path
from orchestration.resources import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2]


def dbt_opens() -> str:
    """The file dbt's `local` target opens from the working directory: `profiles.yml` rendered as dbt renders
    it, then resolved as DuckDB resolves a path (against the working directory)."""
    set_invocation_context(os.environ.copy())
    rendered = ProfileRenderer({}).render_data(read_profile(str(PROJECT_DIR))["cbi"])
    path = rendered["outputs"]["local"]["path"]
    return path if path.startswith("md:") else os.path.abspath(path)


@pytest.mark.parametrize("configured", [None, "w.duckdb", "sub/../w2.duckdb", "ABSOLUTE", "md:cbi"])
@pytest.mark.parametrize("where", ["project", "subfolder", "elsewhere"])
def test_dbt_and_the_settings_open_the_same_file(configured, where, tmp_path, monkeypatch):
    monkeypatch.chdir({"project": PROJECT_DIR, "subfolder": PROJECT_DIR / "models", "elsewhere": tmp_path}[where])
    if configured is None:
        monkeypatch.delenv(DUCKDB_PATH_ENV, raising=False)
    else:
        monkeypatch.setenv(DUCKDB_PATH_ENV, str(tmp_path / "abs.duckdb") if configured == "ABSOLUTE" else configured)
    assert duckdb_path() == dbt_opens()
    assert duckdb_path() == Warehouse().db_path()
    if configured is None:
        assert duckdb_path() == str(Path.cwd() / "cbi.duckdb")


def test_a_child_started_in_another_folder_opens_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DUCKDB_PATH_ENV, "relative.duckdb")  # relative to where the user typed the command
    code = "from cbi_core.settings import duckdb_path; print(duckdb_path())"
    env = {**dbt_env(), "PYTHONPATH": str(PROJECT_DIR)}
    child = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)
    assert child.stdout.strip() == str(tmp_path / "relative.duckdb")


def test_the_warehouse_resource_pins_the_path_for_the_run_and_restores_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DUCKDB_PATH_ENV, "relative.duckdb")
    warehouse = Warehouse()
    warehouse.setup_for_execution(None)
    try:
        assert os.environ[DUCKDB_PATH_ENV] == str(tmp_path / "relative.duckdb")  # what the dbt children see
    finally:
        warehouse.teardown_after_execution(None)
    assert os.environ[DUCKDB_PATH_ENV] == "relative.duckdb"
