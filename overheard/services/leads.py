"""Leads: the sales team's feed (purchase intent routed to sales) with each lead's CRM delivery, and sending a
lead to the CRM again."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import Engine

from overheard.services.access import Caller, Capability
from overheard.services.mentions import visible
from storage import inbox

SALES = "sales"


@dataclass(frozen=True)
class LeadFeed:
    """One page of leads, and the status of each shown lead's CRM delivery (by mention id; absent: none)."""

    page: inbox.MentionPage
    crm: dict[int, str]


class CrmSend(StrEnum):
    """What asking to send a lead to the CRM did."""

    no_route = "no_route"  # the mention has no sales route: nothing to send
    already_delivered = "already_delivered"  # every CRM delivery of the lead was delivered
    queued = "queued"  # failed or dead deliveries go out again at the next delivery run


def feed(
    engine: Engine, caller: Caller, filters: inbox.MentionFilter, *, cursor: str | None = None, limit: int = 50
) -> LeadFeed:
    """The caller's mentions routed to sales (whatever team the filter names), with their CRM status."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        page = inbox.list_mentions(connection, caller.scope, replace(filters, team=SALES), cursor=cursor, limit=limit)
        return LeadFeed(page, inbox.delivery_status_of_routes(connection, [m.id for m in page.items], SALES))


def send_to_crm(engine: Engine, caller: Caller, mention_id: int) -> CrmSend:
    """Queue the lead's failed or dead CRM deliveries again (their idempotency keys make a repeat safe)."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        found = inbox.deliveries_of_mention(connection, mention_id, SALES)
        if not found:
            return CrmSend.no_route
        for delivery_id, status in found:
            if status in ("failed", "dead"):
                inbox.retry_delivery(connection, delivery_id)
    return CrmSend.already_delivered if {status for _, status in found} == {"delivered"} else CrmSend.queued
