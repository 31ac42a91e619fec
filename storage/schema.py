"""The database schema: one table per domain record. Alembic migrations are generated from this."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from listener.mention import MAX_HANDLE_CHARS, MAX_ID_CHARS, MAX_LANGUAGE_CHARS, MAX_NAME_CHARS


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} would be ambiguous; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Column sizes of what a Mention holds come from its limits (listener/mention.py): what it accepts, fits.
mentions = Table(
    "mentions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("external_id", String(MAX_ID_CHARS), nullable=False),
    Column("url", Text),
    Column("author_handle", String(MAX_HANDLE_CHARS), nullable=False),
    Column("author_name", String(MAX_NAME_CHARS)),
    Column("author_followers", BigInteger),
    Column("author_verified", Boolean),
    Column("author_profile_url", Text),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("language", String(MAX_LANGUAGE_CHARS)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("collected_at", UTCDateTime, nullable=False),
    Column("likes", BigInteger),
    Column("reposts", BigInteger),
    Column("replies", BigInteger),
    Column("quotes", BigInteger),
    Column("impressions", BigInteger),
    Column("score", BigInteger),
    Column("rating", Float),
    Column("reply_to_id", String(MAX_ID_CHARS)),
    Column("thread_id", String(MAX_ID_CHARS)),
    Column("local_id", String(MAX_ID_CHARS)),  # the post's id on the server read, where not external_id
    Column("matched_queries", JSON, nullable=False, default=list),
    Column("signals", JSON, nullable=False, default=list),
    Column("raw_hash", String(64), nullable=False, default=""),
    # Triage state, owned by the people working the inbox.
    Column("status", String(16), nullable=False, default="new"),
    Column("assignee", String(128)),
    Column("snoozed_until", UTCDateTime),
    UniqueConstraint("source", "external_id", name="uq_mentions_source_external_id"),
    Index("ix_mentions_created_at", "created_at"),
    Index("ix_mentions_author", "source", "author_handle"),
)

verdicts = Table(
    "verdicts",
    metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("sentiment", String(16), nullable=False),
    Column("sentiment_confidence", Float, nullable=False),
    Column("intent", String(32), nullable=False),
    Column("intent_confidence", Float, nullable=False),
    Column("needs_human", Boolean, nullable=False, default=False),
    Column("reasons", JSON, nullable=False, default=list),
    Column("model_version", String(128), nullable=False),
    Column("classified_at", UTCDateTime, nullable=False),
    # A person's correction (relabel); kept as training feedback.
    Column("human_intent", String(32)),
    Column("human_sentiment", String(16)),
    Column("relabelled_by", String(128)),
    Index("ix_verdicts_intent", "intent"),
)

companies = Table(
    "companies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("domain", String(256), unique=True),
    Column("classification", String(32), nullable=False, default="other"),
    Column("competitor_of", String(256)),
)
companies.append_column(Column("employees", Integer))  # the CRM's company size, where it holds one (0012)

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(512)),
    Column("role", String(256)),  # a role held at no company (a creator, a freelancer)
    Column("segment", String(64)),
    Column("preferred_channel", String(64)),
    Column("external_ref", String(128)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

contact_emails = Table(
    "contact_emails",
    metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(320), primary_key=True),
    Index("ix_contact_emails_email", "email"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("handle", String(256), nullable=False),
    Column("handle_key", String(256), nullable=False),  # normalised for lookup (lowercase, no '@')
    Column("evidence", String(256), nullable=False),
    Column("verified", Boolean, nullable=False, default=False),
    UniqueConstraint("platform", "handle_key", name="uq_identities_platform_handle_key"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(256)),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("basis", String(32), nullable=False),
    Column("source", String(256), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime),
    Column("reviewed_at", UTCDateTime),
    Column("review_due", UTCDateTime),
    UniqueConstraint("contact_id", "purpose", "basis", "source", name="uq_consents_contact_purpose_basis_source"),
)

links = Table(
    "links",
    metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE")),
    Column("company_id", ForeignKey("companies.id", ondelete="CASCADE")),
    Column("evidence", String(512), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("status", String(16), nullable=False, default="auto"),  # auto | confirmed | unlinked
    Column("decided_by", String(128)),
    Index("ix_links_contact", "contact_id"),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE")),
    Column("source", String(32), nullable=False),
    Column("external_id", String(MAX_ID_CHARS), nullable=False),
    Column("url", Text),
    Column("excerpt", String(280), nullable=False),
    Column("sentiment", String(16), nullable=False),
    Column("intent", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("link_evidence", String(512), nullable=False),
    Column("link_confidence", Float, nullable=False),
    Column("basis", String(256), nullable=False),
    Column("model_version", String(128)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    UniqueConstraint("contact_id", "source", "external_id", name="uq_findings_contact_source_external_id"),
    Index("ix_findings_expires_at", "expires_at"),
)

routes = Table(
    "routes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(32), nullable=False),
    Column("external_id", String(MAX_ID_CHARS), nullable=False),
    Column("team", String(32), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("reply_channel", String(64)),
    Column("priority", String(16), nullable=False),
    Column("due_at", UTCDateTime),
    Column("rule", String(128), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("status", String(16), nullable=False, default="open"),  # open | done
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "external_id", "team", name="uq_routes_source_external_id_team"),
    Index("ix_routes_team_status", "team", "status"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("route_id", ForeignKey("routes.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", String(128), nullable=False, unique=True),
    Column("channel", String(64), nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("payload", JSON),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_deliveries_status_next", "status", "next_attempt_at"),
)

aggregate_ratings = Table(
    "aggregate_ratings",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("collector", String(256), nullable=False),  # the review collector ('<source>:<page url>')
    Column("url", Text, nullable=False),  # the review page as configured
    Column("rating", Float),  # 0–5, as the page states it
    Column("count", BigInteger),  # reviews or ratings the page says it summarises
    Column("observed_at", UTCDateTime, nullable=False),
    Index("ix_aggregate_ratings_collector", "collector", "observed_at"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("position", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("external_id", String(MAX_ID_CHARS), primary_key=True),
    Column("reason", String(256), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(512), nullable=False),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_audit_subject", "subject_type", "subject_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),  # the staff member or service it was issued to
    Column("role", String(16), nullable=False),  # admin | service | sales | marketing | privacy | communications
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the secret; the secret is not kept
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

triage_feedback = Table(
    "triage_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Goes with its mention: erasing the mention removes the feedback.
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),  # assign | resolve | snooze | relabel
    Column("actor", String(128), nullable=False),
    Column("model_intent", String(32)),
    Column("model_sentiment", String(16)),
    Column("human_intent", String(32)),
    Column("human_sentiment", String(16)),
    Column("model_version", String(128)),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_triage_feedback_mention", "mention_id"),
)


def now_utc() -> datetime:
    return datetime.now(UTC)


# Appended by the distributed runtime (issue 6): one row per Celery task, whatever the broker forgets.
task_runs = Table(
    "task_runs",
    metadata,
    Column("id", String(64), primary_key=True),  # the Celery task id; kept across retries and redeliveries
    Column("task", String(128), nullable=False),  # e.g. overheard.collect
    Column("subject", String(256), nullable=False),  # what it works on: a source name, "deliveries", a page
    Column("arguments", JSON),  # what re-enqueueing it needs; a pushed page's mentions
    Column("status", String(16), nullable=False),  # queued | running | retrying | done | dead
    Column("attempts", Integer, nullable=False, default=0),  # attempts started, killed ones included
    Column("worker", String(256)),  # host:pid of the process running the latest attempt
    Column("last_error", Text),  # why the latest attempt failed, or why it was dead-lettered
    Column("outcome", Text),  # what the finished run did, in words
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_task_runs_status_updated", "status", "updated_at"),
)


# Appended by reporting (issue 8): covering indexes, so the metric queries of a period (storage/metrics/)
# read index entries in time order and never the wide rows (text, JSON) of mentions and verdicts.
Index(
    "ix_mentions_metrics",
    mentions.c.created_at,
    mentions.c.source,
    mentions.c.author_handle,
    mentions.c.author_followers,
    mentions.c.likes,
    mentions.c.reposts,
    mentions.c.replies,
    mentions.c.quotes,
    mentions.c.impressions,
    mentions.c.rating,
)
Index("ix_verdicts_metrics", verdicts.c.mention_id, verdicts.c.sentiment, verdicts.c.human_sentiment)


# Appended by trust features (issue 9): source health, operator alerts, and the audit record of enrichments.
# Each sweep of a collector leaves one row; health and "items in the last hour/day" are read from them.
source_runs = Table(
    "source_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False),  # the collector's name, e.g. 'masto:#hoot'
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("items", Integer, nullable=False, default=0),  # mentions the sweep returned (stored or tombstoned)
    Column("error", Text),  # why the sweep failed, as the source said it
    Column("rate_limit_remaining", Integer),  # requests left in the platform's window after the sweep
    Column("rate_limit_limit", Integer),  # the window's size, when the platform says it
    Column("rate_limit_reset_at", UTCDateTime),  # when the window resets
    Index("ix_source_runs_name_finished", "name", "finished_at"),
)

# Problems for the person running Overheard (never routed to business teams); one open alert per subject.
operator_alerts = Table(
    "operator_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # source_stopped | source_failing
    Column("subject", String(256), nullable=False),  # the collector's name
    Column("message", Text, nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Index("ix_operator_alerts_open", "subject", "resolved_at"),
)

# Where each finding and route came from, so it can explain itself (migration 0006_trust adds these).
findings.append_column(Column("collected_at", UTCDateTime))
findings.append_column(Column("sentiment_confidence", Float))
findings.append_column(Column("thresholds", JSON))  # the classifier's needs_human thresholds at the time
findings.append_column(Column("reasons", JSON))  # the verdict's reasons (may quote the post)
findings.append_column(Column("approved_by", String(256)))  # 'rule:<name>' or 'person:<who>'
routes.append_column(Column("model_version", String(128)))
routes.append_column(Column("thresholds", JSON))
routes.append_column(Column("collected_at", UTCDateTime))
routes.append_column(Column("evidence", JSON))  # url, verdict with confidences and reasons, link and its confidence
routes.append_column(Column("basis", String(256)))  # the consent or lawful basis, or why none was needed
routes.append_column(Column("approved_by", String(256)))


# Appended by reporting at scale (issue 8, migration 0007_metric_rollups): pre-aggregates the dashboard reads
# instead of every mention of a period. Database triggers log the 15-minute slot of every change to a mention
# (its noise flag included, 0013_spam_flag_rollups) or a verdict in `metric_dirty`, whichever code path (or
# hand-written SQL) makes it, in the same transaction; `storage.metrics.refresh_rollups` recomputes the logged
# slots from the mentions, and readers treat slots still logged as not rolled up. A `scope` is '' (every mention) or one matched query name ('brand:Lumora').
METRIC_SLOT_SECONDS = 900
"""A rollup slot is 15 minutes: every time zone's hour, day and week starts on a slot boundary (+05:30, +05:45)."""

