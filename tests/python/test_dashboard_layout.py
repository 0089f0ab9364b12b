"""The pages' layout in headless Chromium at a phone's width (390 px) and a laptop's (1366 px), on a site built from
the small frames of dashboard_frames (no dbt build): no page scrolls sideways (tables scroll inside their own box),
no chart is wider than the viewport, and inside every chart no two labels overlap: the title and subplot titles
against the plot toolbar (modebar), the horizon labels of the fan (1w, 1m, ...) against each other, the legend
against the tick labels, axis titles and annotations.

The test adds one measuring script to each page file it wrote (the page itself is the production page); the script
writes what it measured into a <pre> that Chromium's --dump-dom returns."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from dashboard_frames import MEMBERS, populated
from test_dashboard_browser import served

from dashboard.browser import chromium, render
from dashboard.pages import build_pages
from dashboard.site import header_for, write_site

WIDTHS = (390, 1366)
NOW = datetime(2024, 6, 29, 10, 0)

pytestmark = pytest.mark.skipif(
    chromium() is None and not os.environ.get("CBI_REQUIRE_CHROMIUM"),
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)

#: Runs after plotly drew; reports page overflow and every overlapping pair of labels, per chart.
MEASURE = """
<script>
window.addEventListener("load", function () { setTimeout(function () {
  function boxes(root, sel, kind) {
    return Array.prototype.map.call(root.querySelectorAll(sel), function (el) {
      var r = el.getBoundingClientRect();
      var text = (el.textContent || "").trim().slice(0, 40);
      return {kind: kind, text: text, l: r.left, r: r.right, t: r.top, b: r.bottom};
    }).filter(function (b) { return b.r - b.l > 0.5 && b.b - b.t > 0.5; });
  }
  function hit(a, b) {
    var w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
    return w > 1 && h > 1;
  }
  var out = {viewport: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, wide: [], overlaps: [],
             legends: {}};
  document.querySelectorAll(".figure, section, .table-wrap").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right > window.innerWidth + 1 || r.left < -1) out.wide.push(el.className || el.tagName);
  });
  document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
    var modebar = boxes(plot, ".modebar-group", "modebar");
    var titles = boxes(plot, ".gtitle", "title").concat(boxes(plot, ".annotation-text", "annotation"));
    var labels = boxes(plot, ".textpoint text", "label");
    var legend = boxes(plot, ".legend .bg", "legend");
    var entries = boxes(plot, ".legend .traces", "legend entry");
    out.legends[plot.id] = entries.length;
    var axes = ".xtick text, .ytick text, [class^='x'][class$='title'], [class^='y'][class$='title']";
    var ticks = boxes(plot, axes, "axis");
    var pairs = [[titles, modebar], [labels, labels], [labels, legend], [labels, modebar], [titles, legend],
                 [legend, ticks], [titles, titles], [legend, modebar], [entries, entries], [entries, ticks],
                 [entries, titles], [entries, labels]];
    pairs.forEach(function (p) {
      p[0].forEach(function (a, i) { p[1].forEach(function (b, j) {
        if ((p[0] === p[1] && j <= i) || !hit(a, b)) return;
        out.overlaps.push(plot.id + ": " + a.kind + " '" + a.text + "' x " + b.kind + " '" + b.text + "'");
      }); });
    });
    var svg = plot.querySelector(".main-svg").getBoundingClientRect();
    var areas = boxes(plot, ".nsewdrag", "plot area");  // where plotly clips the data and its text labels
    labels.forEach(function (t) {
      var inside = areas.some(function (a) { return t.l >= a.l - 1 && t.r <= a.r + 1; });
      if (!inside) out.overlaps.push(plot.id + ": label '" + t.text + "' cut off");
    });
    titles.forEach(function (t) {
      var cut = t.l < svg.left - 1 || t.r > svg.right + 1;
      if (cut) out.overlaps.push(plot.id + ": " + t.kind + " '" + t.text + "' cut off");
    });
    entries.forEach(function (t) {  // a legend entry outside the figure (on any side) cannot be read
      var cut = t.l < svg.left - 1 || t.r > svg.right + 1 || t.t < svg.top - 1 || t.b > svg.bottom + 1;
      if (cut) out.overlaps.push(plot.id + ": " + t.kind + " '" + t.text + "' cut off");
    });
  });
  var host = window.parent.document;  // inside the frame of a given width: the report goes to the top page
  var pre = host.createElement("pre"); pre.id = "layout-report"; pre.textContent = JSON.stringify(out);
  host.body.appendChild(pre);
}, 1500); });
</script>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    data = populated()
    pages = build_pages(data, NOW)
    out = tmp_path_factory.mktemp("layout") / "site"
    for path in write_site(pages, header_for(data, NOW), out):
        path.write_text(path.read_text().replace("</body>", MEASURE + "</body>"))
    return out


