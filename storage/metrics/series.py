"""Time series: volume and sentiment per hour, day or ISO week, bucketed in the caller's time zone (DST
included), every bucket of the period present."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import reduce
from math import gcd
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Connection, Select, cast, func, literal, select

from storage.metrics.results import Granularity, SentimentPoint, VolumePoint
from storage.metrics.rollups import _split
from storage.metrics.scope import (
    _aware,
    _brand_condition,
    _int,
    _net,
    _scope,
    _scope_name,
    _sentiment,
    language_code,
)
from storage.schema import METRIC_SLOT_SECONDS, mentions, metric_slots, verdicts


@dataclass(frozen=True)
class _Grid:
    """SQL groups mentions into slots of `unit` seconds counted from `origin` (epoch seconds).

    The grid is chosen so that every bucket boundary is a slot boundary (`unit` is the greatest common
    divisor of the boundaries' distances from the first), so each slot lies in exactly one bucket: 86400 s
    for UTC days, 3600 s when a DST change makes one day 23 hours, hours offset by 30 minutes in Kolkata.
    """

    origin: int
    unit: int

    def column(self, connection: Connection) -> Any:
        # A BIGINT origin: PostgreSQL would bind a plain int as INTEGER, which overflows after January 2038.
        origin = literal(self.origin, BigInteger)
        if connection.dialect.name == "sqlite":
            return (cast(func.strftime("%s", mentions.c.created_at), BigInteger) - origin) // self.unit
        return func.floor((func.extract("epoch", mentions.c.created_at) - origin) / self.unit)

    def instant(self, slot: Any) -> int:
        return self.origin + int(slot) * self.unit


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def bucket_start(instant: datetime, granularity: Granularity | str, tz: str | ZoneInfo) -> datetime:
    """The start of the hour, day or week (Monday) holding `instant`, as wall time in `tz`."""
    zone, granularity = _zone(tz), Granularity(granularity)
    local = instant.astimezone(zone)
    if granularity is Granularity.hour:
        return local.replace(minute=0, second=0, microsecond=0)
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    if granularity is Granularity.week:
        day = datetime.combine((day - timedelta(days=day.weekday())).date(), datetime.min.time(), tzinfo=zone)
    return day


_STEP = {
    Granularity.hour: timedelta(hours=1),
    Granularity.day: timedelta(hours=25),
    Granularity.week: timedelta(days=7, hours=1),
}
"""From a bucket's start, this far on always lands in the next bucket: a DST day is 23 to 25 hours long."""


def buckets(start: datetime, end: datetime, granularity: Granularity | str, tz: str | ZoneInfo) -> list[datetime]:
    """Every bucket start that overlaps [start, end), in order; the repeated hour of a DST change is two buckets."""
    granularity, zone = Granularity(granularity), _zone(tz)
    end = _aware(end, "end")
    current = bucket_start(_aware(start, "start"), granularity, zone)
    found = []
    while current.astimezone(UTC) < end:
        found.append(current)
        current = bucket_start(current.astimezone(UTC) + _STEP[granularity], granularity, zone)
    return found


def _slot_rows(
    connection: Connection, grid: _Grid, conditions: Sequence[ColumnElement[bool]], *columns: Any
) -> list[tuple[Any, ...]]:
    slot = grid.column(connection).label("slot")
    joined = mentions.outerjoin(verdicts, verdicts.c.mention_id == mentions.c.id) if columns else mentions
    statement: Select[Any] = (
        select(slot, *columns, func.count()).select_from(joined).where(*conditions).group_by(slot, *columns)
    )
    return [tuple(r) for r in connection.execute(statement)]


def _index(start: datetime, end: datetime, granularity: Granularity | str, tz: str | ZoneInfo) -> Any:
    """The period's buckets, the SQL grid that fits them, and a function giving a grid slot's bucket number."""
    starts = buckets(start, end, granularity, tz)
    bounds = [int(b.timestamp()) for b in starts]
    unit = reduce(gcd, (b - bounds[0] for b in bounds[1:]), 0) or 7 * 86400
    grid = _Grid(bounds[0], unit)

    def number(slot: Any) -> int:
        return bisect_right(bounds, grid.instant(slot)) - 1

    return starts, grid, number


def _sentiment_slots(
    connection: Connection,
    grid: _Grid,
    start: datetime,
    end: datetime,
    brand: str | None,
    language: str | None = None,
) -> list[tuple[Any, str | None, int]]:
    """(grid slot, sentiment or None, mentions) of [start, end) in a brand's scope (and one language's).

    When the grid's slots are whole rollup slots (any time zone whose offset is a multiple of 15 minutes),
    whole rollup slots are read from metric_slots and only the rest from the mentions. The rollups are per
    brand scope only, so one language's figures are read from the mentions.
    """
    period = _scope(start, end, brand, language)
    sentiment = _sentiment.label("sentiment")
    if language_code(language) or grid.origin % METRIC_SLOT_SECONDS or grid.unit % METRIC_SLOT_SECONDS:
        return [(g, s, int(n)) for g, s, n in _slot_rows(connection, grid, period, sentiment)]
    slots = _split(connection, _aware(start, "start"), _aware(end, "end"), METRIC_SLOT_SECONDS)
    found: list[tuple[Any, str | None, int]] = []
    if slots.raw:
        raw = [slots.raw_condition(), *_brand_condition(brand)]
        found += [(g, s, int(n)) for g, s, n in _slot_rows(connection, grid, raw, sentiment)]
    if slots.rolled:
        origin, unit = literal(grid.origin, BigInteger), literal(grid.unit, BigInteger)
        at = (metric_slots.c.slot * METRIC_SLOT_SECONDS - origin) // unit
        rows = connection.execute(
            select(at, *(func.sum(metric_slots.c[n]) for n in ("mentions", "positive", "neutral", "negative")))
            .where(metric_slots.c.scope == _scope_name(brand), slots.rolled_condition(metric_slots.c.slot))
            .group_by(at)
        )
        for g, total, pos, neu, neg in rows:
            found += [(g, "positive", _int(pos)), (g, "neutral", _int(neu)), (g, "negative", _int(neg))]
            found.append((g, None, _int(total) - _int(pos) - _int(neu) - _int(neg)))
    return found


def volume_series(
    connection: Connection,
    start: datetime,
    end: datetime,
    granularity: Granularity | str = Granularity.day,
    tz: str | ZoneInfo = "UTC",
    brand: str | None = None,
    language: str | None = None,
) -> list[VolumePoint]:
    """Mentions per hour/day/week bucket of `tz`, every bucket of the period included."""
    starts, grid, number = _index(start, end, granularity, tz)
    counts = [0] * len(starts)
    for slot, _, n in _sentiment_slots(connection, grid, start, end, brand, language):
        counts[number(slot)] += n
    return [VolumePoint(b, n) for b, n in zip(starts, counts, strict=True)]


def _volume(
    connection: Connection,
    start: datetime,
    end: datetime,
    granularity: Granularity | str,
    tz: str | ZoneInfo,
    conditions: Sequence[ColumnElement[bool]],
) -> list[VolumePoint]:
    """Volume of the mentions matching `conditions` (a campaign's), read from the mentions themselves."""
    starts, grid, number = _index(start, end, granularity, tz)
    counts = [0] * len(starts)
    for slot, n in _slot_rows(connection, grid, conditions):
        counts[number(slot)] += int(n)
    return [VolumePoint(b, n) for b, n in zip(starts, counts, strict=True)]


def sentiment_series(
    connection: Connection,
    start: datetime,
    end: datetime,
    granularity: Granularity | str = Granularity.day,
    tz: str | ZoneInfo = "UTC",
    brand: str | None = None,
    language: str | None = None,
) -> list[SentimentPoint]:
    """Positive / neutral / negative / unclassified mentions and net sentiment per bucket of `tz`."""
    starts, grid, number = _index(start, end, granularity, tz)
    counts: list[Counter[str]] = [Counter() for _ in starts]
    for slot, sentiment, n in _sentiment_slots(connection, grid, start, end, brand, language):
        counts[number(slot)][sentiment or "unclassified"] += n
    points = []
    for b, c in zip(starts, counts, strict=True):
        pos, neu, neg = c["positive"], c["neutral"], c["negative"]
        points.append(SentimentPoint(b, pos, neu, neg, c["unclassified"], _net(pos, neg, pos + neu + neg)))
    return points
