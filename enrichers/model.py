"""CRM-side domain types: contacts, companies, consents, findings, routes and deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Team(StrEnum):
    customer_service = "customer_service"
    sales = "sales"
    marketing = "marketing"
    product = "product"
    communications = "communications"


class Identity(BaseModel):
    """One handle a contact is known by on one platform, and how we know it is theirs."""

    model_config = _FROZEN

    platform: str = Field(description="Platform key as in listener.Platform ('x', 'mastodon', ...).")
    handle: str = Field(min_length=1, description="Handle without '@', compared case-insensitively.")
    evidence: str = Field(
        default="crm_import",
        description="Why we believe it: 'crm_import', 'verified_profile_link', 'confirmed_by:<user>'.",
    )
    verified: bool = Field(default=False, description="True when the link was confirmed (by the contact or a person).")


class Membership(BaseModel):
    """A contact's role at a company. A contact can hold several, at several companies."""

    model_config = _FROZEN

    company_id: str
    role: str | None = None


class Contact(BaseModel):
    """A person in the CRM. `id` is stable across every view and export."""

    model_config = _FROZEN

    id: str
    name: str | None = None
    emails: tuple[str, ...] = ()
    identities: tuple[Identity, ...] = ()
    memberships: tuple[Membership, ...] = ()
    role: str | None = Field(
        default=None,
        description="A role held outside any company (e.g. 'Creator'); roles at companies are memberships.",
    )
    segment: str | None = Field(default=None, description="CRM segment, e.g. 'customer', 'prospect', 'vip'.")
    preferred_channel: str | None = Field(default=None, description="Channel the contact asked to be answered on.")
    external_ref: str | None = Field(default=None, description="The CRM's own id (HubSpot/Salesforce).")


class CompanyClass(StrEnum):
    customer = "customer"
    prospect = "prospect"
    partner = "partner"
    competitor = "competitor"
    other = "other"


class Company(BaseModel):
    """An organisation: a customer, prospect, partner, or a competitor we listen for."""

    model_config = _FROZEN

    id: str
    name: str
    domain: str | None = Field(default=None, description="Web domain the company owns, e.g. 'acme.com'.")
    classification: CompanyClass = CompanyClass.other
    competitor_of: str | None = Field(default=None, description="For competitors: our brand they compete with.")
    employees: int | None = Field(
        default=None, ge=0, description="How many people the company employs, where the CRM holds it (lead scoring)."
    )


class LawfulBasis(StrEnum):
    """GDPR Art. 6(1) bases an operator may record."""

    consent = "consent"
    contract = "contract"
    legitimate_interest = "legitimate_interest"
    legal_obligation = "legal_obligation"


ENRICHMENT_PURPOSE = "social_enrichment"


class Consent(BaseModel):
    """A recorded basis for processing a contact's data for one purpose."""

    model_config = _FROZEN

    contact_id: str
    purpose: str = ENRICHMENT_PURPOSE
    basis: LawfulBasis
    source: str = Field(description="Where it was recorded: 'signup_form', 'crm_import', 'dpo:<name>'.")
    granted_at: datetime
    withdrawn_at: datetime | None = None
    reviewed_at: datetime | None = None
    review_due: datetime | None = Field(
        default=None, description="After this the basis must be reviewed; treated as lapsed."
    )

    def allows(self, purpose: str, at: datetime) -> bool:
        """True when this record permits `purpose` at time `at`."""
        if self.purpose != purpose or self.granted_at > at:
            return False
        if self.withdrawn_at is not None and self.withdrawn_at <= at:
            return False
        return not (self.review_due is not None and self.review_due <= at)


class Finding(BaseModel):
    """The minimum about one relevant mention attached to a contact's profile."""

    model_config = _FROZEN

    contact_id: str
    source: str
    external_id: str
    url: str | None
    excerpt: str = Field(max_length=280, description="Short excerpt of the mention text.")
    sentiment: str
    intent: str
    confidence: float
    link_evidence: str = Field(description="Why the mention's author is this contact.")
    link_confidence: float = Field(ge=0, le=1)
    basis: str = Field(description="Consent or lawful basis that allowed attaching it.")
    created_at: datetime
    expires_at: datetime = Field(description="Retention: deleted after this time.")


class Priority(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class ScorePart(BaseModel):
    """One named part of a priority score (`enrichers.priority`): its points and why."""

    model_config = _FROZEN

    name: str = Field(description="'intent', 'severity', 'reach', 'contact' or 'waiting'.")
    points: float = Field(ge=0, description="Points this part gave (of the score's 0–100).")
    reason: str = Field(description="Why, in words: '96,400 followers', \"outage ('offline')\".")


class PriorityScore(BaseModel):
    """Which mention to answer first: 0–100, higher first, with the parts it is made of."""

    model_config = _FROZEN

    score: int = Field(ge=0, le=100)
    parts: tuple[ScorePart, ...] = ()


class Route(BaseModel):
    """A decision to send one mention to a team on a channel. Natural key: (source, external_id, team)."""

    model_config = _FROZEN

    source: str
    external_id: str
    team: Team
    channel: str = Field(description="Delivery channel name from config (e.g. 'service-webhook', 'sales-crm').")
    reply_channel: str | None = Field(
        default=None, description="Where to answer the customer (platform or preference)."
    )
    priority: Priority = Priority.normal
    due_at: datetime | None = Field(default=None, description="Response-time target.")
    rule: str = Field(description="Name of the routing rule that matched.")
    explanation: str = Field(description="Why that rule matched, in words.")
    score: PriorityScore | None = Field(
        default=None, description="Priority score when routed (enrichers.priority); the inbox sorts by it."
    )


class DeliveryStatus(StrEnum):
    """Where a delivery stands. Only `delivered` says a receiver acknowledged it (a 2xx, an SMTP accept, a CRM
    that returned the ids of what it stored); `in_inbox` says it was kept for the web inbox and sent nowhere."""

    pending = "pending"  # queued, not tried yet
    delivered = "delivered"  # the receiver acknowledged it (see `receipt` for what a CRM stored)
    failed = "failed"  # will be retried; last_error says why it failed
    dead = "dead"  # gave up; reason kept
    in_inbox = "in_inbox"  # an inbox channel: kept for the web inbox only, nothing was sent anywhere


class Delivery(BaseModel):
    """One attempt-tracked send of a route to its channel. `idempotency_key` is unique."""

    model_config = _FROZEN

    idempotency_key: str
    channel: str
    status: DeliveryStatus = DeliveryStatus.pending
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    payload: dict[str, Any] | None = Field(
        default=None,
        description="Channel-neutral event written with the route (see enrichers.delivery.event_payload); "
        "rendered per channel kind at send time. Holds personal data (author handle, excerpt).",
    )
    receipt: dict[str, Any] | None = Field(
        default=None,
        description="What the receiver told us it stored, e.g. a CRM's object ids {'system': 'hubspot', "
        "'contact': {'id': '512', ...}, 'note': {'id': '...'}}; kept across retries (ids found or created by an "
        "attempt that failed later are reused, never created again).",
    )
