"""Headline numbers (KPIs with the change on the period before), potential reach, and the top authors and
sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select, union_all

from storage.metrics.results import AuthorReach, Change, KpiReport, Kpis, LanguageCount, SourceReach
from storage.metrics.rollups import _DAY_SECONDS, _Split, _split
from storage.metrics.scope import (
    _brand_condition,
    _count_if,
    _engagement,
    _int,
    _net,
    _period,
    _ratio,
    _scope,
    _scope_name,
    _sentiment,
    language_code,
)
from storage.schema import METRIC_SLOT_SECONDS, mentions, metric_author_days, metric_slots, verdicts


def _authors_raw(conditions: Sequence[ColumnElement[bool]], *, per_author: bool = True) -> Select[Any]:
    """(source, handle, largest follower count) of each author of the mentions matching `conditions`.

    `per_author=False` leaves out the grouping (one row per mention), for a union that `_reach` groups once.
    """
    followers = mentions.c.author_followers
    if not per_author:
        return select(mentions.c.source, mentions.c.author_handle, followers.label("followers")).where(*conditions)
    return (
        select(mentions.c.source, mentions.c.author_handle, func.max(followers).label("followers"))
        .where(*conditions)
        .group_by(mentions.c.source, mentions.c.author_handle)
    )


def _authors_rolled(scope: str, days: _Split, *, per_author: bool = True) -> Select[Any]:
    """The same rows from the author-day rollup, for the split's whole days (one per author and day without
    grouping)."""
    rows = metric_author_days.c
    condition = (rows.scope == scope, days.rolled_condition(rows.day))
    if not per_author:
        return select(rows.source, rows.author_handle, rows.followers).where(*condition)
    return (
        select(rows.source, rows.author_handle, func.max(rows.followers).label("followers"))
        .where(*condition)
        .group_by(rows.source, rows.author_handle)
    )


def _reach(
    connection: Connection, parts: Sequence[Select[Any]], key: str | None = None
) -> dict[Any, tuple[int, int, int]]:
    """(distinct authors, sum of their largest follower counts, authors with a follower count) over the union
    of per-author `parts`.

    Each part has columns source, author_handle and followers, plus `key` when given: then the figures are per
    value of `key` (an author counts once in each), else one entry under None. A single part without `key` must
    hold one row per author (grouped); otherwise the union is grouped here once, so parts are best left
    ungrouped (grouping each and then the union again costs a second pass over ~1 row an author).
    """
    if len(parts) == 1 and not key:  # already one row per author: grouping ~1 row a mention again costs a pass
        per_author = parts[0].subquery()
    else:
        rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
        keys = [rows.c[key]] if key else []
        per_author = (
            select(*keys, rows.c.source, rows.c.author_handle, func.max(rows.c.followers).label("followers"))
            .group_by(*keys, rows.c.source, rows.c.author_handle)
            .subquery()
        )
    grouped = [per_author.c[key]] if key else []
    found = connection.execute(
        select(*grouped, func.count(), func.sum(per_author.c.followers), func.count(per_author.c.followers)).group_by(
            *grouped
        )
    ).all()
    return {(row[0] if key else None): (_int(row[-3]), _int(row[-2]), _int(row[-1])) for row in found}


def _potential_reach(connection: Connection, parts: Sequence[Select[Any]]) -> tuple[int, int, int]:
    """(distinct authors, sum of their largest follower counts, authors with a follower count) over the union
    of per-author `parts`."""
    return _reach(connection, parts).get(None, (0, 0, 0))


_TOTALS = ("mentions", "impressions", "impressions_reported", "engagement", "positive", "neutral", "negative")


def _totals_raw(connection: Connection, conditions: Sequence[ColumnElement[bool]]) -> list[int]:
    """Mentions, impressions, reported, engagement, positive, neutral, negative of the matching mentions."""
    sentiment = _sentiment
    row = connection.execute(
        select(
            func.count(),
            func.sum(mentions.c.impressions),
            func.count(mentions.c.impressions),
            func.sum(_engagement),
            _count_if(sentiment == "positive"),
            _count_if(sentiment == "neutral"),
            _count_if(sentiment == "negative"),
        )
        .select_from(mentions.outerjoin(verdicts, verdicts.c.mention_id == mentions.c.id))
        .where(*conditions)
    ).one()
    return [_int(v) for v in row]


def _totals_rolled(connection: Connection, scope: str, slots: _Split) -> list[int]:
    if not slots.rolled:
        return [0] * len(_TOTALS)
    row = connection.execute(
        select(*(func.sum(metric_slots.c[name]) for name in _TOTALS)).where(
            metric_slots.c.scope == scope, slots.rolled_condition(metric_slots.c.slot)
        )
    ).one()
    return [_int(v) for v in row]


def _kpis_of(totals: Sequence[int], authors: int, reach: int, reach_reported: int) -> Kpis:
    count, impressions, reported, engagement, positive, neutral, negative = totals
    return Kpis(
        mentions=count,
        unique_authors=authors,
        potential_reach=reach,
        impressions=impressions,
        impressions_reported=reported,
        engagement=engagement,
        engagement_rate=_ratio(engagement, reach),
        positive=positive,
        neutral=neutral,
        negative=negative,
        unclassified=count - positive - neutral - negative,
        net_sentiment=_net(positive, negative, positive + neutral + negative),
        reach_reported=reach_reported,
    )


def _kpis(connection: Connection, conditions: Sequence[ColumnElement[bool]]) -> Kpis:
    """KPIs of the mentions matching `conditions`, read from the mentions themselves."""
    authors, reach, reported = _potential_reach(connection, [_authors_raw(conditions)])
    return _kpis_of(_totals_raw(connection, conditions), authors, reach, reported)


def _kpis_rolled(connection: Connection, start: datetime, end: datetime, brand: str | None) -> Kpis:
    """KPIs of [start, end) in a brand's scope: whole slots and days from the rollups, the rest raw (the rollups
    are per brand scope, not per language: a language's KPIs are read raw, `_report`)."""
    scope, scoped = _scope_name(brand), _brand_condition(brand)
    slots = _split(connection, start, end, METRIC_SLOT_SECONDS)
    totals = _totals_rolled(connection, scope, slots)
    if slots.raw:
        totals = [a + b for a, b in zip(totals, _totals_raw(connection, [slots.raw_condition(), *scoped]), strict=True)]
    days = _split(connection, start, end, _DAY_SECONDS)
    one = not (days.rolled and days.raw)  # a single part is grouped per author; a union is grouped once in _reach
    parts = [_authors_rolled(scope, days, per_author=one)] if days.rolled else []
    if days.raw:
        parts.append(_authors_raw([days.raw_condition(), *scoped], per_author=one))
    authors, reach, reported = _potential_reach(connection, parts) if parts else (0, 0, 0)
    return _kpis_of(totals, authors, reach, reported)


