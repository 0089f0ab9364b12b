"""The dbt build as Dagster assets: every dbt node (SQL and the Python ML models) through `dagster-dbt`, dbt tests
as asset checks; shared by the daily job (scoring with the serving models) and the weekly one (retraining)."""

import functools
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetExecutionContext, AssetKey, Config, ResourceParam
from dagster_dbt import (
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)

from cbi_core.lock import LockInfo
from cbi_core.settings import project_dir
from cbi_ml import audit
from cbi_ml.members.registry import trained_members
from cbi_ml.project import project_config
from orchestration import failing_rows, ops_tables, retrain
from orchestration.alerts import Alerter
from orchestration.config import RAY_ADDRESS_ENV
from orchestration.dbt_keys import TRANSLATOR
from orchestration.resources import Warehouse

log = logging.getLogger(__name__)

PROJECT_DIR = project_dir(Path(__file__).resolve().parent)
DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=Path("target") / "dagster")
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
CHAMPIONS_FILE = "champions.json"


class GateFailed(RuntimeError):
    """dbt tests (the gates) failed; dbt skipped every model downstream of them."""


class DbtBuildFailed(RuntimeError):
    """A dbt model failed."""


def ensure_manifest() -> Path:
    """The manifest the assets are built from; `dbt parse` when missing or older than the project's files."""
    manifest = DBT_PROJECT.manifest_path
    watched = [PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "ml", "macros", "tests", "seeds", "snapshots"):
        watched += [
            p
            for p in (PROJECT_DIR / folder).rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and p.suffix in (".sql", ".py", ".yml", ".md", ".csv")
            and not p.is_relative_to(PROJECT_DIR / "tests" / "python")
        ]
    newest = max(p.stat().st_mtime for p in watched)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        log.info("dbt parse -> %s", manifest)
        proc = subprocess.run(
            [str(DBT_EXECUTABLE), "--no-use-colors", "parse", "--target-path", str(manifest.parent)],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return manifest


def manifest_nodes() -> dict[str, Any]:
    return json.loads(ensure_manifest().read_text())["nodes"]


@functools.cache
def ml_config():
    """The ML settings of dbt_project.yml, as a build without --vars sees them (parsed once per process)."""
    return project_config(project_dir=PROJECT_DIR)


def artifacts_dir(configured: str = "") -> Path:
    """Where the saved models live: the run's setting, else the `cbi_ml` default, relative to the project."""
    path = Path(configured or ml_config().artifacts_dir)
    return path if path.is_absolute() else PROJECT_DIR / path


class DbtBuildConfig(Config):
    """How the dbt build of a run trains: `retrain` (never: score with the serving models; always: retrain
    every member, then the champion/challenger gate), the training budget (keys of the `cbi_ml` var, a map in
    the launchpad) and the saved models' folder. `dbt_vars` turns it into dbt's `--vars`, the one serialisation."""

    retrain: str = "never"
    budget: dict[str, Any] = {}
    artifacts_dir: str = ""
    ray_address: str = ""  # the fits as Ray tasks on this cluster; empty: $CBI_RAY_ADDRESS, if set


@contextmanager
def ray_environment(address: str) -> Iterator[str | None]:
    """The dbt process inherits this process's environment: `address` (else $CBI_RAY_ADDRESS) is what the
    member nodes' `cbi_ml.distributed` sees for the duration of the build."""
    before = os.environ.get(RAY_ADDRESS_ENV)
    chosen = address.strip() or (before or "").strip() or None
    if chosen:
        os.environ[RAY_ADDRESS_ENV] = chosen
    try:
        yield chosen
    finally:
        if before is None:
            os.environ.pop(RAY_ADDRESS_ENV, None)
        else:
            os.environ[RAY_ADDRESS_ENV] = before


def dbt_vars(config: DbtBuildConfig) -> str:
    """dbt's `--vars` for a run's build: the `cbi_ml` var (budget, retrain, the saved models' folder), serialised
    here and nowhere else on the way from the run's settings to dbt."""
    ml = {**config.budget, "retrain": config.retrain, "artifacts_dir": str(artifacts_dir(config.artifacts_dir))}
    return json.dumps({"cbi_ml": ml})


@contextmanager
def training_progress(context: AssetExecutionContext, log_file: Path, poll_s: float = 5.0) -> Iterator[None]:
    """Show each model fit in the run log as it ends (from the audit file the training appends to)."""
    offset = log_file.stat().st_size if log_file.exists() else 0
    stop = threading.Event()

    def follow() -> None:
        nonlocal offset
        while not stop.wait(poll_s):
            if not log_file.exists():
                continue
            with log_file.open() as handle:
                handle.seek(offset)
                lines = handle.readlines()
                offset = handle.tell()
            for line in lines:
                fit = json.loads(line)
                context.log.info(
                    f"fit {fit['status']}: {fit['member']} {fit['horizon']} fold {fit['fold']} on {fit['rows']} rows "
                    f"in {fit['seconds']:.1f}s (best {fit['best_model']}, validation loss {fit['validation_loss']})"
                )

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=poll_s + 1)


