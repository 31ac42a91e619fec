"""The mentions that drove each spike or storm alert: kept when the alert is raised, read by the alerts page.

An alert names its evidence once, when its hour is checked; keeping the ids (rather than recomputing "the
hour's most engaging posts" later) means the page shows what the alert was raised on, and the posts marketing
and communications may open are exactly these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, tuple_

from enrichers.alerts import Alert, Evidence
from storage.metrics.scope import _engagement, _sentiment
from storage.schema import alert_evidence, mentions, verdicts


@dataclass(frozen=True)
class EvidencePost:
    """One post an alert names: `rank` 0 drove it most; `excerpt` is the post's first 140 characters."""

    mention_id: int
    rank: int
    source: str
    author: str
    followers: int | None  # None: the platform reports no follower count
    engagement: int  # likes + reposts + replies + quotes
    sentiment: str | None
    created_at: datetime
    url: str | None
    excerpt: str


@dataclass(frozen=True)
class AlertRecord:
    """A raised alert: `key` is '<kind>:<brand>:<hour>'; `kind` 'volume' (a spike) or 'negative_share' (a storm)."""

    key: str
    kind: str
    brand: str
    hour: datetime  # start of the alert's hour, UTC
    summary: str
    evidence: list[EvidencePost]


def save_evidence(connection: Connection, alert: Alert, evidence: Sequence[Evidence]) -> int:
    """Keep `evidence` as the alert's posts (replacing what an earlier check kept); returns the rows kept."""
    keys = [(e.source, e.external_id) for e in evidence]
    ids = (
        dict(
            ((r.source, r.external_id), r.id)
            for r in connection.execute(
                select(mentions.c.id, mentions.c.source, mentions.c.external_id).where(
                    tuple_(mentions.c.source, mentions.c.external_id).in_(keys)
                )
            )
        )
        if keys
        else {}
    )
    connection.execute(delete(alert_evidence).where(alert_evidence.c.alert_key == alert.key))
    rows = [
        {
            "alert_key": alert.key,
            "mention_id": ids[key],
            "rank": rank,
            "kind": alert.kind.value,
            "brand": alert.brand,
            "hour": alert.hour,
            "summary": alert.summary(),
        }
        for rank, key in enumerate(dict.fromkeys(keys))
        if key in ids
    ]
    if rows:
        connection.execute(insert(alert_evidence), rows)
    return len(rows)


def list_alerts(
    connection: Connection, start: datetime, end: datetime, kind: str | None = None, limit: int = 100
) -> list[AlertRecord]:
    """Alerts whose hour lies in [start, end), newest first, each with its evidence posts in rank order."""
    a = alert_evidence.c
    conditions = [a.hour >= start, a.hour < end, *([a.kind == kind] if kind else [])]
    wanted = (
        select(a.alert_key, func.max(a.hour).label("hour"))
        .where(*conditions)
        .group_by(a.alert_key)
        .order_by(func.max(a.hour).desc(), a.alert_key)
        .limit(limit)
    )
    keys = [r.alert_key for r in connection.execute(wanted)]
    if not keys:
        return []
    rows = connection.execute(
        select(
            a.alert_key,
            a.rank,
            a.kind,
            a.brand,
            a.hour,
            a.summary,
            mentions.c.id,
            mentions.c.source,
            mentions.c.author_handle,
            mentions.c.author_followers,
            mentions.c.created_at,
            mentions.c.url,
            mentions.c.text,
            _engagement.label("engagement"),
            _sentiment.label("sentiment"),
        )
        .select_from(
            alert_evidence.join(mentions, mentions.c.id == a.mention_id).outerjoin(
                verdicts, verdicts.c.mention_id == mentions.c.id
            )
        )
        .where(a.alert_key.in_(keys))
        .order_by(a.alert_key, a.rank)
    )
    found: dict[str, AlertRecord] = {}
    for r in rows:
        record = found.setdefault(r.alert_key, AlertRecord(r.alert_key, r.kind, r.brand, r.hour, r.summary, []))
        record.evidence.append(
            EvidencePost(
                mention_id=r.id,
                rank=r.rank,
                source=r.source,
                author=r.author_handle,
                followers=r.author_followers,
                engagement=int(r.engagement or 0),
                sentiment=r.sentiment,
                created_at=r.created_at,
                url=r.url,
                excerpt=" ".join((r.text or "").split())[:140],
            )
        )
    return [found[k] for k in keys if k in found]


def alerts_citing(connection: Connection, mention_id: int) -> list[str]:
    """Keys of the alerts that name the mention as evidence (none: marketing may not read it)."""
    return list(
        connection.execute(
            select(alert_evidence.c.alert_key)
            .where(alert_evidence.c.mention_id == mention_id)
            .order_by(alert_evidence.c.alert_key)
        ).scalars()
    )
