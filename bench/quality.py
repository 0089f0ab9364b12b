"""Backtest skill against the training budget: the same walk-forward replay with two or three AutoGluon
budgets, one table of skill ratios (pinball / better random walk, with its EWC SE) per budget.

    .venv/bin/python bench/quality.py --db cbi.duckdb --start 2020-01-01 --end 2024-06-30 --refit-every 126

The warehouse must hold a built feature layer (`make demo`, or real data + `dbt build`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rich.console import Console

from cbi_ml.evaluation.backtest_command import run_backtest_command

BUDGETS = {
    "demo": {"time_limit": 60, "families": "GBM"},
    "wider": {"time_limit": 120, "families": "GBM,CAT"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--start", default="2020-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--refit-every", type=int, default=126)
    parser.add_argument("--members", default="rw_empirical,rw_ewma,har,main")
    parser.add_argument("--budgets", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    args = parser.parse_args()
    console = Console(width=160)
    rows = []
    for name in args.budgets:
        budget = BUDGETS[name]
        started = time.perf_counter()
        scored = run_backtest_command(
            args.db,
            args.start,
            args.end,
            args.refit_every,
            None,
            budget["time_limit"],
            args.members,
            Path("reports") / f"quality_{name}.html",
            console,
            families=budget["families"],
        )
        seconds = time.perf_counter() - started
        for r in scored[scored["model"].isin(["final", "main", "ensemble"])].itertuples():
            rows.append(
                {
                    "budget": name,
                    "model": r.model,
                    "horizon": r.horizon,
                    "skill_ratio": round(r.skill_ratio, 3),
                    "se": round(r.skill_ratio_se, 3),
                    "verdict": r.verdict,
                    "seconds": round(seconds),
                }
            )
    print("| budget | model | horizon | skill ratio | ± se | verdict | backtest s |")
    print("| --- | --- | --- | ---: | ---: | --- | ---: |")
    for r in rows:
        cells = [r["budget"], r["model"], r["horizon"], r["skill_ratio"], r["se"], r["verdict"], r["seconds"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
