"""Leads: mentions routed to sales, with their score, and what sales decided (accept, dismiss, snooze, owner).

Enrichment writes a lead in the transaction that stores its mention (`write_leads`, called by
`storage.outbox.save_enrichments`); a re-run refreshes the score and its explanation but never what a person
decided. A dismissal's reason is training feedback (`storage.feedback.lead_dismissals`) and is logged in
`triage_feedback` with the model's labels, like a relabel. The feed (`lead_feed`) ranks by score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, case, or_, select, update

from enrichers.leads import LeadScore
from storage.database import upsert
from storage.schema import (
    companies,
    contacts,
    crm_records,
    deliveries,
    leads,
    mentions,
    now_utc,
    routes,
    triage_feedback,
    verdicts,
)


class LeadState(StrEnum):
    new = "new"
    accepted = "accepted"
    dismissed = "dismissed"
    snoozed = "snoozed"


class LeadStateError(ValueError):
    """A lead action that cannot be done as asked (no such lead, an empty dismissal reason)."""


_REFRESHED = ("contact_id", "company_id", "score", "parts", "signals", "explanation", "updated_at")
"""What a re-run refreshes on an existing lead; state, owner, reason and snooze stay as a person left them."""


def write_leads(connection: Connection, items: Sequence[tuple[int, LeadScore, str | None, str | None]]) -> None:
    """Upsert leads: (mention id, score, contact id, company id) per lead, one statement for the batch."""
    latest = {mention_id: (score, contact_id, company_id) for mention_id, score, contact_id, company_id in items}
    if not latest:
        return
    now = now_utc()
    upsert(
        connection,
        leads,
        [
            {
                "mention_id": mention_id,
                "contact_id": contact_id,
                "company_id": company_id,
                "score": score.score,
                "parts": [p.model_dump() for p in score.parts],
                "signals": [s.value for s in score.signals],
                "explanation": score.explanation,
                "state": LeadState.new.value,
                "created_at": now,
                "updated_at": now,
            }
            for mention_id, (score, contact_id, company_id) in sorted(latest.items())
        ],
        ("mention_id",),
        update=_REFRESHED,
    )


@dataclass(frozen=True)
class CrmStatus:
    """Where the lead's CRM delivery stands, in words that never claim more than the receiver acknowledged."""

    channel: str
    status: str
    """queued | sent | failed | gave up | in the web inbox only"""
    detail: str | None
    """The CRM's object ids when sent ('hubspot contact 512, company 731, note 9001'), or the failure's reason."""


@dataclass(frozen=True)
class LeadView:
    """One lead in the feed: the mention, its score and why, who it is linked to, and what sales decided."""

    mention_id: int
    source: str
    url: str | None
    author: str
    excerpt: str
    created_at: datetime
    intent: str
    confidence: float
    score: int
    parts: list[dict[str, Any]]
    signals: list[str]
    explanation: str
    contact_id: str | None
    contact_name: str | None
    company_id: str | None
    company_name: str | None
    state: str
    owner: str | None
    dismiss_reason: str | None
    snoozed_until: datetime | None
    crm: list[CrmStatus]


def crm_status(status: str, channel: str, last_error: str | None, receipt: dict[str, Any] | None) -> CrmStatus:
    """A delivery's state said truthfully: 'sent' only with what the receiver acknowledged."""
    ids = None
    if receipt:
        ids = ", ".join(f"{k} {v['id']}" for k, v in receipt.items() if isinstance(v, dict) and v.get("id"))
        ids = f"{receipt.get('system', 'crm')} {ids}" if ids else None
    if status == "delivered":
        return CrmStatus(channel, "sent", ids or "acknowledged by the receiver")
    if status == "in_inbox":
        return CrmStatus(channel, "in the web inbox only", "this channel sends nothing to a CRM")
    if status == "pending":
        return CrmStatus(channel, "queued", None)
    if status == "dead":
        return CrmStatus(channel, "gave up", last_error)
    return CrmStatus(channel, "failed", (last_error or "") + (f" (already stored: {ids})" if ids else ""))


