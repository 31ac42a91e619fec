"""Platform deletions flow downstream: a post deleted (or made unreachable) on its platform leaves us too.

`apply_deletion` removes, in the caller's transaction, the stored mention and everything built on it —
its verdict and reasons, its link, every contact's finding, its routes and their delivery payloads, a
pushed page still waiting in `task_runs`, a quarantined raw copy — and keeps a tombstone (source,
external id, reason, time) with no personal data, so a later collection does not store it again. The
audit log records what was removed, by table, without the content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Text, cast, delete, select, update

from storage.audit import record
from storage.database import upsert
from storage.metrics import refresh_rollups
from storage.schema import (
    deliveries,
    findings,
    links,
    mention_tags,
    mentions,
    now_utc,
    quarantine,
    routes,
    task_runs,
    tombstones,
    triage_feedback,
    verdicts,
)

log = logging.getLogger("overheard.deletions")
_QUARANTINE_MATCH_MIN = 6


@dataclass(frozen=True)
class StoredPost:
    """A stored mention as the re-check needs it: its key, where it lives, when we collected it."""

    source: str
    external_id: str
    url: str | None
    collected_at: datetime
    local_id: str | None = None  # its id on the server it was read from, where not external_id (Mastodon)
    server: str | None = None  # the host of that server, where the platform has several (Mastodon instances)


@dataclass
class DeletionReport:
    """What one platform deletion removed, row counts by table (no content)."""

    source: str
    external_id: str
    reason: str
    removed: dict[str, int] = field(default_factory=dict)


def _scrub_pushed_pages(connection: Connection, source: str, external_id: str) -> int:
    """Take the post out of pages pushed to workers and not yet stored (task_runs.arguments)."""
    changed = 0
    rows = connection.execute(
        select(task_runs.c.id, task_runs.c.arguments).where(
            task_runs.c.arguments.is_not(None), cast(task_runs.c.arguments, Text).contains(external_id, autoescape=True)
        )
    )
    for run_id, arguments in list(rows):
        if not isinstance(arguments, dict) or not isinstance(arguments.get("mentions"), list):
            continue
        kept = [
            m
            for m in arguments["mentions"]
            if not (isinstance(m, dict) and m.get("source") == source and m.get("external_id") == external_id)
        ]
        if len(kept) != len(arguments["mentions"]):
            connection.execute(
                update(task_runs).where(task_runs.c.id == run_id).values(arguments={**arguments, "mentions": kept})
            )
            changed += 1
    return changed


def apply_deletion(
    connection: Connection,
    source: str,
    external_id: str,
    reason: str,
    *,
    actor: str = "recheck",
    at: datetime | None = None,
) -> DeletionReport:
    """Remove a post the platform no longer shows, and everything built on it; keep only a tombstone.

    `reason` says what the platform showed, e.g. 'deleted_on_platform (HTTP 404)'. Idempotent: applying
    the same deletion twice removes nothing the second time and keeps one tombstone.
    """
    at = at or now_utc()
    report = DeletionReport(source, external_id, reason)
    mention_id = connection.execute(
        select(mentions.c.id).where(mentions.c.source == source, mentions.c.external_id == external_id)
    ).scalar_one_or_none()
    route_ids = select(routes.c.id).where(routes.c.source == source, routes.c.external_id == external_id)
    steps: list[tuple[str, Any]] = [
        ("deliveries", delete(deliveries).where(deliveries.c.route_id.in_(route_ids))),
        ("routes", delete(routes).where(routes.c.source == source, routes.c.external_id == external_id)),
        ("findings", delete(findings).where(findings.c.source == source, findings.c.external_id == external_id)),
    ]
    if mention_id is not None:
        steps += [
            ("verdicts", delete(verdicts).where(verdicts.c.mention_id == mention_id)),
            ("links", delete(links).where(links.c.mention_id == mention_id)),
            ("triage_feedback", delete(triage_feedback).where(triage_feedback.c.mention_id == mention_id)),
            ("mention_tags", delete(mention_tags).where(mention_tags.c.mention_id == mention_id)),
            ("mentions", delete(mentions).where(mentions.c.id == mention_id)),
        ]
    # A raw copy that failed validation is found by its id in the payload; ids shorter than this could
    # match unrelated items by chance (quarantine is kept for days only, and only retention removes it).
    if len(external_id) >= _QUARANTINE_MATCH_MIN:
        steps.append(
            ("quarantine", delete(quarantine).where(quarantine.c.payload.contains(external_id, autoescape=True)))
        )
    for table, statement in steps:
        report.removed[table] = connection.execute(statement).rowcount or 0
    report.removed["task_runs"] = _scrub_pushed_pages(connection, source, external_id)
    refresh_rollups(connection, wait=True)  # the author's rollup row goes with the post, in this transaction
    upsert(
        connection,
        tombstones,
        [{"source": source, "external_id": external_id, "reason": reason, "at": at}],
        ("source", "external_id"),
        update=(),  # the first reason and time are kept
    )
    record(
        connection,
        actor,
        "platform.deletion",
        "mention",
        f"{source}:{external_id}",
        reason=reason,
        removed={k: v for k, v in report.removed.items() if v},
    )
    log.info("mention.deleted_on_platform", extra={"source": source, "reason": reason, "removed": report.removed})
    return report


def _server(reply_ref: object) -> str | None:
    """The instance host a Mastodon mention's local id belongs to (kept in its reply reference)."""
    server = reply_ref.get("instance") if isinstance(reply_ref, dict) else None
    return server if isinstance(server, str) else None


def recent_posts(connection: Connection, since: datetime, per_source: int = 1000) -> dict[str, list[StoredPost]]:
    """Stored mentions collected after `since`, newest first, at most `per_source` per source (the pool
    the re-check samples from)."""
    found: dict[str, list[StoredPost]] = {}
    sources = connection.execute(select(mentions.c.source).distinct()).scalars().all()
    for source in sorted(sources):
        rows = connection.execute(
            select(
                mentions.c.source,
                mentions.c.external_id,
                mentions.c.url,
                mentions.c.collected_at,
                mentions.c.local_id,
                mentions.c.reply_ref,
            )
            .where(mentions.c.source == source, mentions.c.collected_at >= since)
            .order_by(mentions.c.collected_at.desc(), mentions.c.id.desc())
            .limit(per_source)
        )
        posts = [
            StoredPost(r.source, r.external_id, r.url, r.collected_at, r.local_id, _server(r.reply_ref)) for r in rows
        ]
        if posts:
            found[source] = posts
    return found