def change(previous: float | None, current: float | None) -> Change:
    """Period-over-period change of one number."""
    if previous is None or current is None:
        return Change(previous, current, None, None)
    return Change(previous, current, current - previous, _ratio(current - previous, previous))


def _changes(previous: Kpis, current: Kpis) -> dict[str, Change]:
    return {f.name: change(getattr(previous, f.name), getattr(current, f.name)) for f in fields(Kpis)}


def _report(
    connection: Connection,
    start: datetime,
    end: datetime,
    brand: str | None,
    extra: Sequence[ColumnElement[bool]] = (),
    language: str | None = None,
) -> KpiReport:
    start, end = _period(start, end)
    before = start - (end - start)
    language = language_code(language)
    if extra or language:  # a campaign's tags or a language pick the mentions: no rollup holds them
        current = _kpis(connection, [*_scope(start, end, brand, language), *extra])
        previous = _kpis(connection, [*_scope(before, start, brand, language), *extra])
    else:
        current = _kpis_rolled(connection, start, end, brand)
        previous = _kpis_rolled(connection, before, start, brand)
    return KpiReport(start, end, brand, current, previous, _changes(previous, current), language)


def kpis(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, language: str | None = None
) -> KpiReport:
    """Headline numbers of [start, end), with the previous period of the same length and the change; `language`
    (ISO 639-1) keeps the mentions in that language."""
    return _report(connection, start, end, brand, language=language)


def top_authors(
    connection: Connection,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    limit: int = 10,
    language: str | None = None,
) -> list[AuthorReach]:
    """Authors with the largest follower counts who mentioned us in the period (unknown counts last)."""
    followers = func.max(mentions.c.author_followers)
    rows = connection.execute(
        select(mentions.c.source, mentions.c.author_handle, followers, func.count(), func.sum(_engagement))
        .where(*_scope(start, end, brand, language))
        .group_by(mentions.c.source, mentions.c.author_handle)
        .order_by(func.coalesce(followers, -1).desc(), func.count().desc(), mentions.c.author_handle)
        .limit(limit)
    )
    return [AuthorReach(s, h, None if f is None else int(f), int(n), _int(e)) for s, h, f, n, e in rows]


def top_sources(
    connection: Connection,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    limit: int = 20,
    language: str | None = None,
) -> list[SourceReach]:
    """Platforms by mentions, with distinct authors, their potential reach and engagement."""
    per_author = (
        select(
            mentions.c.source,
            func.max(mentions.c.author_followers).label("followers"),
            func.count().label("mentions"),
            func.sum(_engagement).label("engagement"),
        )
        .where(*_scope(start, end, brand, language))
        .group_by(mentions.c.source, mentions.c.author_handle)
        .subquery()
    )
    rows = connection.execute(
        select(
            per_author.c.source,
            func.sum(per_author.c.mentions),
            func.count(),
            func.sum(per_author.c.followers),
            func.sum(per_author.c.engagement),
            func.count(per_author.c.followers),
        )
        .group_by(per_author.c.source)
        .order_by(func.sum(per_author.c.mentions).desc(), per_author.c.source)
        .limit(limit)
    )
    return [SourceReach(s, int(n), int(a), _int(r), _int(e), _int(k)) for s, n, a, r, e, k in rows]


def languages(connection: Connection, start: datetime, end: datetime, brand: str | None = None) -> list[LanguageCount]:
    """The period's mentions per language, most first (unknown language last): what a language filter offers."""
    rows = connection.execute(
        select(mentions.c.language, func.count())
        .where(*_scope(start, end, brand))
        .group_by(mentions.c.language)
        .order_by(mentions.c.language.is_(None), func.count().desc(), mentions.c.language)
    )
    return [LanguageCount(language, int(n)) for language, n in rows]
