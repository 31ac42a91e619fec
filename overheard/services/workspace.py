"""The service workspace: a team's queue of routed work in priority order, and working one mention together —
assign it to a teammate, move its status, keep internal notes, use canned replies, say who is replying, and send
the reply in the channel where the customer spoke, recorded on the thread with who sent it and when.

Each function checks the caller's capability and scope (a mention outside the scope answers `NotFound`, as in
`overheard.services.mentions`) and writes its own audit record. Sending a reply talks to the platform outside any
database transaction: the mention is read first, the reply sent, then the attempt recorded (a failed one keeps its
draft and the reason).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection, Engine, select

from enrichers.model import Team
from enrichers.priority import PriorityConfig
from enrichers.replies import (
    ReplyAccount,
    ReplyCost,
    ThreadRef,
    can_reply,
    reply_client,
    reply_cost,
    send_reply,
)
from enrichers.replies.canned import Filled, TemplateError, fill, variables_for
from listener.mention import Mention
from overheard.config import OverheardConfig
from overheard.services import reply_accounts
from overheard.services.access import Caller, Capability, Invalid, NotFound
from overheard.services.mentions import visible
from storage import workspace as store
from storage.audit import record
from storage.mentions import mention_from_row
from storage.schema import mentions, now_utc

VIEWS: tuple[store.QueueView, ...] = ("open", "due_soon", "overdue")
"""The queue's views: every open route, those due soon (not yet overdue), those overdue."""
T = TypeVar("T")
FLAG_KINDS = ("spam", "owned", "competitor")
MAX_REPLY_CHARS = 10_000
"""Longer than any platform takes; the platform says when a reply is too long for it."""


# ---- the team's queue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamQueue:
    """A team's open routes as its inbox shows them: `items` highest score first, in the view and filters asked
    for; `counts` per team (open, due soon, overdue) and `flagged` per noise kind, for the page's tabs."""

    team: str
    view: str
    language: str | None
    intent: str | None
    items: list[store.QueueItem]
    counts: dict[str, store.QueueCounts]
    flagged: dict[str, int]
    teams: tuple[str, ...]
    """The teams the caller may open: their own, or every team for a role that sees everything."""


def _team_for(caller: Caller, team: str | None) -> str:
    own = caller.scope.team
    if own is not None:
        if team not in (None, "", own):
            raise NotFound(f"team '{team}' is not your role's queue (yours: {own})")
        return own
    chosen = team or Team.customer_service.value
    if chosen not in {t.value for t in Team}:
        raise Invalid(f"unknown team '{chosen}' (one of: {', '.join(t.value for t in Team)})")
    return chosen


def team_queue(
    engine: Engine,
    caller: Caller,
    *,
    team: str | None = None,
    view: str = "open",
    language: str | None = None,
    intent: str | None = None,
    priority: PriorityConfig | None = None,
    limit: int = 50,
    at: datetime | None = None,
) -> TeamQueue:
    """Every mention routed to the team and still open, whatever the model said (its intent is a label and the
    `intent` filter), highest priority score at `at` (now) first: the score's waiting part is counted to that moment;
    `view` narrows to due soon or overdue."""
    caller.require(Capability.read_mentions)
    if view not in VIEWS:
        raise Invalid(f"unknown view '{view}' (one of: {', '.join(VIEWS)})")
    chosen = _team_for(caller, team)
    config = priority or PriorityConfig()
    due_soon = config.due_soon
    now = at or now_utc()
    with engine.connect() as connection:
        items = store.team_queue(
            connection, chosen, now, view=view, language=language or None, due_soon=due_soon,
            limit=limit, intent=intent or None, priority=config,
        )  # fmt: skip
        counts = store.queue_counts(connection, now, due_soon)
        if caller.scope.team is not None:
            counts = {k: v for k, v in counts.items() if k == caller.scope.team}
        flagged = store.flag_counts(connection)
    teams = (chosen,) if caller.scope.team is not None else tuple(t.value for t in Team)
    return TeamQueue(chosen, view, language or None, intent or None, items, counts, flagged, teams)


def flagged(engine: Engine, caller: Caller, kind: str | None = None, limit: int = 100) -> list[store.FlaggedItem]:
    """What noise screening kept out of the queues, with each flag's reason: reviewable, never silently lost; by the
    roles that review spam (`Capability.review_noise`), not every triage role."""
    caller.require(Capability.review_noise)
    if kind is not None and kind not in FLAG_KINDS:
        raise Invalid(f"unknown flag '{kind}' (one of: {', '.join(FLAG_KINDS)})")
    with engine.begin() as connection:
        found = store.flagged_mentions(connection, kind, limit)
        record(connection, caller.name, "workspace.flagged.view", "mentions", kind or "all", shown=len(found))
        return found


# ---- one mention: what its page shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountChoice:
    """A reply account that can answer the mention: its name in overheard.yaml, and what a post costs."""

    name: str
    account: ReplyAccount
    cost: ReplyCost


