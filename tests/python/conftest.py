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
# The time-series baseline's sizes in the tests that train it outside the shared build (test_ml_members.py,
# test_ml_timeseries.py): at most 1,200 days with 500 days of context per forecast origin, about 30 % less CPU than
# the project's 2,500/1,000 (bench/README.md "Test suite time"); their assertions do not depend on these sizes.
TS_TEST_BUDGET = {"ts_max_history": 1200, "ts_context": 500}


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
    # a hang guard, not a speed test: under a load average of 10 the full build took 35 min (bench/README.md)
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=5400)
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


def _shared_build(tmp_path_factory: pytest.TempPathFactory, name: str, *select: str) -> Path:
    """`dbt build [select]` of the small sample into `<run dir>/<name>/cbi.duckdb`, once per run: under
    pytest-xdist the workers share it (the first to ask builds it under a file lock, the others wait and read it)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, common to its workers
    work = root / name
    db, failed = work / "cbi.duckdb", work / "build_failed.txt"
    with FileLock(str(root / f"{name}.lock")):
        if failed.exists():
            pytest.fail(failed.read_text(), pytrace=False)
        if not (work / "built").exists():
            work.mkdir(exist_ok=True)
            load_sample(db)
            try:
                result = run_dbt(db, "build", *select)
            except subprocess.TimeoutExpired as exc:  # said once: the waiting tests must not build it again
                failed.write_text(f"the shared dbt build {' '.join(select)} timed out after {exc.timeout:.0f} s")
                raise
            if result.returncode != 0:
                failed.write_text(result.output[-5000:])
                pytest.fail(result.output[-5000:], pytrace=False)
            (work / "built").touch()
    return db


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """A DuckDB file holding the small sample after a full `dbt build` (models, gates and ML).

    Every test only reads it or works on a copy (`copy_of`)."""
    return _shared_build(tmp_path_factory, "warehouse")


@pytest.fixture(scope="session")
def built_features(tmp_path_factory) -> Path:
    """The small sample after `dbt build --exclude tag:ml`: every model, gate and test up to the feature tables,
    no training (under a minute). For the tests that read only the features, such as the walk-forward backtest,
    which trains its own members: they need not wait for the full build's training."""
    return _shared_build(tmp_path_factory, "features", "--exclude", "tag:ml")


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
# file runs whole on one worker, so a module fixture such as the backtest runs once). The critical path is the full
# build's training followed by its readers, so: the walk-forward backtest first (its worker builds the feature
# tables, under a minute, and trains its own members), a reader of the full build second (the other worker builds it
# meanwhile), then every other file, longest first by the CPU seconds measured in bench/README.md ("Test suite
# time"), so that the two workers finish together; files not listed there (short ones) last, in collection order.
MEASURED_SECONDS = {  # CPU seconds per file, bench/README.md "Test suite time" (2026-12-06)
    "test_orchestration_jobs.py": 270,
    "test_ml_members.py": 100,
    "test_dbt_pipeline.py": 90,
    "test_features.py": 80,
    "test_final_choice.py": 60,
    "test_panel_choice.py": 55,
    "test_dashboard_browser.py": 40,
    "test_ml_timeseries.py": 30,
    "test_source_staleness.py": 30,
    "test_settings.py": 28,
    "test_distributed.py": 27,
    "test_hostile_input.py": 19,
    "test_properties.py": 18,
    "test_kill_mid_load.py": 15,
}
SHARED_BUILDS = ("built_warehouse", "built_features")


def _file_order(items: list[pytest.Item]) -> dict[Path, tuple[int, float]]:
    fixtures: dict[Path, set[str]] = {}
    for item in items:
        fixtures.setdefault(item.path, set()).update(getattr(item, "fixturenames", ()))

    def longest_first(path: Path) -> float:
        return -MEASURED_SECONDS.get(path.name, 0.0)

    backtest = {path for path, names in fixtures.items() if "backtested" in names}
    readers = sorted(
        (p for p, names in fixtures.items() if "built_warehouse" in names and p not in backtest), key=longest_first
    )
    second = set(readers[:1])
    return {path: (0 if path in backtest else 1 if path in second else 2, longest_first(path)) for path in fixtures}


# First among the plugins' hooks, so that `-m "not dbt"` (the mark plugin's hook) sees the added marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if set(SHARED_BUILDS) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.dbt)  # a test that reads a shared build is a dbt test, marked or not
    order = _file_order(items)
    items.sort(key=lambda item: order[item.path])  # stable: files stay whole, their tests in collection order
