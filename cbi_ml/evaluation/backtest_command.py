"""`cbi backtest`: read the built feature tables, replay, store, score, print and render."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.console import Console

from cbi_ml.evaluation import backtest, backtest_store, scoreboard
from cbi_ml.evaluation.backtest_config import backtest_config, chosen_members, settings_summary
from cbi_ml.evaluation.backtest_console import print_scores, print_var
from cbi_ml.evaluation.report import render

log = logging.getLogger(__name__)


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
    """Replay the chosen members from `start` to `end` (resuming a stored run with the same key), add the
    combination layers, score them, store everything in `db`, print the tables and write the HTML `report`.
    Returns the scores."""
    cfg = backtest_config(vars, preset, time_limit, families)
    chosen = chosen_members(members, cfg)
    with duckdb.connect(db) as con:
        matrix, catalog = backtest_store.read_features(con, db)
        key = backtest.run_key(cfg, chosen, start, end, refit_every, matrix["as_of_date"].max())
        done = backtest_store.done_refits(con, key)
        if done:
            console.print(f"resuming run {key}: {len(done)} refit(s) already done")
        store = backtest_store.refit_writer(con, key)
        backtest.replay_members(matrix, catalog, cfg, chosen, start, end, refit_every, done, store, ray_address)
        l0 = backtest_store.stored_members(con, key)
        layered = backtest.combine_layers(l0, matrix, cfg)
        scored = scoreboard.metrics(layered)
        var_table = scoreboard.var_backtests(layered)
        layered = layered.assign(run_key=key, refit=-1)
        backtest_store.store_layers(con, key, layered[layered["member"].isin(backtest.LAYERS)])
        meta = scored.assign(
            run_key=key,
            start_date=start,
            end_date=end,
            refit_every=refit_every,
            members=",".join(chosen),
            **{k: str(v) for k, v in settings_summary(cfg).items()},
        )
        backtest_store.store_scores(con, key, meta, var_table)
        prices = backtest_store.read_prices(con)
    print_scores(scored, console, key)
    print_var(var_table, console)
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
