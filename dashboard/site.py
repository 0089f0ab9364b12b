"""Render the pages with Jinja2 and write the site: one HTML file per page and plotly.js once, in assets/.

The site is written beside its final place and swapped in by renames, so a web server never serves half a site."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from cbi_core.snapshot import open_snapshot, snapshot_path
from dashboard import data as warehouse
from dashboard.components import Page
from dashboard.pages import build_pages
from dashboard.settings import DEFAULT_OUT

log = logging.getLogger(__name__)

PLOTLY_ASSET = "assets/plotly.min.js"
SITE_MARKER = ".cbi-site"  # written into every site CBI builds: only such a directory is ever replaced


class SiteError(ValueError):
    """The site cannot be written where asked (a directory CBI did not make)."""


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("dashboard", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


@dataclass(frozen=True)
class Header:
    as_of: str
    run_id: str
    published: str
    built: str
    source: str
    sample: bool = False  # the warehouse holds the simulated sample: every page says so


def header_for(data: warehouse.WarehouseData, now: datetime) -> Header:
    """The as-of date and run id of the latest forecast (shown on every page)."""
    predictions = data.get("predictions")
    if predictions is None or predictions.empty:
        as_of, run_id = "no forecast yet", "–"
    else:
        last = predictions[predictions["as_of_date"] == predictions["as_of_date"].max()]
        as_of = f"{last['as_of_date'].iloc[0]:%Y-%m-%d}"
        run_id = ", ".join(sorted(set(last["model_run_id"].dropna().astype(str)))) or "–"
    published = f"{data.published_at:%Y-%m-%d %H:%M} UTC" if data.published_at else "–"
    contents = data.get("contents")
    sample = contents is not None and "sample" in set(contents["contents"])
    return Header(as_of, run_id, published, f"{now:%Y-%m-%d %H:%M} UTC", data.source, sample)


def render_page(page: Page, pages: list[Page], header: Header) -> str:
    return _ENV.get_template("page.html.j2").render(
        page=page,
        nav=[{"slug": p.slug, "title": p.title} for p in pages],
        as_of=header.as_of,
        run_id=header.run_id,
        published=header.published,
        built=header.built,
        source=header.source,
        sample=header.sample,
    )


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def made_by_cbi(out: Path) -> bool:
    """Whether `out` may be replaced: absent, an empty directory, or a site CBI wrote (its marker file, or only
    the pages and plotly.js a site built before the marker existed holds)."""
    if not out.exists() and not out.is_symlink():
        return True
    if out.is_symlink() or not out.is_dir():
        return False
    if (out / SITE_MARKER).is_file():
        return True
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    return all(n.endswith(".html") and "/" not in n for n in names - {"assets", PLOTLY_ASSET})


def check_out(out: Path) -> None:
    if not made_by_cbi(Path(out).absolute()):
        raise SiteError(
            f"{out} exists and is not a site CBI built (no {SITE_MARKER}): "
            "choose a new directory for --out; nothing was written"
        )


def write_site(pages: list[Page], header: Header, out: Path) -> list[Path]:
    """Replace the site at `out` with `pages` (and plotly.js once, in assets/); returns the page files.
    Refuses (SiteError) a directory CBI did not make, so nothing else is ever deleted."""
    check_out(out)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "assets").mkdir(parents=True)
    (staging / SITE_MARKER).write_text("written by `cbi dashboard build`; replaced by the next build\n")
    (staging / PLOTLY_ASSET).write_text(plotly_js(), encoding="utf-8")
    for page in pages:
        (staging / f"{page.slug}.html").write_text(render_page(page, pages, header), encoding="utf-8")
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)
    return [out / f"{page.slug}.html" for page in pages]


def build_site(db_path: Path, out: Path = DEFAULT_OUT) -> list[Path]:
    """Read the published snapshot of `db_path` (never the live file) and write the site to `out`."""
    check_out(out)  # before the snapshot is read: the refusal is the only line
    started = time.perf_counter()
    snapshot = snapshot_path(Path(db_path))
    with open_snapshot(Path(db_path)) as con:
        published = datetime.fromtimestamp(snapshot.stat().st_mtime, UTC).replace(tzinfo=None)
        data = warehouse.load(con, published, snapshot.name)
    now = datetime.now(UTC).replace(tzinfo=None)
    files = write_site(build_pages(data, now), header_for(data, now), out)
    log.info("dashboard: %d pages in %s (%.1f s)", len(files), Path(out).resolve(), time.perf_counter() - started)
    return files
