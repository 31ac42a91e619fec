"""Share of voice: each brand and competitor query's mentions and potential reach against all of them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, literal_column, or_, select

from storage.metrics.reach import _reach
from storage.metrics.results import VoiceShare
from storage.metrics.rollups import _DAY_SECONDS, _Split, _split
from storage.metrics.scope import _int, _language_condition, _period, _ratio, language_code
from storage.schema import METRIC_SLOT_SECONDS, mentions, metric_author_days, metric_slots


def _queries_of_mentions(connection: Connection) -> Any:
    """A table-valued function listing each mention's matched query names (column `value`)."""
    if connection.dialect.name == "sqlite":
        return func.json_each(mentions.c.matched_queries).table_valued("value").alias("q")
    return func.json_array_elements_text(mentions.c.matched_queries).table_valued("value").alias("q")


def _watched(query_name_column: Any) -> ColumnElement[bool]:
    """A query name (or rollup scope) of a brand or a competitor: the ones share of voice compares."""
    return or_(query_name_column.like("brand:%"), query_name_column.like("competitor:%"))


def share_of_voice(
    connection: Connection, start: datetime, end: datetime, language: str | None = None
) -> list[VoiceShare]:
    """Each brand and competitor's mentions and potential reach, and its share of all of them; largest first.

    `language` (ISO 639-1) compares only the mentions in that language, read from the mentions themselves (the
    rollups are per query, not per language)."""
    start, end = _period(start, end)
    q = _queries_of_mentions(connection)
    name = q.c.value
    watched = and_(_watched(name), *_language_condition(language))
    volume: Counter[str] = Counter()
    whole = _Split([], [(start, end)])  # no rollup: the whole period from the mentions
    slots = whole if language_code(language) else _split(connection, start, end, METRIC_SLOT_SECONDS)
    if slots.raw:
        volume.update(
            {
                query: int(n)
                for query, n in connection.execute(
                    select(name, func.count())
                    .select_from(mentions)
                    .join(q, literal_column("1") == 1)
                    .where(slots.raw_condition(), watched)
                    .group_by(name)
                )
            }
        )
    if slots.rolled:
        scope = metric_slots.c.scope
        volume.update(
            {
                query: _int(n)
                for query, n in connection.execute(
                    select(scope, func.sum(metric_slots.c.mentions))
                    .where(_watched(scope))
                    .where(slots.rolled_condition(metric_slots.c.slot))
                    .group_by(scope)
                )
            }
        )
    days = whole if language_code(language) else _split(connection, start, end, _DAY_SECONDS)
    parts: list[Select[Any]] = []
    if days.raw:
        parts.append(
            select(
                name.label("query"),
                mentions.c.source,
                mentions.c.author_handle,
                mentions.c.author_followers.label("followers"),
            )
            .select_from(mentions)
            .join(q, literal_column("1") == 1)
            .where(days.raw_condition(), watched)
        )
    if days.rolled:
        scope = metric_author_days.c.scope
        parts.append(
            select(
                scope.label("query"),
                metric_author_days.c.source,
                metric_author_days.c.author_handle,
                metric_author_days.c.followers,
            )
            # The watched scopes by name: equality keeps this an index range per scope (LIKE on the
            # leading column made PostgreSQL read every scope's rows), and a scope with author rows in the
            # period has mentions in it, so the volume just counted names all of them.
            .where(scope.in_(sorted(volume)))
            .where(days.rolled_condition(metric_author_days.c.day))
        )
    reach = (
        {query: followers for query, (_, followers, _) in _reach(connection, parts, key="query").items()}
        if parts
        else {}
    )
    volume = Counter({query: n for query, n in volume.items() if n})
    total_mentions = sum(volume.values())
    total_reach = sum(_int(reach.get(query)) for query in volume)
    shares = [
        VoiceShare(
            query=query,
            name=query.split(":", 1)[1],
            kind=query.split(":", 1)[0],
            mentions=n,
            potential_reach=_int(reach.get(query)),
            share_by_mentions=_ratio(n, total_mentions) or 0.0,
            share_by_reach=_ratio(_int(reach.get(query)), total_reach) or 0.0,
        )
        for query, n in volume.items()
    ]
    return sorted(shares, key=lambda s: (-s.mentions, s.query))
