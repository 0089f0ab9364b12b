"""A small stream of synthetic headlines in the shape the RSS connectors store.

Headlines are drawn at random from templates per theme; their timing is independent of prices, so news
intensity carries no planted signal.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from ingest.sample.rng import stream

FEEDS = {
    "farm_policy_news": "https://farmpolicynews.illinois.edu",
    "farmdoc_daily": "https://farmdocdaily.illinois.edu",
}

THEMES: dict[str, tuple[list[str], list[str]]] = {
    "tariff": (
        [
            "Tariff talks resume as {who} weighs duties on {what}",
            "{who} announces retaliatory tariffs on {what}",
            "Trade truce extends pause on {what} tariffs",
        ],
        ["trade", "tariffs"],
    ),
    "china": (
        [
            "China books new-crop soybean purchases from {where}",
            "Chinese crush margins slip as demand cools",
            "China state buyers return to {where} soybean market",
        ],
        ["china", "exports"],
    ),
    "biofuel": (
        [
            "EPA proposes renewable volume obligations for {year}",
            "Renewable diesel capacity expansion lifts soybean oil demand",
            "RIN prices react to small refinery exemption decisions",
        ],
        ["biofuels", "rfs"],
    ),
    "fed": (
        [
            "Fed holds rates steady, signals patience",
            "Farm lending costs rise with Treasury yields",
            "Budget talks in Congress stall farm bill timeline",
        ],
        ["fed", "budget"],
    ),
    "crush": (
        [
            "Soybean crush hits record pace as processors expand",
            "Crush margins narrow as meal prices fall",
            "New crush plants come online in {where}",
        ],
        ["crush", "processing"],
    ),
}
WHO = ["the US", "China", "the EU", "Canada", "Mexico"]
WHAT = ["soybeans", "vegetable oils", "farm goods", "steel", "used cooking oil"]
WHERE = ["the US", "Brazil", "Argentina", "Iowa", "the Dakotas"]


def news_articles(days: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    """About three headlines a week, spread over trade days, with publication timestamps in UTC."""
    gen = stream(seed, "news")
    n = len(days)
    draws = gen.random((n, 6))
    rows = []
    themes = list(THEMES)
    feeds = list(FEEDS)
    for i, day in enumerate(days):
        if draws[i, 0] > 0.6:
            continue
        theme = themes[int(draws[i, 1] * len(themes))]
        templates, categories = THEMES[theme]
        title = templates[int(draws[i, 2] * len(templates))].format(
            who=WHO[int(draws[i, 3] * len(WHO))],
            what=WHAT[int(draws[i, 4] * len(WHAT))],
            where=WHERE[int(draws[i, 3] * len(WHERE))],
            year=day.year + 1,
        )
        feed = feeds[int(draws[i, 5] * len(feeds))]
        published = day + pd.Timedelta(hours=12 + int(draws[i, 4] * 9), minutes=int(draws[i, 2] * 59))
        slug = "-".join(title.lower().replace(",", "").split()[:8])
        url = f"{FEEDS[feed]}/{day:%Y/%m/%d}/{slug}"
        rows.append(
            {
                "article_id": hashlib.sha1(url.encode()).hexdigest()[:16],
                "feed": feed,
                "published_at": published,
                "title": title,
                "summary": f"{title}. What it means for farm markets and prices.",
                "url": url,
                "categories": "|".join(categories),
                "available_at": published,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.drop_duplicates("article_id", ignore_index=True)
