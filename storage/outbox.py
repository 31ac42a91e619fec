"""Routes, deliveries and findings: what enrichment decided, kept in the transaction that stores the mentions.

The outbox is transactional: a route and its deliveries are written in the caller's transaction, the
same one that stores the mention, so a crash can never leave a route without its delivery or the
reverse. Senders read pending deliveries from here; the idempotency key makes every send safe to repeat.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from classifiers.verdict import Verdict
from enrichers.enrich import Enrichment
from enrichers.model import Delivery, DeliveryStatus, Finding, Route
from enrichers.noise import NoiseFlag
from listener.mention import Mention
from storage.contacts import save_links
from storage.database import among, update_rows, upsert
from storage.leads import record_crm_receipts, write_leads
from storage.mentions import mention_ids
from storage.metrics.rollups import refresh_rollups
from storage.provenance import finding_provenance, route_provenance
from storage.schema import deliveries, findings, mentions, now_utc, routes

log = logging.getLogger(__name__)


class UnknownMention(LookupError):
    pass


def _mention_id(connection: Connection, source: str, external_id: str) -> int:
    found = mention_ids(connection, [(source, external_id)])
    if not found:
        raise UnknownMention(f"mention {source}:{external_id} is not stored; store it before routing it")
    return found[(source, external_id)]


_ROUTE_DECISION = ("channel", "reply_channel", "priority", "due_at", "rule", "explanation", "score", "score_parts")
"""What a re-run refreshes on an existing route; its status (a person may have closed it) is kept."""


def route_rule(connection: Connection, source: str, external_id: str, team: str) -> str | None:
    """The rule of the mention's route to `team` (a route's natural key is mention and team), or None."""
    return connection.execute(
        select(routes.c.rule).where(
            routes.c.source == source, routes.c.external_id == external_id, routes.c.team == team
        )
    ).scalar_one_or_none()


def write_routes(
    connection: Connection, items: Sequence[tuple[int, Route, Sequence[Delivery], dict[str, Any]]]
) -> None:
    """Upsert routes with their deliveries: (mention id, route, deliveries, audit columns) per route.

    Three statements for any number of routes. The audit columns (`storage.provenance`) must name the same
    columns for every item; a route met twice keeps its last copy. Rows go in key order, so two writers
    touching the same routes lock them in the same order.
    """
    latest = {(r.source, r.external_id, r.team.value): (mention_id, r, ds, audit) for mention_id, r, ds, audit in items}
    if not latest:
        return
    audit_columns = sorted({column for *_, audit in latest.values() for column in audit})
    now = now_utc()
    written = upsert(
        connection,
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
                "score": route.score.score if route.score else None,
                "score_parts": [p.model_dump(mode="json") for p in route.score.parts] if route.score else None,
                "status": "open",
                "created_at": now,
                **{column: audit.get(column) for column in audit_columns},
            }
            for _, (mention_id, route, _, audit) in sorted(latest.items())
        ],
        ("source", "external_id", "team"),
        update=(*_ROUTE_DECISION, *audit_columns),
        returning=("id", "source", "external_id", "team"),  # each route's id, new or updated, with no second query
    )
    route_ids = {(r.source, r.external_id, r.team): r.id for r in written}
    new_deliveries = {d.idempotency_key: (route_ids[key], d) for key, (_, _, ds, _) in latest.items() for d in ds}
    upsert(
        connection,
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
                "receipt": d.receipt,
                "created_at": now,
            }
            for _, (route_id, d) in sorted(new_deliveries.items())
        ],
        ("idempotency_key",),
        update=(),  # an existing delivery keeps its own progress
    )


def write_findings(connection: Connection, items: Sequence[tuple[int, Finding, dict[str, Any]]]) -> None:
    """Upsert findings on (contact, source, external id): (mention id, finding, audit columns) per finding."""
    latest = {(f.contact_id, f.source, f.external_id): (mention_id, f, audit) for mention_id, f, audit in items}
    rows = [
        {**finding.model_dump(), "mention_id": mention_id, **audit}
        for _, (mention_id, finding, audit) in sorted(latest.items())
    ]
    upsert(connection, findings, rows, ("contact_id", "source", "external_id"))


class Enriched(NamedTuple):
    """One stored, classified mention and what enrichment decided about it."""

    mention_id: int
    mention: Mention
    verdict: Verdict
    enrichment: Enrichment


def _is_spam(flag: NoiseFlag | None) -> bool:
    return flag is not None and flag.kind.value == "spam"


def save_flags(connection: Connection, items: Sequence[tuple[int, NoiseFlag | None]]) -> None:
    """Keep why each mention is kept out of the queues (or clear it: a re-run may find it no longer applies), in one
    statement for the batch."""
    if not items:
        return
    # Spam leaves the figures (storage.metrics.scope.counted): a mention becoming spam, or no longer spam, changes
    # its slot's rollup. The mentions' update trigger logs the slot (0013_spam_flag_rollups); refresh it here, in the
    # same transaction, so the rollup rows never count a mention as it was before it was flagged or unflagged.
    flags = dict(items)
    before = connection.execute(
        select(mentions.c.id, mentions.c.flag).where(among(connection, mentions.c.id, flags))
    ).all()
    moved = any((r.flag == "spam") != _is_spam(flags[r.id]) for r in before)
    update_rows(
        connection,
        mentions,
        "id",
        [
            {
                "id": mention_id,
                "flag": flag.kind.value if flag else None,
                "flag_rule": flag.rule if flag else None,
                "flag_reason": flag.reason if flag else None,
            }
            for mention_id, flag in flags.items()
        ],
    )
    if moved:
        refresh_rollups(connection)


def save_enrichments(connection: Connection, batch: Sequence[Enriched], thresholds: dict[str, Any] | None) -> None:
    """Keep what enrichment decided for a batch, in the caller's transaction: links, findings, routes,
    deliveries and leads, each row written with its audit record (`storage.provenance`) — a handful of statements
    per batch, however many mentions it holds. A lead keeps its contact and company only as far as the kept link
    does (consent)."""
    save_links(connection, [(item.mention_id, item.enrichment.link) for item in batch])
    save_flags(connection, [(item.mention_id, item.enrichment.flag) for item in batch])
    write_findings(
        connection,
        [
            (item.mention_id, finding, finding_provenance(item.mention, item.verdict, item.enrichment, thresholds))
            for item in batch
            if (finding := item.enrichment.finding) is not None
        ],
    )
    write_routes(
        connection,
        [
            (
                item.mention_id,
                routed.route,
                routed.deliveries,
                route_provenance(item.mention, item.verdict, item.enrichment, routed, thresholds),
            )
            for item in batch
            for routed in item.enrichment.routes
        ],
    )
    write_leads(
        connection,
        [
            (
                item.mention_id,
                item.enrichment.lead,
                item.enrichment.link.contact_id if item.enrichment.link else None,
                item.enrichment.link.company_id if item.enrichment.link else None,
            )
            for item in batch
            if item.enrichment.is_lead and item.enrichment.lead is not None
        ],
    )


class SqlOutbox:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, route: Route, new_deliveries: list[Delivery]) -> None:
        mention_id = _mention_id(self.connection, route.source, route.external_id)
        write_routes(self.connection, [(mention_id, route, new_deliveries, {})])

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
        write_findings(self.connection, [(mention_id, finding, {})])


def _delivery(row: Any) -> Delivery:
    return Delivery(
        idempotency_key=row.idempotency_key,
        channel=row.channel,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        payload=row.payload,
        receipt=row.receipt,
    )


CLAIM_LEASE = timedelta(seconds=30)
"""How long a claim holds unless its sender renews it (`keeping_claims` renews every third of it while the sender
runs). A sender that dies — SIGKILL, power — renews nothing, so another takes its deliveries after this long."""


class SqlDeliveryQueue:
    """The sending side of the outbox (enrichers' DeliveryQueue port).

    Each call is its own short transaction, so no write lock is held while a send is in flight. Senders claim
    what they send (`claim`): any number of them — CLI processes, Celery workers — send each delivery once.
    """

    def __init__(self, engine: Engine, lease: timedelta = CLAIM_LEASE, clock: Callable[[], datetime] = now_utc) -> None:
        self.engine = engine
        self.lease = lease
        self.clock = clock
        self.sender = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @contextmanager
    def keeping_claims(self) -> Iterator[None]:
        """Renew this sender's claims every third of the lease while the block runs (sends may take longer
        than one lease); the renewals stop with the process, so a dead sender's claims lapse."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease.total_seconds() / 3):
                try:
                    with self.engine.begin() as connection:
                        connection.execute(
                            update(deliveries)
                            .where(deliveries.c.claimed_by == self.sender)
                            .values(claimed_until=self.clock() + self.lease)
                        )
                except Exception as exc:  # the database away for a moment: the next renewal tries again
                    log.warning("deliveries.renew_failed", extra={"reason": type(exc).__name__})

        renewer = threading.Thread(target=renew, name="claims", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Due deliveries, claimed or not (for reading; a sender uses `claim`)."""
        with self.engine.begin() as connection:
            return [_delivery(row) for row in SqlOutbox(connection).due(now, limit)]

    def claim(self, now: datetime, limit: int) -> list[Delivery]:
        """Take up to `limit` due deliveries nobody holds, oldest first, for this sender until `now` + lease.

        One UPDATE takes them: SQLite runs one writer at a time, and on PostgreSQL the rows another sender is
        claiming at the same moment are skipped (FOR UPDATE SKIP LOCKED) and the claim is re-checked on the row
        it updates, so no two senders hold one delivery. `save_many` gives the claim back with the new state.
        """
        me = self.sender
        free = or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now)
        due = or_(
            deliveries.c.status == DeliveryStatus.pending.value,
            and_(deliveries.c.status == DeliveryStatus.failed.value, deliveries.c.next_attempt_at <= now),
        )
        chosen = (
            select(deliveries.c.id)
            .where(due, free)
            .order_by(deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as connection:
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(chosen), due, free)
                .values(claimed_by=me, claimed_until=now + self.lease)
            )
            rows = connection.execute(select(deliveries).where(deliveries.c.claimed_by == me).order_by(deliveries.c.id))
            return [_delivery(row) for row in rows]

    def save_many(self, new_states: Sequence[Delivery]) -> None:
        """Store the deliveries' new states in one transaction and one statement (`storage.database.update_rows`)."""
        if not new_states:
            return
        now = now_utc()
        rows = [
            {
                "idempotency_key": d.idempotency_key,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "last_error": d.last_error,
                "receipt": d.receipt,
                "delivered_at": now if d.status is DeliveryStatus.delivered else None,
            }
            for d in new_states
        ]
        synced = [
            (str(d.payload["data"]["contact_id"]), d.receipt)
            for d in new_states
            if d.receipt
            and d.payload
            and isinstance(d.payload.get("data"), dict)
            and d.payload["data"].get("contact_id")
        ]
        with self.engine.begin() as connection:
            update_rows(
                connection,
                deliveries,
                "idempotency_key",
                rows,
                keep=("delivered_at",),
                clear=("claimed_by", "claimed_until"),
            )
            record_crm_receipts(connection, synced)  # owner and lifecycle stage, read back onto the contact

    def deliver_to_inbox(self, channels: list[str], now: datetime) -> int:
        """Inbox channels keep their routes for the web inbox and send nothing: their due deliveries become
        `in_inbox` (never `delivered`, which would say a receiver — a CRM — acknowledged them)."""
        if not channels:
            return 0
        with self.engine.begin() as connection:
            result = connection.execute(
                update(deliveries)
                .where(deliveries.c.channel.in_(channels), deliveries.c.status.in_(("pending", "failed")))
                .values(
                    status=DeliveryStatus.in_inbox.value,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
            return result.rowcount or 0


def delivery_states(connection: Connection) -> dict[str, int]:
    """How many deliveries are in each state (pending, in_inbox, delivered, dead, ...)."""
    rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
    return {status: count for status, count in rows}
