"""Keeping mentions, their verdicts, quarantined items and collector cursors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, tuple_

from classifiers.verdict import Intent, Sentiment, Verdict
from listener.base import Rejected
from listener.mention import MAX_QUARANTINE_PAYLOAD_CHARS, Author, Engagement, Mention, ReplyRef, clean_text
from storage.database import pairs_among, upsert
from storage.metrics import refresh_rollups
from storage.schema import cursors, links, mentions, now_utc, quarantine, tombstones, verdicts
from storage.tags import refresh_mention_tags

_ENGAGEMENT = ("likes", "reposts", "replies", "quotes", "impressions", "score")
# Columns a re-collection may refresh; triage state (status, assignee) belongs to people and is kept.
_REFRESHED = (
    "url", "author_name", "author_followers", "author_verified", "author_profile_url", "text", "title",
    "language", "collected_at", *_ENGAGEMENT, "rating", "reply_to_id", "thread_id", "local_id", "matched_queries",
    "signals", "raw_hash", "reply_ref",
)  # fmt: skip


def mention_row(mention: Mention) -> dict[str, Any]:
    return {
        "source": mention.source.value,
        "external_id": mention.external_id,
        "url": mention.url,
        "author_handle": mention.author.handle,
        "author_name": mention.author.name,
        "author_followers": mention.author.followers,
        "author_verified": mention.author.verified,
        "author_profile_url": mention.author.profile_url,
        "text": mention.text,
        "title": mention.title,
        "language": mention.language,
        "created_at": mention.created_at,
        "collected_at": mention.collected_at,
        **{name: getattr(mention.engagement, name) for name in _ENGAGEMENT},
        "rating": mention.rating,
        "reply_to_id": mention.reply_to_id,
        "thread_id": mention.thread_id,
        "local_id": mention.local_id,
        "matched_queries": list(mention.matched_queries),
        "signals": list(mention.signals),
        "raw_hash": mention.raw_hash,
        "reply_ref": mention.reply_ref.model_dump(mode="json", exclude_none=True) if mention.reply_ref else None,
        "status": "new",
    }


def verdict_from_row(row: Any) -> Verdict:
    """The model's verdict kept in a `verdicts` row (or a row selecting its columns). A row outer-joined to a
    mention without a verdict reads as a neutral "other" of no confidence from model "none"."""
    return Verdict(
        sentiment=Sentiment(row.sentiment or "neutral"),
        sentiment_confidence=row.sentiment_confidence or 0.0,
        intent=Intent(row.intent or "other"),
        intent_confidence=row.intent_confidence or 0.0,
        needs_human=bool(row.needs_human),
        reasons=tuple(row.reasons or ()),
        model_version=row.model_version or "none",
    )


def first_mention_at(connection: Connection) -> datetime | None:
    """When the oldest stored mention was posted (None when none is stored)."""
    return connection.execute(select(func.min(mentions.c.created_at))).scalar_one_or_none()


def mention_with_verdict(connection: Connection, source: str, external_id: str) -> tuple[Mention, Verdict]:
    """A stored mention and its verdict (`verdict_from_row`'s defaults when it has none)."""
    row = connection.execute(
        select(mentions, *(verdicts.c[name] for name in _VERDICT_COLUMNS))
        .select_from(mentions.outerjoin(verdicts, verdicts.c.mention_id == mentions.c.id))
        .where(mentions.c.source == source, mentions.c.external_id == external_id)
    ).one()
    return mention_from_row(row), verdict_from_row(row)


@dataclass(frozen=True)
class Classified:
    """A stored mention with its id, the model's verdict and the contact it is linked to (if any)."""

    id: int
    mention: Mention
    verdict: Verdict
    contact_id: str | None


def recent_classified(connection: Connection, limit: int) -> list[Classified]:
    """The `limit` newest classified mentions, newest first (what a routing dry run checks)."""
    rows = connection.execute(
        select(mentions, *(verdicts.c[name] for name in _VERDICT_COLUMNS), links.c.contact_id.label("linked_contact"))
        .join(verdicts, verdicts.c.mention_id == mentions.c.id)
        .outerjoin(links, links.c.mention_id == mentions.c.id)
        .order_by(mentions.c.created_at.desc(), mentions.c.id.desc())
        .limit(limit)
    )
    return [Classified(row.id, mention_from_row(row), verdict_from_row(row), row.linked_contact) for row in rows]


_VERDICT_COLUMNS = (
    "sentiment",
    "sentiment_confidence",
    "intent",
    "intent_confidence",
    "needs_human",
    "reasons",
    "model_version",
)


def mention_from_row(row: Any) -> Mention:
    return Mention(
        source=row.source,
        external_id=row.external_id,
        url=row.url,
        author=Author(
            handle=row.author_handle,
            name=row.author_name,
            followers=row.author_followers,
            verified=row.author_verified,
            profile_url=row.author_profile_url,
        ),
        text=row.text,
        title=row.title,
        language=row.language,
        created_at=row.created_at,
        collected_at=row.collected_at,
        engagement=Engagement(**{name: getattr(row, name) for name in _ENGAGEMENT}),
        rating=row.rating,
        reply_to_id=row.reply_to_id,
        thread_id=row.thread_id,
        local_id=row.local_id,
        matched_queries=tuple(row.matched_queries or ()),
        signals=tuple(row.signals or ()),
        raw_hash=row.raw_hash,
        reply_ref=ReplyRef.model_validate(ref) if (ref := getattr(row, "reply_ref", None)) else None,
    )


def tombstoned(connection: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    keys = list(keys)
    if not keys:
        return set()
    rows = connection.execute(
        select(tombstones.c.source, tombstones.c.external_id).where(
            pairs_among(connection, (tombstones.c.source, tombstones.c.external_id), keys)
        )
    )
    return {(r.source, r.external_id) for r in rows}


def save_mentions(connection: Connection, batch: Sequence[Mention]) -> dict[tuple[str, str], int]:
    """Upsert mentions on (source, external_id); returns their row ids.

    Mentions that were deleted on the platform or erased on request (tombstoned) are not stored again.
    Within one batch the last copy of a key wins.
    """
    unique = {m.key: m for m in batch}
    blocked = tombstoned(connection, unique)
    rows = [mention_row(m) for key, m in unique.items() if key not in blocked]
    # RETURNING gives each row's id, new or updated, with no second query.
    written = upsert(
        connection,
        mentions,
        rows,
        ("source", "external_id"),
        update=_REFRESHED,
        returning=("source", "external_id", "id"),
    )
    refresh_mention_tags(connection)  # their hashtags and campaign links, for campaigns (storage.tags)
    return {(r.source, r.external_id): r.id for r in written}


def mention_ids(connection: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = connection.execute(
            select(mentions.c.source, mentions.c.external_id, mentions.c.id).where(
                tuple_(mentions.c.source, mentions.c.external_id).in_(chunk)
            )
        )
        found.update({(r.source, r.external_id): r.id for r in rows})
    return found


def save_verdicts(connection: Connection, pairs: Sequence[tuple[int, Verdict]], at: datetime | None = None) -> None:
    """Store the current verdict per mention; a person's relabel (human_*) is kept across re-classification."""
    at = at or now_utc()
    rows = [
        {
            "mention_id": mention_id,
            "sentiment": v.sentiment.value,
            "sentiment_confidence": v.sentiment_confidence,
            "intent": v.intent.value,
            "intent_confidence": v.intent_confidence,
            "needs_human": v.needs_human,
            "reasons": list(v.reasons),
            "model_version": v.model_version,
            "classified_at": at,
        }
        for mention_id, v in pairs
    ]
    upsert(connection, verdicts, rows, ("mention_id",))
    # Verdicts are the last write of a pipeline batch: bring the metric rollups up to date in its transaction.
    refresh_rollups(connection)


def _kept_payload(payload: str) -> str:
    """What the quarantine keeps of a raw item: what both databases can store, at most a readable part of it."""
    payload = clean_text(payload)
    if len(payload) <= MAX_QUARANTINE_PAYLOAD_CHARS:
        return payload
    return f"{payload[:MAX_QUARANTINE_PAYLOAD_CHARS]}… [cut: {len(payload)} characters in all]"


def quarantine_items(connection: Connection, items: Sequence[Rejected]) -> int:
    """Keep rejected raw items with their reason; the same payload is kept once.

    A payload is kept as far as a database can hold it (no NUL, at most MAX_QUARANTINE_PAYLOAD_CHARS), so the
    item that was refused for holding one cannot fail its own quarantine."""
    rows = [
        {
            "source": clean_text(item.source)[:256],  # quarantine.source
            "reason": clean_text(item.reason),
            "payload": _kept_payload(item.payload),
            "payload_hash": hashlib.sha256(f"{item.source}\n{item.payload}".encode(errors="replace")).hexdigest(),
            "created_at": now_utc(),
        }
        for item in items
    ]
    upsert(connection, quarantine, rows, ("payload_hash",), update=())
    return len(rows)


def get_cursor(connection: Connection, name: str) -> str | None:
    return connection.execute(select(cursors.c.position).where(cursors.c.name == name)).scalar_one_or_none()


def set_cursor(connection: Connection, name: str, position: str | None) -> None:
    upsert(connection, cursors, [{"name": name, "position": position, "updated_at": now_utc()}], ("name",))
