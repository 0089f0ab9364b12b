"""`cbi backtest`: read the built feature tables, replay, store, score, print and render."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from cbi_ml import backtest
from cbi_ml.config import MLConfig
from cbi_ml.members.kinds import BASELINES, TIMESERIES
from cbi_ml.project import project_config
from cbi_ml.report import render

log = logging.getLogger(__name__)
#: Always replayed, whatever --members says: every model is judged against them on the same rows.
REFERENCE_MEMBERS = (*backtest.RANDOM_WALKS, TIMESERIES)

PREDICTIONS_DDL = """
create table if not exists ml.backtest_predictions (
    run_key varchar, refit integer, as_of_date date, horizon varchar, horizon_days integer, member varchar,
    fold integer, q10 double, q50 double, q90 double, y double, scale double, source varchar
)"""


def backtest_config(
    vars: Mapping[str, Any] | str | None = None,
    preset: str | None = None,
    time_limit: int | None = None,
    families: str | None = None,
) -> MLConfig:
    """The settings a `dbt build --vars <vars>` would train with (dbt's own rendering: `cbi_ml.project`), with the
    command's --preset/--time-limit/--families as `cbi_ml` keys on top."""
    given = json.loads(vars) if isinstance(vars, str) else dict(vars or {})
    flags = {"preset": preset, "time_limit_s": time_limit, "model_families": families}
    overrides = {k: v for k, v in flags.items() if v}
    if overrides:
        given["cbi_ml"] = {**(given.get("cbi_ml") or {}), **overrides}
    return project_config(given)


def chosen_members(members: str, cfg: MLConfig) -> list[str]:
    """`--members` (comma-separated or 'all': the built members of `cbi_members`/`cbi_buckets`) plus the
    references; the cheap members not built daily (`members.kinds.BASELINES`, e.g. garch_t) may be named too."""
    every = [*cfg.members, *(m for m in BASELINES if m not in cfg.members)]
    built = list(cfg.members)
    chosen = built if members.strip().lower() == "all" else [m.strip() for m in members.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in every]
    if unknown:
        raise SystemExit(f"unknown member(s) {unknown}; choose from {every}")
    return [*chosen, *(m for m in REFERENCE_MEMBERS if m not in chosen)]


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
    vars: Mapping[str, Any] | str | None = None,
    ray_address: str | None = None,
) -> pd.DataFrame:
    cfg = backtest_config(vars, preset, time_limit, families)
    chosen = chosen_members(members, cfg)
    with duckdb.connect(db) as con:
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
        var_table = backtest.var_backtests(layered)
        layered = layered.assign(run_key=key, refit=-1)
        con.register("_bt_layers", layered[layered["member"].isin(backtest.LAYERS)])
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
        if not var_table.empty:
            con.register("_bt_var", var_table.assign(run_key=key))
            con.execute("create table if not exists ml.backtest_var as select * from _bt_var where false")
            con.execute("delete from ml.backtest_var where run_key = ?", [key])
            con.execute("insert into ml.backtest_var by name select * from _bt_var")
        prices = con.sql("select as_of_date, zl_close_cents_per_lb from features.daily_ml_matrix_zl").df()
    _print(scored, console, key)
    _print_var(var_table, console)
    path = render(
        scored,
        layered,
        prices,
        report,
        f"CBI walk-forward backtest {start}..{end} (refit every {refit_every})",
        var_table=var_table,
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


def _print_var(var_table: pd.DataFrame, console: Console) -> None:
    if var_table.empty:
        console.print("VaR backtest: no scored rows")
        return
    table = Table(
        title="VaR backtest (split-t VaR from P10/P50/P90; tests on non-overlapping h-day windows)",
    )
    for col in ("model", "horizon", "VaR", "n", "exceptions", "expected", "Kupiec p", "indep. p", "cc p", "zone"):
        table.add_column(col, justify="left" if col in ("model", "horizon", "zone") else "right")
    table.add_column("all rows: rate", justify="right")
    for r in var_table.itertuples():
        table.add_row(
            r.model,
            r.horizon,
            f"{r.level:.0%}",
            f"{r.n}",
            f"{r.exceptions}",
            f"{r.expected:.1f}",
            f"{r.kupiec_p:.2f}",
            f"{r.independence_p:.2f}",
            f"{r.cc_p:.2f}",
            r.zone,
            f"{r.rate_all_rows:.3f} of {r.n_all_rows}",
        )
    console.print(table)
