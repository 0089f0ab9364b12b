"""Shared fixtures: a small deterministic sample and a warehouse built from it by a real `dbt build`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from filelock import FileLock

from ingest.load import upsert
from ingest.sample import generate_sample

PROJECT_DIR = Path(__file__).resolve().parents[2]
DBT = str(Path(os.environ.get("VIRTUAL_ENV", PROJECT_DIR / ".venv")) / "bin" / "dbt")
# About six years of trade dates: enough for the 252-day warm-up, > 1,000 matrix rows and 6m targets.
SMALL_START, SMALL_END, SMALL_SEED = "2018-01-02", "2023-12-29", 7
# The tests' training budget, set the way a user sets one: a `--vars` on top of dbt_project.yml's small budget
# (15 s per AutoGluon fit; the families, folds and draws are the project's).
TEST_VARS = {"cbi_ml": {"time_limit_s": 15}}


@dataclass
class DbtResult:
    returncode: int
    output: str
    results: dict[str, str]  # unique_id -> status from run_results.json


def load_sample(db_path: Path, start: str = SMALL_START, end: str = SMALL_END, seed: int = SMALL_SEED) -> None:
    with duckdb.connect(str(db_path)) as con:
        for name, frame in generate_sample(start, end, seed).items():
            upsert(con, name, frame)


def run_dbt(db_path: Path, *args: str, vars: dict | None = None, tmp_dir: Path | None = None) -> DbtResult:
    """Run the real dbt CLI on the project against `db_path`; artefacts go to a private target dir."""
    work = tmp_dir or db_path.parent
    target = work / "dbt_target"
    ml = {**TEST_VARS["cbi_ml"], "artifacts_dir": str(work / "models"), **(vars or {}).get("cbi_ml", {})}
    all_vars = {**TEST_VARS, **(vars or {}), "cbi_ml": ml}
    env = {**os.environ, "CBI_DUCKDB_PATH": str(db_path), "DBT_PROFILES_DIR": str(PROJECT_DIR)}
    cmd = [
        DBT,
        "--no-use-colors",
        *args,
        "--target-path",
        str(target),
        "--log-path",
        str(work / "dbt_logs"),
        "--vars",
        json.dumps(all_vars),
    ]
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=1800)
    results: dict[str, str] = {}
    run_results = target / "run_results.json"
    if run_results.exists():
        for r in json.loads(run_results.read_text())["results"]:
            results[r["unique_id"]] = r["status"]
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, results)


def query(db_path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.sql(sql).df()


@pytest.fixture(scope="session")
def small_sample() -> dict[str, pd.DataFrame]:
    return generate_sample(SMALL_START, SMALL_END, SMALL_SEED)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """A DuckDB file holding the small sample after a full `dbt build` (models, gates and ML).

    Built once per run: under pytest-xdist the workers share one build (the first to ask builds it under a file
    lock, the others wait and read it); every test only reads it or works on a copy (`copy_of`).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, common to its workers
    work = root / "warehouse"
    db, failed = work / "cbi.duckdb", work / "build_failed.txt"
    with FileLock(str(root / "warehouse.lock")):
        if failed.exists():
            pytest.fail(failed.read_text(), pytrace=False)
        if not (work / "built").exists():
            work.mkdir(exist_ok=True)
            load_sample(db)
            result = run_dbt(db, "build")
            if result.returncode != 0:
                failed.write_text(result.output[-5000:])
                pytest.fail(result.output[-5000:], pytrace=False)
            (work / "built").touch()
    return db


@pytest.fixture
def copy_of(tmp_path):
    def _copy(db: Path) -> Path:
        target = tmp_path / db.name
        shutil.copy(db, target)
        return target

    return _copy


@pytest.fixture
def server(monkeypatch):
    """A local HTTP server; retries are made fast (no real backoff) for the duration of a test."""
    from fake_server import FakeServer

    monkeypatch.setenv("CBI_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("CBI_HTTP_RETRIES", "3")
    with FakeServer() as fake:
        yield fake


@pytest.fixture(scope="session")
def ml_defaults():
    """The ML settings of dbt_project.yml as dbt renders them (no --vars): what `dbt build` trains with."""
    from cbi_ml.project import project_config

    return project_config(project_dir=PROJECT_DIR)


# The order `make test`'s workers take test files in (pytest-xdist, `--dist loadfile --no-loadscope-reorder`: a
# file runs on one worker, so a module fixture such as the backtest runs once): the walk-forward backtest first
# (its worker builds the shared warehouse on the way), then the files that never read that build (their own dbt
# builds and the pure-Python tests) while it runs, then the files that read it, the longest (bench/README.md)
# first so that the two workers finish together.
LONGEST_READERS = ("test_orchestration_jobs.py", "test_ml_members.py", "test_final_choice.py", "test_distributed.py")


def _rank(item: pytest.Item) -> tuple[int, int]:
    fixtures = set(getattr(item, "fixturenames", ()))
    if "backtested" in fixtures:
        return 0, 0
    if "built_warehouse" in fixtures:
        name = item.path.name
        return 3, LONGEST_READERS.index(name) if name in LONGEST_READERS else len(LONGEST_READERS)
    return (1 if item.get_closest_marker("dbt") else 2), 0


def _file_order(items: list[pytest.Item]) -> dict[Path, tuple[int, int]]:
    ranks: dict[Path, list[tuple[int, int]]] = {}
    for item in items:
        ranks.setdefault(item.path, []).append(_rank(item))
    return {path: min(r) if min(r)[0] == 0 else max(r) for path, r in ranks.items()}


# First among the plugins' hooks, so that `-m "not dbt"` (the mark plugin's hook) sees the added marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "built_warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dbt)  # a test that reads the build is a dbt test, marked or not
    order = _file_order(items)
    items.sort(key=lambda item: order[item.path])  # stable: files stay whole, their tests in collection order
