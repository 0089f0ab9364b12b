"""The sources `cbi ingest <source>` loads and their connectors (the words: `ingest.sources.base`).

`CONNECTORS` is the one list of sources: each `Source` names the raw tables it writes and builds its network
connector with the defaults (what `cbi ingest <source>` does without options, `cbi ingest all` and the daily job
run; futures: Databento with DATABENTO_API_KEY, else the keyless quote API). The CLI (`cbi.commands.ingest`) and
the orchestration (one ingest asset per source, `orchestration.assets.ingest`) both read it.

The modules: `base` (the `Connector` protocol, `Loaded`, `Window`, `describe`); one per network connector
(`quotes`, `databento_api`, `fred`, `cftc`, `usda`, `eia`, `epa`, `news`); the file importers, which write the same
tables (`futures_files`; `CftcFiles` and `UsdaFiles` beside their network connectors; `file_importers` for FRED,
EIA, news and `real-files`; `Epa` reads a file or its URL); `futures_bars`, what the futures connectors share.
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
