"""The rollups that make figures cheap, with their per-database SQL, and how a period is split between them and
the mentions themselves.

Sums per 15-minute slot (metric_slots) and each author's largest follower count per UTC day
(metric_author_days), per scope: '' for every mention, else one matched query name. A period is read as
whole slots (or days) from the rollups plus the mentions themselves for what is left: its ragged edges and
any slot still logged in metric_dirty (changed since the last refresh). The figures are the ones the
mentions give; the rollups only make them cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, false, or_, select
from sqlalchemy import text as sql_text

from storage.database import drain_log
from storage.metrics.scope import COUNTED_SQL, counted
from storage.schema import METRIC_SLOT_SECONDS, UTCDateTime, mentions, metric_author_days, metric_dirty, metric_slots

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
        WHERE m.created_at >= :start AND m.created_at < :end AND {COUNTED_SQL}
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
        """The raw ranges' mentions that figures count (spam left out, as the rollups leave it out)."""
        ranges = or_(false(), *(and_(mentions.c.created_at >= a, mentions.c.created_at < b) for a, b in self.raw))
        return and_(ranges, counted())

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
