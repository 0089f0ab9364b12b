"""Install time: pip against uv, with a cold and a warm download cache, each into a new virtual environment.

    .venv/bin/python bench/install.py --repeat 3 --workdir /tmp/cbi-bench-install

Ways of installing (each ends with CBI itself installed editable, as `make install` leaves it):
  pip-resolve   the old `make install`: `pip install -e '.[dev]'`, resolving pyproject's ranges on the spot
  pip-lock      pip installing requirements.lock (`--no-deps --require-hashes`), no resolution
  uv-lock       `make install`'s way: `uv pip sync requirements.lock` with pip's index settings
  uv-lock-pyc   the same with `--compile-bytecode`, the .pyc files that pip writes and uv leaves to first import

"cold" starts from an empty cache directory, "warm" repeats the install into a new environment with the cache that
the cold run filled (skipped when the cold run left the cache empty: pip stores only HTTP responses whose headers
allow caching, and some mirrors send none). Package indexes on this machine's disk (pip's extra-index-url and
find-links) are read in both. Creating the virtual environment itself is not timed (`python -m venv`, the same for
every way). Prints one table: median and mean with its standard error over the repeats. Numbers depend on the
machine and its load; nothing here is a test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LOCK = PROJECT / "requirements.lock"
WAYS = ("pip-resolve", "pip-lock", "uv-lock", "uv-lock-pyc")


def commands(way: str, venv: Path, cache: Path) -> list[list[str]]:
    """The install commands of one way, into `venv`, with `cache` as the download cache."""
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--cache-dir", str(cache)]
    uv = [sys.executable, "-m", "cbi_core.pip_index", str(Path(sys.executable).parent / "uv"), "pip"]
    target = ["--quiet", "--cache-dir", str(cache), "--python", str(venv / "bin" / "python")]
    if way == "pip-resolve":
        return [[*pip, "-e", ".[dev]"]]
    if way == "pip-lock":
        return [[*pip, "--no-deps", "--require-hashes", "-r", str(LOCK)], [*pip, "--no-deps", "-e", "."]]
    bytecode = ["--compile-bytecode"] if way == "uv-lock-pyc" else []
    return [[*uv, "sync", *target, *bytecode, str(LOCK)], [*uv, "install", *target, *bytecode, "--no-deps", "-e", "."]]


def timed_install(way: str, workdir: Path, cache: Path) -> float:
    """Seconds to run one way's commands into a new virtual environment (removed afterwards)."""
    venv = workdir / f"venv-{way}"
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True)
    started = time.perf_counter()
    for command in commands(way, venv, cache):
        subprocess.run(command, check=True, cwd=PROJECT)
    seconds = time.perf_counter() - started
    shutil.rmtree(venv)
    return seconds


def base_python() -> str:
    """The interpreter the project's venv was made from (`make install`'s $(PYTHON))."""
    return str(Path(sys.base_prefix) / "bin" / "python3")


def summary(values: list[float]) -> str:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return f"| {statistics.median(values):.1f} | {mean:.1f} ± {se:.1f} | {len(values)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cbi-bench-install"))
    parser.add_argument("--ways", nargs="+", default=list(WAYS), choices=WAYS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    times: dict[tuple[str, str], list[float]] = {}
    for repeat in range(args.repeat):  # the ways interleaved, so that a change of machine load hits each of them
        for way in args.ways:
            cache = args.workdir / f"cache-{way}"
            shutil.rmtree(cache, ignore_errors=True)
            for state in ("cold", "warm"):
                if state == "warm" and not any(cache.glob("*")):
                    # pip caches only HTTP responses that allow it; a mirror that sends no caching headers leaves
                    # the cache empty, and a "warm" run would be a second cold run.
                    times.setdefault((way, "warm: the cold run cached nothing"), [])
                    break
                seconds = timed_install(way, args.workdir, cache)
                times.setdefault((way, state), []).append(seconds)
                print(f"repeat {repeat + 1}: {way} {state} {seconds:.1f} s", file=sys.stderr, flush=True)
            shutil.rmtree(cache, ignore_errors=True)
    print("| way | cache | median s | mean ± SE s | n |\n| --- | --- | ---: | ---: | ---: |")
    for (way, state), values in times.items():
        print(f"| {way} | {state} {summary(values)}" if values else f"| {way} | {state} | | | 0 |")


if __name__ == "__main__":
    main()