def failed_nodes(run_results: dict, examples: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(failed tests, failed models) of a dbt invocation; a test with `examples` (its first failing rows) quotes
    them."""
    tests, models = [], []
    for result in run_results.get("results", []):
        unique_id, status = result["unique_id"], str(result.get("status"))
        if unique_id.startswith("test.") and status in ("fail", "error"):
            rows = (examples or {}).get(unique_id)
            quoted = f" (failing rows: {rows})" if rows else ""
            tests.append(f"{unique_id.split('.')[2]}: {(result.get('message') or status)[:200]}{quoted}")
        elif not unique_id.startswith("test.") and status == "error":
            models.append(f"{unique_id.split('.')[-1]}: {(result.get('message') or status)[:500]}")
    return tests, models


def raise_on_failures(run_results: dict, examples: dict[str, str] | None = None) -> None:
    tests, models = failed_nodes(run_results, examples)
    skipped = sum(1 for r in run_results.get("results", []) if r.get("status") == "skipped")
    if models:
        raise DbtBuildFailed(f"{len(models)} dbt model(s) failed: " + "; ".join(models))
    if tests:
        raise GateFailed(
            f"{len(tests)} gate(s) failed, {skipped} node(s) downstream skipped (no model trained or forecast; "
            "forecasts.zl_predictions keeps the last good forecast): " + "; ".join(tests)
        )


@dbt_assets(
    manifest=ensure_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="cbi_dbt",
)
def cbi_dbt(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
):
    artifacts = artifacts_dir(config.artifacts_dir)
    if config.retrain == "always":
        champions = retrain.champions(artifacts, trained_members(ml_config().buckets))
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / CHAMPIONS_FILE).write_text(
            json.dumps({m: (s.to_json() if s else None) for m, s in champions.items()}, indent=2)
        )
    with ray_environment(config.ray_address) as address, training_progress(context, audit.log_file(artifacts)):
        if config.retrain != "never":
            context.log.info(f"training fits run {'as Ray tasks on ' + address if address else 'serially'}")
        invocation = dbt.cli(["build", "--vars", dbt_vars(config)], context=context, raise_on_error=False)
        yield from invocation.stream()
    run_results = invocation.get_artifact("run_results.json")
    with warehouse.connect() as con:
        stored = ops_tables.store_training_log(con, audit.log_file(artifacts))
        examples = failing_rows.failing_examples(con, run_results, manifest_nodes())
    if stored:
        context.log.info(f"{stored} fit(s) recorded in ops.training_runs")
    raise_on_failures(run_results, examples)


def dbt_key(name: str) -> AssetKey:
    return get_asset_key_for_model([cbi_dbt], name)


def forecast_horizons() -> dict[str, int]:
    return dict(ml_config().horizons)


def has_relation(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return ops_tables._relation_exists(con, schema, name)
