"""The working inbox: mentions with their verdicts and routes, filtered and paged; triage actions; contact 360°.

Every read takes a `Scope` so a caller can only ever see what its role allows; the API decides the scope,
this module enforces it in SQL. Triage actions change the mention and keep a feedback row, so people's
corrections can train the next model.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, or_, select, true, update

from storage.schema import (
    companies,
    consents,
    contact_emails,
    contacts,
    deliveries,
    findings,
    identities,
    leads,
    links,
    memberships,
    mentions,
    now_utc,
    routes,
    triage_feedback,
    verdicts,
)

STATUSES = ("new", "assigned", "snoozed", "resolved")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidCursor(ValueError):
    pass


class NotAllowed(ValueError):
    """The action cannot be done in this state (e.g. retrying a delivered delivery)."""


@dataclass(frozen=True)
class Scope:
    """What a reader may see: mentions routed to `team` whose intent (model's or a person's) is in `intents`,
    and, with `leads`, every mention routed to `team` that is a scored lead whatever its intent (a CRM
    prospect's volume ask the model read as "other" is still sales' lead: `storage.leads`).

    `team=None` is everything (admin, privacy). The same scope decides which contacts are visible: those
    linked to at least one visible mention.
    """

    team: str | None = None
    intents: tuple[str, ...] = ()
    leads: bool = False
    every_routed: bool = False
    """Every mention routed to `team`, whatever the model (or a person) said its intent is: the verdict is a label,
    not a gate (customer service answers a complaint the model read as "other" too)."""

    @property
    def everything(self) -> bool:
        return self.team is None


@dataclass(frozen=True)
class MentionFilter:
    """Filters of the inbox; each one left as None is not applied. `query` is a substring of text or author."""

    team: str | None = None
    intent: str | None = None
    sentiment: str | None = None
    source: str | None = None
    status: str | None = None  # one of STATUSES, or "open" (not resolved and not snoozed now)
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    query: str | None = None


@dataclass(frozen=True)
class RouteSummary:
    id: int
    team: str
    channel: str
    reply_channel: str | None
    priority: str
    due_at: datetime | None  # the response-time target (UTC)
    rule: str
    explanation: str
    status: str


@dataclass(frozen=True)
class LinkSummary:
    contact_id: str | None
    contact_name: str | None
    company_id: str | None
    company_name: str | None
    evidence: str
    confidence: float


@dataclass(frozen=True)
class MentionItem:
    """One mention as the inbox shows it. `intent`/`sentiment` are a person's relabel when there is one."""

    id: int
    source: str
    external_id: str
    url: str | None
    author_handle: str
    author_name: str | None
    author_followers: int | None  # the author's reach, in followers
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
    confidence: float  # the model's intent confidence, 0–1
    needs_human: bool
    reasons: list[str]
    relabelled_by: str | None
    reply_to_id: str | None
    thread_id: str | None
    routes: list[RouteSummary] = field(default_factory=list)
    link: LinkSummary | None = None


@dataclass(frozen=True)
class ThreadItem:
    id: int
    author_handle: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class MentionDetail(MentionItem):
    thread: list[ThreadItem] = field(default_factory=list)  # other stored posts of the same conversation


@dataclass(frozen=True)
class MentionPage:
    items: list[MentionItem]
    next_cursor: str | None  # pass as `cursor` for the next (older) page; None at the end


def _pick(kind: type[Any], row: Any) -> Any:
    """A read model of `kind` from a row holding (at least) its fields."""
    return kind(**{f.name: getattr(row, f.name) for f in fields(kind)})


# An alias, so the check correlates to the mention even inside queries that select from `routes` themselves.
_routed = routes.alias("routed")
_EFFECTIVE_INTENT = func.coalesce(verdicts.c.human_intent, verdicts.c.intent)
_EFFECTIVE_SENTIMENT = func.coalesce(verdicts.c.human_sentiment, verdicts.c.sentiment)


def scope_condition(scope: Scope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    routed = exists().where(_routed.c.mention_id == mentions.c.id, _routed.c.team == scope.team)
    if scope.every_routed:
        return routed
    wanted: list[ColumnElement[bool]] = [
        verdicts.c.intent.in_(scope.intents),
        verdicts.c.human_intent.in_(scope.intents),
    ]
    if scope.leads:
        wanted.append(exists().where(leads.c.mention_id == mentions.c.id))
    return and_(routed, or_(*wanted))


CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9]{1,18}$"