@dataclass(frozen=True)
class Desk:
    """Everything the mention page's workspace shows: history, notes, replies on the thread, the caller's kept draft,
    who else is replying, the canned replies the team may use, and the accounts it can be answered from (none for
    a platform that takes no replies)."""

    mention_id: int
    platform: str
    can_reply: bool
    history: list[store.StatusChange]
    notes: list[store.Note]
    replies: list[store.ReplyRecord]
    draft: store.ReplyRecord | None
    others_replying: list[str]
    canned: list[store.CannedReply]
    accounts: list[AccountChoice]
    variables: dict[str, str]
    """What canned replies can fill in by themselves (name, full_name, handle, platform)."""


def answered_on(source: str, external_id: str) -> str:
    """The platform whose API answers a mention from `source`: the source itself, or an app store review's store."""
    return ThreadRef(platform=source, external_id=external_id).answered_on


def accounts_for(config: OverheardConfig, platform: str) -> list[AccountChoice]:
    """The configured reply accounts on `platform`, by name."""
    return [
        AccountChoice(name, account, reply_cost(account))
        for name, account in sorted(config.reply_accounts.items())
        if account.platform == platform
    ]


def _mention(connection: Connection, mention_id: int) -> Mention:
    row = connection.execute(select(mentions).where(mentions.c.id == mention_id)).one()
    return mention_from_row(row)


def _variables(connection: Connection, caller: Caller, mention_id: int) -> dict[str, str]:
    found = visible(connection, caller, mention_id)
    values = variables_for(_mention(connection, mention_id))
    if found.link and found.link.contact_name:  # the CRM's name for the person beats their display name
        values["full_name"] = found.link.contact_name
        values["name"] = found.link.contact_name.split()[0]
    return values


def desk(engine: Engine, caller: Caller, config: OverheardConfig, mention_id: int) -> Desk:
    """The workspace of one mention (read only; opening the mention page is audited by `mentions.view_mention`)."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        found = visible(connection, caller, mention_id)
        team = caller.scope.team
        return Desk(
            mention_id=mention_id,
            platform=found.source,
            can_reply=can_reply(found.source, found.external_id),
            history=store.history(connection, mention_id),
            notes=store.notes_for(connection, mention_id),
            replies=store.replies_for(connection, mention_id),
            draft=store.draft_for(connection, mention_id, caller.name),
            others_replying=store.others_replying(connection, mention_id, caller.name, now_utc()),
            canned=store.canned_replies_for(connection, team),
            accounts=accounts_for(config, answered_on(found.source, found.external_id))
            if can_reply(found.source, found.external_id)
            else [],
            variables=_variables(connection, caller, mention_id),
        )


# ---- assignment, status, notes ---------------------------------------------------------------------------------


def _act(
    engine: Engine, caller: Caller, mention_id: int, action: str, act: Callable[[Connection], T], **detail: object
) -> T:
    """Check the caller may triage and sees the mention, act on it and write one audit record, in one transaction."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        try:
            result = act(connection)
        except (store.WorkspaceError, TemplateError) as exc:
            raise Invalid(str(exc)) from exc
        record(connection, caller.name, action, "mention", str(mention_id), **detail)
        return result


def assign(engine: Engine, caller: Caller, mention_id: int, teammate: str | None) -> str | None:
    """Give the mention to `teammate` (empty: back to the team's queue); returns who has it now."""
    who = (teammate or "").strip() or None
    _act(
        engine, caller, mention_id, "workspace.assign",
        lambda c: store.assign_to(c, mention_id, who, caller.name, now_utc()), assignee=who,
    )  # fmt: skip
    return who


def set_status(engine: Engine, caller: Caller, mention_id: int, status: str) -> str:
    """Move the mention to `status` (one of storage.workspace.STATUSES); resolving closes the caller's team's route."""
    _act(
        engine, caller, mention_id, "workspace.status",
        lambda c: store.set_status(c, mention_id, status, caller.name, now_utc(), caller.scope.team), status=status,
    )  # fmt: skip
    return status


def add_note(engine: Engine, caller: Caller, mention_id: int, body: str) -> int:
    """An internal note on the mention (never sent to the customer); the audit keeps that one was added, not its
    text. Returns the note's id."""
    return _act(
        engine,
        caller,
        mention_id,
        "workspace.note",
        lambda c: store.add_note(c, mention_id, caller.name, body, now_utc()),
    )


# ---- canned replies ---------------------------------------------------------------------------------------------


def canned_replies(engine: Engine, caller: Caller) -> list[store.CannedReply]:
    """The canned replies the caller's team may use (its own and everyone's)."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        return store.canned_replies_for(connection, caller.scope.team)


def save_canned_reply(
    engine: Engine, caller: Caller, name: str, body: str, language: str | None = None
) -> store.CannedReply:
    """Create or replace a canned reply of the caller's team (everyone's, for a role that sees everything)."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        try:
            store.save_canned_reply(
                connection, name, body, caller.name, now_utc(), team=caller.scope.team, language=language or None
            )
        except (store.WorkspaceError, TemplateError) as exc:
            raise Invalid(str(exc)) from exc
        record(connection, caller.name, "workspace.canned.save", "canned_reply", name.strip())
        return next(c for c in store.canned_replies_for(connection) if c.name == name.strip())


