"""How long the test suite takes: run pytest with `--durations=0` and print the wall time and a table per file.

    python bench/suite_time.py                       # what `make test` runs (two workers)
    python bench/suite_time.py --workers 0           # the same tests in one process
    python bench/suite_time.py --fast                # what `make test-fast` runs (no dbt)

The per-file seconds are the sums of each test's setup, call and teardown; with workers they add up to more than
the wall time. A session fixture's build is charged to the first test that asks for it. The machine's load
average is printed beside the figures: on a shared machine the wall time says as much about the neighbours.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+?\.py)::(\S+)")
SUMMARY = re.compile(r"^=+ (.*(passed|failed|error).*) in [\d.]+s")


def pytest_command(workers: int, fast: bool, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "--durations=0", "-p", "no:cacheprovider"]
    if workers > 0:
        cmd += ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]
    if fast:
        cmd += ["-m", "not dbt"]
    return cmd + extra


def per_file(output: str) -> tuple[dict[str, float], list[tuple[float, str]]]:
    files: dict[str, float] = defaultdict(float)
    tests: dict[str, float] = defaultdict(float)
    for line in output.splitlines():
        match = DURATION.match(line)
        if match:
            seconds, path, name = float(match.group(1)), match.group(3), match.group(4)
            files[Path(path).name] += seconds
            tests[f"{Path(path).name}::{name}"] += seconds
    return dict(files), sorted(((s, t) for t, s in tests.items()), reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers; 0 runs in one process")
    parser.add_argument("--fast", action="store_true", help="only the tests without dbt (make test-fast)")
    parser.add_argument("--top", type=int, default=15, help="slowest tests to list")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest after the options above")
    args = parser.parse_args()

    cmd = pytest_command(args.workers, args.fast, args.pytest_args)
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, capture_output=True, text=True)
    wall = time.monotonic() - start
    load_after = os.getloadavg()[0]
    output = proc.stdout + proc.stderr
    summary = next((m.group(1) for m in map(SUMMARY.match, output.splitlines()) if m), "no summary line")
    files, tests = per_file(output)

    print(f"command: {' '.join(cmd[1:])}")
    print(f"result: {summary} (exit {proc.returncode})")
    print(
        f"wall: {wall:.0f} s ({wall / 60:.1f} min) on {os.cpu_count()} CPUs; load average {load_before:.1f} before, "
        f"{load_after:.1f} after"
    )
    print("\n| file | seconds (setup+call+teardown) |\n| --- | ---: |")
    for name, seconds in sorted(files.items(), key=lambda kv: -kv[1]):
        if seconds >= 1:
            print(f"| {name} | {seconds:.0f} |")
    print(f"| all files | {sum(files.values()):.0f} |")
    print("\n| slowest tests | seconds |\n| --- | ---: |")
    for seconds, name in tests[: args.top]:
        print(f"| {name} | {seconds:.0f} |")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
