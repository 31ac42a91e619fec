"""The team's work on a mention: assignment, status history, internal notes, canned replies, who is replying now,
and the replies sent from Overheard (or failed, their draft kept).

Each function runs in the caller's transaction and writes what it changed to `status_history`, so a mention's page
can show who did what when. Handlers call these; the permission check and the audit record stay with the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, and_, case, delete, func, or_, select, update

from enrichers.priority import DueState, PriorityConfig, due_state, score_now
from enrichers.replies import ReplyResult, can_reply
from enrichers.replies.canned import variables_of
from storage.database import upsert
from storage.schema import (
    canned_replies,
    mention_notes,
    mentions,
    reply_claims,
    reply_records,
    routes,
    status_history,
    verdicts,
)

STATUSES = ("new", "assigned", "snoozed", "replied", "resolved")
"""What a mention's status may be; 'replied' is set when a reply was sent from Overheard."""

REPLY_CLAIM = timedelta(minutes=5)
"""How long 'I am replying' holds without being renewed (the composer renews it while someone types)."""


class WorkspaceError(ValueError):
    """A change that cannot be made; the message says what was wrong."""


@dataclass(frozen=True)
class StatusChange:
    """One row of a mention's history."""

    at: datetime
    actor: str
    action: str
    """'status', 'assign', 'reply_sent' or 'reply_failed'."""
    from_status: str | None
    to_status: str | None
    assignee: str | None
    team: str | None


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class CannedReply:
    id: int
    name: str
    team: str | None
    language: str | None
    body: str
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class ReplyRecord:
    """A reply sent from Overheard, or a failed attempt whose text is kept as the draft."""

    id: int
    platform: str
    account: str
    sent_by: str
    text: str
    sent: bool
    post_id: str | None
    post_url: str | None
    reason: str | None
    at: datetime


def _status_of(connection: Connection, mention_id: int) -> tuple[str, str | None]:
    row = connection.execute(select(mentions.c.status, mentions.c.assignee).where(mentions.c.id == mention_id)).first()
    if row is None:
        raise WorkspaceError(f"mention {mention_id} does not exist (it may have been erased or deleted)")
    return row.status, row.assignee


def _history(
    connection: Connection, mention_id: int, at: datetime, actor: str, action: str, **values: str | None
) -> None:
    connection.execute(
        status_history.insert().values(mention_id=mention_id, at=at, actor=actor, action=action, **values)
    )


# ---- assignment and status --------------------------------------------------------------------------------------


def assign_to(connection: Connection, mention_id: int, teammate: str | None, actor: str, at: datetime) -> None:
    """Give the mention to `teammate` (None: back to the team's queue); the history says who did it."""
    teammate = teammate.strip() if teammate else None
    status, _ = _status_of(connection, mention_id)
    new_status = "assigned" if teammate else ("new" if status == "assigned" else status)
    connection.execute(update(mentions).where(mentions.c.id == mention_id).values(assignee=teammate, status=new_status))
    _history(connection, mention_id, at, actor, "assign", from_status=status, to_status=new_status, assignee=teammate)


def set_status(
    connection: Connection, mention_id: int, status: str, actor: str, at: datetime, team: str | None = None
) -> None:
    """Move the mention to `status`; resolving closes its routes (only `team`'s when given), reopening opens them."""
    if status not in STATUSES:
        raise WorkspaceError(f"status '{status}' is not one of {', '.join(STATUSES)}")
    before, _ = _status_of(connection, mention_id)
    values: dict[str, object] = {"status": status}
    if status != "snoozed":
        values["snoozed_until"] = None
    connection.execute(update(mentions).where(mentions.c.id == mention_id).values(**values))
    if status == "resolved" or before == "resolved":
        closing = update(routes).where(routes.c.mention_id == mention_id)
        if team is not None:
            closing = closing.where(routes.c.team == team)
        connection.execute(closing.values(status="done" if status == "resolved" else "open"))
    _history(connection, mention_id, at, actor, "status", from_status=before, to_status=status, team=team)


def history(connection: Connection, mention_id: int) -> list[StatusChange]:
    """Every change of the mention's status or assignee, and every reply attempt, oldest first."""
    rows = connection.execute(
        select(status_history)
        .where(status_history.c.mention_id == mention_id)
        .order_by(status_history.c.at, status_history.c.id)
    )
    return [StatusChange(r.at, r.actor, r.action, r.from_status, r.to_status, r.assignee, r.team) for r in rows]


# ---- internal notes ---------------------------------------------------------------------------------------------

MAX_NOTE_CHARS = 10_000


