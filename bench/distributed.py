"""Backtest fits serially versus as Ray tasks on a local cluster: wall time and peak memory per worker.

    .venv/bin/python bench/distributed.py --db real.duckdb --start 2016-01-01 --end 2024-06-30 --members all
    .venv/bin/python bench/distributed.py --db cbi.duckdb --start 2022-01-03 --end 2023-06-30 --members rw_ewma,har,main

`--db` is a warehouse whose features are built (`dbt build`). Every mode runs the production fits
(`cbi_ml.evaluation.backtest.backtest_calls`, one per refit x horizon x member) and checks that the rows equal the
serial run's; the table gives wall time, fits, the median and longest fit, and each worker's peak resident memory
(`ru_maxrss` of the process that ran the fits). The projection line multiplies the measured fit seconds out to a
production retrain (the trained members x 4 horizons x (8 out-of-fold blocks + the final fit)). Numbers depend on the
machine; nothing here is a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd

from cbi_ml.dataset import KEY, prepare_matrix
from cbi_ml.distributed import Call, RayResources, run_all
from cbi_ml.evaluation import backtest
from cbi_ml.members.registry import BASELINES, daily_members
from cbi_ml.project import project_config
from orchestration.config import PRODUCTION_BUDGET


def _measured(fn, args):
    """Run one production fit; return its rows, its seconds and the worker's peak RSS (MiB) and pid."""
    start = time.perf_counter()
    rows = fn(*args)
    return rows, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, os.getpid()


def run_mode(calls: list[Call], address: str | None, workers: int) -> tuple[float, list, list[pd.DataFrame]]:
    wrapped = [Call(_measured, (c.fn, c.args)) for c in calls]
    resources = RayResources(fits_per_node=workers)
    start = time.perf_counter()
    results = dict(run_all(wrapped, address, resources))
    wall = time.perf_counter() - start
    if address is not None:
        import ray

        ray.shutdown()
    ordered = [results[i] for i in range(len(calls))]
    return wall, ordered, [r[0] for r in ordered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--start", default="2016-01-01")
    parser.add_argument("--end", default="2024-06-30")
    parser.add_argument("--refit-every", type=int, default=63)
    parser.add_argument("--members", default="all")
    parser.add_argument("--time-limit", type=int, default=60)
    parser.add_argument("--modes", default="serial,ray1,ray2")
    args = parser.parse_args()

    with duckdb.connect(args.db, read_only=True) as con:
        matrix = con.sql("select * from features.daily_ml_matrix_zl").df()
        catalog = con.sql("select * from features.feature_catalog").df()
    cfg = replace(project_config(), time_limit_s=args.time_limit)
    members = list(daily_members(cfg.buckets)) if args.members == "all" else args.members.split(",")
    frame = prepare_matrix(matrix, cfg.ewma_lambda)
    dates = pd.to_datetime(frame[KEY])
    refits = backtest.refit_positions(dates, args.start, args.end, args.refit_every)
    last = int(np.flatnonzero(dates <= pd.Timestamp(args.end)).max())
    calls = [call for _, call in backtest.backtest_calls(frame, catalog, cfg, members, refits, last, set())]
    print(f"{len(calls)} fits: {len(refits)} refits x {len(cfg.horizons)} horizons x {len(members)} members")

    rows = []
    reference = None
    fit_seconds: list[float] = []
    for mode in args.modes.split(","):
        address, workers = (None, 1) if mode == "serial" else ("local", int(mode.removeprefix("ray")))
        wall, results, frames = run_mode(calls, address, workers)
        if reference is None:
            reference, fit_seconds = frames, [r[1] for r in results]
        same = all(a.equals(b) for a, b in zip(reference, frames, strict=True))
        peaks: dict[int, float] = {}
        for _, _, rss, pid in results:
            peaks[pid] = max(peaks.get(pid, 0.0), rss)
        seconds = [r[1] for r in results]
        rows.append(
            (
                mode,
                wall,
                len(peaks),
                statistics.median(seconds),
                max(seconds),
                max(peaks.values()),
                "yes" if same else "NO",
            )
        )

    print(
        "| mode | wall s | worker processes | median fit s | longest fit s | peak RSS per worker MiB | rows = serial |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for mode, wall, procs, med, longest, peak, same in rows:
        print(f"| {mode} | {wall:.0f} | {procs} | {med:.1f} | {longest:.1f} | {peak:.0f} | {same} |")

    trained = [s for s, c in zip(fit_seconds, calls, strict=True) if c.args[0] not in BASELINES]
    per_fit = statistics.mean(trained) if trained else 0.0
    n_trained = sum(1 for m in daily_members(cfg.buckets) if m not in BASELINES)
    limit, folds = PRODUCTION_BUDGET["time_limit_s"], PRODUCTION_BUDGET["oof_folds"]
    production_fits = n_trained * len(cfg.horizons) * (folds + 1)  # the out-of-fold blocks + the final fit
    hours = production_fits * limit / 3600
    print(
        f"\nproduction retrain: {production_fits} fits; at this budget's mean {per_fit:.1f} s per trained fit that is "
        f"{production_fits * per_fit / 60:.0f} min serially; at time_limit_s={limit} up to "
        f"{hours:.0f} h of fits, i.e. on N nodes with 2 fit slots each about "
        f"{hours / 2:.0f}/N h (N=4: {hours / 8:.1f} h, N=16: {hours / 32:.1f} h), bounded below by the longest fit."
    )


if __name__ == "__main__":
    main()
