"""`cbi backtest`'s tables on the terminal: the scores of every model and horizon, and the VaR backtest."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table


def print_scores(scored: pd.DataFrame, console: Console, key: str) -> None:
    """One row per model and horizon: pinball loss, coverage, skill ratio against the better random walk."""
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


def print_var(var_table: pd.DataFrame, console: Console) -> None:
    """The VaR backtest per model, horizon and level (or a line saying nothing was scored)."""
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