metric_slots = Table(
    "metric_slots",
    metadata,
    Column("scope", String(256), primary_key=True),
    Column("slot", BigInteger, primary_key=True),  # epoch seconds // METRIC_SLOT_SECONDS (UTC)
    Column("mentions", BigInteger, nullable=False),
    Column("impressions", BigInteger, nullable=False),  # summed where the platform reports them
    Column("impressions_reported", BigInteger, nullable=False),  # mentions whose platform reported impressions
    Column("engagement", BigInteger, nullable=False),  # likes + reposts + replies + quotes
    Column("positive", BigInteger, nullable=False),  # by the person's relabel, else the classifier's
    Column("neutral", BigInteger, nullable=False),
    Column("negative", BigInteger, nullable=False),  # unclassified = mentions - positive - neutral - negative
)

# Distinct authors and potential reach do not add up across periods; an author's largest follower count per
# UTC day does (max of maxima), so any period of whole days reads one row per author and day.
metric_author_days = Table(
    "metric_author_days",
    metadata,
    Column("scope", String(256), primary_key=True),
    Column("day", BigInteger, primary_key=True),  # epoch seconds // 86400 (UTC)
    Column("source", String(32), primary_key=True),
    Column("author_handle", String(256), primary_key=True),
    Column("followers", BigInteger),  # the largest count reported that day; None when the platform reports none
    Column("mentions", BigInteger, nullable=False),
    # Covering: a period's distinct authors and reach read index entries only (a long tail makes ~1 row a mention).
    Index("ix_metric_author_days_reach", "scope", "day", "source", "author_handle", "followers"),
)

