"""What the page modules share: the page shell (`page`), a section built from one table or the note that says why
there is nothing to show (`from_table`), the commands a note names, and small frame helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard.components import Page, Section, not_run, note_html
from dashboard.data import QUERIES, WarehouseData

CMD_BUILD = "make build"
CMD_BACKTEST = "cbi backtest"
CMD_MONITOR = "cbi run monitor"
CMD_QUALITY = "cbi run quality"
CMD_SAMPLE = "cbi sample"


@dataclass(frozen=True)
class Body:
    """What a section shows once its table has rows: already-escaped HTML, an explanation, the charts in the HTML."""

    html: str
    intro: str = ""
    figures: int = 0


def page(slug: str, title: str, heading: str, sections: Iterable[Section | list[Section] | None]) -> Page:
    """The shell every page shares: its sections in order (a builder may give one section, several or none)."""
    out = Page(slug, title, heading)
    for item in sections:
        if isinstance(item, Section):
            out.sections.append(item)
        elif item is not None:
            out.sections += item
    return out


def from_table(
    data: WarehouseData,
    name: str,
    title: str,
    build: Callable[[pd.DataFrame], Body],
    nothing: str,
    command: str | None = CMD_BUILD,
) -> Section:
    """The section `build` makes from frame `name` (a key of `data.QUERIES`), or the note that says why there is
    nothing to show: its table does not exist in this warehouse yet, or it holds no rows (`nothing`); either way
    with the command that makes it."""
    frame, table = data.get(name), QUERIES[name][0]
    if frame is None:
        return not_run(title, table, command)
    if frame.empty:
        return Section(title, note_html(f"{nothing} ({table} is empty)", command))
    body = build(frame)
    return Section(title, body.html, body.intro, body.figures)


def empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


def latest(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    """The rows of the latest `column` value."""
    return frame[frame[column] == frame[column].max()]


def reference_line(fig: go.Figure, y: float, label: str) -> None:
    """A dashed horizontal line across the plot with a label (cheaper than plotly's add_hline)."""
    fig.add_shape(type="line", x0=0, x1=1, xref="paper", y0=y, y1=y, yref="y", line={"dash": "dash", "color": "#555"})
    fig.add_annotation(x=1, xref="paper", y=y, yref="y", text=label, showarrow=False, xanchor="right", yanchor="bottom")
