"""Routes, deliveries and findings; implements enrichers' Outbox and FindingSink ports.

The outbox is transactional: a route and its deliveries are written in the caller's transaction, the
same one that stores the mention, so a crash can never leave a route without its delivery or the
reverse. Senders read pending deliveries from here; the idempotency key makes every send safe to repeat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from enrichers.model import Delivery, DeliveryStatus, Finding, Route
from storage.database import upsert
from storage.mentions import mention_ids
from storage.schema import deliveries, findings, now_utc, routes


class UnknownMention(LookupError):
    pass


def _mention_id(connection: Connection, source: str, external_id: str) -> int:
    found = mention_ids(connection, [(source, external_id)])
    if not found:
        raise UnknownMention(f"mention {source}:{external_id} is not stored; store it before routing it")
    return found[(source, external_id)]


class SqlOutbox:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, route: Route, new_deliveries: list[Delivery]) -> None:
        mention_id = _mention_id(self.connection, route.source, route.external_id)
        upsert(
            self.connection,
            routes,
            [
                {
                    "mention_id": mention_id,
                    "source": route.source,
                    "external_id": route.external_id,
                    "team": route.team.value,
                    "channel": route.channel,
                    "reply_channel": route.reply_channel,
                    "priority": route.priority.value,
                    "due_at": route.due_at,
                    "rule": route.rule,
                    "explanation": route.explanation,
                    "status": "open",
                    "created_at": now_utc(),
                }
            ],
            ("source", "external_id", "team"),
            # A re-run refreshes the decision but never reopens a route a person closed.
            update=("channel", "reply_channel", "priority", "due_at", "rule", "explanation"),
        )
        route_id = self.connection.execute(
            select(routes.c.id).where(
                routes.c.source == route.source, routes.c.external_id == route.external_id, routes.c.team == route.team
            )
        ).scalar_one()
        upsert(
            self.connection,
            deliveries,
            [
                {
                    "route_id": route_id,
                    "idempotency_key": d.idempotency_key,
                    "channel": d.channel,
                    "status": d.status.value,
                    "attempts": d.attempts,
                    "next_attempt_at": d.next_attempt_at,
                    "last_error": d.last_error,
                    "payload": d.payload,
                    "created_at": now_utc(),
                }
                for d in new_deliveries
            ],
            ("idempotency_key",),
            update=(),  # an existing delivery keeps its own progress
        )

    def due(self, now: datetime, limit: int = 100) -> list[Any]:
        """Deliveries waiting to be sent (pending, or failed and due for a retry), oldest first."""
        return list(
            self.connection.execute(
                select(deliveries, routes.c.mention_id, routes.c.team)
                .join(routes, routes.c.id == deliveries.c.route_id)
                .where(
                    or_(
                        deliveries.c.status == DeliveryStatus.pending.value,
                        and_(deliveries.c.status == DeliveryStatus.failed.value, deliveries.c.next_attempt_at <= now),
                    )
                )
                .order_by(deliveries.c.id)
                .limit(limit)
            )
        )

    def mark(
        self,
        idempotency_key: str,
        status: DeliveryStatus,
        *,
        attempts: int,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "attempts": attempts,
            "next_attempt_at": next_attempt_at,
            "last_error": error,
        }
        if status is DeliveryStatus.delivered:
            values["delivered_at"] = now_utc()
        self.connection.execute(
            update(deliveries).where(deliveries.c.idempotency_key == idempotency_key).values(**values)
        )


class SqlFindingSink:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def attach(self, finding: Finding) -> None:
        mention_id = _mention_id(self.connection, finding.source, finding.external_id)
        row = finding.model_dump()
        row["mention_id"] = mention_id
        upsert(self.connection, findings, [row], ("contact_id", "source", "external_id"))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        payload=row.payload,
    )


class SqlDeliveryQueue:
    """The sending side of the outbox (enrichers' DeliveryQueue port).

    Each call is its own short transaction, so no write lock is held while a send is in flight.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        with self.engine.begin() as connection:
            return [_delivery(row) for row in SqlOutbox(connection).due(now, limit)]

    def save(self, delivery: Delivery) -> None:
        with self.engine.begin() as connection:
            SqlOutbox(connection).mark(
                delivery.idempotency_key,
                delivery.status,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                error=delivery.last_error,
            )

    def deliver_to_inbox(self, channels: list[str], now: datetime) -> int:
        """Inbox channels deliver by being stored: mark their due deliveries delivered."""
        if not channels:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(deliveries.c.channel.in_(channels), deliveries.c.status.in_(("pending", "failed")))
                .values(
                    status=DeliveryStatus.delivered.value,
                    attempts=deliveries.c.attempts + 1,
                    delivered_at=now,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
            return result.rowcount or 0
