"""Wall time and peak memory of the `daily_forecast` job against the same `dbt build` run plainly.

    .venv/bin/python bench/orchestration.py --warehouse /tmp/w/cbi.duckdb --models /tmp/w/models

Needs a warehouse already built (`cbi sample` + `dbt build`, or real data) and its saved models. Each run gets
a fresh copy of both under --workdir. Three measurements:

- `dbt build` plainly, scoring with the saved models (`retrain: never`), as `make build` would;
- `cbi run daily` with no source to fetch (`CBI_ORCHESTRATED_SOURCES=none`: the goal excludes downloads),
  i.e. Dagster + the same dbt build + forecast log + monitors;
- `cbi run monitor` alone (the monitors' own cost).

Wall time and the peak resident memory of the process tree (sampled every 50 ms, `bench/pipeline.measure`).
Nothing here is a test: numbers depend on the machine and its load (printed with the table).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import BIN, measure  # noqa: E402


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
    args = parser.parse_args()

    rows = []
    for i in range(args.repeat):
        for stage in ("dbt build (plain)", "cbi run daily", "cbi run monitor"):
            db, models = fresh_copy(args.warehouse, args.models, args.workdir, f"run{i}")
            env = {**os.environ, "CBI_DUCKDB_PATH": str(db), "CBI_ORCHESTRATED_SOURCES": "none"}
            env.pop("DAGSTER_HOME", None)
            env.pop("CBI_ALERT_WEBHOOK_URL", None)
            if stage.startswith("dbt"):
                variables = json.dumps({"cbi_ml": {"retrain": "never", "artifacts_dir": str(models)}})
                cmd = [str(BIN / "dbt"), "build", "--vars", variables]
            else:
                cmd = [str(BIN / "cbi"), "run", stage.split()[-1], "--artifacts-dir", str(models)]
            seconds, peak, code = measure(cmd, env)
            rows.append((stage, seconds, peak, code))
    load = os.getloadavg()
    print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    print("| stage | wall s | peak MiB | exit |")
    print("| --- | ---: | ---: | ---: |")
    for stage, seconds, peak, code in rows:
        print(f"| {stage} | {seconds:.1f} | {peak:,.0f} | {code} |")


if __name__ == "__main__":
    main()
