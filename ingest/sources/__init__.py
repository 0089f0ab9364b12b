"""Real-source connectors. Each module exposes one `Connector` (`ingest.sources.base`); `CONNECTORS` is the one
registry of the sources `cbi ingest <name>` loads: the CLI (`cbi ingest all`, the tables each command writes) and
the orchestration (one ingest asset per source, the daily job's list) both read it.

A source's `build` makes its network connector with the defaults (what `cbi ingest <name>` does without options
and what the daily job runs); the file importers (`--file`, `real-files`) write the same tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cbi_core.secrets import get_secret
from ingest.sources.base import Connector
from ingest.sources.cftc import Cftc
from ingest.sources.databento_api import DatabentoApi
from ingest.sources.eia import Eia
from ingest.sources.epa import Epa
from ingest.sources.fred import Fred
from ingest.sources.news import News
from ingest.sources.quotes import Quotes
from ingest.sources.usda import Usda


@dataclass(frozen=True)
class Source:
    """One `cbi ingest <name>` source: the raw tables it writes and how to build its network connector."""

    name: str
    tables: tuple[str, ...]
    build: Callable[[], Connector]

    @property
    def table(self) -> str:
        """The raw table it writes (every source writes one)."""
        return self.tables[0]


def futures_connector() -> Connector:
    """Databento's API when DATABENTO_API_KEY is set, else the keyless quote API."""
    return DatabentoApi() if get_secret("DATABENTO_API_KEY") else Quotes()


#: Every network source, in the order `cbi ingest all` and the daily job run them. The tables are class
#: attributes: nothing is constructed at import.
CONNECTORS: dict[str, Source] = {
    source.name: source
    for source in (
        Source("futures", Quotes.tables, futures_connector),
        Source("fred", Fred.tables, Fred),
        Source("cftc", Cftc.tables, Cftc),
        Source("usda", Usda.tables, Usda),
        Source("eia", Eia.tables, Eia),
        Source("epa", Epa.tables, Epa),
        Source("news", News.tables, News),
    )
}
