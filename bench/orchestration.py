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
- `cbi run monitor` alone (the monitors' own cost).

Wall time and the peak resident memory of the process tree (sampled every 50 ms, `bench/pipeline.measure`), with
the 1-minute load average before and after each stage: the machine may be shared. Nothing here is a test: numbers
depend on the machine and its load.
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
}


def fresh_copy(warehouse: Path, models: Path, workdir: Path, name: str) -> tuple[Path, Path]:
    target = workdir / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy(warehouse, target / "cbi.duckdb")
    shutil.copytree(models, target / "models")
    return target / "cbi.duckdb", target / "models"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cbi-bench-orchestration"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated, of: {', '.join(STAGES)}")
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


def _head() -> str:
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() or "?"


if __name__ == "__main__":
    main()
