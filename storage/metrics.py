"""Every reporting metric, computed from stored mentions in SQL that runs on SQLite and PostgreSQL.

The API, the dashboard, the CLI report and the CSV/JSON exports all call these functions, so a number
means the same thing everywhere. Definitions:

- a mention is *in a period* when `start <= created_at < end`; a brand scope (`brand="Lumora"`) keeps
  mentions whose `matched_queries` hold `brand:Lumora` (any query name with a ':' is used as given);
- **potential reach** is the sum, over the *distinct* authors (source, handle) of the mentions, of each
  author's largest follower count reported in the period. It is potential: followers who could have seen
  it, not people who did. Authors whose platform reports no follower count add nothing;
- **impressions** are summed only over mentions whose platform reports them (`impressions_reported`
  says how many did); they are never estimated;
- **engagement** is likes + reposts + replies + quotes (unknown counts as 0; Reddit/HN score is not
  engagement). **Engagement rate** = engagement / potential reach;
- a mention's sentiment is the person's relabel when there is one, else the classifier's;
  **net sentiment** = (positive − negative) / classified mentions, from −1 to +1;
- **share of voice** compares `brand:*` and `competitor:*` queries: each one's mentions (or potential
  reach) over the sum across all of them in the period;
- **period-over-period change** compares with the period of the same length just before.

Time series are bucketed by hour, day or ISO week (starting Monday) in the caller's time zone; empty
buckets are returned with zeros, so a chart shows the gaps.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import reduce
from math import gcd
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy import Text as SqlText
from sqlalchemy import (
    text as sql_text,
)

from enrichers.alerts import Alert, AlertKind, AlertsConfig, Evidence, HourCount, detect
from storage.database import drain_log
from storage.schema import (
    METRIC_SLOT_SECONDS,
    UTCDateTime,
    mentions,
    metric_author_days,
    metric_dirty,
    metric_slots,
    verdicts,
)
from storage.tags import campaign_members

TERM_SAMPLE_LIMIT = 5_000
"""Top terms read at most this many of the period's mentions (the most engaged first): tokenising is Python."""


class Granularity(StrEnum):
    hour = "hour"
    day = "day"
    week = "week"


# ---- results ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpis:
    """Headline numbers of one period. Reach is *potential* reach (see the module docstring)."""

    mentions: int
    unique_authors: int
    potential_reach: int = field(metadata={"unit": "followers"})
    impressions: int = field(metadata={"unit": "views, where the platform reports them"})
    impressions_reported: int = field(metadata={"unit": "mentions whose platform reported impressions"})
    engagement: int = field(metadata={"unit": "likes + reposts + replies + quotes"})
    engagement_rate: float | None = field(metadata={"unit": "engagement / potential reach"})
    positive: int
    neutral: int
    negative: int
    unclassified: int
    net_sentiment: float | None = field(metadata={"unit": "(positive - negative) / classified, -1..1"})


@dataclass(frozen=True)
class Change:
    """How a number moved from the previous period: `relative` is None when the previous value was 0."""

    previous: float | None
    current: float | None
    absolute: float | None
    relative: float | None


@dataclass(frozen=True)
class KpiReport:
    """KPIs of [start, end) and of the period of the same length just before, with the change of each."""

    start: datetime
    end: datetime
    brand: str | None
    current: Kpis
    previous: Kpis
    changes: dict[str, Change]


@dataclass(frozen=True)
class VolumePoint:
    bucket: datetime  # bucket start, in the requested time zone
    mentions: int


@dataclass(frozen=True)
class SentimentPoint:
    bucket: datetime
    positive: int
    neutral: int
    negative: int
    unclassified: int
    net_sentiment: float | None


@dataclass(frozen=True)
class VoiceShare:
    """One brand or competitor's share of voice; shares are 0..1 over all brands and competitors."""

    query: str  # 'brand:Lumora', 'competitor:Brightwave'
    name: str
    kind: str  # 'brand' | 'competitor'
    mentions: int
    potential_reach: int
    share_by_mentions: float
    share_by_reach: float


@dataclass(frozen=True)
class AuthorReach:
    source: str
    handle: str
    followers: int | None
    mentions: int
    engagement: int