def lead_feed(
    connection: Connection,
    now: datetime,
    *,
    states: Sequence[str] = ("new", "accepted"),
    owner: str | None = None,
    limit: int = 50,
) -> list[LeadView]:
    """Leads sales should look at, highest score first (then newest): snoozed ones come back when their time is
    up. `states` filters by state; `owner` by owner."""
    woken = and_(leads.c.state == LeadState.snoozed.value, leads.c.snoozed_until <= now)
    wanted = or_(leads.c.state.in_(list(states)), woken) if "snoozed" not in states else leads.c.state.in_(states)
    query = (
        select(
            leads,
            mentions.c.source,
            mentions.c.url,
            mentions.c.author_handle,
            mentions.c.text,
            mentions.c.created_at.label("mention_created_at"),
            verdicts.c.intent,
            verdicts.c.intent_confidence,
            contacts.c.name.label("contact_name"),
            companies.c.name.label("company_name"),
        )
        .join(mentions, mentions.c.id == leads.c.mention_id)
        .join(verdicts, verdicts.c.mention_id == leads.c.mention_id)
        .outerjoin(contacts, contacts.c.id == leads.c.contact_id)
        .outerjoin(companies, companies.c.id == leads.c.company_id)
        .where(wanted)
        .order_by(leads.c.score.desc(), mentions.c.created_at.desc(), leads.c.mention_id)
        .limit(limit)
    )
    if owner is not None:
        query = query.where(leads.c.owner == owner)
    rows = list(connection.execute(query))
    statuses = _crm_statuses(connection, [r.mention_id for r in rows])
    return [
        LeadView(
            mention_id=r.mention_id,
            source=r.source,
            url=r.url,
            author=r.author_handle,
            excerpt=r.text[:280],
            created_at=r.mention_created_at,
            intent=r.intent,
            confidence=r.intent_confidence,
            score=r.score,
            parts=r.parts,
            signals=r.signals,
            explanation=r.explanation,
            contact_id=r.contact_id,
            contact_name=r.contact_name,
            company_id=r.company_id,
            company_name=r.company_name,
            state=LeadState.new.value if r.state == LeadState.snoozed.value and r.snoozed_until <= now else r.state,
            owner=r.owner,
            dismiss_reason=r.dismiss_reason,
            snoozed_until=r.snoozed_until,
            crm=statuses.get(r.mention_id, []),
        )
        for r in rows
    ]


def _crm_statuses(connection: Connection, mention_ids: Sequence[int]) -> dict[int, list[CrmStatus]]:
    found: dict[int, list[CrmStatus]] = {}
    if not mention_ids:
        return found
    rows = connection.execute(
        select(
            routes.c.mention_id,
            deliveries.c.channel,
            deliveries.c.status,
            deliveries.c.last_error,
            deliveries.c.receipt,
        )
        .join(routes, routes.c.id == deliveries.c.route_id)
        .where(routes.c.mention_id.in_(list(mention_ids)), routes.c.team == "sales")
        .order_by(deliveries.c.id)
    )
    for r in rows:
        found.setdefault(r.mention_id, []).append(crm_status(r.status, r.channel, r.last_error, r.receipt))
    return found


def _decide(connection: Connection, mention_id: int, actor: str, **values: Any) -> None:
    now = now_utc()
    done = connection.execute(
        update(leads)
        .where(leads.c.mention_id == mention_id)
        .values(decided_by=actor, decided_at=now, updated_at=now, **values)
    )
    if not done.rowcount:
        raise LeadStateError(f"mention {mention_id} is not a lead")


def accept(connection: Connection, mention_id: int, actor: str, owner: str | None = None) -> None:
    """Sales takes the lead; `owner` (default: whoever accepted it) works it."""
    _decide(connection, mention_id, actor, state=LeadState.accepted.value, owner=owner or actor, snoozed_until=None)