def measure(directory: Path, base: str, page: str, width: int) -> dict:
    """`page` in a frame `width` px wide (headless Chromium's window is at least 500 px wide, a frame any width)."""
    frame = f"frame-{width}-{page}"
    (directory / frame).write_text(
        f'<!doctype html><html><body style="margin:0"><iframe src="{page}" '
        f'style="width:{width}px;height:1200px;border:0"></iframe></body></html>'
    )
    dom = render(f"{base}{frame}", window=(max(width, 800) + 50, 1300), budget_ms=8000).dom
    match = re.search(r'<pre id="layout-report">(.*?)</pre>', dom, re.S)
    assert match, f"{page} at {width} px: the measuring script did not run"
    return json.loads(
        match.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("slug", ["index", "risk", "drivers", "record", "health"])
def test_no_page_scrolls_sideways_and_no_chart_labels_overlap(site, slug, width):
    with served(site) as base:
        report = measure(site, base, f"{slug}.html", width)
    assert report["viewport"] == width
    assert report["scrollWidth"] <= width, f"{slug} at {width} px is {report['scrollWidth']} px wide"
    assert report["wide"] == [], f"{slug} at {width} px: wider than the viewport: {report['wide']}"
    assert report["overlaps"] == [], f"{slug} at {width} px:\n" + "\n".join(report["overlaps"])
    if slug == "drivers":  # the ensemble weights' legend at its longest: every member of the project, one entry each
        assert report["legends"]["fig-weights"] == len(MEMBERS) == 16


def test_the_measurement_sees_an_overlap_and_an_overflow(tmp_path):
    """The check can fail: a page with a table wider than the phone, a title under the toolbar, two legend entries
    on top of each other and one outside the figure is caught."""
    page = tmp_path / "index.html"
    page.write_text(
        '<html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        '<table style="width:900px"><tr><td>wide</td></tr></table>'
        '<div class="js-plotly-plot" id="p" style="position:relative">'
        '<svg class="main-svg" width="300" height="100" style="display:block"></svg>'
        '<div class="modebar-group" style="position:absolute;left:0;top:0;width:200px;height:30px"></div>'
        '<div class="gtitle" style="position:absolute;left:10px;top:5px;width:100px;height:20px">Title</div>'
        '<div class="legend"><div class="traces" style="position:absolute;left:20px;top:60px;width:80px;height:15px">'
        'a</div><div class="traces" style="position:absolute;left:60px;top:65px;width:80px;height:15px">b</div>'
        '<div class="traces" style="position:absolute;left:250px;top:80px;width:80px;height:15px">c</div></div>'
        "</div></body></html>" + MEASURE
    )
    with served(tmp_path) as base:  # served: a file:// frame is another origin to its parent
        report = measure(tmp_path, base, "index.html", 390)
    assert report["scrollWidth"] > 390
    assert report["overlaps"] == [
        "p: title 'Title' x modebar ''",
        "p: legend entry 'a' x legend entry 'b'",
        "p: legend entry 'c' cut off",
    ]