@dataclass(frozen=True)
class SourceReach:
    source: str
    mentions: int
    unique_authors: int
    potential_reach: int
    engagement: int


@dataclass(frozen=True)
class TermCount:
    term: str
    mentions: int  # mentions that use it (a mention counts once)


@dataclass(frozen=True)
class TermsAndHashtags:
    terms: list[TermCount]
    hashtags: list[TermCount]
    mentions_read: int  # at most TERM_SAMPLE_LIMIT
    mentions_in_period: int


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's mentions: those carrying `#hashtag` or a link with `utm_campaign=<utm_campaign>`."""

    hashtag: str | None
    utm_campaign: str | None
    kpis: KpiReport
    daily: list[VolumePoint]


@dataclass(frozen=True)
class SiteRatings:
    site: str  # host of the review URL, e.g. 'www.homereviews.example'
    reviews: int
    average: float
    distribution: dict[int, int]  # stars (rounded half up, 0..5) -> reviews


# ---- scoping ---------------------------------------------------------------------------------------------


def query_name(brand: str) -> str:
    """'Lumora' → 'brand:Lumora'; a full query name ('product:Lumora Hub', 'competitor:X') is kept."""
    return brand if ":" in brand else f"brand:{brand}"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_query(name: str) -> ColumnElement[bool]:
    """True where a mention's matched_queries hold `name`: a LIKE on the JSON text, the same on both backends.

    Stored JSON is written by json.dumps on both backends, so the quoted name appears exactly so.
    """
    needle = _like_escape(json.dumps(name))
    return cast(mentions.c.matched_queries, SqlText).like(f"%{needle}%", escape="\\")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no time zone; pass an aware datetime")
    return value.astimezone(UTC)


def _period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        raise ValueError(f"the period ends ({end:%Y-%m-%d %H:%M}) before it starts ({start:%Y-%m-%d %H:%M})")
    return start, end


def _scope(start: datetime, end: datetime, brand: str | None) -> list[ColumnElement[bool]]:
    start, end = _period(start, end)
    conditions = [mentions.c.created_at >= start, mentions.c.created_at < end]
    if brand:
        conditions.append(matches_query(query_name(brand)))
    return conditions


_sentiment = func.coalesce(verdicts.c.human_sentiment, verdicts.c.sentiment)
_engagement = (
    func.coalesce(mentions.c.likes, 0)
    + func.coalesce(mentions.c.reposts, 0)
    + func.coalesce(mentions.c.replies, 0)
    + func.coalesce(mentions.c.quotes, 0)
)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _int(value: Any) -> int:
    return int(value or 0)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _net(positive: int, negative: int, classified: int) -> float | None:
    return _ratio(positive - negative, classified)


# ---- rollups ---------------------------------------------------------------------------------------------
#
# Sums per 15-minute slot (metric_slots) and each author's largest follower count per UTC day
# (metric_author_days), per scope: '' for every mention, else one matched query name. A period is read as
# whole slots (or days) from the rollups plus the mentions themselves for what is left: its ragged edges and
# any slot still logged in metric_dirty (changed since the last refresh). The figures are the ones the
# mentions give; the rollups only make them cheap.

_DAY_SECONDS = 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REFRESH_LOCK = 0x0E_A5_8D_08
"""PostgreSQL advisory lock key: one transaction at a time refreshes the rollups (no waits between writers)."""


def _slot_sql(dialect: str, column: str, seconds: int) -> str:
    if dialect == "postgresql":
        return f"floor(extract(epoch FROM {column}) / {seconds})::bigint"
    epoch = f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"(({epoch}) - ((({epoch}) % {seconds}) + {seconds}) % {seconds}) / {seconds}"