def add_note(connection: Connection, mention_id: int, author: str, body: str, at: datetime) -> int:
    """Keep an internal note (never sent to the customer); returns its id."""
    text = body.strip()
    if not text:
        raise WorkspaceError("a note needs some text")
    if len(text) > MAX_NOTE_CHARS:
        raise WorkspaceError(f"a note may have at most {MAX_NOTE_CHARS} characters; this one has {len(text)}")
    _status_of(connection, mention_id)
    result = connection.execute(
        mention_notes.insert().values(mention_id=mention_id, author=author, body=text, created_at=at)
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])


def notes_for(connection: Connection, mention_id: int) -> list[Note]:
    rows = connection.execute(
        select(mention_notes)
        .where(mention_notes.c.mention_id == mention_id)
        .order_by(mention_notes.c.created_at, mention_notes.c.id)
    )
    return [Note(r.id, r.author, r.body, r.created_at) for r in rows]


# ---- canned replies ---------------------------------------------------------------------------------------------


def save_canned_reply(
    connection: Connection,
    name: str,
    body: str,
    actor: str,
    at: datetime,
    team: str | None = None,
    language: str | None = None,
) -> None:
    """Create or replace the canned reply called `name` (its body is checked as a template first)."""
    if not name.strip() or not body.strip():
        raise WorkspaceError("a canned reply needs a name and a text")
    variables_of(body)  # raises TemplateError naming the bad variable
    upsert(
        connection,
        canned_replies,
        [
            {
                "name": name.strip(),
                "team": team,
                "language": language,
                "body": body,
                "updated_by": actor,
                "updated_at": at,
            }
        ],
        ("name",),
        update=("team", "language", "body", "updated_by", "updated_at"),
    )


def canned_replies_for(
    connection: Connection, team: str | None = None, language: str | None = None
) -> list[CannedReply]:
    """The canned replies a team may use (its own and everyone's), in a language (its own and any), by name."""
    query = select(canned_replies).order_by(canned_replies.c.name)
    if team is not None:
        query = query.where((canned_replies.c.team == team) | canned_replies.c.team.is_(None))
    if language is not None:
        query = query.where((canned_replies.c.language == language) | canned_replies.c.language.is_(None))
    return [
        CannedReply(r.id, r.name, r.team, r.language, r.body, r.updated_by, r.updated_at)
        for r in connection.execute(query)
    ]


def delete_canned_reply(connection: Connection, name: str) -> bool:
    return bool(connection.execute(delete(canned_replies).where(canned_replies.c.name == name)).rowcount)


# ---- "someone else is replying" -------------------------------------------------------------------------------


def start_replying(
    connection: Connection, mention_id: int, actor: str, at: datetime, hold: timedelta = REPLY_CLAIM
) -> list[str]:
    """Say `actor` is writing a reply (or renew it); returns the other teammates replying to it now, for the warning."""
    _status_of(connection, mention_id)
    connection.execute(delete(reply_claims).where(reply_claims.c.expires_at <= at))
    upsert(
        connection,
        reply_claims,
        [{"mention_id": mention_id, "actor": actor, "started_at": at, "expires_at": at + hold}],
        ("mention_id", "actor"),
        update=("expires_at",),
    )
    return others_replying(connection, mention_id, actor, at)


def others_replying(connection: Connection, mention_id: int, actor: str | None, at: datetime) -> list[str]:
    """Teammates other than `actor` with an unexpired claim on replying to the mention, earliest first."""
    rows = connection.execute(
        select(reply_claims.c.actor)
        .where(reply_claims.c.mention_id == mention_id, reply_claims.c.expires_at > at)
        .order_by(reply_claims.c.started_at, reply_claims.c.actor)
    )
    return [r.actor for r in rows if r.actor != actor]


def stop_replying(connection: Connection, mention_id: int, actor: str) -> None:
    connection.execute(
        delete(reply_claims).where(reply_claims.c.mention_id == mention_id, reply_claims.c.actor == actor)
    )


# ---- replies sent ------------------------------------------------------------------------------------------------


