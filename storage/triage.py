"""Read models for triage: what is waiting for each team, by intent and priority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from storage.schema import deliveries, mentions, quarantine, routes, verdicts

_PRIORITY_ORDER = case(
    {"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=routes.c.priority, else_=4
)  # fmt: skip


@dataclass(frozen=True)
class TeamIntentCount:
    team: str
    intent: str
    routes: int
    open: int
    urgent_or_high: int


@dataclass(frozen=True)
class RouteLine:
    team: str
    priority: str
    due_at: datetime | None
    source: str
    author: str
    followers: int | None
    intent: str
    confidence: float
    excerpt: str
    rule: str
    url: str | None


def counts_by_team_and_intent(connection: Connection) -> list[TeamIntentCount]:
    rows = connection.execute(
        select(
            routes.c.team,
            verdicts.c.intent,
            func.count(),
            func.sum(case((routes.c.status == "open", 1), else_=0)),
            func.sum(case((routes.c.priority.in_(("urgent", "high")), 1), else_=0)),
        )
        .join(verdicts, verdicts.c.mention_id == routes.c.mention_id)
        .group_by(routes.c.team, verdicts.c.intent)
        .order_by(routes.c.team, func.count().desc())
    )
    return [TeamIntentCount(t, i, int(n), int(o or 0), int(u or 0)) for t, i, n, o, u in rows]


def top_routes(connection: Connection, team: str, limit: int = 3) -> list[RouteLine]:
    """The most pressing open routes of a team: by priority, then the earliest due."""
    rows = connection.execute(
        select(
            routes,
            mentions.c.author_handle,
            mentions.c.author_followers,
            mentions.c.text,
            mentions.c.url,
            verdicts.c.intent,
            verdicts.c.intent_confidence,
        )
        .join(mentions, mentions.c.id == routes.c.mention_id)
        .join(verdicts, verdicts.c.mention_id == routes.c.mention_id)
        .where(routes.c.team == team, routes.c.status == "open")
        .order_by(_PRIORITY_ORDER, routes.c.due_at, routes.c.id)
        .limit(limit)
    )
    return [
        RouteLine(
            r.team,
            r.priority,
            r.due_at,
            r.source,
            r.author_handle,
            r.author_followers,
            r.intent,
            r.intent_confidence,
            " ".join(r.text.split())[:110],
            r.rule,
            r.url,
        )
        for r in rows
    ]


def delivery_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
    return {status: int(n) for status, n in rows}


def quarantine_reasons(connection: Connection, limit: int = 10) -> list[str]:
    return list(connection.execute(select(quarantine.c.reason).order_by(quarantine.c.id).limit(limit)).scalars())


def mention_counts(connection: Connection) -> dict[str, int]:
    stored = connection.execute(select(func.count()).select_from(mentions)).scalar_one()
    unrouted = connection.execute(
        select(func.count()).select_from(mentions).where(~mentions.c.id.in_(select(routes.c.mention_id)))
    ).scalar_one()
    needs_human = connection.execute(
        select(func.count()).select_from(verdicts).where(verdicts.c.needs_human.is_(True))
    ).scalar_one()
    return {"stored": int(stored), "not_routed": int(unrouted), "needs_human": int(needs_human)}
