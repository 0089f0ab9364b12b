"""The asset graph, source to forecast: ingest assets upstream of their dbt sources, every dbt node (SQL and the
Python ML models) through `dagster-dbt` with dbt tests as asset checks, then the forecast log, outcomes,
monitoring, the retrain gate and data quality."""

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
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    ResourceParam,
    asset,
    multi_asset,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)

from cbi_core.lock import LockInfo
from cbi_core.secrets import redact
from cbi_core.settings import project_dir
from cbi_ml import audit
from cbi_ml.members.kinds import BASELINES
from cbi_ml.project import project_config
from ingest import sync
from orchestration import monitoring, ops_tables, quality, retrain
from orchestration.alerts import Alerter
from orchestration.config import RAY_ADDRESS_ENV, SOURCES, SYNC_REMOTE_ENV, THRESHOLDS
from orchestration.resources import Warehouse
from orchestration.sources import TABLES, run_source

log = logging.getLogger(__name__)

PROJECT_DIR = project_dir(Path(__file__).resolve().parent)
DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=Path("target") / "dagster")
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
TRAINED_MEMBERS = sorted(
    p.stem.removeprefix("ml_l0_")
    for p in (PROJECT_DIR / "ml" / "training").glob("ml_l0_*.py")
    if p.stem.removeprefix("ml_l0_") not in BASELINES
)
CHAMPIONS_FILE = "champions.json"


class GateFailed(RuntimeError):
    """dbt tests (the gates) failed; dbt skipped every model downstream of them."""


class DbtBuildFailed(RuntimeError):
    """A dbt model failed."""


# --------------------------------------------------------------------------- dbt project


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


class CbiTranslator(DagsterDbtTranslator):
    """dbt sources are the raw tables the ingest assets write (`raw/<table>`); the ML nodes form group `ml`."""

    def get_asset_key(self, dbt_resource_props):
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props.get("identifier") or dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props):
        if "ml" in dbt_resource_props.get("tags", []):
            return "ml"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


TRANSLATOR = CbiTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@functools.cache
def _ml_config():
    """The ML settings of dbt_project.yml, as a build without --vars sees them (parsed once per process)."""
    return project_config(project_dir=PROJECT_DIR)


def artifacts_dir(configured: str = "") -> Path:
    """Where the saved models live: the run's setting, else the `cbi_ml` default, relative to the project."""
    path = Path(configured or _ml_config().artifacts_dir)
    return path if path.is_absolute() else PROJECT_DIR / path


# --------------------------------------------------------------------------- ingest


SYNC_PULL = AssetKey(["sync", "pull"])
SYNC_PUSH = AssetKey(["sync", "push"])


def sync_remote() -> str | None:
    """The shared warehouse the jobs sync with (`CBI_SYNC_REMOTE`), or None."""
    return os.environ.get(SYNC_REMOTE_ENV, "").strip() or None


def _sync_metadata(results: list[sync.TableSync], remote: str) -> dict[str, Any]:
    changed = [r.table for r in results if r.status != "unchanged"]
    return {
        "remote": remote,
        "tables": len(results),
        "changed": ", ".join(changed) or "none",
        "rows_written": sum(r.rows_written for r in results),
    }


@asset(
    key=SYNC_PULL,
    group_name="sync",
    description="The raw schema copied down from the shared warehouse (CBI_SYNC_REMOTE), before ingest and dbt.",
)
def sync_pull(
    context: AssetExecutionContext, warehouse: Warehouse, warehouse_lock: ResourceParam[LockInfo]
) -> MaterializeResult:
    remote = sync_remote()
    if remote is None:
        context.log.info(f"{SYNC_REMOTE_ENV} is not set: no shared warehouse to pull from")
        return MaterializeResult(metadata={"remote": "none"})
    results = sync.pull(warehouse.db_path(), remote)
    context.log.info(f"pulled raw from {remote}: {sum(r.status != 'unchanged' for r in results)} table(s) changed")
    return MaterializeResult(metadata=_sync_metadata(results, remote))