def encode_cursor(created_at: datetime, mention_id: int) -> str:
    """`<microseconds since the epoch>_<id>` of the last item shown: opaque to clients, checkable by a pattern."""
    micros = (created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{mention_id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise InvalidCursor("cursor is not one this API returned; start again without it")
    micros, mention_id = cursor.split("_")
    return _EPOCH + timedelta(microseconds=int(micros)), int(mention_id)


def _filters(f: MentionFilter, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.team:
        where.append(exists().where(_routed.c.mention_id == mentions.c.id, _routed.c.team == f.team))
    if f.intent:
        where.append(_EFFECTIVE_INTENT == f.intent)  # noqa: SIM300 (a SQL expression, not a constant: it builds the clause)
    if f.sentiment:
        where.append(_EFFECTIVE_SENTIMENT == f.sentiment)  # noqa: SIM300 (a SQL expression, not a constant)
    if f.source:
        where.append(mentions.c.source == f.source)
    if f.language:
        where.append(func.lower(mentions.c.language) == f.language.lower())
    if f.since:
        where.append(mentions.c.created_at >= f.since)
    if f.until:
        where.append(mentions.c.created_at < f.until)
    if f.query:
        needle = f.query.lower()
        where.append(
            or_(
                func.lower(mentions.c.text).contains(needle, autoescape=True),
                func.lower(mentions.c.author_handle).contains(needle, autoescape=True),
                func.lower(func.coalesce(mentions.c.title, "")).contains(needle, autoescape=True),
            )
        )
    if f.status == "open":
        where.append(mentions.c.status != "resolved")
        where.append(or_(mentions.c.snoozed_until.is_(None), mentions.c.snoozed_until <= now))
    elif f.status:
        where.append(mentions.c.status == f.status)
    return where


def _select() -> Any:
    return select(
        mentions,
        verdicts.c.sentiment.label("model_sentiment"),
        verdicts.c.intent.label("model_intent"),
        _EFFECTIVE_SENTIMENT.label("effective_sentiment"),
        _EFFECTIVE_INTENT.label("effective_intent"),
        verdicts.c.intent_confidence,
        verdicts.c.needs_human,
        verdicts.c.reasons,
        verdicts.c.relabelled_by,
    ).join(verdicts, verdicts.c.mention_id == mentions.c.id)


def _routes_for(connection: Connection, ids: Sequence[int], scope: Scope) -> dict[int, list[RouteSummary]]:
    if not ids:
        return {}
    query = select(routes).where(routes.c.mention_id.in_(ids)).order_by(routes.c.id)
    if not scope.everything:
        query = query.where(routes.c.team == scope.team)
    found: dict[int, list[RouteSummary]] = defaultdict(list)
    for r in connection.execute(query):
        found[r.mention_id].append(
            RouteSummary(
                id=r.id,
                team=r.team,
                channel=r.channel,
                reply_channel=r.reply_channel,
                priority=r.priority,
                due_at=r.due_at,
                rule=r.rule,
                explanation=r.explanation,
                status=r.status,
            )
        )
    return found


def _links_for(connection: Connection, ids: Sequence[int]) -> dict[int, LinkSummary]:
    if not ids:
        return {}
    rows = connection.execute(
        select(
            links,
            contacts.c.name.label("contact_name"),
            companies.c.name.label("company_name"),
        )
        .outerjoin(contacts, contacts.c.id == links.c.contact_id)
        .outerjoin(companies, companies.c.id == links.c.company_id)
        .where(links.c.mention_id.in_(ids), links.c.status != "unlinked")
    )
    return {
        r.mention_id: LinkSummary(
            contact_id=r.contact_id,
            contact_name=r.contact_name,
            company_id=r.company_id,
            company_name=r.company_name,
            evidence=r.evidence,
            confidence=r.confidence,
        )
        for r in rows
    }


def _item(row: Any, route_list: list[RouteSummary], link: LinkSummary | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "external_id": row.external_id,
        "url": row.url,
        "author_handle": row.author_handle,
        "author_name": row.author_name,
        "author_followers": row.author_followers,
        "author_profile_url": row.author_profile_url,
        "text": row.text,
        "title": row.title,
        "language": row.language,
        "created_at": row.created_at,
        "likes": row.likes,
        "reposts": row.reposts,
        "replies": row.replies,
        "status": row.status,
        "assignee": row.assignee,
        "snoozed_until": row.snoozed_until,
        "sentiment": row.effective_sentiment,
        "intent": row.effective_intent,
        "model_sentiment": row.model_sentiment,
        "model_intent": row.model_intent,
        "confidence": row.intent_confidence,
        "needs_human": row.needs_human,
        "reasons": list(row.reasons or ()),
        "relabelled_by": row.relabelled_by,
        "reply_to_id": row.reply_to_id,
        "thread_id": row.thread_id,
        "routes": route_list,
        "link": link,
    }


def list_mentions(
    connection: Connection,
    scope: Scope,
    filters: MentionFilter = MentionFilter(),
    *,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> MentionPage:
    """Mentions newest first, `limit` per page; `cursor` continues after the last item of a previous page."""
    now = now or now_utc()
    query = _select().where(scope_condition(scope), *_filters(filters, now))
    if cursor:
        at, last_id = decode_cursor(cursor)
        query = query.where(or_(mentions.c.created_at < at, and_(mentions.c.created_at == at, mentions.c.id < last_id)))
    rows = list(connection.execute(query.order_by(mentions.c.created_at.desc(), mentions.c.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r.id for r in rows]
    route_map, link_map = _routes_for(connection, ids, scope), _links_for(connection, ids)
    items = [MentionItem(**_item(r, route_map.get(r.id, []), link_map.get(r.id))) for r in rows]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return MentionPage(items=items, next_cursor=next_cursor)


def get_mention(connection: Connection, scope: Scope, mention_id: int) -> MentionDetail | None:
    """One mention with its thread context, or None when it does not exist or is outside the scope."""
    row = connection.execute(_select().where(mentions.c.id == mention_id, scope_condition(scope))).one_or_none()
    if row is None:
        return None
    keys = {k for k in (row.thread_id, row.reply_to_id, row.external_id) if k}
    thread_rows = connection.execute(
        select(mentions.c.id, mentions.c.author_handle, mentions.c.created_at, mentions.c.text)
        .where(
            mentions.c.source == row.source,
            mentions.c.id != row.id,
            or_(
                mentions.c.external_id.in_(keys),
                mentions.c.thread_id.in_(keys),
                mentions.c.reply_to_id.in_(keys),
            ),
        )
        .order_by(mentions.c.created_at)
        .limit(20)
    )
    thread = [
        ThreadItem(id=t.id, author_handle=t.author_handle, created_at=t.created_at, text=t.text) for t in thread_rows
    ]
    item = _item(
        row, _routes_for(connection, [row.id], scope).get(row.id, []), _links_for(connection, [row.id]).get(row.id)
    )
    return MentionDetail(**item, thread=thread)


def stored_count(connection: Connection) -> int:
    """How many mentions are stored at all, whatever the scope (the inbox tells "none match" from "none yet")."""
    return int(connection.execute(select(func.count()).select_from(mentions)).scalar_one())


# ---- triage actions -----------------------------------------------------------------------------------------


def _feedback(connection: Connection, mention_id: int, action: str, actor: str, **labels: str | None) -> None:
    model = connection.execute(
        select(verdicts.c.intent, verdicts.c.sentiment, verdicts.c.model_version).where(
            verdicts.c.mention_id == mention_id
        )
    ).one()
    connection.execute(
        triage_feedback.insert().values(
            mention_id=mention_id,
            action=action,
            actor=actor,
            model_intent=model.intent,
            model_sentiment=model.sentiment,
            model_version=model.model_version,
            at=now_utc(),
            **labels,
        )
    )


def assign(connection: Connection, mention_id: int, assignee: str, actor: str) -> None:
    connection.execute(
        update(mentions)
        .where(mentions.c.id == mention_id)
        .values(assignee=assignee, status="assigned", snoozed_until=None)
    )
    _feedback(connection, mention_id, "assign", actor)


def resolve(connection: Connection, mention_id: int, actor: str, team: str | None = None) -> None:
    """Mark the mention handled and close its routes (only the team's own route when `team` is given)."""
    connection.execute(
        update(mentions).where(mentions.c.id == mention_id).values(status="resolved", snoozed_until=None)
    )
    closing = update(routes).where(routes.c.mention_id == mention_id)
    if team is not None:
        closing = closing.where(routes.c.team == team)
    connection.execute(closing.values(status="done"))
    _feedback(connection, mention_id, "resolve", actor)


def snooze(connection: Connection, mention_id: int, until: datetime, actor: str) -> None:
    connection.execute(
        update(mentions).where(mentions.c.id == mention_id).values(status="snoozed", snoozed_until=until)
    )
    _feedback(connection, mention_id, "snooze", actor)


def relabel(connection: Connection, mention_id: int, actor: str, intent: str | None, sentiment: str | None) -> None:
    """A person's correction: kept on the verdict (it survives re-classification) and as training feedback."""
    values: dict[str, Any] = {"relabelled_by": actor}
    if intent is not None:
        values["human_intent"] = intent
    if sentiment is not None:
        values["human_sentiment"] = sentiment
    connection.execute(update(verdicts).where(verdicts.c.mention_id == mention_id).values(**values))
    _feedback(connection, mention_id, "relabel", actor, human_intent=intent, human_sentiment=sentiment)


@dataclass(frozen=True)
class Feedback:
    mention_id: int
    action: str
    actor: str
    model_intent: str | None
    model_sentiment: str | None
    human_intent: str | None
    human_sentiment: str | None
    model_version: str | None
    at: datetime


def feedback_for(connection: Connection, mention_id: int) -> list[Feedback]:
    rows = connection.execute(
        select(triage_feedback).where(triage_feedback.c.mention_id == mention_id).order_by(triage_feedback.c.id)
    )
    return [_pick(Feedback, r) for r in rows]


# ---- contacts ----------------------------------------------------------------------------------------------


def _visible_mentions(scope: Scope) -> Any:
    return select(mentions.c.id).join(verdicts, verdicts.c.mention_id == mentions.c.id).where(scope_condition(scope))


def _contact_visible(scope: Scope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    return exists().where(links.c.contact_id == contacts.c.id, links.c.mention_id.in_(_visible_mentions(scope)))


def finding_visible(scope: Scope) -> ColumnElement[bool]:
    """A finding is shown to whoever sees the mention it came from: a contact visible to sales (through a lead)
    must not show sales the complaint routed only to customer service, nor its text, verdict or reasons."""
    if scope.everything:
        return true()
    return findings.c.mention_id.in_(_visible_mentions(scope))


@dataclass(frozen=True)
class ContactSummary:
    id: str
    name: str | None
    segment: str | None
    companies: list[str]


def search_contacts(connection: Connection, scope: Scope, query: str | None, limit: int = 50) -> list[ContactSummary]:
    """Contacts whose id, name, email or handle contains `query` (all visible ones when it is empty)."""
    where: list[ColumnElement[bool]] = [_contact_visible(scope)]
    if query:
        needle = query.strip().lower().lstrip("@")
        where.append(
            or_(
                func.lower(contacts.c.id).contains(needle, autoescape=True),
                func.lower(func.coalesce(contacts.c.name, "")).contains(needle, autoescape=True),
                contacts.c.id.in_(
                    select(contact_emails.c.contact_id).where(contact_emails.c.email.contains(needle, autoescape=True))
                ),
                contacts.c.id.in_(
                    select(identities.c.contact_id).where(identities.c.handle_key.contains(needle, autoescape=True))
                ),
            )
        )
    rows = list(connection.execute(select(contacts).where(*where).order_by(contacts.c.id).limit(limit)))
    names: dict[str, list[str]] = defaultdict(list)
    if rows:
        for m in connection.execute(
            select(memberships.c.contact_id, companies.c.name)
            .join(companies, companies.c.id == memberships.c.company_id)
            .where(memberships.c.contact_id.in_([r.id for r in rows]))
        ):
            names[m.contact_id].append(m.name)
    return [ContactSummary(id=r.id, name=r.name, segment=r.segment, companies=names[r.id]) for r in rows]


@dataclass(frozen=True)
class IdentityView:
    platform: str
    handle: str
    evidence: str
    verified: bool


@dataclass(frozen=True)
class CompanyRole:
    company_id: str
    name: str
    domain: str | None
    classification: str
    role: str | None


@dataclass(frozen=True)
class ConsentView:
    purpose: str
    basis: str
    source: str
    granted_at: datetime
    withdrawn_at: datetime | None
    review_due: datetime | None
    active: bool  # it allows processing now (granted, not withdrawn, not lapsed)


@dataclass(frozen=True)
class FindingView:
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


@dataclass(frozen=True)
class DeliveryView:
    id: int
    route_id: int
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class RouteView:
    id: int
    mention_id: int
    team: str
    channel: str
    priority: str
    status: str
    rule: str
    due_at: datetime | None
    created_at: datetime
    deliveries: list[DeliveryView] = field(default_factory=list)


@dataclass(frozen=True)
class LinkedMention:
    id: int
    source: str
    url: str | None
    created_at: datetime
    excerpt: str
    intent: str
    sentiment: str


@dataclass(frozen=True)
class ContactView:
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
    findings: list[FindingView]  # newest first
    mentions: list[LinkedMention]  # mentions linked to the contact, newest first
    routes: list[RouteView]


def _deliveries_for(connection: Connection, route_ids: Sequence[int]) -> dict[int, list[DeliveryView]]:
    found: dict[int, list[DeliveryView]] = defaultdict(list)
    if route_ids:
        for d in connection.execute(
            select(deliveries).where(deliveries.c.route_id.in_(route_ids)).order_by(deliveries.c.id)
        ):
            found[d.route_id].append(_delivery_view(d))
    return found


def _delivery_view(d: Any) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        route_id=d.route_id,
        channel=d.channel,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
    )


def _route_view(r: Any, delivery_list: list[DeliveryView]) -> RouteView:
    return RouteView(
        id=r.id,
        mention_id=r.mention_id,
        team=r.team,
        channel=r.channel,
        priority=r.priority,
        status=r.status,
        rule=r.rule,
        due_at=r.due_at,
        created_at=r.created_at,
        deliveries=delivery_list,
    )


def contact_view(
    connection: Connection, scope: Scope, contact_id: str, now: datetime | None = None
) -> ContactView | None:
    """The 360° view, or None when the contact does not exist or is outside the scope."""
    now = now or now_utc()
    row = connection.execute(select(contacts).where(contacts.c.id == contact_id, _contact_visible(scope))).one_or_none()
    if row is None:
        return None
    c = connection
    emails = sorted(
        c.execute(select(contact_emails.c.email).where(contact_emails.c.contact_id == contact_id)).scalars()
    )
    idents = [
        IdentityView(platform=i.platform, handle=i.handle, evidence=i.evidence, verified=i.verified)
        for i in c.execute(select(identities).where(identities.c.contact_id == contact_id).order_by(identities.c.id))
    ]
    roles = [
        CompanyRole(company_id=m.company_id, name=m.name, domain=m.domain, classification=m.classification, role=m.role)
        for m in c.execute(
            select(
                memberships.c.company_id,
                memberships.c.role,
                companies.c.name,
                companies.c.domain,
                companies.c.classification,
            )
            .join(companies, companies.c.id == memberships.c.company_id)
            .where(memberships.c.contact_id == contact_id)
        )
    ]
    consent_list = [
        ConsentView(
            purpose=k.purpose,
            basis=k.basis,
            source=k.source,
            granted_at=k.granted_at,
            withdrawn_at=k.withdrawn_at,
            review_due=k.review_due,
            active=k.granted_at <= now
            and (k.withdrawn_at is None or k.withdrawn_at > now)
            and (k.review_due is None or k.review_due > now),
        )
        for k in c.execute(select(consents).where(consents.c.contact_id == contact_id).order_by(consents.c.granted_at))
    ]
    finding_list = [
        _pick(FindingView, f)
        for f in c.execute(
            select(findings)
            .where(findings.c.contact_id == contact_id, finding_visible(scope))
            .order_by(findings.c.created_at.desc())
        )
    ]
    linked_query = (
        select(
            mentions.c.id,
            mentions.c.source,
            mentions.c.url,
            mentions.c.created_at,
            mentions.c.text,
            _EFFECTIVE_INTENT.label("intent"),
            _EFFECTIVE_SENTIMENT.label("sentiment"),
        )
        .join(links, links.c.mention_id == mentions.c.id)
        .join(verdicts, verdicts.c.mention_id == mentions.c.id)
        .where(links.c.contact_id == contact_id, links.c.status != "unlinked", scope_condition(scope))
        .order_by(mentions.c.created_at.desc())
    )
    linked = [
        LinkedMention(
            id=m.id,
            source=m.source,
            url=m.url,
            created_at=m.created_at,
            excerpt=" ".join(m.text.split())[:200],
            intent=m.intent,
            sentiment=m.sentiment,
        )
        for m in c.execute(linked_query)
    ]
    route_rows = list(
        c.execute(select(routes).where(routes.c.mention_id.in_([m.id for m in linked])).order_by(routes.c.id))
    )
    if not scope.everything:
        route_rows = [r for r in route_rows if r.team == scope.team]
    delivery_map = _deliveries_for(c, [r.id for r in route_rows])
    return ContactView(
        id=row.id,
        name=row.name,
        segment=row.segment,
        preferred_channel=row.preferred_channel,
        external_ref=row.external_ref,
        emails=emails,
        identities=idents,
        companies=roles,
        consents=consent_list,
        findings=finding_list,
        mentions=linked,
        routes=[_route_view(r, delivery_map.get(r.id, [])) for r in route_rows],
    )


# ---- routes and deliveries ---------------------------------------------------------------------------------


def list_routes(
    connection: Connection, scope: Scope, *, team: str | None = None, status: str | None = None, limit: int = 100
) -> list[RouteView]:
    query = (
        select(routes)
        .join(mentions, mentions.c.id == routes.c.mention_id)
        .join(verdicts, verdicts.c.mention_id == routes.c.mention_id)
    )
    query = query.where(scope_condition(scope))
    if not scope.everything:
        query = query.where(routes.c.team == scope.team)
    if team:
        query = query.where(routes.c.team == team)
    if status:
        query = query.where(routes.c.status == status)
    rows = list(connection.execute(query.order_by(routes.c.id.desc()).limit(limit)))
    delivery_map = _deliveries_for(connection, [r.id for r in rows])
    return [_route_view(r, delivery_map.get(r.id, [])) for r in rows]


def list_deliveries(
    connection: Connection, scope: Scope, *, status: str | None = None, limit: int = 100
) -> list[DeliveryView]:
    visible_routes = [r.id for r in list_routes(connection, scope, limit=100_000)] if not scope.everything else None
    query = select(deliveries)
    if visible_routes is not None:
        query = query.where(deliveries.c.route_id.in_(visible_routes))
    if status:
        query = query.where(deliveries.c.status == status)
    return [_delivery_view(d) for d in connection.execute(query.order_by(deliveries.c.id.desc()).limit(limit))]


def delivery_visible(connection: Connection, scope: Scope, delivery_id: int) -> DeliveryView | None:
    query = (
        select(deliveries)
        .join(routes, routes.c.id == deliveries.c.route_id)
        .join(mentions, mentions.c.id == routes.c.mention_id)
        .join(verdicts, verdicts.c.mention_id == mentions.c.id)
        .where(deliveries.c.id == delivery_id, scope_condition(scope))
    )
    if not scope.everything:
        query = query.where(routes.c.team == scope.team)
    row = connection.execute(query).one_or_none()
    return _delivery_view(row) if row else None


def retry_delivery(connection: Connection, delivery_id: int, now: datetime | None = None) -> None:
    """Send a failed or dead delivery again at the next delivery run (its idempotency key makes that safe)."""
    status = connection.execute(select(deliveries.c.status).where(deliveries.c.id == delivery_id)).scalar_one()
    if status not in ("failed", "dead"):
        raise NotAllowed(f"delivery {delivery_id} is {status}; only failed or dead deliveries can be retried")
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id)
        .values(status="failed", next_attempt_at=now or now_utc())
    )


def delivery_status_of_routes(connection: Connection, mention_ids: Sequence[int], team: str) -> dict[int, str]:
    """For each mention, the status of a delivery of its route to `team` (mentions without one are left out)."""
    if not mention_ids:
        return {}
    rows = connection.execute(
        select(routes.c.mention_id, deliveries.c.status)
        .join(deliveries, deliveries.c.route_id == routes.c.id)
        .where(routes.c.mention_id.in_(mention_ids), routes.c.team == team)
    )
    return {r.mention_id: r.status for r in rows}


def deliveries_of_mention(connection: Connection, mention_id: int, team: str) -> list[tuple[int, str]]:
    """(delivery id, status) of every delivery of the mention's route to `team`."""
    rows = connection.execute(
        select(deliveries.c.id, deliveries.c.status)
        .join(routes, routes.c.id == deliveries.c.route_id)
        .where(routes.c.mention_id == mention_id, routes.c.team == team)
    )
    return [(r.id, r.status) for r in rows]
