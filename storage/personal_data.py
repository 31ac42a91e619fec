"""The one list of where personal data lives. GDPR export, erasure and retention all read it.

Every column of every table is classified here, either as personal data (with how its rows tie to a
person) or as not personal; a test fails when a new column is left unclassified.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TiedBy(StrEnum):
    """How rows of a table are tied to one contact."""

    contact_key = "contact_key"  # the table's `id` is the contact id
    contact_id = "contact_id"  # a `contact_id` column
    author = "author"  # mentions whose (source, author_handle) is one of the contact's identities
    mention = "mention"  # rows hanging off such a mention (`mention_id`, or a route's mention)
    nobody = "nobody"  # personal data not attributable to a contact; only retention removes it


@dataclass(frozen=True)
class Kept:
    """How long rows of a table are kept: what `gdpr retention` (scheduled, and `overheard run`) deletes.

    Exactly one of: ``period`` (a key of `retention:` in overheard.yaml, in days) counted from the timestamp
    column ``clock``; ``expiry``, a column holding each row's own end; ``with_mention``, rows that hang off a
    mention and go when it goes; ``while_contact``, CRM data kept while the contact exists (erasure removes it);
    ``derived``, recomputed from the mentions whenever they change.
    """

    period: str | None = None
    clock: str | None = None
    expiry: str | None = None
    with_mention: bool = False
    while_contact: bool = False
    derived: bool = False

    def __post_init__(self) -> None:
        chosen = [self.period is not None, self.expiry is not None, self.with_mention, self.while_contact, self.derived]
        if sum(chosen) != 1 or (self.period is None) != (self.clock is None):
            raise ValueError(f"{self}: say exactly one way rows end (a period with its clock, an expiry, ...)")


WITH_MENTION = Kept(with_mention=True)
WHILE_CONTACT = Kept(while_contact=True)


@dataclass(frozen=True)
class PersonalData:
    table: str
    columns: tuple[str, ...]
    tied_by: TiedBy
    why: str
    kept: Kept | None = None  # required in practice: a test fails on an entry without it


PERSONAL_DATA: tuple[PersonalData, ...] = (
    PersonalData(
        "contacts",
        ("id", "name", "role", "segment", "preferred_channel", "external_ref"),
        TiedBy.contact_key,
        "the CRM record of the person",
        kept=WHILE_CONTACT,
    ),
    PersonalData("contact_emails", ("email",), TiedBy.contact_id, "email addresses", kept=WHILE_CONTACT),
    PersonalData(
        "identities",
        ("handle", "handle_key", "evidence"),
        TiedBy.contact_id,
        "social handles known for the person",
        kept=WHILE_CONTACT,
    ),
    PersonalData("memberships", ("role",), TiedBy.contact_id, "job roles at companies", kept=WHILE_CONTACT),
    PersonalData(
        "consents",
        ("basis", "source", "granted_at", "withdrawn_at", "reviewed_at", "review_due"),
        TiedBy.contact_id,
        "recorded consents and lawful bases",
        kept=WHILE_CONTACT,
    ),
    PersonalData(
        "links",
        ("contact_id", "evidence", "confidence", "decided_by"),
        TiedBy.contact_id,
        "which mentions are linked to the person and why",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "findings",
        ("url", "excerpt", "sentiment", "intent", "link_evidence", "basis", "reasons"),
        TiedBy.contact_id,
        "findings attached to the profile",
        kept=Kept(expiry="expires_at"),
    ),
    PersonalData(
        "mentions",
        (
            "url",
            "author_handle",
            "author_name",
            "author_followers",
            "author_verified",
            "author_profile_url",
            "text",
            "title",
            "reply_to_id",
            "thread_id",
            "local_id",
            "assignee",
            "reply_ref",
            "flag_reason",
        ),
        TiedBy.author,
        "posts the person published, and who handles them",
        kept=Kept(period="mentions_days", clock="created_at"),
    ),
    PersonalData(
        "verdicts",
        ("reasons", "relabelled_by"),
        TiedBy.mention,
        "reasons quote words of the person's post",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "mention_tags",
        ("value",),
        TiedBy.mention,
        "hashtags and campaign values of the post may name the person",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "routes",
        ("explanation", "evidence", "basis", "score_parts"),
        TiedBy.mention,
        "routing explanations, evidence and priority reasons may quote the post",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "mention_notes",
        ("body",),
        TiedBy.mention,
        "the team's internal notes on the person's post",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "reply_records",
        ("text", "post_id", "post_url", "reason"),
        TiedBy.mention,
        "what the team answered the person",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "deliveries",
        ("payload", "last_error", "receipt"),
        TiedBy.mention,
        "payloads sent to teams carry the post (and, for leads, the contact's name, emails and company); a CRM's "
        "receipt holds the ids of the person's records there",
        kept=Kept(period="deliveries_days", clock="created_at"),
    ),
    PersonalData(
        "leads",
        ("contact_id", "parts", "explanation", "dismiss_reason", "owner", "decided_by"),
        TiedBy.mention,
        "a lead's score explains itself with words of the post and what the CRM knows of the person",
        kept=WITH_MENTION,
    ),
    PersonalData(
        "crm_records",
        ("external_id", "company_external_id", "owner_id", "lifecycle_stage"),
        TiedBy.contact_id,
        "the person's record in the CRM we sync to: its id, owner and lifecycle stage",
        kept=WHILE_CONTACT,
    ),
    PersonalData(
        "quarantine",
        ("payload",),
        TiedBy.nobody,
        "raw items that failed validation may hold posts",
        kept=Kept(period="quarantine_days", clock="created_at"),
    ),
    PersonalData(
        "task_runs",
        ("arguments", "last_error"),
        TiedBy.nobody,
        "a pushed page of mentions waits here until stored",
        kept=Kept(period="pages_days", clock="updated_at"),
    ),
    # Derived from mentions only: erasure, retention and platform deletions recompute it in their transaction
    # (storage.metrics.refresh_rollups), so an author leaves it with their last mention.
    PersonalData(
        "metric_author_days",
        ("author_handle", "followers"),
        TiedBy.nobody,
        "rollup of who mentioned us each day",
        kept=Kept(derived=True),
    ),
)

# Tables without personal data that retention still ends (their period in `retention:`).
RETAINED_NOT_PERSONAL: dict[str, Kept] = {"audit_log": Kept(period="audit_days", clock="at")}

NOT_PERSONAL: dict[str, tuple[str, ...]] = {
    "aggregate_ratings": ("id", "collector", "url", "rating", "count", "observed_at"),
    "metric_slots": (
        "scope",
        "slot",
        "mentions",
        "impressions",
        "impressions_reported",
        "engagement",
        "positive",
        "neutral",
        "negative",
    ),
    "metric_author_days": ("scope", "day", "source", "mentions"),
    "metric_dirty": ("id", "slot"),
    "mention_tags": ("mention_id", "kind", "created_at"),
    # An alert's evidence rows name a mention by id and say the alert in counts; the post stays in mentions.
    "alert_evidence": ("alert_key", "mention_id", "rank", "kind", "brand", "hour", "summary"),
    "mention_tags_log": ("id", "mention_id"),
    "mentions": (
        "id",
        "source",
        "external_id",
        "language",
        "created_at",
        "collected_at",
        "likes",
        "reposts",
        "replies",
        "quotes",
        "impressions",
        "score",
        "rating",
        "matched_queries",
        "signals",
        "raw_hash",
        "status",
        "snoozed_until",
        "flag",
        "flag_rule",
    ),
    "verdicts": (
        "mention_id",
        "sentiment",
        "sentiment_confidence",
        "intent",
        "intent_confidence",
        "needs_human",
        "model_version",
        "classified_at",
        "human_intent",
        "human_sentiment",
    ),
    "companies": ("id", "name", "domain", "classification", "competitor_of", "employees"),
    "contacts": ("created_at", "updated_at"),
    "contact_emails": ("contact_id",),
    "identities": ("id", "contact_id", "platform", "verified"),
    "memberships": ("contact_id", "company_id"),
    "consents": ("id", "contact_id", "purpose"),
    "links": ("mention_id", "company_id", "status"),
    "findings": (
        "id",
        "contact_id",
        "mention_id",
        "source",
        "external_id",
        "confidence",
        "link_confidence",
        "model_version",
        "created_at",
        "expires_at",
        "collected_at",
        "sentiment_confidence",
        "thresholds",
        "approved_by",
    ),
    "routes": (
        "id",
        "mention_id",
        "source",
        "external_id",
        "team",
        "channel",
        "reply_channel",
        "priority",
        "due_at",
        "rule",
        "status",
        "created_at",
        "model_version",
        "thresholds",
        "collected_at",
        "approved_by",
        "score",
    ),
    "deliveries": (
        "id",
        "route_id",
        "idempotency_key",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "claimed_by",  # host:pid of the sender holding it
        "claimed_until",
    ),
    "leads": (
        "mention_id",
        "company_id",
        "score",
        "signals",
        "state",
        "snoozed_until",
        "decided_at",
        "created_at",
        "updated_at",
    ),
    "crm_records": ("contact_id", "system", "synced_at"),
    "cursors": ("name", "position", "updated_at"),
    "quarantine": ("id", "source", "reason", "payload_hash", "created_at"),
    "tombstones": ("source", "external_id", "reason", "at"),
    # Source health and operator alerts name collectors (configured queries), never authors or posts.
    "source_runs": (
        "id",
        "name",
        "started_at",
        "finished_at",
        "ok",
        "items",
        "error",
        "rate_limit_remaining",
        "rate_limit_limit",
        "rate_limit_reset_at",
    ),
    "operator_alerts": ("id", "kind", "subject", "message", "raised_at", "resolved_at"),
    "task_runs": ("id", "task", "subject", "status", "attempts", "worker", "outcome", "created_at", "updated_at"),
    # The audit log names contacts by their pseudonymous id only; details never carry personal data.
    "audit_log": ("id", "at", "actor", "action", "subject_type", "subject_id", "detail"),
    # Tokens name staff members and services, never contacts; only the secret's hash is kept.
    "api_tokens": ("id", "name", "role", "token_hash", "created_at", "last_used_at", "revoked_at", "expires_at"),
    # A signed-in browser: hashes and times only, tied to a staff member's token.
    "web_sessions": ("id", "session_hash", "token_id", "csrf_token", "created_at", "expires_at"),
    # Labels and ids only (no text); rows are deleted with their mention by ON DELETE CASCADE.
    "triage_feedback": (
        "id",
        "mention_id",
        "action",
        "actor",
        "model_intent",
        "model_sentiment",
        "human_intent",
        "human_sentiment",
        "model_version",
        "at",
    ),
    # The team's work on a mention (issue 21). Teammates are staff, named as tokens name them; the rows go with their
    # mention (ON DELETE CASCADE, and erasure deletes them with the post).
    "mention_notes": ("id", "mention_id", "author", "created_at"),
    "status_history": ("id", "mention_id", "at", "actor", "action", "from_status", "to_status", "assignee", "team"),
    "canned_replies": ("id", "name", "team", "language", "body", "updated_by", "updated_at"),  # templates, no person
    "reply_claims": ("mention_id", "actor", "started_at", "expires_at"),
    "reply_records": ("id", "mention_id", "idempotency_key", "platform", "account", "sent_by", "sent", "at"),
    # The brand's own reply accounts (issue 21): no customer's data. The tokens are secrets, stored encrypted, never
    # exported or logged; disconnecting the account deletes the row (storage.reply_tokens).
    "platform_tokens": (
        "account",
        "platform",
        "user_id",
        "handle",
        "access_token",
        "refresh_token",
        "expires_at",
        "scope",
        "connected_by",
        "connected_at",
        "refreshed_at",
    ),
    # An authorization started by an admin and not yet finished: hashes, an encrypted verifier, minutes long.
    "oauth_pending": ("state_hash", "account", "verifier", "redirect_uri", "started_by", "created_at", "expires_at"),
}


def personal_columns(table: str) -> tuple[str, ...]:
    return tuple(c for entry in PERSONAL_DATA if entry.table == table for c in entry.columns)