def _ingest_asset(source: str):
    keys = [AssetKey(["raw", table]) for table in TABLES[source]]

    @multi_asset(
        name=f"ingest_{source}",
        specs=[
            AssetSpec(
                key,
                group_name="ingest",
                description=f"raw.{key.path[-1]}, loaded by `cbi ingest {source}`",
                deps=[SYNC_PULL],  # a local load merges into the rows pulled from the shared warehouse
            )
            for key in keys
        ],
        check_specs=[
            AssetCheckSpec("loaded", asset=key, description="The last incremental load succeeded.") for key in keys
        ],
        op_tags={"kind": "ingest"},
    )
    def _ingest(
        context: AssetExecutionContext,
        warehouse: Warehouse,
        warehouse_lock: ResourceParam[LockInfo],
        alerter: ResourceParam[Alerter],
    ):
        outcome = run_source(source, warehouse.db_path())
        if outcome.status == "failed":
            alerter("source_failed", f"source {source} failed to load", outcome.detail)
        for key in keys:
            counts = outcome.rows.get(key.path[-1], {})
            yield MaterializeResult(
                asset_key=key,
                metadata={
                    "status": outcome.status,
                    "detail": outcome.detail,
                    **{f"rows_{k}": v for k, v in counts.items()},
                },
            )
            yield AssetCheckResult(
                asset_key=key,
                check_name="loaded",
                passed=outcome.status != "failed",
                severity=AssetCheckSeverity.WARN,
                metadata={"status": outcome.status, "detail": outcome.detail},
            )

    return _ingest


INGEST_ASSETS = [_ingest_asset(source) for source in SOURCES]

# --------------------------------------------------------------------------- dbt build


class DbtBuildConfig(Config):
    """How the dbt build of a run trains: `retrain` (never: score with the serving models; always: retrain
    every member, then the champion/challenger gate), the training budget as JSON (keys of the `cbi_ml` var),
    and the saved models' folder."""

    retrain: str = "never"
    budget_json: str = "{}"
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
    budget = json.loads(config.budget_json or "{}")
    return json.dumps(
        {"cbi_ml": {**budget, "retrain": config.retrain, "artifacts_dir": str(artifacts_dir(config.artifacts_dir))}}
    )


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


def failed_nodes(run_results: dict) -> tuple[list[str], list[str]]:
    """(failed tests, failed models) of a dbt invocation."""
    tests, models = [], []
    for result in run_results.get("results", []):
        unique_id, status = result["unique_id"], str(result.get("status"))
        if unique_id.startswith("test.") and status in ("fail", "error"):
            tests.append(f"{unique_id.split('.')[2]}: {(result.get('message') or status)[:200]}")
        elif not unique_id.startswith("test.") and status == "error":
            models.append(f"{unique_id.split('.')[-1]}: {(result.get('message') or status)[:500]}")
    return tests, models


def raise_on_failures(run_results: dict) -> None:
    tests, models = failed_nodes(run_results)
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
        champions = retrain.champions(artifacts, TRAINED_MEMBERS)
        artifacts.mkdir(parents=True, exist_ok=True)
        (artifacts / CHAMPIONS_FILE).write_text(
            json.dumps({m: (s.to_json() if s else None) for m, s in champions.items()}, indent=2)
        )
    with ray_environment(config.ray_address) as address, training_progress(context, audit.log_file(artifacts)):
        if config.retrain != "never":
            context.log.info(f"training fits run {'as Ray tasks on ' + address if address else 'serially'}")
        invocation = dbt.cli(["build", "--vars", dbt_vars(config)], context=context, raise_on_error=False)
        yield from invocation.stream()
    with warehouse.connect() as con:
        stored = ops_tables.store_training_log(con, audit.log_file(artifacts))
    if stored:
        context.log.info(f"{stored} fit(s) recorded in ops.training_runs")
    raise_on_failures(invocation.get_artifact("run_results.json"))


def dbt_key(name: str) -> AssetKey:
    return get_asset_key_for_model([cbi_dbt], name)


# --------------------------------------------------------------------------- forecasts, outcomes, monitoring


def _horizons() -> dict[str, int]:
    return dict(_ml_config().horizons)