def delete_canned_reply(engine: Engine, caller: Caller, name: str) -> None:
    """Remove a canned reply; one of another team is not the caller's to remove."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        mine = {c.name for c in store.canned_replies_for(connection, caller.scope.team)}
        if name not in mine or not store.delete_canned_reply(connection, name):
            raise NotFound(f"no canned reply called '{name}' for your team")
        record(connection, caller.name, "workspace.canned.delete", "canned_reply", name)


def render_canned(
    engine: Engine, caller: Caller, mention_id: int, name: str, values: Mapping[str, str] | None = None
) -> Filled:
    """The canned reply `name` filled in for the mention: what is known about the customer, plus `values` the
    teammate typed (an order number). A variable left unfilled is named in `missing`, never sent as '{…}'."""
    caller.require(Capability.read_mentions)
    with engine.connect() as connection:
        known = _variables(connection, caller, mention_id)
        found = [c for c in store.canned_replies_for(connection, caller.scope.team) if c.name == name]
    if not found:
        raise NotFound(f"no canned reply called '{name}' for your team")
    typed = {k: v for k, v in (values or {}).items() if str(v).strip()}
    try:
        return fill(found[0].body, {**known, **typed})
    except TemplateError as exc:
        raise Invalid(str(exc)) from exc


# ---- "someone else is replying" ---------------------------------------------------------------------------------


def start_replying(engine: Engine, caller: Caller, mention_id: int) -> list[str]:
    """Say the caller is writing a reply (renewed while they type); returns the others replying now, for the
    warning."""
    caller.require(Capability.triage)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        return store.start_replying(connection, mention_id, caller.name, now_utc())


def stop_replying(engine: Engine, caller: Caller, mention_id: int) -> None:
    caller.require(Capability.triage)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        store.stop_replying(connection, mention_id, caller.name)


# ---- sending a reply ---------------------------------------------------------------------------------------------


def new_reply_key() -> str:
    """A fresh idempotency key for one composed reply: sending the same form twice posts once."""
    return secrets.token_urlsafe(16)


def send(
    engine: Engine,
    caller: Caller,
    config: OverheardConfig,
    mention_id: int,
    text: str,
    *,
    account: str | None = None,
    idempotency_key: str | None = None,
    environ: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> store.ReplyRecord:
    """Answer the mention where it was posted, from the reply account `account` (default: the only one on its
    platform), with a connected X account's stored token (`reply_accounts.credentials`) or else its secret read from
    the environment (`secret_env`). The attempt is recorded on the thread with who sent it and when; a failed one
    keeps the text as the draft with the reason. A platform that takes no replies (feeds, reviews, Hacker News) is
    refused before anything is sent."""
    caller.require(Capability.triage)
    if len(text) > MAX_REPLY_CHARS:
        raise Invalid(f"a reply may have at most {MAX_REPLY_CHARS} characters; this one has {len(text)}")
    key = idempotency_key or new_reply_key()
    with engine.connect() as connection:
        found = visible(connection, caller, mention_id)
        done = store.replies_for(connection, mention_id, idempotency_key=key)
        mention = _mention(connection, mention_id)
    if done:  # the same form sent twice: the first attempt stands
        return done[0]
    if not can_reply(found.source, found.external_id):
        raise Invalid(f"{found.source} takes no replies through an API; answer on the site itself")
    platform = answered_on(found.source, found.external_id)  # an app store review is answered in its store
    choices = accounts_for(config, platform)
    chosen = [c for c in choices if c.name == account] if account else choices
    if not chosen:
        raise Invalid(
            f"no reply account '{account}' on {found.source}"
            if account
            else f"no {platform} reply account is configured; add one under reply_accounts in overheard.yaml"
        )
    if len(chosen) > 1:
        raise Invalid(f"say which {platform} account replies: {', '.join(c.name for c in chosen)}")
    pick = chosen[0]
    with reply_client(config.http.allow_networks) as client:
        # A connected X account's stored token (refreshed when lapsed), else the secret in `secret_env`.
        credentials = reply_accounts.credentials(engine, config, pick.name, pick.account, client, environ, at)
        result = send_reply(ThreadRef.of(mention), text, credentials, client, key)
    with engine.begin() as connection:
        visible(connection, caller, mention_id)
        kept = store.record_reply(connection, mention_id, result, text, pick.name, caller.name, at or now_utc(), key)
        record(
            connection, caller.name, "workspace.reply.sent" if result.sent else "workspace.reply.failed", "mention",
            str(mention_id), account=pick.name, platform=found.source, post_id=result.post_id,
        )  # fmt: skip
        return kept