def _rollup_sql(dialect: str, target: str) -> str:
    """Recompute `target`'s rows from the mentions created in [:start, :end); each (mention, scope) once."""
    queries = (
        "SELECT p.id, q.value FROM picked p, json_each(p.matched_queries) q WHERE q.type = 'text'"
        if dialect == "sqlite"
        else "SELECT p.id, q.value FROM picked p CROSS JOIN LATERAL json_array_elements_text(p.matched_queries) q"
    )
    picked = f"""WITH picked AS (
        SELECT m.id, m.created_at, m.source, m.author_handle, m.author_followers, m.impressions,
               COALESCE(m.likes, 0) + COALESCE(m.reposts, 0) + COALESCE(m.replies, 0) + COALESCE(m.quotes, 0)
                   AS engagement,
               COALESCE(v.human_sentiment, v.sentiment) AS sentiment, m.matched_queries
        FROM mentions m LEFT JOIN verdicts v ON v.mention_id = m.id
        WHERE m.created_at >= :start AND m.created_at < :end
    ), scoped AS (SELECT id, '' AS scope FROM picked UNION {queries})
    """
    if target == "metric_slots":
        slot = _slot_sql(dialect, "p.created_at", METRIC_SLOT_SECONDS)
        return f"""{picked}
        INSERT INTO metric_slots
            (scope, slot, mentions, impressions, impressions_reported, engagement, positive, neutral, negative)
        SELECT s.scope, {slot}, COUNT(*), COALESCE(SUM(p.impressions), 0), COUNT(p.impressions),
               SUM(p.engagement), SUM(CASE WHEN p.sentiment = 'positive' THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.sentiment = 'neutral' THEN 1 ELSE 0 END),
               SUM(CASE WHEN p.sentiment = 'negative' THEN 1 ELSE 0 END)
        FROM scoped s JOIN picked p ON p.id = s.id GROUP BY s.scope, {slot}"""
    day = _slot_sql(dialect, "p.created_at", _DAY_SECONDS)
    return f"""{picked}
    INSERT INTO metric_author_days (scope, day, source, author_handle, followers, mentions)
    SELECT s.scope, {day}, p.source, p.author_handle, MAX(p.author_followers), COUNT(*)
    FROM scoped s JOIN picked p ON p.id = s.id GROUP BY s.scope, {day}, p.source, p.author_handle"""


def _runs(units: Iterable[int], gap: int = 1) -> list[tuple[int, int]]:
    """Sorted units as [first, last + 1) runs; units less than `gap` apart share a run."""
    found: list[tuple[int, int]] = []
    for unit in sorted(set(units)):
        if found and unit - found[-1][1] < gap:
            found[-1] = (found[-1][0], unit + 1)
        else:
            found.append((unit, unit + 1))
    return found