@asset(
    key=AssetKey(["ops", "forecast_log"]),
    group_name="monitoring",
    deps=[dbt_key("zl_risk"), dbt_key("ml_final_predictions"), dbt_key("bucket_predictions")],
    description="Every forecast a daily build issued, per model, as prices (kept for the monitors).",
)
def forecast_log(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    with warehouse.connect() as con:
        logged = ops_tables.log_forecasts(con, _horizons())
    return MaterializeResult(metadata={"rows_logged": logged})


@asset(
    key=AssetKey(["ops", "forecast_outcomes"]),
    group_name="monitoring",
    deps=[AssetKey(["ops", "forecast_log"]), dbt_key("daily_ml_matrix_zl")],
    description="Every logged forecast whose target date has passed, joined to its outcome.",
)
def forecast_outcomes(
    context: AssetExecutionContext,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    with warehouse.connect() as con:
        logged = ops_tables.forecast_log(con)
        if logged.empty:
            return MaterializeResult(metadata={"rows_evaluated": 0})
        outcomes = monitoring.join_outcomes(logged, ops_tables.realised_outcomes(con, _horizons()))
        stored = ops_tables.store_outcomes(con, outcomes)
    return MaterializeResult(metadata={"rows_evaluated": stored})


ALERT_METRICS = {
    "pinball_ratio_rw": "pinball",
    "kupiec_p": "coverage",
    "var95_breaches": "var",
    "var99_breaches": "var",
    "basel_zone": "var",
}


def alerts_from_monitoring(rows: pd.DataFrame) -> dict[str, list[str]]:
    """kind -> lines, for every figure in `alert` status (one alert per kind per run)."""
    out: dict[str, list[str]] = {}
    for r in rows[rows["status"] == "alert"].itertuples():
        kind = "drift" if r.metric.startswith("psi_") else ALERT_METRICS.get(r.metric)
        if kind:
            out.setdefault(kind, []).append(
                f"{r.horizon} {r.model} {r.window_days}d {r.metric} = {r.value:.4g} (threshold {r.threshold:.4g})"
            )
    return out


class MonitorConfig(Config):
    """The saved models' folder (their last training label ends the drift reference window)."""

    artifacts_dir: str = ""


@asset(
    key=AssetKey(["ops", "model_monitoring"]),
    group_name="monitoring",
    deps=[AssetKey(["ops", "forecast_outcomes"]), dbt_key("feature_catalog")],
    description="Rolling pinball vs the random walks, 80% coverage (Kupiec), VaR exceptions (Basel), PSI drift.",
)
def model_monitoring(
    context: AssetExecutionContext,
    config: MonitorConfig,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    from cbi_ml.members.artifacts import load_state, serving_state

    horizons = _horizons()
    with warehouse.connect() as con:
        outcomes = (
            con.execute("select * from ops.forecast_outcomes").df()
            if _has(con, "ops", "forecast_outcomes")
            else pd.DataFrame()
        )
        logged = ops_tables.forecast_log(con)
        frames = []
        if not outcomes.empty:
            extra = logged[["as_of_date", "horizon", "model", "var_95_ret", "var_99_ret"]]
            outcomes["as_of_date"] = pd.to_datetime(outcomes["as_of_date"]).dt.date
            realised = ops_tables.realised_outcomes(con, horizons)[["as_of_date", "horizon", "realised_return"]]
            outcomes = outcomes.merge(extra, on=["as_of_date", "horizon", "model"], how="left").merge(
                realised, on=["as_of_date", "horizon"], how="left"
            )
            frames.append(monitoring.forecast_metrics(outcomes, horizons, THRESHOLDS))
        if _has(con, "features", "daily_ml_matrix_zl") and _has(con, "features", "feature_catalog"):
            matrix = con.execute("select * from features.daily_ml_matrix_zl").df()
            catalog = con.execute("select feature_name, bucket from features.feature_catalog").df()
            models = artifacts_dir(config.artifacts_dir)
            state = serving_state(models, "main", load_state(models, "main"))
            train_end = pd.Timestamp(state.last_labelled_date) if state else None
            frames.append(monitoring.feature_drift(matrix, catalog, train_end, THRESHOLDS))
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=monitoring.MONITORING_COLUMNS)
        stored = ops_tables.store_monitoring(con, rows, context.run_id)
    for kind, lines in alerts_from_monitoring(rows).items():
        alerter(kind, f"{len(lines)} monitor(s) outside their band", "\n".join(lines[:20]))
    counts = rows["status"].value_counts().to_dict() if len(rows) else {}
    return MaterializeResult(metadata={"rows": stored, **{f"status_{k}": int(v) for k, v in counts.items()}})


def _has(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return ops_tables._relation_exists(con, schema, name)


# --------------------------------------------------------------------------- weekly: champion / challenger


@asset(
    key=AssetKey(["ml", "serving_models"]),
    group_name="ml",
    deps=[dbt_key(f"ml_l0_{m}") for m in TRAINED_MEMBERS],
    description="The champion/challenger gate: new models serve only if not worse than the serving ones.",
)
def champion_challenger_gate(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    config: DbtBuildConfig,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    artifacts = artifacts_dir(config.artifacts_dir)
    champions_file = artifacts / CHAMPIONS_FILE
    if not champions_file.exists():
        return MaterializeResult(metadata={"decision": "no retrain in this run: nothing to decide"})
    from cbi_ml.members.artifacts import MemberState

    before = {m: (MemberState.from_json(s) if s else None) for m, s in json.loads(champions_file.read_text()).items()}
    decisions = retrain.decide(artifacts, before, _horizons(), THRESHOLDS.retrain_noise_se)
    champions_file.unlink()
    rejected = [d for d in decisions if not d.promote and d.champion and d.challenger and d.champion != d.challenger]
    if rejected:
        alerter(
            "retrain_rejected",
            f"{len(rejected)} retrained member(s) rejected; their serving models keep serving",
            "\n".join(f"{d.member}: {d.reason}" for d in rejected),
        )
        rescore = DbtBuildConfig(retrain="never", artifacts_dir=config.artifacts_dir)
        invocation = dbt.cli(["build", "--select", "tag:ml", "--vars", dbt_vars(rescore)], raise_on_error=False).wait()
        raise_on_failures(invocation.get_artifact("run_results.json"))
        context.log.info("ML layer re-scored with the serving models")
    return MaterializeResult(
        metadata={
            "promoted": ", ".join(d.member for d in decisions if d.promote) or "-",
            "kept": ", ".join(d.member for d in rejected) or "-",
            "decisions": json.dumps([d.__dict__ for d in decisions], default=str),
        }
    )


# --------------------------------------------------------------------------- data quality


@asset(
    key=AssetKey(["ops", "data_quality_results"]),
    group_name="quality",
    description="Source freshness, the gates (dbt tests) and load timeliness, in six dimensions.",
)
def data_quality_results(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: Warehouse,
    warehouse_lock: ResourceParam[LockInfo],
    alerter: ResourceParam[Alerter],
) -> MaterializeResult:
    freshness = dbt.cli(["source", "freshness"], raise_on_error=False).wait()
    tests = dbt.cli(["test", "--exclude-resource-type", "unit_test"], raise_on_error=False).wait()
    with warehouse.connect() as con:
        runs = con.execute("select * from ops.ingest_runs").df() if _has(con, "ops", "ingest_runs") else pd.DataFrame()
        rows = pd.concat(
            [
                quality.from_freshness(_artifact(freshness, "sources.json")),
                quality.from_test_results(_artifact(tests, "run_results.json"), manifest_nodes()),
                quality.timeliness(runs, ops_tables.utcnow(), THRESHOLDS.ingest_timeliness_hours),
            ],
            ignore_index=True,
        )
        stored = ops_tables.store_data_quality(con, rows, context.run_id)
    stale = rows[(rows["dimension"].isin(["freshness", "timeliness"])) & (rows["status"] == "alert")]
    if len(stale):
        alerter("source_stale", f"{len(stale)} source(s) stale", "\n".join(stale["message"][:20]))
    gates = rows[(~rows["dimension"].isin(["freshness", "timeliness"])) & (rows["status"] == "alert")]
    if len(gates):
        lines = [f"{r.dimension} {r.check_name} on {r.target}: {r.message}" for r in gates.itertuples()][:20]
        alerter("gate_failed", f"{len(gates)} data quality gate(s) failed", "\n".join(lines))
    counts = rows.groupby(["dimension", "status"]).size()
    return MaterializeResult(metadata={"rows": stored, **{f"{d}_{s}": int(n) for (d, s), n in counts.items()}})


@asset(
    key=SYNC_PUSH,
    group_name="sync",
    deps=[AssetKey(["ops", "forecast_log"]), AssetKey(["ops", "model_monitoring"]), AssetKey(["ml", "serving_models"])],
    description="The forecasts and ops schemas copied up to the shared warehouse (CBI_SYNC_REMOTE), last.",
)
def sync_push(
    context: AssetExecutionContext, warehouse: Warehouse, warehouse_lock: ResourceParam[LockInfo]
) -> MaterializeResult:
    remote = sync_remote()
    if remote is None:
        context.log.info(f"{SYNC_REMOTE_ENV} is not set: no shared warehouse to push to")
        return MaterializeResult(metadata={"remote": "none"})
    results = sync.push(warehouse.db_path(), remote)
    context.log.info(f"pushed forecasts and ops to {remote}: {sum(r.status != 'unchanged' for r in results)} changed")
    return MaterializeResult(metadata=_sync_metadata(results, remote))


def _artifact(invocation, name: str) -> dict:
    try:
        return invocation.get_artifact(name)
    except Exception as exc:  # dbt could not run at all: no artefact, nothing to classify
        log.error("dbt wrote no %s: %s", name, redact(exc))
        return {}
