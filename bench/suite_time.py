"""How long the test suite takes: run pytest with `--durations=0` and print the wall time and a table per file.

    python bench/suite_time.py                       # what `make test` runs (two workers)
    python bench/suite_time.py --workers 0           # the same tests in one process
    python bench/suite_time.py --fast                # what `make test-fast` runs (no dbt)

The per-file seconds are the sums of each test's setup, call and teardown; with workers they add up to more than
the wall time. A session fixture's build is charged to the first test that asks for it. Beside the wall seconds,
the CPU seconds (user+sys of the worker and of the processes it ran and waited for, such as dbt): on a shared
machine they hardly move with the neighbours' load, while the wall time says as much about the neighbours as about
the suite (the machine's load average is printed beside the figures). Pass test files or `-k` after `--` to time
a part of the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
DURATION = re.compile(r"^([\d.]+)s (setup|call|teardown)\s+(\S+?\.py)::(\S+)")
SUMMARY = re.compile(r"^(?:=+ )?(.*\b(passed|failed|error)\b.*) in [\d.]+s")
CPU_DIR = "CBI_SUITE_CPU_DIR"  # where the plugin below writes each process's CPU seconds per file


def _cpu_seconds() -> float:
    """User+sys CPU of this process and of its children it has waited for (dbt, the browser, ...)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# The pytest plugin (`-p bench.suite_time`, loaded by every worker): CPU seconds per test file. A file runs whole
# on one worker (`--dist loadfile`), so the CPU a test's setup, call and teardown used is that file's.
_cpu_by_file: dict[str, float] = defaultdict(float)


def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001 (the hook's signature)
    start = _cpu_seconds()
    yield
    _cpu_by_file[Path(str(item.path)).name] += _cpu_seconds() - start


pytest_runtest_protocol.hookwrapper = True  # type: ignore[attr-defined]


def pytest_sessionfinish(session) -> None:  # noqa: ARG001
    folder = os.environ.get(CPU_DIR)
    if folder and _cpu_by_file:
        name = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(folder, f"{name}.json").write_text(json.dumps(_cpu_by_file))


def suite_command(workers: int, fast: bool, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "--durations=0", "-p", "no:cacheprovider", "-p", "bench.suite_time"]
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

    cmd = suite_command(args.workers, args.fast, args.pytest_args)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as cpu_dir:
        start, cpu_start = time.monotonic(), _cpu_seconds()
        env = {
            **os.environ,
            CPU_DIR: cpu_dir,
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
        }
        proc = subprocess.run(cmd, cwd=PROJECT_DIR, capture_output=True, text=True, env=env)
        wall, cpu = time.monotonic() - start, _cpu_seconds() - cpu_start
        cpu_files: dict[str, float] = defaultdict(float)
        for part in Path(cpu_dir).glob("*.json"):
            for name, seconds in json.loads(part.read_text()).items():
                cpu_files[name] += seconds
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
    print(f"CPU: {cpu:.0f} s user+sys (pytest, its workers and what they waited for)")
    print("\n| file | wall s (setup+call+teardown) | CPU s (user+sys) |\n| --- | ---: | ---: |")
    for name, seconds in sorted(files.items(), key=lambda kv: -kv[1]):
        if seconds >= 1 or cpu_files.get(name, 0) >= 1:
            print(f"| {name} | {seconds:.0f} | {cpu_files.get(name, 0):.0f} |")
    print(f"| all files | {sum(files.values()):.0f} | {sum(cpu_files.values()):.0f} |")
    print("\n| slowest tests | seconds |\n| --- | ---: |")
    for seconds, name in tests[: args.top]:
        print(f"| {name} | {seconds:.0f} |")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