def _instant(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def refresh_rollups(connection: Connection, *, wait: bool = False) -> int:
    """Recompute the rollup rows of every slot logged in metric_dirty, in the caller's transaction.

    Writers call it after their changes (the pipeline after a batch, erasure, retention); it is never needed
    for correct figures, since readers read logged slots from the mentions. On PostgreSQL only one
    transaction refreshes at a time: with `wait=False` a writer that finds another one refreshing leaves
    its slots logged for the next refresh instead of waiting. Returns the number of slots recomputed.
    """
    logged = drain_log(connection, metric_dirty, "slot", _REFRESH_LOCK, wait=wait)
    if not logged:
        return 0
    dialect = connection.dialect.name
    slots = set(logged)
    per_day = _DAY_SECONDS // METRIC_SLOT_SECONDS
    for target, seconds, runs in (
        ("metric_slots", METRIC_SLOT_SECONDS, _runs(slots, gap=per_day)),
        ("metric_author_days", _DAY_SECONDS, _runs((s // per_day for s in slots), gap=7)),
    ):
        table = metric_slots if target == "metric_slots" else metric_author_days
        unit = table.c.slot if target == "metric_slots" else table.c.day
        statement = sql_text(_rollup_sql(dialect, target)).bindparams(
            bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime)
        )
        for first, last in runs:
            connection.execute(delete(table).where(unit >= first, unit < last))
            connection.execute(statement, {"start": _instant(first * seconds), "end": _instant(last * seconds)})
    return len(slots)


@dataclass(frozen=True)
class _Split:
    """A period cut into whole rollup units (`rolled`, [first, last) runs) and time ranges read raw."""

    rolled: list[tuple[int, int]]
    raw: list[tuple[datetime, datetime]]

    def raw_condition(self) -> ColumnElement[bool]:
        return or_(false(), *(and_(mentions.c.created_at >= a, mentions.c.created_at < b) for a, b in self.raw))

    def rolled_condition(self, unit: Any) -> ColumnElement[bool]:
        return or_(false(), *(and_(unit >= first, unit < last) for first, last in self.rolled))


def _split(connection: Connection, start: datetime, end: datetime, seconds: int) -> _Split:
    """[start, end) as whole units of `seconds` that no logged (dirty) slot touches, and the rest."""
    micro = seconds * 1_000_000
    first = -(-((start - _EPOCH) // timedelta(microseconds=1)) // micro)
    last = ((end - _EPOCH) // timedelta(microseconds=1)) // micro
    if first >= last:
        return _Split([], [(start, end)])
    per = seconds // METRIC_SLOT_SECONDS
    logged = connection.execute(
        select(metric_dirty.c.slot)
        .distinct()
        .where(metric_dirty.c.slot >= first * per, metric_dirty.c.slot < last * per)
    ).scalars()
    dirty = _runs(s // per for s in logged)
    clean, raw, at = [], [], first
    for a, b in dirty:
        if at < a:
            clean.append((at, a))
        raw.append((_instant(a * seconds), _instant(b * seconds)))
        at = b
    if at < last:
        clean.append((at, last))
    edges = [(start, _instant(first * seconds)), (_instant(last * seconds), end)]
    pieces = sorted([*raw, *(e for e in edges if e[0] < e[1])])
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in pieces:
        if merged and merged[-1][1] >= lo:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return _Split(clean, merged)


def _scope_name(brand: str | None) -> str:
    return query_name(brand) if brand else ""


def _brand_condition(brand: str | None) -> list[ColumnElement[bool]]:
    return [matches_query(query_name(brand))] if brand else []


# ---- KPIs ------------------------------------------------------------------------------------------------


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


def _reach(connection: Connection, parts: Sequence[Select[Any]], key: str | None = None) -> dict[Any, tuple[int, int]]:
    """(distinct authors, sum of their largest follower counts) over the union of per-author `parts`.

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
        select(*grouped, func.count(), func.sum(per_author.c.followers)).group_by(*grouped)
    ).all()
    return {(row[0] if key else None): (_int(row[-2]), _int(row[-1])) for row in found}


def _potential_reach(connection: Connection, parts: Sequence[Select[Any]]) -> tuple[int, int]:
    """(distinct authors, sum of their largest follower counts) over the union of per-author `parts`."""
    return _reach(connection, parts).get(None, (0, 0))


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


def _kpis_of(totals: Sequence[int], authors: int, reach: int) -> Kpis:
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
    )


def _kpis(connection: Connection, conditions: Sequence[ColumnElement[bool]]) -> Kpis:
    """KPIs of the mentions matching `conditions`, read from the mentions themselves."""
    authors, reach = _potential_reach(connection, [_authors_raw(conditions)])
    return _kpis_of(_totals_raw(connection, conditions), authors, reach)


def _kpis_rolled(connection: Connection, start: datetime, end: datetime, brand: str | None) -> Kpis:
    """KPIs of [start, end) in a brand's scope: whole slots and days from the rollups, the rest raw."""
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
    authors, reach = _potential_reach(connection, parts) if parts else (0, 0)
    return _kpis_of(totals, authors, reach)


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
) -> KpiReport:
    start, end = _period(start, end)
    before = start - (end - start)
    if extra:  # a campaign's mentions are picked by their tags: no rollup holds them
        current = _kpis(connection, [*_scope(start, end, brand), *extra])
        previous = _kpis(connection, [*_scope(before, start, brand), *extra])
    else:
        current = _kpis_rolled(connection, start, end, brand)
        previous = _kpis_rolled(connection, before, start, brand)
    return KpiReport(start, end, brand, current, previous, _changes(previous, current))


def kpis(connection: Connection, start: datetime, end: datetime, brand: str | None = None) -> KpiReport:
    """Headline numbers of [start, end), with the previous period of the same length and the change."""
    return _report(connection, start, end, brand)


# ---- time series -----------------------------------------------------------------------------------------


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
    connection: Connection, grid: _Grid, start: datetime, end: datetime, brand: str | None
) -> list[tuple[Any, str | None, int]]:
    """(grid slot, sentiment or None, mentions) of [start, end) in a brand's scope.

    When the grid's slots are whole rollup slots (any time zone whose offset is a multiple of 15 minutes),
    whole rollup slots are read from metric_slots and only the rest from the mentions.
    """
    period = _scope(start, end, brand)
    sentiment = _sentiment.label("sentiment")
    if grid.origin % METRIC_SLOT_SECONDS or grid.unit % METRIC_SLOT_SECONDS:
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
) -> list[VolumePoint]:
    """Mentions per hour/day/week bucket of `tz`, every bucket of the period included."""
    starts, grid, number = _index(start, end, granularity, tz)
    counts = [0] * len(starts)
    for slot, _, n in _sentiment_slots(connection, grid, start, end, brand):
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
) -> list[SentimentPoint]:
    """Positive / neutral / negative / unclassified mentions and net sentiment per bucket of `tz`."""
    starts, grid, number = _index(start, end, granularity, tz)
    counts: list[Counter[str]] = [Counter() for _ in starts]
    for slot, sentiment, n in _sentiment_slots(connection, grid, start, end, brand):
        counts[number(slot)][sentiment or "unclassified"] += n
    points = []
    for b, c in zip(starts, counts, strict=True):
        pos, neu, neg = c["positive"], c["neutral"], c["negative"]
        points.append(SentimentPoint(b, pos, neu, neg, c["unclassified"], _net(pos, neg, pos + neu + neg)))
    return points


# ---- share of voice --------------------------------------------------------------------------------------


def _queries_of_mentions(connection: Connection) -> Any:
    """A table-valued function listing each mention's matched query names (column `value`)."""
    if connection.dialect.name == "sqlite":
        return func.json_each(mentions.c.matched_queries).table_valued("value").alias("q")
    return func.json_array_elements_text(mentions.c.matched_queries).table_valued("value").alias("q")


def _watched(query_name_column: Any) -> ColumnElement[bool]:
    """A query name (or rollup scope) of a brand or a competitor: the ones share of voice compares."""
    return or_(query_name_column.like("brand:%"), query_name_column.like("competitor:%"))


def share_of_voice(connection: Connection, start: datetime, end: datetime) -> list[VoiceShare]:
    """Each brand and competitor's mentions and potential reach, and its share of all of them; largest first."""
    start, end = _period(start, end)
    q = _queries_of_mentions(connection)
    name = q.c.value
    watched = _watched(name)
    volume: Counter[str] = Counter()
    slots = _split(connection, start, end, METRIC_SLOT_SECONDS)
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
    days = _split(connection, start, end, _DAY_SECONDS)
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
        {query: followers for query, (_, followers) in _reach(connection, parts, key="query").items()} if parts else {}
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


def latest_mention_at(connection: Connection) -> datetime | None:
    """When the newest stored mention was posted (None when none is stored)."""
    return connection.execute(select(func.max(mentions.c.created_at))).scalar_one()


# ---- authors, sources ------------------------------------------------------------------------------------


def top_authors(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, limit: int = 10
) -> list[AuthorReach]:
    """Authors with the largest follower counts who mentioned us in the period (unknown counts last)."""
    followers = func.max(mentions.c.author_followers)
    rows = connection.execute(
        select(mentions.c.source, mentions.c.author_handle, followers, func.count(), func.sum(_engagement))
        .where(*_scope(start, end, brand))
        .group_by(mentions.c.source, mentions.c.author_handle)
        .order_by(func.coalesce(followers, -1).desc(), func.count().desc(), mentions.c.author_handle)
        .limit(limit)
    )
    return [AuthorReach(s, h, None if f is None else int(f), int(n), _int(e)) for s, h, f, n, e in rows]


def top_sources(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, limit: int = 20
) -> list[SourceReach]:
    """Platforms by mentions, with distinct authors, their potential reach and engagement."""
    per_author = (
        select(
            mentions.c.source,
            func.max(mentions.c.author_followers).label("followers"),
            func.count().label("mentions"),
            func.sum(_engagement).label("engagement"),
        )
        .where(*_scope(start, end, brand))
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
        )
        .group_by(per_author.c.source)
        .order_by(func.sum(per_author.c.mentions).desc(), per_author.c.source)
        .limit(limit)
    )
    return [SourceReach(s, int(n), int(a), _int(r), _int(e)) for s, n, a, r, e in rows]


# ---- terms and hashtags ----------------------------------------------------------------------------------

_HASHTAG = re.compile(r"(?<![\w&])#(\w*[^\W\d_]\w*)")
_WORD = re.compile(r"[^\W\d_][\w'’-]{2,}")
_NOISE = re.compile(r"https?://\S+|www\.\S+|@[\w.@-]+|#\w+")
_STOPWORD_TEXT = """
    the and for are but not you your yours with this that these those have has had was were will would
    can could should just than then them they their there here what when where which who whom why how
    all any both each few more most other some such only own same too very its it's i'm i've i'd don't
    doesn't didn't isn't aren't wasn't can't won't from into onto about over under again after before out
    off our ours ourselves him his her hers she he we me my mine myself yourself itself get got gets also
    like one two now still even much many been being because while did does doing let lets via amp
    anyone someone anything something says said back really thing things know think going way make made
    der die das und ist nicht mit ein eine auf für den dem des von sich auch auf wir ich sie es zu im
    les des une est pas pour que qui sur avec dans
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _terms_of(text: str) -> tuple[set[str], set[str]]:
    hashtags = {tag.lower() for tag in _HASHTAG.findall(text)}
    words = {w.lower().strip("'’-") for w in _WORD.findall(_NOISE.sub(" ", text))}
    return {w for w in words if len(w) > 2 and w not in STOPWORDS}, hashtags


def top_terms_and_hashtags(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None, limit: int = 20
) -> TermsAndHashtags:
    """Most used words (stopwords, links and handles left out) and hashtags; each counted once per mention.

    Reads at most TERM_SAMPLE_LIMIT mentions of the period, the most engaged first, and says how many.
    """
    conditions = _scope(start, end, brand)
    in_period = connection.execute(select(func.count()).select_from(mentions).where(*conditions)).scalar_one()
    texts = connection.execute(
        select(mentions.c.title, mentions.c.text)
        .where(*conditions)
        .order_by(_engagement.desc(), mentions.c.id)
        .limit(TERM_SAMPLE_LIMIT)
    ).all()
    terms: Counter[str] = Counter()
    hashtags: Counter[str] = Counter()
    for title, text in texts:
        words, tags = _terms_of(f"{title or ''}\n{text}")
        terms.update(words)
        hashtags.update(tags)

    def top(counter: Counter[str]) -> list[TermCount]:
        return [TermCount(t, n) for t, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]

    return TermsAndHashtags(top(terms), top(hashtags), len(texts), int(in_period))


# ---- campaigns -------------------------------------------------------------------------------------------


def campaign(
    connection: Connection,
    start: datetime,
    end: datetime,
    *,
    hashtag: str | None = None,
    utm_campaign: str | None = None,
    brand: str | None = None,
    tz: str | ZoneInfo = "UTC",
) -> CampaignReport:
    """KPIs (with period-over-period change) and daily volume of the mentions carrying a hashtag or UTM link."""
    start, end = _period(start, end)
    before = start - (end - start)
    in_campaign = campaign_members(
        connection, before, end, _scope(before, end, brand), hashtag=hashtag, utm_campaign=utm_campaign
    )
    report = _report(connection, start, end, brand, [in_campaign])
    daily = _volume(connection, start, end, Granularity.day, tz, [*_scope(start, end, brand), in_campaign])
    return CampaignReport(hashtag, utm_campaign, report, daily)


# ---- reviews ---------------------------------------------------------------------------------------------


def _site(url: str | None) -> str:
    return (urlsplit(url).hostname or "unknown") if url else "unknown"


def review_ratings(
    connection: Connection, start: datetime, end: datetime, brand: str | None = None
) -> list[SiteRatings]:
    """Average stars and the count of each star (rounded half up) per review site (the URL's host)."""
    rows = connection.execute(
        select(mentions.c.url, mentions.c.rating)
        .where(*_scope(start, end, brand), mentions.c.rating.is_not(None))
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


# ---- helpers for exports ---------------------------------------------------------------------------------


def as_rows(items: Iterable[Any]) -> list[dict[str, Any]]:
    """Dataclass results as plain dicts (for CSV/JSON); datetimes as ISO 8601."""
    rows = []
    for item in items:
        row = {}
        for f in fields(item):
            value = getattr(item, f.name)
            row[f.name] = value.isoformat() if isinstance(value, datetime) else value
        rows.append(row)
    return rows


__all__ = [
    "AuthorReach",
    "CampaignReport",
    "Change",
    "Granularity",
    "KpiReport",
    "Kpis",
    "SentimentPoint",
    "SiteRatings",
    "SourceReach",
    "TermCount",
    "TermsAndHashtags",
    "VoiceShare",
    "VolumePoint",
    "as_rows",
    "bucket_start",
    "buckets",
    "campaign",
    "change",
    "check_alerts",
    "hourly_counts",
    "kpis",
    "matches_query",
    "query_name",
    "review_ratings",
    "sentiment_series",
    "share_of_voice",
    "top_authors",
    "top_mentions",
    "top_sources",
    "top_terms_and_hashtags",
    "volume_series",
]


# ---- alerts' inputs --------------------------------------------------------------------------------------


def hourly_counts(connection: Connection, start: datetime, end: datetime, brand: str) -> list[HourCount]:
    """One brand's mentions, negative and classified mentions per UTC hour with any (the alerts' input)."""
    per_hour: dict[int, Counter[str]] = defaultdict(Counter)
    hours = _Grid(0, 3600)
    for slot, sentiment, n in _sentiment_slots(connection, hours, start, end, brand):
        if n:
            per_hour[hours.instant(slot) // 3600][sentiment or "unclassified"] += n
    return [
        HourCount(
            hour=datetime.fromtimestamp(hour * 3600, UTC),
            mentions=sum(c.values()),
            negative=c["negative"],
            classified=sum(c.values()) - c["unclassified"],
        )
        for hour, c in sorted(per_hour.items())
    ]


def top_mentions(
    connection: Connection,
    start: datetime,
    end: datetime,
    brand: str | None = None,
    sentiment: str | None = None,
    limit: int = 5,
) -> list[Evidence]:
    """The period's most engaging mentions (then the widest-followed authors): an alert's evidence."""
    conditions = _scope(start, end, brand)
    if sentiment:
        conditions.append(_sentiment == sentiment)
    rows = connection.execute(
        select(mentions, _sentiment.label("sentiment"), _engagement.label("engagement"))
        .select_from(mentions.outerjoin(verdicts, verdicts.c.mention_id == mentions.c.id))
        .where(*conditions)
        .order_by(_engagement.desc(), func.coalesce(mentions.c.author_followers, -1).desc(), mentions.c.id)
        .limit(limit)
    )
    return [
        Evidence(
            source=r.source,
            external_id=r.external_id,
            url=r.url,
            author=r.author_handle,
            followers=r.author_followers,
            engagement=int(r.engagement),
            sentiment=r.sentiment,
            excerpt=" ".join(r.text.split())[:140],
        )
        for r in rows
    ]


def check_alerts(
    connection: Connection, brand: str, config: AlertsConfig, since: datetime, until: datetime
) -> list[tuple[Alert, list[Evidence]]]:
    """Alerts of one brand for the hours in [since, until), each with the mentions that drove it.

    Reads `config.baseline_hours` before `since` as the baseline; turn the result into routes with
    `enrichers.alerts.routes_for` and store them through the outbox like any route.
    """
    since, until = _period(since, until)
    series = hourly_counts(connection, since - timedelta(hours=config.baseline_hours), until, brand)
    found = []
    for alert in detect(brand, series, config, since=since):
        negative = "negative" if alert.kind is AlertKind.negative_share else None
        hour_end = alert.hour + timedelta(hours=1)
        found.append((alert, top_mentions(connection, alert.hour, hour_end, brand, negative, config.evidence)))
    return found
