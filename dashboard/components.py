"""Building blocks of a page: sections, escaped HTML tables, notes and plotly figures (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd

from dashboard.settings import FIGURE_HEIGHT

#: Plotly options for every chart: responsive width, no link to plotly's cloud, no logo.
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "plotlyServerURL": ""}
MODEBAR_STRIP = 56  # px above the plot kept for plotly's toolbar and the subplot titles below it
HORIZON_ORDER = ("1w", "1m", "3m", "6m")
HORIZON_COLORS = {"1w": "#1f77b4", "1m": "#d62728", "3m": "#2ca02c", "6m": "#9467bd"}


@dataclass(frozen=True)
class Section:
    """One block of a page: a heading, an optional explanation and already-escaped HTML."""

    title: str
    html: str
    intro: str = ""
    figures: int = 0  # plotly charts inside `html`


@dataclass
class Page:
    slug: str  # file name without .html
    title: str  # nav label and <title>
    heading: str
    sections: list[Section] = field(default_factory=list)

    @property
    def figures(self) -> int:
        return sum(s.figures for s in self.sections)


Formatter = Callable[[object], str]


def _finite(value: object) -> bool:
    try:
        return value is not None and not pd.isna(value) and math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def num(digits: int = 2) -> Formatter:
    return lambda v: f"{float(v):,.{digits}f}" if _finite(v) else "–"


def pct(digits: int = 1) -> Formatter:
    return lambda v: f"{float(v) * 100:,.{digits}f}%" if _finite(v) else "–"


def usd(v: object) -> str:
    return f"${float(v):,.0f}" if _finite(v) else "–"


def text(v: object) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "–"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    return str(v)


def table_html(
    frame: pd.DataFrame,
    columns: Sequence[tuple[str, str, Formatter]],
    key: str | None = None,
    status_column: str | None = None,
) -> str:
    """An HTML table of `columns` (column, header, formatter). With `key`, every cell carries
    `data-key="<column>:<row's key>"` so that a reader (or a test) can find a figure by name."""
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in columns)
    body = []
    for _, row in frame.iterrows():
        css = f' class="status-{escape(str(row[status_column]))}"' if status_column else ""
        cells = []
        for col, _, fmt in columns:
            attr = f' data-key="{escape(col)}:{escape(str(row[key]))}"' if key else ""
            value = row[col]
            numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
            css_num = ' class="num"' if numeric else ""
            cells.append(f"<td{css_num}{attr}>{escape(fmt(value))}</td>")
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def note_html(message: str, command: str | None = None) -> str:
    """The plain note a section shows when its table is empty or not produced yet."""
    cmd = f" — run <code>{escape(command)}</code>" if command else ""
    return f'<p class="note">{escape(message)}{cmd}</p>'


def not_run(title: str, table: str, command: str | None) -> Section:
    return Section(title, note_html(f"not run yet: {table} does not exist in this warehouse", command))


def figure_html(fig, div_id: str) -> str:
    """A plotly chart as a div + script; plotly.js itself is loaded once per page from assets/.

    The chart's title is written as an HTML heading above it, where it wraps on a phone instead of running off the
    chart or under the plot toolbar; the top margin is the toolbar's strip (no label is drawn there), and the
    legend sits at the bottom of the figure, below the axis titles, with the margin it needs."""
    title = fig.layout.title.text
    fig.update_layout(
        title=None,
        height=fig.layout.height or FIGURE_HEIGHT,
        margin={"l": 60, "r": 20, "t": MODEBAR_STRIP, "b": 50},
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0, "xanchor": "left"},
        template="plotly_white",
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 12},
    )
    html = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOTLY_CONFIG)
    heading = f'<h3 class="figure-title">{escape(title)}</h3>' if title else ""
    return f'<div class="figure">{heading}{html}</div>'


def horizons_in(frame: pd.DataFrame, column: str = "horizon") -> list[str]:
    present = set(frame[column].dropna().astype(str))
    return [h for h in HORIZON_ORDER if h in present] + sorted(present - set(HORIZON_ORDER))