metric_dirty = Table(
    "metric_dirty",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("slot", BigInteger, nullable=False),  # a slot whose rollup rows may be stale
    Index("ix_metric_dirty_slot", "slot"),
)

# Appended by campaigns at scale (issue 8, migration 0008_mention_tags): which hashtags and `utm_campaign` values
# each mention carries, extracted once (storage.tags) instead of scanning the text of a period at query time.
# A trigger logs every mention stored, or whose title, text, url or time changed, in `mention_tags_log`, in the
# same transaction; `storage.tags.refresh_mention_tags` re-extracts the logged mentions, and readers read a
# mention still logged from its text. Rows go with their mention (ON DELETE CASCADE).
TAG_VALUE_LENGTH = 200
"""Longer hashtags or campaign values are not stored; a campaign asked for by one is found by its text."""

mention_tags = Table(
    "mention_tags",
    metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # 'hashtag' | 'utm_campaign'
    Column("value", String(TAG_VALUE_LENGTH), primary_key=True),  # lower case, without '#' or 'utm_campaign='
    Column("created_at", UTCDateTime, nullable=False),  # the mention's, so a period is one index range
    Index("ix_mention_tags_lookup", "kind", "value", "created_at"),
)

mention_tags_log = Table(
    "mention_tags_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("mention_id", BigInteger, nullable=False),  # a mention whose tag rows may be missing or stale
    Index("ix_mention_tags_log_mention", "mention_id"),
)

