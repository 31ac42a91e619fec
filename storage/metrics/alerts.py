"""The alerts' inputs: a brand's hourly counts, the mentions that drove an hour, and the check of a brand's
hours (`enrichers.alerts.detect` decides; `overheard.alerting` routes what it finds)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from enrichers.alerts import Alert, AlertKind, AlertsConfig, Evidence, HourCount, detect
from storage.metrics.scope import _engagement, _period, _scope, _sentiment
from storage.metrics.series import _Grid, _sentiment_slots
from storage.schema import mentions, verdicts


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
    language: str | None = None,
) -> list[Evidence]:
    """The period's most engaging mentions (then the widest-followed authors): an alert's evidence."""
    conditions = _scope(start, end, brand, language)
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
