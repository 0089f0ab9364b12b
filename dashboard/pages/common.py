"""What the page modules share: the commands a page names when a table is missing, and small frame helpers."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

CMD_BUILD = "make build"
CMD_BACKTEST = "cbi backtest"
CMD_MONITOR = "cbi run monitor"
CMD_QUALITY = "cbi run quality"


def empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or frame.empty


def latest(frame: pd.DataFrame, column: str = "as_of_date") -> pd.DataFrame:
    """The rows of the latest `column` value."""
    return frame[frame[column] == frame[column].max()]


def reference_line(fig: go.Figure, y: float, label: str) -> None:
    """A dashed horizontal line across the plot with a label (cheaper than plotly's add_hline)."""
    fig.add_shape(type="line", x0=0, x1=1, xref="paper", y0=y, y1=y, yref="y", line={"dash": "dash", "color": "#555"})
    fig.add_annotation(x=1, xref="paper", y=y, yref="y", text=label, showarrow=False, xanchor="right", yanchor="bottom")
