"""The API's response models: what the API answers, with the description of each field in its OpenAPI document.

Storage returns plain read models (`storage.inbox`, frozen dataclasses); each model here reads one of them
(`model_validate(found, from_attributes=True)`) with the same field names, so a field added to a read model
and not here is simply not published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RouteSummary(_Out):
    id: int
    team: str
    channel: str
    reply_channel: str | None
    priority: str
    due_at: datetime | None = Field(description="Response-time target (UTC).")
    rule: str
    explanation: str
    status: str


class LinkSummary(_Out):
    contact_id: str | None
    contact_name: str | None
    company_id: str | None
    company_name: str | None
    evidence: str
    confidence: float


class MentionItem(_Out):
    """One mention as the inbox shows it. `intent`/`sentiment` are a person's relabel when there is one."""

    id: int
    source: str
    external_id: str
    url: str | None
    author_handle: str
    author_name: str | None
    author_followers: int | None = Field(description="Author reach, in followers.")
    author_profile_url: str | None
    text: str
    title: str | None
    language: str | None
    created_at: datetime
    likes: int | None
    reposts: int | None
    replies: int | None
    status: str
    assignee: str | None
    snoozed_until: datetime | None
    sentiment: str
    intent: str
    model_sentiment: str
    model_intent: str
    confidence: float = Field(description="The model's intent confidence, 0–1.")
    needs_human: bool
    reasons: list[str]
    relabelled_by: str | None
    reply_to_id: str | None
    thread_id: str | None
    routes: list[RouteSummary] = []
    link: LinkSummary | None = None


class ThreadItem(_Out):
    id: int
    author_handle: str
    created_at: datetime
    text: str


class MentionDetail(MentionItem):
    thread: list[ThreadItem] = Field(default=[], description="Other stored posts of the same conversation.")


class MentionPage(_Out):
    items: list[MentionItem]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")


class Feedback(_Out):
    mention_id: int
    action: str
    actor: str
    model_intent: str | None
    model_sentiment: str | None
    human_intent: str | None
    human_sentiment: str | None
    model_version: str | None
    at: datetime


class ContactSummary(_Out):
    id: str
    name: str | None
    segment: str | None
    companies: list[str]


class IdentityView(_Out):
    platform: str
    handle: str
    evidence: str
    verified: bool


class CompanyRole(_Out):
    company_id: str
    name: str
    domain: str | None
    classification: str
    role: str | None


class ConsentView(_Out):
    purpose: str
    basis: str
    source: str
    granted_at: datetime
    withdrawn_at: datetime | None
    review_due: datetime | None
    active: bool = Field(description="True when it allows processing now (granted, not withdrawn, not lapsed).")


class FindingView(_Out):
    created_at: datetime
    source: str
    url: str | None
    excerpt: str
    sentiment: str
    intent: str
    confidence: float
    link_evidence: str
    basis: str
    expires_at: datetime


class DeliveryView(_Out):
    id: int
    route_id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class RouteView(_Out):
    id: int
    mention_id: int
    team: str
    channel: str
    priority: str
    status: str
    rule: str
    due_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryView] = []


class LinkedMention(_Out):
    id: int
    source: str
    url: str | None
    created_at: datetime
    excerpt: str
    intent: str
    sentiment: str


class ContactView(_Out):
    """Everything kept on one contact, for the 360° page."""

    id: str
    name: str | None
    segment: str | None
    preferred_channel: str | None
    external_ref: str | None
    emails: list[str]
    identities: list[IdentityView]
    companies: list[CompanyRole]
    consents: list[ConsentView]
    findings: list[FindingView] = Field(description="Newest first.")
    mentions: list[LinkedMention] = Field(description="Mentions linked to the contact, newest first.")
    routes: list[RouteView]


class LeadPart(_Out):
    name: str = Field(description="The part of the score: intent, signal, crm, reach or recency.")
    points: float = Field(description="Points this part gave, out of its weight.")
    weight: float = Field(description="The most points this part can give (configurable).")
    why: str = Field(description="Why, in words.")


class CrmStatusView(_Out):
    channel: str
    status: str = Field(description="queued | sent | failed | gave up | in the web inbox only; 'sent' only when "
                        "the receiver acknowledged.")  # fmt: skip
    detail: str | None = Field(description="The CRM's object ids when sent, or the failure's reason.")


class LeadView(_Out):
    mention_id: int
    source: str
    url: str | None
    author: str
    excerpt: str = Field(description="The first 280 characters of the post.")
    created_at: datetime
    intent: str
    confidence: float
    score: int = Field(description="Lead score, 0–100: the sum of the parts.")
    parts: list[LeadPart]
    signals: list[str] = Field(description="Kinds of buying signal found in the words (quantity, pricing…).")
    explanation: str = Field(description="The score and its parts in words.")
    contact_id: str | None
    contact_name: str | None
    company_id: str | None
    company_name: str | None
    state: str = Field(description="new | accepted | snoozed | dismissed (a snoozed lead whose time is up: new).")
    owner: str | None
    dismiss_reason: str | None
    snoozed_until: datetime | None
    crm: list[CrmStatusView]


class LeadFeed(_Out):
    leads: list[LeadView] = Field(description="Highest score first, then newest.")
    states: list[str] = Field(description="The states shown.")
    owner: str | None = Field(description="Only this owner's leads, when given.")
    counts: dict[str, int] = Field(description="Leads per state, over all leads.")


class LeadDecision(_Out):
    mention_id: int
    state: str
    owner: str | None = None
    snoozed_until: datetime | None = None


class TokenOut(BaseModel):
    """An API token as `overheard tokens list` shows it; its secret is never kept."""

    name: str = Field(description="Who it was issued to; the actor in the audit log.")
    role: str = Field(description="admin, service, sales, marketing or privacy.")
    status: str = Field(description="live, expired or revoked.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="Accurate to the minute; null: never used.")
    expires_at: datetime | None = Field(description="Null: never expires.")


class IssuedTokenOut(BaseModel):
    """A token just issued: `secret` is shown this once (only its hash is stored)."""

    secret: str = Field(description="Send it as 'Authorization: Bearer <secret>'.")
    token: TokenOut


class AuditEntry(_Out):
    """One audited action. `subject_id` names records by id only (contact ids are pseudonymous)."""

    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] = {}


class ProfileExplanation(_Out):
    """Why one finding is on a contact's profile, in one view."""

    finding_id: int
    contact_id: str
    platform: str
    platform_id: str
    url: str | None
    excerpt: str
    collected_at: datetime | None
    attached_at: datetime
    expires_at: datetime
    model_version: str | None
    thresholds: dict[str, Any] | None
    sentiment: str
    sentiment_confidence: float | None
    intent: str
    intent_confidence: float
    reasons: list[str]
    link_evidence: str
    link_confidence: float
    link_decided_by: str | None
    basis: str
    consent_records: list[dict[str, Any]]
    approved_by: str | None
    audit: list[AuditEntry] = []
    summary: str = Field(
        description="The whole answer in one sentence, as the contact 360° and the export show it.",
        json_schema_extra={"readOnly": True},
    )


class RouteRecord(_Out):
    """Why one mention was routed to a team: the audit record kept with the route."""

    route_id: int
    mention_id: int
    team: str
    rule: str
    explanation: str
    platform: str
    platform_id: str
    collected_at: datetime | None
    model_version: str | None
    thresholds: dict[str, Any] | None
    evidence: dict[str, Any] | None
    basis: str | None
    approved_by: str | None
    routed_at: datetime