# Web sign-in (issue 23, migration 0010_web_sessions): a token's expiry, and web sessions kept apart from API
# tokens, so signing out ends the session on the server and the cookie never holds an API token.
api_tokens.append_column(Column("expires_at", UTCDateTime))  # NULL: issued before tokens expired; never
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_hash", String(64), nullable=False, unique=True),  # sha256 of the cookie's secret
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=False),  # who signed in with it
    Column("csrf_token", String(64), nullable=False),  # every form of this session posts it back
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_token_id", "token_id"),
)

# Delivery claims (issue 27, migration 0010_delivery_claims): a sender claims the deliveries it is about to send
# (one atomic UPDATE), so two senders — two `overheard collect` processes, a CLI and a worker — never send one twice.
# A claim is a lease: a sender that dies leaves its claims to lapse, and another sender takes them then.
deliveries.append_column(Column("claimed_by", String(256)))  # host:pid:token of the sender holding it
deliveries.append_column(Column("claimed_until", UTCDateTime))  # the claim lapses then, if never saved


# Leads and CRM sync (issue 22, migration 0011_leads). A lead is a mention routed to sales, with its score; sales
# accept it, dismiss it (with a reason, kept as training feedback) or snooze it, and it has an owner. A delivery's
# `receipt` holds what a CRM acknowledged storing (HubSpot object ids), so a retry reuses them and the page can
# show them; `crm_records` keeps what the CRM says of a contact (its id there, owner, lifecycle stage).
leads = Table(
    "leads",
    metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("contact_id", ForeignKey("contacts.id", ondelete="SET NULL")),  # only when consent allows the link
    Column("company_id", ForeignKey("companies.id", ondelete="SET NULL")),
    Column("score", Integer, nullable=False),  # 0–100 (enrichers.leads)
    Column("parts", JSON, nullable=False, default=list),  # [{name, points, weight, why}]; `why` may quote the post
    Column("signals", JSON, nullable=False, default=list),  # buying-signal kinds found
    Column("explanation", Text, nullable=False),
    Column("state", String(16), nullable=False, default="new"),  # new | accepted | dismissed | snoozed
    Column("owner", String(128)),  # the salesperson who owns it
    Column("dismiss_reason", Text),  # why it is not a lead (training feedback)
    Column("snoozed_until", UTCDateTime),
    Column("decided_by", String(128)),
    Column("decided_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_leads_state_score", "state", "score"),
    Index("ix_leads_contact", "contact_id"),
)
deliveries.append_column(Column("receipt", JSON))  # ids a CRM returned for what it stored, kept across retries
crm_records = Table(
    "crm_records",
    metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("system", String(32), primary_key=True),  # 'hubspot'
    Column("external_id", String(128), nullable=False),  # the contact's id in that CRM
    Column("company_external_id", String(128)),  # the company's id there, when synced
    Column("owner_id", String(128)),  # the CRM user who owns the contact (HubSpot hubspot_owner_id)
    Column("lifecycle_stage", String(64)),  # e.g. lead, marketingqualifiedlead, opportunity, customer
    Column("synced_at", UTCDateTime, nullable=False),
)

# The service workspace (issue 21, migration 0011_workspace): what replying on the platform needs, why a mention is
# kept out of the queues, each route's priority score, and the team's work on a mention — notes, canned replies,
# who is replying now, the replies sent (or failed, their draft kept) and every change of status or assignee.
mentions.append_column(Column("reply_ref", JSON))  # listener.mention.ReplyRef: Mastodon's local id, Bluesky's cids
mentions.append_column(Column("flag", String(16)))  # enrichers.noise.NoiseKind: owned | spam | competitor
mentions.append_column(Column("flag_rule", String(64)))  # the rule that flagged it, e.g. 'crypto_airdrop'
mentions.append_column(Column("flag_reason", Text))  # why, quoting the words found in the post
routes.append_column(Column("score", Integer))  # enrichers.priority: 0-100, higher first
routes.append_column(Column("score_parts", JSON))  # [{name, points, reason}], the reasons may quote the post
Index("ix_routes_team_score", routes.c.team, routes.c.status, routes.c.score)

