"""Review sites: average stars and each star's count per site."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from storage.metrics.results import SiteRatings
from storage.metrics.scope import _scope
from storage.schema import mentions


def _site(url: str | None) -> str:
    return (urlsplit(url).hostname or "unknown") if url else "unknown"


def review_ratings(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, language: str | None = None
) -> list[SiteRatings]:
    """Average stars and the count of each star (rounded half up) per review site (the URL's host)."""
    rows = connection.execute(
        select(mentions.c.url, mentions.c.rating)
        .where(*_scope(start, end, brand, language), mentions.c.rating.is_not(None))
        .order_by(mentions.c.id)
    )
    per_site: dict[str, list[float]] = defaultdict(list)
    for url, rating in rows:
        per_site[_site(url)].append(float(rating))
    result = []
    for site, ratings in sorted(per_site.items()):
        distribution = dict.fromkeys(range(6), 0)
        for rating in ratings:
            distribution[int(rating + 0.5)] += 1
        result.append(SiteRatings(site, len(ratings), sum(ratings) / len(ratings), distribution))
    return result