def assign(connection: Connection, mention_id: int, owner: str, actor: str) -> None:
    """Give the lead an owner without changing its state."""
    _decide(connection, mention_id, actor, owner=owner)


def snooze(connection: Connection, mention_id: int, until: datetime, actor: str) -> None:
    """Hide the lead from the feed until `until`; it comes back as new then."""
    _decide(connection, mention_id, actor, state=LeadState.snoozed.value, snoozed_until=until)


def dismiss(connection: Connection, mention_id: int, reason: str, actor: str) -> None:
    """Not a lead, and why (kept as training feedback: `storage.feedback.lead_dismissals`)."""
    reason = " ".join(reason.split())
    if not reason:
        raise LeadStateError("say why this is not a lead: the reason teaches the classifier")
    _decide(connection, mention_id, actor, state=LeadState.dismissed.value, dismiss_reason=reason, snoozed_until=None)
    verdict = connection.execute(
        select(verdicts.c.intent, verdicts.c.sentiment, verdicts.c.model_version).where(
            verdicts.c.mention_id == mention_id
        )
    ).one_or_none()
    connection.execute(
        triage_feedback.insert().values(
            mention_id=mention_id,
            action="dismiss_lead",
            actor=actor,
            model_intent=verdict.intent if verdict else None,
            model_sentiment=verdict.sentiment if verdict else None,
            model_version=verdict.model_version if verdict else None,
            at=now_utc(),
        )
    )


@dataclass(frozen=True)
class ContactCrmState:
    """What the CRM said of a contact when we last synced: its id there, owner and lifecycle stage."""

    system: str
    external_id: str
    company_external_id: str | None
    owner_id: str | None
    lifecycle_stage: str | None
    synced_at: datetime


def contact_crm_state(connection: Connection, contact_id: str) -> list[ContactCrmState]:
    """For the contact 360: the contact's records in the CRMs we sync to (one per system)."""
    rows = connection.execute(
        select(crm_records).where(crm_records.c.contact_id == contact_id).order_by(crm_records.c.system)
    )
    return [
        ContactCrmState(r.system, r.external_id, r.company_external_id, r.owner_id, r.lifecycle_stage, r.synced_at)
        for r in rows
    ]


def record_crm_receipts(connection: Connection, receipts: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Keep what CRMs reported of our contacts: (our contact id, receipt) per synced delivery. The contact must
    still exist (one erased since the send is skipped)."""
    rows = []
    now = now_utc()
    known = set(
        connection.execute(select(contacts.c.id).where(contacts.c.id.in_(sorted({c for c, _ in receipts})))).scalars()
    )
    for contact_id, receipt in receipts:
        contact = receipt.get("contact")
        if contact_id not in known or not isinstance(contact, dict) or not contact.get("id"):
            continue
        company = receipt.get("company") if isinstance(receipt.get("company"), dict) else None
        rows.append(
            {
                "contact_id": contact_id,
                "system": str(receipt.get("system", "crm")),
                "external_id": str(contact["id"]),
                "company_external_id": str(company["id"]) if company and company.get("id") else None,
                "owner_id": contact.get("owner_id"),
                "lifecycle_stage": contact.get("lifecycle_stage"),
                "synced_at": now,
            }
        )
    upsert(connection, crm_records, rows, ("contact_id", "system"))


def state_counts(connection: Connection) -> dict[str, int]:
    """Leads per state (snoozed ones whose time is up count as new)."""
    now = now_utc()
    shown = case((and_(leads.c.state == "snoozed", leads.c.snoozed_until <= now), "new"), else_=leads.c.state).label(
        "shown"
    )
    rows = connection.execute(select(shown, leads.c.mention_id))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.shown] = counts.get(row.shown, 0) + 1
    return counts
