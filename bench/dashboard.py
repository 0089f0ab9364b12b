"""Dashboard speed and weight: snapshot publish, site build, site size, time to first render in headless Chromium.

    .venv/bin/python bench/dashboard.py --db cbi.duckdb [--repeat 3] [--screenshots docs/dashboard]

Runs the real commands (`cbi snapshot publish`, `cbi dashboard build`) as processes, then loads the forecast page
from disk in headless Chromium (a fresh profile each time): the wall time of the browser process (start, load,
draw, dump, exit) and the page's own time from navigation start to its load event with every chart drawn
(`data-rendered-ms`, measured by the page). Medians of --repeat runs, printed as a table. Nothing here is a test:
numbers depend on the machine. With --screenshots, the screenshots of docs/dashboard.md (desktop width, and
the forecast page on a narrow 500 px screen) are written there.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cbi_core.snapshot import publish_snapshot  # noqa: E402
from dashboard.browser import render  # noqa: E402
from dashboard.site import build_site  # noqa: E402

CBI = str(Path(sys.executable).parent / "cbi")
PAGES = ("index", "risk", "drivers", "record", "health")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def size_mb(paths) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "cbi.duckdb")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--screenshots", type=Path, help="write the screenshots of docs/dashboard.md to this directory")
    args = parser.parse_args()
    db = args.db.resolve()
    out = Path(tempfile.mkdtemp(prefix="cbi-dashboard-bench-")) / "site"

    publish = [timed([CBI, "snapshot", "publish", "--db", str(db)]) for _ in range(args.repeat)]
    build = [timed([CBI, "dashboard", "build", "--db", str(db), "--out", str(out)]) for _ in range(args.repeat)]
    publish_in, build_in = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        publish_snapshot(db)
        publish_in.append(time.perf_counter() - start)
        start = time.perf_counter()
        build_site(db, out)
        build_in.append(time.perf_counter() - start)
    page_url = (out / "index.html").as_uri()
    wall, in_page = [], []
    for _ in range(args.repeat):
        rendered = render(page_url, budget_ms=None)
        wall.append(rendered.seconds)
        in_page.append(float(re.search(r'data-rendered-ms="(\d+)"', rendered.dom).group(1)) / 1000)
    pages = [out / f"{p}.html" for p in PAGES]
    snapshot = db.with_name(db.name.removesuffix(".duckdb") + ".snapshot.duckdb")
    rows = [
        ("warehouse file", f"{db.stat().st_size / 1e6:.0f} MB"),
        ("`cbi snapshot publish` (checkpoint + copy + rename)", f"{statistics.median(publish):.2f} s"),
        ("  the same in process (without the CLI's start-up)", f"{statistics.median(publish_in):.2f} s"),
        ("snapshot file", f"{snapshot.stat().st_size / 1e6:.0f} MB"),
        ("`cbi dashboard build` (process: import, read snapshot, 5 pages)", f"{statistics.median(build):.2f} s"),
        ("  the same in process (read snapshot, build 5 pages, write)", f"{statistics.median(build_in):.2f} s"),
        ("site size", f"{size_mb(out.rglob('*.*')):.1f} MB"),
        ("  of which plotly.min.js (shared by the pages)", f"{size_mb([out / 'assets' / 'plotly.min.js']):.1f} MB"),
        (
            "  of which the 5 pages",
            f"{size_mb(pages):.2f} MB ({', '.join(f'{p.stat().st_size / 1e3:.0f}' for p in pages)} kB)",
        ),
        (
            "forecast page, first render in the page (navigation → load, charts drawn)",
            f"{statistics.median(in_page):.2f} s",
        ),
        ("forecast page, headless Chromium process (cold start → DOM dumped)", f"{statistics.median(wall):.2f} s"),
    ]
    cli = timed([CBI, "--help"])
    print(f"dashboard bench: {db.name}, median of {args.repeat}; `cbi --help` alone takes {cli:.2f} s here")
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        # a narrow screen: 500 px is the narrowest window headless Chromium lays out (a phone is 360-430)
        shots = [(page, (1280, 900), page) for page in PAGES] + [("index", (500, 900), "index_narrow")]
        for page, (width, height), name in shots:
            url = (out / f"{page}.html").as_uri()
            full = int(re.search(r'data-page-height="(\d+)"', render(url, window=(width, height)).dom).group(1))
            png = args.screenshots / f"{name}.png"
            render(url, screenshot=png, window=(width, min(full, 6000)))
            shrink(png)
        print(f"screenshots in {args.screenshots}")


def shrink(png: Path) -> None:
    """256 colours: a fraction of the bytes, the same picture for charts and text on flat colours."""
    from PIL import Image

    with Image.open(png) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(png, optimize=True)


if __name__ == "__main__":
    main()
