"""Wall time and peak memory of the `daily_forecast` job against the same `dbt build` run plainly.

    .venv/bin/python bench/orchestration.py --warehouse /tmp/w/cbi.duckdb --models /tmp/w/models

Needs a warehouse already built (`cbi sample` + `dbt build`, or real data) and its saved models. Each run gets
a fresh copy of both under --workdir (one folder per stage and
repeat, kept: `bench/ml_tables.py dump` reads the tables a stage wrote). The stages (`--stages`, all by default):

- `dbt build (ml)`: the ML layer alone (`--select tag:ml`: the members, combination, risk, forecasts), scoring
  with the saved models (`retrain: never`);
- `dbt build (plain)`: the whole `dbt build`, scoring with the saved models, as `make build` would;
- `cbi run daily` with no source to fetch (`CBI_ORCHESTRATED_SOURCES=none`: the goal excludes downloads),
  i.e. Dagster + the same dbt build + forecast log + monitors;
- `cbi run monitor` alone (the monitors' own cost);
- `import Definitions`: loading `orchestration.definitions` alone (Dagster, dagster-dbt, the manifest), the
  fixed cost every `cbi run` pays before its first step.

Wall time and the peak resident memory of the process tree (sampled every 50 ms, `bench/pipeline.measure`), with
the 1-minute load average before and after each stage: the machine may be shared. Nothing here is a test: numbers
depend on the machine and its load.

`--steps` also runs `cbi run daily` once with a fresh `DAGSTER_HOME` (a persisted instance, as under `make ops`)
and prints where its time goes: each step's seconds from the instance's step stats, the run's time outside its
steps (resources: the run lock, the snapshot published at the run's end) and the process's time outside the run
(interpreter, imports, the Definitions, `ops.job_runs`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import BIN, ROOT, measure  # noqa: E402

#: stage -> the folder it runs in (under --workdir/run<i>-)
STAGES = {
    "dbt build (ml)": "dbt-ml",
    "dbt build (plain)": "dbt",
    "cbi run daily": "daily",
    "cbi run monitor": "monitor",
    "import Definitions": "import",
}


def fresh_copy(warehouse: Path, models: Path, workdir: Path, name: str) -> tuple[Path, Path]:
    target = workdir / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(warehouse, target / "cbi.duckdb")
    shutil.copytree(models, target / "models")
    return target / "cbi.duckdb", target / "models"


def step_times(home: Path) -> tuple[list[tuple[str, float]], float]:
    """(step, seconds) of the one run recorded in the instance at `home`, in order, and the run's wall seconds."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        steps = sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0)
        rows = [(s.step_key, (s.end_time or 0) - (s.start_time or 0)) for s in steps]
        return rows, (stats.end_time or 0) - (stats.start_time or 0)


def daily_steps(args: argparse.Namespace) -> None:
    """One `cbi run daily` with a persisted instance: where its time goes."""
    db, models = fresh_copy(args.warehouse, args.models, args.workdir, "steps")
    home = args.workdir / "steps" / "dagster_home"
    home.mkdir()
    env = {**os.environ, "CBI_DUCKDB_PATH": str(db), "CBI_ORCHESTRATED_SOURCES": "none", "DAGSTER_HOME": str(home)}
    env.pop("CBI_ALERT_WEBHOOK_URL", None)
    load_before = os.getloadavg()[0]
    seconds, peak, code = measure([str(BIN / "cbi"), "run", "daily", "--artifacts-dir", str(models)], env)
    steps, run_wall = step_times(home)
    print(f"\n`cbi run daily` with DAGSTER_HOME: {seconds:.1f} s, peak {peak:,.0f} MiB, exit {code}, ", end="")
    print(f"load avg (1 min) {load_before:.1f} / {os.getloadavg()[0]:.1f}")
    print("| part | s |")
    print("| --- | ---: |")
    for step, took in steps:
        print(f"| {step} | {took:.1f} |")
    print(f"| the run outside its steps (lock, snapshot) | {run_wall - sum(t for _, t in steps):.1f} |")
    print(f"| the process outside the run (imports, Definitions, ops.job_runs) | {seconds - run_wall:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cbi-bench-orchestration"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
    parser.add_argument("--steps", action="store_true", help="also time each step of one daily run (DAGSTER_HOME)")
    args = parser.parse_args()

    rows = []
    for i in range(args.repeat):
        for stage in args.stages.split(","):
            slug = STAGES[stage]
            db, models = fresh_copy(args.warehouse, args.models, args.workdir, f"run{i}-{slug}")
            env = {**os.environ, "CBI_DUCKDB_PATH": str(db), "CBI_ORCHESTRATED_SOURCES": "none"}
            env.pop("DAGSTER_HOME", None)
            env.pop("CBI_ALERT_WEBHOOK_URL", None)
            if stage.startswith("dbt"):
                variables = json.dumps({"cbi_ml": {"retrain": "never", "artifacts_dir": str(models)}})
                selection = ["--select", "tag:ml"] if stage == "dbt build (ml)" else []
                cmd = [str(BIN / "dbt"), "build", *selection, "--vars", variables]
            elif stage == "import Definitions":
                cmd = [str(BIN / "python"), "-c", "import orchestration.definitions"]
            else:
                cmd = [str(BIN / "cbi"), "run", stage.split()[-1], "--artifacts-dir", str(models)]
            load_before = os.getloadavg()[0]
            seconds, peak, code = measure(cmd, env)
            rows.append((stage, seconds, peak, code, load_before, os.getloadavg()[0]))
    print(f"{os.cpu_count()} CPUs; git {_head()}")
    print("| stage | wall s | peak MiB | exit | load avg (1 min) before / after |")
    print("| --- | ---: | ---: | ---: | --- |")
    for stage, seconds, peak, code, before, after in rows:
        print(f"| {stage} | {seconds:.1f} | {peak:,.0f} | {code} | {before:.1f} / {after:.1f} |")
    if args.steps:
        daily_steps(args)


def _head() -> str:
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() or "?"


if __name__ == "__main__":
    main()
