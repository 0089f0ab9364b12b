"""`cbi backtest`: read the built feature tables, replay, store, score, print and render."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from cbi_ml import backtest
from cbi_ml.config import MLConfig
from cbi_ml.members import BASELINES, BUCKETS, TIMESERIES
from cbi_ml.report import render

log = logging.getLogger(__name__)
ALL_MEMBERS = [*BASELINES, TIMESERIES, "main", *(f"spec_{b}" for b in BUCKETS)]
#: Always replayed, whatever --members says: every model is judged against them on the same rows.
REFERENCE_MEMBERS = (*backtest.RANDOM_WALKS, TIMESERIES)

PREDICTIONS_DDL = """
create table if not exists ml.backtest_predictions (
    run_key varchar, refit integer, as_of_date date, horizon varchar, horizon_days integer, member varchar,
    fold integer, q10 double, q50 double, q90 double, y double, scale double, source varchar
)"""


_ENV_VAR = re.compile(r"""\{\{\s*env_var\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)\s*\}\}""")


def render_env_vars(value: Any) -> Any:
    """Resolve dbt's `{{ env_var('NAME', 'default') }}` in var values read straight from dbt_project.yml."""
    if isinstance(value, dict):
        return {k: render_env_vars(v) for k, v in value.items()}
    if isinstance(value, str):
        return _ENV_VAR.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), value)
    return value


def _project_config() -> MLConfig:
    """The `cbi_ml` and `cbi_horizons` vars of the project's dbt_project.yml (found from the working directory
    upwards). A build's `--vars` overrides are not known here: pass the budget to `cbi backtest` explicitly."""
    from ingest.settings import project_dir

    project = project_dir() / "dbt_project.yml"
    if not project.is_file():
        log.warning("no dbt_project.yml above %s: using the built-in ML defaults", Path.cwd())
        return MLConfig()
    import yaml

    variables = render_env_vars(yaml.safe_load(project.read_text()).get("vars", {}))
    return MLConfig.from_dbt(
        {
            "cbi_ml": json.dumps(variables.get("cbi_ml", {})),
            "cbi_horizons": json.dumps(variables.get("cbi_horizons", {})),
        }
    )


def run_backtest_command(
    db: str,
    start: str,
    end: str,
    refit_every: int,
    preset: str | None,
    time_limit: int | None,
    members: str,
    report: Path,
    console: Console,
    families: str | None = None,
    ray_address: str | None = None,
) -> pd.DataFrame:
    chosen = ALL_MEMBERS if members.strip().lower() == "all" else [m.strip() for m in members.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in ALL_MEMBERS]
    if unknown:
        raise SystemExit(f"unknown member(s) {unknown}; choose from {ALL_MEMBERS}")
    for needed in REFERENCE_MEMBERS:
        if needed not in chosen:
            chosen.append(needed)
    with duckdb.connect(db) as con:
        cfg = _project_config()
        cfg = replace(
            cfg,
            preset=preset or cfg.preset,
            time_limit_s=time_limit or cfg.time_limit_s,
            model_families=tuple(families.split(",")) if families else cfg.model_families,
        )
        try:
            matrix = con.sql("select * from features.daily_ml_matrix_zl").df()
            catalog = con.sql("select * from features.feature_catalog").df()
        except duckdb.CatalogException as exc:
            raise SystemExit(f"no feature tables in {db}: run `dbt build` first ({exc})") from exc
        key = backtest.run_key(cfg, chosen, start, end, refit_every, matrix["as_of_date"].max())
        con.execute("create schema if not exists ml")
        con.execute(PREDICTIONS_DDL)
        con.execute("alter table ml.backtest_predictions add column if not exists source varchar")  # older runs
        done = {
            r[0]
            for r in con.execute(
                "select distinct refit from ml.backtest_predictions where run_key = ? and refit >= 0", [key]
            ).fetchall()
        }
        if done:
            console.print(f"resuming run {key}: {len(done)} refit(s) already done")

        def store(refit: int, rows: pd.DataFrame) -> None:
            """One transaction per refit: an interrupted run keeps every completed refit."""
            con.execute("begin transaction")
            con.execute("delete from ml.backtest_predictions where run_key = ? and refit = ?", [key, refit])
            if rows.empty:  # a marker, so that a resumed run does not redo a refit with nothing to predict
                con.execute("insert into ml.backtest_predictions (run_key, refit) values (?, ?)", [key, refit])
            else:
                con.register("_bt_rows", rows.assign(run_key=key, refit=refit))
                con.execute("insert into ml.backtest_predictions by name select * from _bt_rows")
                con.unregister("_bt_rows")
            con.execute("commit")

        backtest.replay_members(matrix, catalog, cfg, chosen, start, end, refit_every, done, store, ray_address)
        l0 = con.execute(
            "select * exclude (run_key, refit) from ml.backtest_predictions "
            "where run_key = ? and refit >= 0 and member is not null",
            [key],
        ).df()
        layered = backtest.combine_layers(l0, matrix, cfg)
        scored = backtest.metrics(layered)
        layered = layered.assign(run_key=key, refit=-1)
        con.register("_bt_layers", layered[layered["member"].isin(["stack", "ensemble", "final"])])
        con.execute("delete from ml.backtest_predictions where run_key = ? and refit = -1", [key])
        con.execute("insert into ml.backtest_predictions by name select * from _bt_layers")
        meta = scored.assign(
            run_key=key,
            start_date=start,
            end_date=end,
            refit_every=refit_every,
            members=",".join(chosen),
            **{k: str(v) for k, v in backtest.settings_summary(cfg).items()},
        )
        con.register("_bt_metrics", meta)
        con.execute("create table if not exists ml.backtest_metrics as select * from _bt_metrics where false")
        con.execute("delete from ml.backtest_metrics where run_key = ?", [key])
        con.execute("insert into ml.backtest_metrics by name select * from _bt_metrics")
        prices = con.sql("select as_of_date, zl_close_cents_per_lb from features.daily_ml_matrix_zl").df()
    _print(scored, console, key)
    path = render(
        scored, layered, prices, report, f"CBI walk-forward backtest {start}..{end} (refit every {refit_every})"
    )
    console.print(f"report: {path.resolve()}")
    return scored


def _print(scored: pd.DataFrame, console: Console, key: str) -> None:
    table = Table(title=f"walk-forward backtest (run {key}); skill = pinball / better random walk")
    for col in (
        "model",
        "horizon",
        "n",
        "pinball_mean",
        "coverage_80",
        "width_80",
        "skill_ratio",
        "± se",
        "DM p",
        "verdict",
    ):
        table.add_column(col, justify="left" if col in ("model", "horizon", "verdict") else "right")
    for r in scored.itertuples():
        table.add_row(
            r.model,
            r.horizon,
            f"{r.n}",
            f"{r.pinball_mean:.5f}",
            f"{r.coverage_80:.2f}",
            f"{r.width_80:.4f}",
            f"{r.skill_ratio:.3f}",
            f"{r.skill_ratio_se:.3f}",
            f"{r.dm_pvalue:.2f}",
            r.verdict,
        )
    console.print(table)
