"""News: RSS/Atom feeds (Farm Policy News, farmdoc daily) parsed with `feedparser`, stored as articles.

Tagging to buckets happens in dbt (`int_news__bucket_tags`, keyword dictionary in the seed
`news_bucket_keywords`). Paid feeds (ProFarmer, social media) plug in by implementing the same `Connector`
protocol (`ingest.sources.base`) and yielding `news_articles` frames: CBI ships no fake data for them.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import feedparser
import pandas as pd

from cbi_core.secrets import redact
from ingest.http import SourceError, build_session, fetch
from ingest.sources.base import Batch, Loaded, Window, check_name

log = logging.getLogger(__name__)

DEFAULT_FEEDS = {
    "farm_policy_news": "https://farmpolicynews.illinois.edu/feed/",
    "farmdoc_daily": "https://farmdocdaily.illinois.edu/feed",
}


def configured_feeds() -> dict[str, str]:
    """`CBI_NEWS_FEEDS="name=url,name=url"` replaces the default feeds."""
    value = os.environ.get("CBI_NEWS_FEEDS", "").strip()
    if not value:
        return dict(DEFAULT_FEEDS)
    feeds = {}
    for item in value.split(","):
        name, _, url = item.partition("=")
        name, url = name.strip(), url.strip()
        if not url:
            raise SourceError("news", f"CBI_NEWS_FEEDS entry {redact(item)!r} is not name=url")
        check_name("CBI_NEWS_FEEDS feed name", name, "news")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise SourceError("news", f"CBI_NEWS_FEEDS feed {name!r}: {redact(url)!r} is not an http(s) address")
        feeds[name] = url
    return feeds


def parse_feed(feed: str, content: bytes) -> pd.DataFrame:
    """Articles of one feed body (pure). Entries without a link or a date are kept out with a log line."""
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"news {feed}", f"not an RSS/Atom feed: {parsed.get('bozo_exception')}")
    rows = []
    for i, entry in enumerate(parsed.entries):
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        link = entry.get("link")
        if not stamp or not link:
            log.warning("news %s: entry %d has no %s; skipped", feed, i, "date" if link else "link")
            continue
        try:
            published: object = pd.Timestamp(calendar.timegm(stamp), unit="s")
        except (OverflowError, ValueError, TypeError):  # an absurd date: the loader quarantines the raw text
            published = str(entry.get("published") or entry.get("updated"))
        rows.append(
            {
                "article_id": hashlib.sha1((entry.get("id") or link).encode()).hexdigest()[:16],
                "feed": feed,
                "published_at": published,
                "title": entry.get("title", "").strip(),
                "summary": entry.get("summary", "").strip(),
                "url": link,
                "categories": "|".join(t.get("term", "") for t in entry.get("tags", []) if t.get("term")),
                "available_at": published,
            }
        )
    return pd.DataFrame(
        rows, columns=["article_id", "feed", "published_at", "title", "summary", "url", "categories", "available_at"]
    )


@dataclass
class News:
    feeds: dict[str, str] = field(default_factory=configured_feeds)
    name: str = "news"
    tables: tuple[str, ...] = ("news_articles",)

    def available(self) -> str | None:
        return None if self.feeds else "no feeds configured"

    def plan(self, loaded: Loaded, window: Window) -> list[str]:
        return [f"{name}: {url}" for name, url in self.feeds.items()]

    def batches(self, loaded: Loaded, window: Window) -> Iterator[Batch]:
        session = build_session(requests_per_second=1.0, label=self.name)
        for feed, url in self.feeds.items():
            check_name("feed name", feed, self.name)
            response = fetch(session, f"news {feed}", url, expect="xml")
            frame = parse_feed(feed, response.content)
            if window.start is not None:
                stamps = pd.to_datetime(frame["published_at"], errors="coerce")
                frame = frame[stamps.isna() | (stamps >= pd.Timestamp(window.start))]
            yield Batch("news_articles", frame.reset_index(drop=True), f"news {feed}")
