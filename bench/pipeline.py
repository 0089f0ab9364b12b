"""Pipeline speed and memory: load, feature layer (models only / with tests), ML training and ML scoring.

    .venv/bin/python bench/pipeline.py --data sample --history 1 2 4 --stages load features features_tests
    .venv/bin/python bench/pipeline.py --data real --stages load features features_tests ml_train ml_score

Each stage runs as the real command (`cbi`, `dbt`) on a fresh DuckDB file under --workdir; wall time and the
peak resident memory of the whole process tree (sampled every 50 ms) are printed as a table. Nothing here is a
test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REAL_FILE = ROOT.parent / "shared" / "data" / "real" / "futures_daily_contracts.csv.gz"
SAMPLE_END = "2026-10-30"
SAMPLE_START = {1: "2010-01-04", 2: "1993-03-01", 4: "1959-07-01"}


def measure(cmd: list[str], env: dict) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB of the process tree, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                rss = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(recursive=True))
                peak = max(peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    done.set()
    thread.join()
    return time.perf_counter() - start, peak / 2**20, code


def stages_for(data: str, history: int, db: Path) -> dict[str, list[str]]:
    dbt = str(BIN / "dbt")
    if data == "sample":
        load = [str(BIN / "cbi"), "sample", "--start", SAMPLE_START[history], "--end", SAMPLE_END, "--db", str(db)]
    else:
        load = [str(BIN / "cbi"), "ingest", "futures", "--file", str(REAL_FILE), "--db", str(db)]
    # the whole feature layer (every model outside ml/, with the seeds it reads) on a fresh file
    features = ["--select", "path:models", "path:seeds", "--exclude", "tag:ml", "--full-refresh"]
    return {
        "load": load,
        "features": [dbt, "build", *features, "--resource-type", "model", "--resource-type", "seed"],
        "features_tests": [dbt, "build", *features],
        "ml_train": [dbt, "build", "--select", "tag:ml", "--vars", json.dumps({"cbi_ml": {"retrain": "always"}})],
        "ml_score": [dbt, "build", "--select", "tag:ml", "--vars", json.dumps({"cbi_ml": {"retrain": "auto"}})],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", choices=["sample", "real"], default="sample")
    parser.add_argument("--history", type=int, nargs="+", default=[1], choices=[1, 2, 4])
    parser.add_argument(
        "--stages",
        nargs="+",
        default=["load", "features", "features_tests"],
        choices=["load", "features", "features_tests", "ml_train", "ml_score"],
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cbi-bench"))
    args = parser.parse_args()
    if args.data == "real" and not REAL_FILE.is_file():
        raise SystemExit(f"real futures not found at {REAL_FILE}")
    rows = []
    for history in args.history if args.data == "sample" else [1]:
        work = args.workdir / f"{args.data}_x{history}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        db = work / "bench.duckdb"
        env = {
            **os.environ,
            "CBI_DUCKDB_PATH": str(db),
            "DBT_PROFILES_DIR": str(ROOT),
            "OMP_WAIT_POLICY": "PASSIVE",
            "HF_HUB_OFFLINE": "1",
        }
        commands = stages_for(args.data, history, db)
        if "ml_train" in args.stages or "ml_score" in args.stages:
            ml = {"artifacts_dir": str(work / "models")}
            for stage in ("ml_train", "ml_score"):
                spec = json.loads(commands[stage][-1])
                commands[stage][-1] = json.dumps({"cbi_ml": {**spec["cbi_ml"], **ml}})
        for stage in args.stages:
            seconds, peak, code = measure(commands[stage], env)
            with __import__("duckdb").connect(str(db), read_only=True) as con:
                try:
                    days = con.sql("select count(*) from features.daily_ml_matrix_zl").fetchall()[0][0]
                except Exception:
                    days = None
            rows.append(
                {
                    "data": args.data,
                    "history": f"{history}x",
                    "stage": stage,
                    "seconds": round(seconds, 1),
                    "peak_mib": round(peak),
                    "matrix_rows": days,
                    "exit": code,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    print()
    print("| data | history | stage | wall s | peak MiB | matrix rows | exit |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        cells = [r["data"], r["history"], r["stage"], r["seconds"], r["peak_mib"], r["matrix_rows"], r["exit"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
