"""Leads: the sales team's feed (purchase intent routed to sales) with each lead's CRM delivery, sending a lead
to the CRM again, and the ranked lead feed (`ranked`: highest score first, with why in words, the linked contact
and company, and the CRM status said truthfully) with sales' decisions on a lead (`accept`, `dismiss`, `snooze`),
each audited once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, Engine, select

from overheard.services.access import Caller, Capability, Invalid, NotFound
from overheard.services.mentions import visible
from storage import inbox
from storage import leads as lead_store
from storage.audit import record
from storage.schema import leads, now_utc

SALES = "sales"


class CrmSend(StrEnum):
    """What asking to send a lead to the CRM did."""

    no_route = "no_route"  # the mention has no sales route: nothing to send
    already_delivered = "already_delivered"  # every CRM delivery of the lead was delivered
    queued = "queued"  # failed or dead deliveries go out again at the next delivery run (or one is still pending)
    inbox_only = "inbox_only"  # the lead's channel is the web inbox: nothing is sent to any CRM


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
    statuses = {status for _, status in found}
    if statuses == {"delivered"}:
        return CrmSend.already_delivered
    if statuses <= {"delivered", "in_inbox"}:
        return CrmSend.inbox_only
    return CrmSend.queued


STATES = tuple(state.value for state in lead_store.LeadState)
"""The states a lead can be in, as the feed's state filter takes them."""
VIEWS: dict[str, tuple[str, ...]] = {
    "open": ("new", "accepted"),
    "new": ("new",),
    "accepted": ("accepted",),
    "snoozed": ("snoozed",),
    "dismissed": ("dismissed",),
    "all": STATES,
}
"""The feed's state filter as the page and the API offer it: a name for one or more states."""
MAX_DISMISS_REASON_CHARS = 500
"""A dismissal's reason is kept as training feedback; longer ones are refused, not cut."""


@dataclass(frozen=True)
class RankedFeed:
    """The lead feed as sales works it: `leads` highest score first (then newest), in the states asked for
    (`states`) and of `owner` when given; `counts` is how many leads are in each state overall."""

    leads: list[lead_store.LeadView]
    states: tuple[str, ...]
    owner: str | None
    counts: dict[str, int]


def ranked(
    engine: Engine,
    caller: Caller,
    *,
    states: Sequence[str] = ("new", "accepted"),
    owner: str | None = None,
    limit: int = 50,
) -> RankedFeed:
    """The leads in `states` (any of `STATES`; unknown ones are refused), of `owner` when given, ranked by score.
    A snoozed lead whose time is up is shown as new again."""
    caller.require(Capability.work_leads)
    unknown = sorted(set(states) - set(STATES))
    if unknown:
        raise Invalid(f"unknown lead state {', '.join(unknown)} (one of: {', '.join(STATES)})")
    chosen = tuple(s for s in STATES if s in states) or ("new", "accepted")
    with engine.connect() as connection:
        found = lead_store.lead_feed(connection, now_utc(), states=chosen, owner=owner or None, limit=limit)
        return RankedFeed(found, chosen, owner or None, lead_store.state_counts(connection))


def _decide(
    engine: Engine, caller: Caller, mention_id: int, action: str, act: Callable[[Connection], None], **detail: object
) -> None:
    """Check the caller works leads, act on the lead and write one audit record, in one transaction."""
    caller.require(Capability.work_leads)
    with engine.begin() as connection:
        if connection.execute(select(leads.c.mention_id).where(leads.c.mention_id == mention_id)).first() is None:
            raise NotFound(f"mention {mention_id} is not a lead (or does not exist)")
        try:
            act(connection)
        except lead_store.LeadStateError as exc:
            raise Invalid(str(exc)) from exc
        record(connection, caller.name, action, "mention", str(mention_id), **detail)


def accept(engine: Engine, caller: Caller, mention_id: int, owner: str | None = None) -> str:
    """Sales takes the lead; `owner` (default: the caller) works it. Returns the owner."""
    who = (owner or "").strip() or caller.name
    _decide(
        engine,
        caller,
        mention_id,
        "lead.accept",
        lambda c: lead_store.accept(c, mention_id, caller.name, who),
        owner=who,
    )
    return who


def dismiss(engine: Engine, caller: Caller, mention_id: int, reason: str) -> None:
    """Not a lead, and why: the reason is required and kept as training feedback (not copied into the audit)."""
    if len(reason) > MAX_DISMISS_REASON_CHARS:
        raise Invalid(f"the reason is {len(reason)} characters; keep it under {MAX_DISMISS_REASON_CHARS}")
    _decide(
        engine, caller, mention_id, "lead.dismiss", lambda c: lead_store.dismiss(c, mention_id, reason, caller.name)
    )


def snooze(engine: Engine, caller: Caller, mention_id: int, until: datetime) -> None:
    """Hide the lead until `until` (a time in the future, with its time zone); it comes back as new then."""
    if until.tzinfo is None:
        raise Invalid("say the snooze's time zone (e.g. 2026-12-08T09:00:00+00:00)")
    if until <= now_utc():
        raise Invalid(f"snooze until a time in the future, not {until.isoformat()}")
    _decide(
        engine, caller, mention_id, "lead.snooze",
        lambda c: lead_store.snooze(c, mention_id, until, caller.name), until=until.isoformat(),
    )  # fmt: skip