def record_reply(
    connection: Connection,
    mention_id: int,
    result: ReplyResult,
    text: str,
    account: str,
    sent_by: str,
    at: datetime,
    idempotency_key: str,
) -> ReplyRecord:
    """Keep one reply attempt on the thread (once per `idempotency_key`): a sent one moves the mention to 'replied'
    and ends the sender's claim; a failed one keeps its text as the draft and the reason. Returns the record."""
    existing = connection.execute(
        select(reply_records).where(reply_records.c.idempotency_key == idempotency_key)
    ).first()
    if existing is None:
        before, _ = _status_of(connection, mention_id)
        connection.execute(
            reply_records.insert().values(
                mention_id=mention_id,
                idempotency_key=idempotency_key,
                platform=result.platform,
                account=account,
                sent_by=sent_by,
                text=text if result.sent else (result.draft or text),
                sent=result.sent,
                post_id=result.post_id,
                post_url=result.url,
                reason=result.reason,
                at=at,
            )
        )
        if result.sent:
            after = before if before == "resolved" else "replied"
            connection.execute(update(mentions).where(mentions.c.id == mention_id).values(status=after))
            stop_replying(connection, mention_id, sent_by)
            _history(connection, mention_id, at, sent_by, "reply_sent", from_status=before, to_status=after)
        else:
            _history(connection, mention_id, at, sent_by, "reply_failed", from_status=before, to_status=before)
    [record] = replies_for(connection, mention_id, idempotency_key=idempotency_key)
    return record


def replies_for(connection: Connection, mention_id: int, idempotency_key: str | None = None) -> list[ReplyRecord]:
    """The reply attempts on a mention's thread, oldest first."""
    query = select(reply_records).where(reply_records.c.mention_id == mention_id)
    if idempotency_key is not None:
        query = query.where(reply_records.c.idempotency_key == idempotency_key)
    rows = connection.execute(query.order_by(reply_records.c.at, reply_records.c.id))
    return [
        ReplyRecord(r.id, r.platform, r.account, r.sent_by, r.text, r.sent, r.post_id, r.post_url, r.reason, r.at)
        for r in rows
    ]


def draft_for(connection: Connection, mention_id: int, sent_by: str) -> ReplyRecord | None:
    """`sent_by`'s latest failed attempt when nothing was sent after it: the draft to show again, with its reason."""
    attempts: Sequence[ReplyRecord] = [r for r in replies_for(connection, mention_id) if r.sent_by == sent_by]
    last = attempts[-1] if attempts else None
    return last if last is not None and not last.sent else None


