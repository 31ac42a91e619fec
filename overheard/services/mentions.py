"""Mentions: the inbox listing, one mention with its history (audited), and the triage actions.

Every function checks the caller's capability and reads through the caller's scope, so a mention outside
it answers `NotFound` exactly as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine

from overheard.services.access import Caller, Capability, NotFound
from storage import inbox
from storage.audit import record
from storage.schema import now_utc

MAX_MENTION_ID = 2**63 - 1
"""The largest id a mention can have (a signed 64-bit integer); anything above is refused as not found."""


@dataclass(frozen=True)
class MentionRecord:
    """One mention as its page shows it: the mention with its thread, and the triage actions taken on it."""

    mention: inbox.MentionDetail
    history: list[inbox.Feedback]


@dataclass(frozen=True)
class Inbox:
    """One page of the inbox, and how many mentions are stored at all (to tell "none match" from "none yet")."""

    page: inbox.MentionPage
    stored: int


def visible(connection: Connection, caller: Caller, mention_id: int) -> inbox.MentionDetail:
    """The mention if the caller's scope shows it; `NotFound` otherwise (whether or not it exists)."""
    found = inbox.get_mention(connection, caller.scope, mention_id) if 0 < mention_id <= MAX_MENTION_ID else None
    if found is None:
        raise NotFound(f"mention {mention_id} does not exist or is not in your role's inbox")
    return found


def list_mentions(
    engine: Engine, caller: Caller, filters: inbox.MentionFilter, *, cursor: str | None = None, limit: int = 50
) -> inbox.MentionPage:
    """Mentions the caller's scope shows, newest first; `cursor` continues after a previous page."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        return inbox.list_mentions(connection, caller.scope, filters, cursor=cursor, limit=limit)


def open_inbox(
    engine: Engine, caller: Caller, filters: inbox.MentionFilter, *, cursor: str | None = None, limit: int = 50
) -> Inbox:
    """The inbox page: `list_mentions` plus the count of stored mentions."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        page = inbox.list_mentions(connection, caller.scope, filters, cursor=cursor, limit=limit)
        return Inbox(page, inbox.stored_count(connection))


def view_mention(engine: Engine, caller: Caller, mention_id: int) -> MentionRecord:
    """One mention with its thread and triage history; the view is written to the audit log."""
    caller.require(Capability.read_mentions)
    with engine.begin() as connection:
        found = visible(connection, caller, mention_id)
        record(connection, caller.name, "mention.view", "mention", str(mention_id))
        return MentionRecord(found, inbox.feedback_for(connection, mention_id))


def feedback(engine: Engine, caller: Caller, mention_id: int) -> list[inbox.Feedback]:
    """Triage actions and relabels recorded on the mention (the training feedback)."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        visible(connection, caller, mention_id)
        return inbox.feedback_for(connection, mention_id)


def _triage(engine: Engine, caller: Caller, mention_id: int, act: Callable[[Connection], None]) -> inbox.MentionDetail:
    """Check the caller may triage and sees the mention, act on it, and return it as it now stands."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        act(connection)
        return visible(connection, caller, mention_id)


def assign(engine: Engine, caller: Caller, mention_id: int, assignee: str) -> inbox.MentionDetail:
    """Give the mention to `assignee` (a staff name)."""
    return _triage(engine, caller, mention_id, lambda c: inbox.assign(c, mention_id, assignee, caller.name))


def resolve(engine: Engine, caller: Caller, mention_id: int) -> inbox.MentionDetail:
    """Mark handled; closes the caller's team's route (all routes for a role that sees everything)."""
    return _triage(engine, caller, mention_id, lambda c: inbox.resolve(c, mention_id, caller.name, caller.scope.team))


def snooze(engine: Engine, caller: Caller, mention_id: int, hours: int) -> inbox.MentionDetail:
    """Hide the mention from the open inbox for `hours`."""
    until = now_utc() + timedelta(hours=hours)
    return _triage(engine, caller, mention_id, lambda c: inbox.snooze(c, mention_id, until, caller.name))


def relabel(
    engine: Engine, caller: Caller, mention_id: int, intent: str, sentiment: str | None = None
) -> inbox.MentionDetail:
    """A person's correction of the intent (and optionally the sentiment), kept as training feedback."""
    return _triage(
        engine, caller, mention_id, lambda c: inbox.relabel(c, mention_id, caller.name, intent, sentiment or None)
    )
