"""Engagement counts of stored mentions, refreshed in place while the posts are young."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, select, update

from listener.mention import Engagement
from storage.schema import mentions

_COUNTS = ("likes", "reposts", "replies", "quotes", "impressions", "score")


def young_posts(connection: Connection, since: datetime, sources: set[str]) -> dict[str, list[str]]:
    """External ids of the mentions of `sources` published since `since`, by source, newest first."""
    rows = connection.execute(
        select(mentions.c.source, mentions.c.external_id)
        .where(mentions.c.created_at >= since, mentions.c.source.in_(sorted(sources)))
        .order_by(mentions.c.created_at.desc())
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.source, []).append(row.external_id)
    return found


def refresh_counts(connection: Connection, source: str, counts: Mapping[str, Engagement], at: datetime) -> int:
    """Write the counts a platform reported now (a count it did not report is kept); returns mentions updated."""
    updated = 0
    for external_id, engagement in counts.items():
        values = {name: getattr(engagement, name) for name in _COUNTS if getattr(engagement, name) is not None}
        if not values:
            continue
        result = connection.execute(
            update(mentions)
            .where(mentions.c.source == source, mentions.c.external_id == external_id)
            .values(**values, collected_at=at)
        )
        updated += result.rowcount or 0
    return updated