mention_notes = Table(
    "mention_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(128), nullable=False),  # the teammate who wrote it
    Column("body", Text, nullable=False),  # internal only, never sent; may name the customer
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_mention_notes_mention", "mention_id", "created_at"),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),  # the teammate, or 'system'
    Column("action", String(32), nullable=False),  # status | assign | reply_sent | reply_failed
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("assignee", String(128)),  # for 'assign': the teammate it was given to (None: unassigned)
    Column("team", String(32)),  # the team whose route changed, when one did
    Index("ix_status_history_mention", "mention_id", "at"),
)

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("team", String(32)),  # None: every team may use it
    Column("language", String(16)),  # ISO 639-1; None: any
    Column("body", Text, nullable=False),  # with {variables}, e.g. 'Hi {name}, order {order_number} ...'
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

reply_claims = Table(
    "reply_claims",
    metadata,
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("actor", String(128), primary_key=True),  # a teammate writing a reply now
    Column("started_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # renewed while they type; gone when they send or leave
)

reply_records = Table(
    "reply_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", String(128), nullable=False, unique=True),  # one attempt: a re-run changes nothing
    Column("platform", String(32), nullable=False),
    Column("account", String(128), nullable=False),  # the reply account's name in overheard.yaml
    Column("sent_by", String(128), nullable=False),  # the teammate who sent it
    Column("text", Text, nullable=False),  # what was sent, or the draft kept when it failed
    Column("sent", Boolean, nullable=False),
    Column("post_id", String(MAX_ID_CHARS)),  # the reply's id on the platform
    Column("post_url", Text),
    Column("reason", Text),  # why it failed, as the platform said it
    Column("at", UTCDateTime, nullable=False),
    Index("ix_reply_records_mention", "mention_id", "at"),
)

# Appended by the marketing dashboard (issue 22, migration 0012_alert_evidence): the mentions that drove each
# spike or storm alert, so the alert links to them and marketing and communications may read exactly these
# posts (and no other record). Rows go with their mention.
alert_evidence = Table(
    "alert_evidence",
    metadata,
    Column("alert_key", String(256), primary_key=True),  # 'negative_share:Lumora:2026-11-12T14:00Z'
    Column("mention_id", ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True),
    Column("rank", Integer, nullable=False),  # 0 = the mention that drove the alert most
    Column("kind", String(32), nullable=False),  # 'volume' | 'negative_share'
    Column("brand", String(256), nullable=False),
    Column("hour", UTCDateTime, nullable=False),  # start of the alert's hour (UTC)
    Column("summary", Text, nullable=False),  # the alert in words (counts and baseline, no person named)
    Index("ix_alert_evidence_hour", "hour"),
    Index("ix_alert_evidence_mention", "mention_id"),
)

# Reply accounts connected with OAuth (issue 21, migration 0013_platform_tokens): the brand's own X account, its
# token pair encrypted with the Fernet key of `reply_token_key_env` (never stored in the clear, never exported),
# and the authorizations started and not yet finished (their `state` kept as a hash, used once).
platform_tokens = Table(
    "platform_tokens",
    metadata,
    Column("account", String(128), primary_key=True),  # the reply account's name in overheard.yaml
    Column("platform", String(32), nullable=False),
    Column("user_id", String(64)),  # the platform's id of the brand's account
    Column("handle", String(MAX_HANDLE_CHARS)),  # the brand's account, shown as 'connected as @handle'
    Column("access_token", Text, nullable=False),  # Fernet ciphertext
    Column("refresh_token", Text),  # Fernet ciphertext; X rotates it on every refresh
    Column("expires_at", UTCDateTime, nullable=False),  # when the access token lapses
    Column("scope", String(256), nullable=False, default=""),
    Column("connected_by", String(128), nullable=False),  # the admin who connected it
    Column("connected_at", UTCDateTime, nullable=False),
    Column("refreshed_at", UTCDateTime),
)

oauth_pending = Table(
    "oauth_pending",
    metadata,
    Column("state_hash", String(64), primary_key=True),  # sha256 of the `state` sent to the platform
    Column("account", String(128), nullable=False),
    Column("verifier", Text, nullable=False),  # the PKCE code verifier, Fernet ciphertext
    Column("redirect_uri", Text, nullable=False),  # the token request must name the same one
    Column("started_by", String(128), nullable=False),  # only they may finish it
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