# ---- the team's queue: every open route of a team, highest priority first ---------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One open route in a team's queue, with what a card shows. The verdict is a label, not a gate: every mention
    routed to the team is here, whatever the model said."""

    route_id: int
    mention_id: int
    team: str
    priority: str
    score: int | None
    """enrichers.priority score as it stands when the queue is read: routed with it, its waiting part counted to the
    time of reading (None for routes made before scores); the queue sorts by it."""
    due_at: datetime | None
    due: DueState | None
    source: str
    can_reply: bool
    author: str
    followers: int | None
    language: str | None
    excerpt: str
    intent: str | None
    """The person's relabel when there is one, else the model's intent."""
    confidence: float | None
    status: str
    assignee: str | None
    url: str | None
    parts: tuple[dict[str, object], ...] = ()
    """The score's named parts, waiting counted to the time of reading: [{name, points, reason}]
    (enrichers.model.ScorePart)."""


@dataclass(frozen=True)
class QueueCounts:
    open: int
    due_soon: int
    overdue: int


QueueView = Literal["open", "due_soon", "overdue"]


def team_queue(
    connection: Connection,
    team: str,
    now: datetime,
    view: QueueView = "open",
    language: str | None = None,
    due_soon: timedelta = timedelta(minutes=30),
    limit: int = 50,
    intent: str | None = None,
    priority: PriorityConfig | None = None,
) -> list[QueueItem]:
    """A team's open routes, highest score at `now` first, then the earliest due. The score's waiting part (how long
    ago the post was written) is brought up to `now` here, so a post that has waited rises while it waits (the other
    parts do not change); a route stored without its parts keeps its stored score. `view` narrows to those due within
    `due_soon` (not yet overdue) or overdue; `language` to one ISO 639-1 language ('de' takes 'de-AT' too); `intent` to
    one intent (a person's relabel, else the model's)."""
    config = priority or PriorityConfig(due_soon=due_soon)
    due_config = PriorityConfig(due_soon=due_soon)  # what due_state reads: once, not per row
    query = (
        select(
            routes.c.id.label("route_id"),
            routes.c.mention_id,
            routes.c.team,
            routes.c.priority,
            routes.c.score,
            routes.c.due_at,
            routes.c.score_parts,
            mentions.c.source,
            mentions.c.external_id,
            mentions.c.author_handle,
            mentions.c.author_followers,
            mentions.c.language,
            mentions.c.created_at,
            func.substr(mentions.c.text, 1, 280).label("text"),
            mentions.c.status,
            mentions.c.assignee,
            mentions.c.url,
            func.coalesce(verdicts.c.human_intent, verdicts.c.intent).label("intent"),
            verdicts.c.intent_confidence,
        )
        .join(mentions, mentions.c.id == routes.c.mention_id)
        .outerjoin(verdicts, verdicts.c.mention_id == routes.c.mention_id)
        .where(routes.c.team == team, routes.c.status == "open")
    )  # every open route of the team: the order depends on `now`, so it is sorted here, not in SQL
    if view == "overdue":
        query = query.where(routes.c.due_at <= now)
    elif view == "due_soon":
        query = query.where(routes.c.due_at > now, routes.c.due_at <= now + due_soon)
    if intent is not None:
        query = query.where(func.coalesce(verdicts.c.human_intent, verdicts.c.intent) == intent)
    if language is not None:
        code = language.lower()
        query = query.where(
            or_(func.lower(mentions.c.language) == code, func.lower(mentions.c.language).like(f"{code}-%"))
        )
    ranked: list[tuple[tuple[float, bool, datetime, int], QueueItem]] = []
    for r in connection.execute(query):
        stored = tuple(p for p in (r.score_parts or ()) if isinstance(p, dict))
        current = score_now(stored, r.created_at, now, config) if r.score is not None else None
        exact, parts = current if current is not None else (float(r.score if r.score is not None else -1), stored)
        key = (-exact, r.due_at is None, r.due_at or now, r.route_id)
        item = QueueItem(
            route_id=r.route_id,
            mention_id=r.mention_id,
            team=r.team,
            priority=r.priority,
            score=round(exact) if r.score is not None else None,
            due_at=r.due_at,
            due=due_state(r.due_at, now, due_config),
            source=r.source,
            can_reply=can_reply(r.source, r.external_id),
            author=r.author_handle,
            followers=r.author_followers,
            language=r.language,
            excerpt=r.text,  # cut to 280 characters by the query
            intent=r.intent,
            confidence=r.intent_confidence,
            status=r.status,
            assignee=r.assignee,
            url=r.url,
            parts=parts,
        )
        ranked.append((key, item))
    ranked.sort(key=lambda pair: pair[0])
    return [item for _, item in ranked[:limit]]


def queue_counts(
    connection: Connection, now: datetime, due_soon: timedelta = timedelta(minutes=30)
) -> dict[str, QueueCounts]:
    """Per team: open routes, those due soon and those overdue (for the per-team views' counts)."""
    rows = connection.execute(
        select(
            routes.c.team,
            func.count(),
            func.sum(case((and_(routes.c.due_at > now, routes.c.due_at <= now + due_soon), 1), else_=0)),
            func.sum(case((routes.c.due_at <= now, 1), else_=0)),
        )
        .where(routes.c.status == "open")
        .group_by(routes.c.team)
    )
    return {team: QueueCounts(int(n), int(soon or 0), int(late or 0)) for team, n, soon, late in rows}


def flag_counts(connection: Connection) -> dict[str, int]:
    """How many stored mentions each noise kind holds ('spam', 'owned', 'competitor'), for the demo and the KPIs."""
    rows = connection.execute(
        select(mentions.c.flag, func.count()).where(mentions.c.flag.is_not(None)).group_by(mentions.c.flag)
    )
    return {flag: int(n) for flag, n in rows}


@dataclass(frozen=True)
class FlaggedItem:
    """A mention kept out of the queues (and, for spam, out of the KPIs), shown for review with why."""

    mention_id: int
    flag: str
    """enrichers.noise.NoiseKind: 'spam', 'owned' or 'competitor'."""
    rule: str | None
    reason: str | None
    source: str
    author: str
    language: str | None
    excerpt: str
    created_at: datetime
    url: str | None


def flagged_mentions(connection: Connection, kind: str | None = None, limit: int = 100) -> list[FlaggedItem]:
    """Flagged mentions, newest first (only `kind` when given): the review view of what noise screening kept out."""
    query = (
        select(
            mentions.c.id,
            mentions.c.flag,
            mentions.c.flag_rule,
            mentions.c.flag_reason,
            mentions.c.source,
            mentions.c.author_handle,
            mentions.c.language,
            mentions.c.text,
            mentions.c.created_at,
            mentions.c.url,
        )
        .where(mentions.c.flag.is_not(None))
        .order_by(mentions.c.created_at.desc(), mentions.c.id.desc())
        .limit(limit)
    )
    if kind is not None:
        query = query.where(mentions.c.flag == kind)
    return [
        FlaggedItem(
            r.id,
            r.flag,
            r.flag_rule,
            r.flag_reason,
            r.source,
            r.author_handle,
            r.language,
            r.text[:280],
            r.created_at,
            r.url,
        )
        for r in connection.execute(query)
    ]
