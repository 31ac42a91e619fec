"""The overall ratings review pages state (schema.org `AggregateRating`), one row per sweep that saw one, so a
product's rating can be followed over time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from listener.base import RatingSeen
from storage.schema import aggregate_ratings


def save_rating(connection: Connection, collector: str, seen: RatingSeen, at: datetime) -> None:
    """Keep one observation of a page's overall rating."""
    connection.execute(
        insert(aggregate_ratings).values(
            collector=collector, url=seen.url, rating=seen.rating, count=seen.count, observed_at=at
        )
    )


def ratings_seen(connection: Connection, collector: str) -> list[tuple[datetime, RatingSeen]]:
    """A review collector's observed ratings, oldest first."""
    rows = connection.execute(
        select(aggregate_ratings)
        .where(aggregate_ratings.c.collector == collector)
        .order_by(aggregate_ratings.c.observed_at, aggregate_ratings.c.id)
    )
    return [(r.observed_at, RatingSeen(r.url, r.rating, r._mapping["count"])) for r in rows]  # Row.count is a method
