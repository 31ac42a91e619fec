"""GDPR duties from one place: export what is kept on a contact, erase it, and apply retention.

All three read `storage.personal_data.PERSONAL_DATA`, so a table added there is exported and erased
without touching this module.

Erasure reaches past the tables tied to a contact: pages pushed to workers and not yet stored
(`task_runs.arguments`), quarantined raw items, error texts and audit details are searched for the
person's handles, names and emails. Redis holds nothing to erase: Celery messages carry only a run id
and a subject (a source name or "page"), and results are not stored there (`task_ignore_result`); the
page itself waits in `task_runs`. The only files we write are exports a person asked for (`--out`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Text, cast, delete, false, func, or_, select, tuple_, update

from enrichers.linking import normalise_handle
from storage.audit import as_json as audit_json
from storage.audit import entries_for, record
from storage.inbox import Scope
from storage.metrics import refresh_rollups
from storage.personal_data import PERSONAL_DATA, RETAINED_NOT_PERSONAL, Kept, TiedBy
from storage.provenance import explain_contact, explanation_document
from storage.schema import (
    contact_emails,
    contacts,
    deliveries,
    identities,
    links,
    mentions,
    metadata,
    now_utc,
    quarantine,
    routes,
    task_runs,
    tombstones,
    triage_feedback,
)
from storage.tags import refresh_mention_tags


class UnknownContact(LookupError):
    pass


def _authored_keys(connection: Connection, contact_id: str) -> list[tuple[str, str]]:
    """(source, external_id) of mentions the person published: under one of their handles, or linked to them.

    A link to a contact is only made on an exact handle or a person's confirmation, so a linked mention
    is theirs even when its stored handle lacks what the identity has (a bare Mastodon name).
    """
    handles = [(r.platform, r.handle_key) for r in connection.execute(
        select(identities.c.platform, identities.c.handle_key).where(identities.c.contact_id == contact_id)
    )]  # fmt: skip
    conditions: list[ColumnElement[bool]] = [
        mentions.c.id.in_(
            select(links.c.mention_id).where(links.c.contact_id == contact_id, links.c.status != "unlinked")
        )
    ]
    if handles:
        conditions.append(tuple_(mentions.c.source, func.lower(mentions.c.author_handle)).in_(handles))
    rows = connection.execute(
        select(mentions.c.source, mentions.c.external_id).where(or_(*conditions)).order_by(mentions.c.id)
    )
    return [(r.source, r.external_id) for r in rows]


@dataclass(frozen=True)
class Person:
    """How the person shows up in data that is not tied to their contact id: to find and scrub them there."""

    handles: frozenset[tuple[str, str]]  # (platform, normalised handle)
    words: tuple[str, ...]  # handles, name and emails, matched wherever they stand
    prefixed: tuple[str, ...] = ()  # plain-word handles ('support'), matched only as @support, x:support, /support
    # the words of their name ('Priya', 'Raman'): scrubbed only from posts that name them in full, and from what we
    # wrote about those posts (reasons quote single words), never from everyone's text ('Raman noodles')
    name_parts: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str] | None:
        """Any of them, case-insensitive, never inside a longer word, handle or domain ('jo_s' matches neither
        'jo_smith' nor 'jo_s.bsky.social'; a full stop ending the sentence is fine)."""
        if not (self.words or self.prefixed):
            return None

        def alternatives(words: Iterable[str]) -> str:
            return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"

        bare, prefixed = alternatives(self.words), alternatives(self.prefixed)
        return re.compile(rf"(?:(?<![\w.@-])@?(?:{bare})|(?:(?<=[:/])|@)(?:{prefixed}))(?!\.?[\w@-])", re.IGNORECASE)

    def part_pattern(self) -> re.Pattern[str] | None:
        """Any single word of their name, as a whole word."""
        if not self.name_parts:
            return None
        words = "|".join(re.escape(w) for w in sorted(self.name_parts, key=len, reverse=True))
        return re.compile(rf"(?<![\w@-])(?:{words})(?![\w@-])", re.IGNORECASE)

    @property
    def everything(self) -> tuple[str, ...]:
        return self.words + self.prefixed


def _person(connection: Connection, contact_id: str, authored: list[tuple[str, str]]) -> Person:
    """Their handles (from identities and from their own posts), name and emails.

    Display names on posts are left out of free-text matching: they can be anything ('Lumora fan').
    """
    handles: set[tuple[str, str]] = set()
    texts: set[str] = set()
    for i in connection.execute(select(identities).where(identities.c.contact_id == contact_id)):
        handles.add((i.platform, i.handle_key))
        texts |= {i.handle.lstrip("@"), i.handle_key}
    if authored:
        rows = connection.execute(
            select(mentions.c.source, mentions.c.author_handle, mentions.c.author_profile_url).where(
                tuple_(mentions.c.source, mentions.c.external_id).in_(authored)
            )
        )
        for r in rows:
            handles.add((r.source, normalise_handle(r.source, r.author_handle, r.author_profile_url)))
            texts.add(r.author_handle.lstrip("@"))
    texts = {t.strip() for t in texts}
    words = {t for t in texts if not t.isalpha()}
    emails = connection.execute(select(contact_emails.c.email).where(contact_emails.c.contact_id == contact_id))
    words |= set(emails.scalars())
    name = connection.execute(select(contacts.c.name).where(contacts.c.id == contact_id)).scalar_one_or_none()
    words |= {name.strip()} if name and name.strip() else set()
    # Two characters or fewer would match unrelated text; such a handle is still matched exactly in pages.
    parts = {p for p in re.split(r"[\s,]+", name or "") if len(p) > 2 and p.isalpha()}
    return Person(
        frozenset(handles),
        tuple(sorted(w for w in words if len(w) > 2)),
        tuple(sorted(t for t in texts if t.isalpha() and len(t) > 2)),
        tuple(sorted(parts)) if len(parts) > 1 else (),
    )


def _where(table_name: str, tied_by: TiedBy, contact_id: str, authored: list[tuple[str, str]]) -> ColumnElement[bool]:
    """Rows of `table_name` tied to the contact; `authored` is fixed up front so deletes cannot shift it."""
    table = metadata.tables[table_name]
    if tied_by is TiedBy.contact_key:
        return table.c.id == contact_id
    if tied_by is TiedBy.contact_id:
        return table.c.contact_id == contact_id
    if not authored:
        return false()
    mention_ids = select(mentions.c.id).where(tuple_(mentions.c.source, mentions.c.external_id).in_(authored))
    if tied_by is TiedBy.author:
        return table.c.id.in_(mention_ids)
    if tied_by is TiedBy.mention and "mention_id" in table.c:
        return table.c.mention_id.in_(mention_ids)
    if tied_by is TiedBy.mention and table is deliveries:
        return table.c.route_id.in_(select(routes.c.id).where(routes.c.mention_id.in_(mention_ids)))
    raise ValueError(f"{table_name}: rows tied by {tied_by} cannot be found for a contact")


def _require_contact(connection: Connection, contact_id: str) -> None:
    if connection.execute(select(contacts.c.id).where(contacts.c.id == contact_id)).first() is None:
        raise UnknownContact(f"no contact with id {contact_id!r}")


def _json_safe(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_contact(connection: Connection, contact_id: str, *, actor: str) -> dict[str, Any]:
    """Everything kept on one contact, table by table, plus the audit trail about them."""
    _require_contact(connection, contact_id)
    authored = _authored_keys(connection, contact_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in PERSONAL_DATA:
        if entry.tied_by is TiedBy.nobody:
            continue
        table = metadata.tables[entry.table]
        rows = connection.execute(select(table).where(_where(entry.table, entry.tied_by, contact_id, authored)))
        tables[entry.table] = [{k: _json_safe(v) for k, v in r._asdict().items()} for r in rows]
    # Erasure also takes their posts out of pages not yet stored and drops quarantined raw items by or naming
    # them: the export shows those too, with the same rules, so it holds everything erasure would remove.
    person = _person(connection, contact_id, authored)
    pending = _pending_theirs(connection, person)
    posts = authored + [(str(p["item"].get("source")), str(p["item"].get("external_id"))) for p in pending]
    tables["waiting_to_be_stored"] = [{k: _json_safe(v) for k, v in p.items()} for p in pending]
    tables["quarantine"] = [
        {k: _json_safe(v) for k, v in r._asdict().items() if k != "payload_hash"}
        for r in _quarantined_theirs(connection, person, posts)
    ]
    # "Why is this on my profile?": each finding's audit record, assembled into one answer.
    why = [explanation_document(e) for e in explain_contact(connection, contact_id, Scope())]
    record(connection, actor, "gdpr.export", "contact", contact_id, tables=sorted(tables))
    return {
        "contact_id": contact_id,
        "exported_at": now_utc().isoformat(),
        "what_we_keep": {e.table: {"columns": list(e.columns), "why": e.why} for e in PERSONAL_DATA},
        "why_on_profile": why,
        "tables": tables,
        "audit": audit_json(entries_for(connection, "contact", contact_id)),
    }


@dataclass
class ErasureReport:
    """What one erasure removed, as counts by table (no content, so it can be audited and shown)."""

    contact_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    tombstoned_mentions: int = 0
    scrubbed: dict[str, int] = field(default_factory=dict)  # rows whose text had the person taken out


# Children before parents, so no foreign key is left dangling whatever the backend enforces.
ERASE_ORDER = (
    "deliveries", "routes", "leads", "verdicts", "findings", "links", "mention_tags", "mention_notes",
    "reply_records", "mentions",
    "contact_emails", "identities", "memberships", "consents", "crm_records", "contacts",
)  # fmt: skip
ERASED = "[erased]"


def _is_theirs(item: Any, person: Person) -> bool:
    """A mention in a pushed page (`Mention.model_dump(mode="json")`) published under one of their handles."""
    if not isinstance(item, dict):
        return False
    found = item.get("author")
    author: dict[str, Any] = found if isinstance(found, dict) else {}
    handle, source = author.get("handle"), item.get("source")
    if not (isinstance(handle, str) and isinstance(source, str)):
        return False
    profile = author.get("profile_url") if isinstance(author.get("profile_url"), str) else None
    return (source, normalise_handle(source, handle, profile)) in person.handles


def _scrub_text(value: Any, pattern: re.Pattern[str]) -> Any:
    """`value` (text, or JSON made of dicts, lists and text) with every match replaced by ERASED."""
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub_text(v, pattern) for v in value]
    if isinstance(value, dict):
        return {_scrub_text(k, pattern): _scrub_text(v, pattern) for k, v in value.items()}
    return value


def _names_them(item: Any, pattern: re.Pattern[str] | None) -> bool:
    """A raw item (a rejected line of a pushed page) that names the person anywhere."""
    return pattern is not None and bool(pattern.search(json.dumps(item)))


def _pending_theirs(connection: Connection, person: Person) -> list[dict[str, Any]]:
    """Their posts and the raw items naming them in pages collected but not yet stored, as erasure would take them."""
    pattern = person.pattern()
    found: list[dict[str, Any]] = []
    rows = connection.execute(select(task_runs.c.id, task_runs.c.arguments).where(task_runs.c.arguments.is_not(None)))
    for run_id, arguments in rows:
        if not isinstance(arguments, dict):
            continue
        for m in arguments.get("mentions") or []:
            if _is_theirs(m, person):
                found.append({"page": run_id, "kind": "post waiting to be stored", "item": m})
        for r in arguments.get("rejected") or []:
            if _names_them(r, pattern):
                found.append({"page": run_id, "kind": "rejected item naming them", "item": r})
    return found


def _quarantined_theirs(connection: Connection, person: Person, posts: Iterable[tuple[str, str]]) -> list[Any]:
    """Quarantined raw items by or naming the person (the rows erasure deletes)."""
    pattern = person.pattern()
    if pattern is None:
        return []
    ids = [external_id for _, external_id in posts if len(external_id) >= 6]
    return [
        row
        for row in connection.execute(select(quarantine))
        if pattern.search(row.payload) or any(i in row.payload for i in ids)
    ]


def _scrub_pushed_pages(connection: Connection, person: Person) -> tuple[list[tuple[str, str]], int]:
    """Take the person's posts (and raw items naming them) out of pages not yet stored.

    Returns the (source, external_id) of the posts taken out, to be tombstoned, and how many runs changed.
    """
    pattern = person.pattern()
    taken: list[tuple[str, str]] = []
    changed = 0
    rows = connection.execute(select(task_runs.c.id, task_runs.c.arguments).where(task_runs.c.arguments.is_not(None)))
    for run_id, arguments in list(rows):
        if not isinstance(arguments, dict):
            continue
        kept = dict(arguments)
        if isinstance(arguments.get("mentions"), list):
            theirs = [m for m in arguments["mentions"] if _is_theirs(m, person)]
            taken += [(str(m.get("source")), str(m.get("external_id"))) for m in theirs]
            kept["mentions"] = [m for m in arguments["mentions"] if m not in theirs]
        if pattern is not None and isinstance(arguments.get("rejected"), list):
            kept["rejected"] = [r for r in arguments["rejected"] if not _names_them(r, pattern)]
        if pattern is not None:  # another author's post that names them is kept, without their name
            kept = _scrub_text(kept, pattern)
        if kept != arguments:
            connection.execute(update(task_runs).where(task_runs.c.id == run_id).values(arguments=kept))
            changed += 1
    return taken, changed


# Columns where another author's post, or a text we wrote about it, may name the person. Their own rows
# are deleted; in everyone else's, the handle, name or email is replaced by ERASED.
FREE_TEXT: tuple[tuple[str, str], ...] = (
    ("mentions", "text"), ("mentions", "title"), ("mentions", "url"),
    ("verdicts", "reasons"),
    ("findings", "excerpt"), ("findings", "url"), ("findings", "reasons"), ("findings", "link_evidence"),
    ("links", "evidence"),
    ("routes", "explanation"), ("routes", "evidence"),
    ("deliveries", "payload"), ("deliveries", "last_error"),
    ("task_runs", "last_error"),
    ("audit_log", "detail"),  # details never should hold personal data; this makes sure
)  # fmt: skip


def _scrub_column(connection: Connection, table_name: str, column: str, person: Person) -> int:
    """Replace the person's words in one column of every row; returns how many rows changed."""
    pattern = person.pattern()
    if pattern is None:
        return 0
    table = metadata.tables[table_name]
    target = table.c[column]
    is_json = isinstance(target.type, JSON)
    keys = list(table.primary_key.columns)
    query = select(*keys, target).where(target.is_not(None))
    if not is_json or all(
        w.isascii() for w in person.everything
    ):  # JSON text may escape non-ASCII (\\u00eb): scan it all
        as_text = func.lower(cast(target, Text)) if is_json else func.lower(target)
        query = query.where(or_(*(as_text.contains(w.lower(), autoescape=True) for w in person.everything)))
    changed = 0
    for row in list(connection.execute(query)):
        value = row[-1]
        if not pattern.search(json.dumps(value, ensure_ascii=False) if is_json else str(value)):
            continue
        where = [k == row[i] for i, k in enumerate(keys)]
        connection.execute(update(table).where(*where).values({column: _scrub_text(value, pattern)}))
        changed += 1
    return changed


def _scrub_free_text(connection: Connection, person: Person, posts: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Quarantined raw items by or naming the person go; other free text loses their handles, names and emails."""
    pattern = person.pattern()
    if pattern is None:
        return {}
    found: dict[str, int] = {"quarantine": 0}
    for row in _quarantined_theirs(connection, person, posts):
        connection.execute(delete(quarantine).where(quarantine.c.id == row.id))
        found["quarantine"] += 1
    naming = _mentions_naming(connection, person, pattern)
    for table_name, column in FREE_TEXT:
        changed = _scrub_column(connection, table_name, column, person)
        if changed:
            key = f"{table_name}.{column}"
            found[key] = found.get(key, 0) + changed
    parts = person.part_pattern()
    if parts is not None and naming:
        for table_name, column in ABOUT_A_POST:
            changed = _scrub_parts(connection, table_name, column, naming, parts)
            if changed:
                key = f"{table_name}.{column} (name words)"
                found[key] = found.get(key, 0) + changed
    return found


# What a post's own text and what we wrote about it hold, by the post's id: where a post that names the person in
# full may also name them by one word ("Priya Raman fixed it. Thanks Priya!", a reason quoting 'Raman').
ABOUT_A_POST: tuple[tuple[str, str], ...] = (
    ("mentions", "text"), ("mentions", "title"),
    ("verdicts", "reasons"),
    ("findings", "excerpt"), ("findings", "reasons"),
    ("routes", "explanation"), ("routes", "evidence"),
)  # fmt: skip


def _mentions_naming(connection: Connection, person: Person, pattern: re.Pattern[str]) -> list[int]:
    """Ids of other authors' stored posts whose text or title names the person (before it is scrubbed)."""
    if not person.name_parts:
        return []
    words = [w.lower() for w in person.everything]
    candidates = connection.execute(
        select(mentions.c.id, mentions.c.text, mentions.c.title).where(
            or_(
                *(func.lower(mentions.c.text).contains(w, autoescape=True) for w in words),
                *(func.lower(mentions.c.title).contains(w, autoescape=True) for w in words),
            ),
        )
    )
    return [r.id for r in candidates if pattern.search(r.text or "") or pattern.search(r.title or "")]


def _scrub_parts(
    connection: Connection, table_name: str, column: str, mention_ids: list[int], parts: re.Pattern[str]
) -> int:
    """Replace single words of the person's name in `column` of the rows about `mention_ids`."""
    table = metadata.tables[table_name]
    key = table.c.id if table_name == "mentions" else table.c.mention_id
    target = table.c[column]
    changed = 0
    for start in range(0, len(mention_ids), 500):
        chunk = mention_ids[start : start + 500]
        pk = list(table.primary_key.columns)
        for row in list(connection.execute(select(*pk, target).where(key.in_(chunk), target.is_not(None)))):
            value = row[-1]
            text = json.dumps(value, ensure_ascii=False) if isinstance(target.type, JSON) else str(value)
            if not parts.search(text):
                continue
            where = [k == row[i] for i, k in enumerate(pk)]
            connection.execute(update(table).where(*where).values({column: _scrub_text(value, parts)}))
            changed += 1
    return changed


def erase_contact(connection: Connection, contact_id: str, *, actor: str) -> ErasureReport:
    """Erase a contact and every record tied to them, everywhere; their posts leave a tombstone without personal data.

    Besides the tables of `PERSONAL_DATA`, this takes their posts out of pages waiting for a worker,
    drops quarantined raw items by or naming them, and replaces their handles, names and emails in
    error texts and audit details. The tombstone stops a later collection from storing the same post again.
    """
    _require_contact(connection, contact_id)
    authored = _authored_keys(connection, contact_id)
    person = _person(connection, contact_id, authored)
    return _erase(connection, person, authored, ("contact", contact_id), actor, contact_id=contact_id)


def _erase(
    connection: Connection,
    person: Person,
    authored: list[tuple[str, str]],
    subject: tuple[str, str],
    actor: str,
    *,
    contact_id: str | None = None,
) -> ErasureReport:
    """Tombstone and delete the person's posts and everything hanging off them (and, for a contact, their CRM
    records), take them out of waiting pages and quarantine, scrub them from everyone else's text; audited."""
    pushed, pages_changed = _scrub_pushed_pages(connection, person)
    posts = list(dict.fromkeys(authored + pushed))
    at = now_utc()
    for source, external_id in posts:
        connection.execute(
            delete(tombstones).where(tombstones.c.source == source, tombstones.c.external_id == external_id)
        )
        connection.execute(
            tombstones.insert().values(source=source, external_id=external_id, reason="erased_on_request", at=at)
        )
    report = ErasureReport(contact_id or f"{subject[0]}:{subject[1]}", tombstoned_mentions=len(posts))
    if posts:  # labels only, but tied to the post by id; the foreign key would cascade, we do not rely on it
        mention_ids = select(mentions.c.id).where(tuple_(mentions.c.source, mentions.c.external_id).in_(posts))
        report.deleted["triage_feedback"] = (
            connection.execute(delete(triage_feedback).where(triage_feedback.c.mention_id.in_(mention_ids))).rowcount
            or 0
        )
        if contact_id is None:  # an author's posts may be linked to a contact: the links go with the posts
            report.deleted["links"] = (
                connection.execute(delete(links).where(links.c.mention_id.in_(mention_ids))).rowcount or 0
            )
    contact_tied = (TiedBy.contact_key, TiedBy.contact_id)
    entries = sorted(
        (
            e
            for e in PERSONAL_DATA
            if e.tied_by is not TiedBy.nobody and (contact_id is not None or e.tied_by not in contact_tied)
        ),
        key=lambda e: ERASE_ORDER.index(e.table),
    )
    for entry in entries:
        table = metadata.tables[entry.table]
        result = connection.execute(delete(table).where(_where(entry.table, entry.tied_by, contact_id or "", posts)))
        report.deleted[entry.table] = result.rowcount or 0
    report.scrubbed = {"pushed_pages": pages_changed, **_scrub_free_text(connection, person, posts)}
    refresh_rollups(connection, wait=True)  # metric_author_days holds handles: recompute it without theirs now
    refresh_mention_tags(connection, wait=True)  # a hashtag naming them left other posts with the scrub
    report.deleted["quarantine"] = report.scrubbed.pop("quarantine", 0)
    record(
        connection,
        actor,
        "gdpr.erase",
        subject[0],
        subject[1],
        deleted=report.deleted,
        tombstoned=len(posts),
        scrubbed=report.scrubbed,
    )
    return report


# The privacy desk for people who are not CRM contacts: an author asks what is kept on them, or for erasure.


@dataclass(frozen=True)
class AuthorSummary:
    """One author as the posts we keep show them: to pick the right one before an export or an erasure."""

    source: str
    handle: str  # as stored on their latest post
    name: str | None  # display name on their latest post
    posts: int
    first_seen: datetime
    last_seen: datetime
    contact_id: str | None  # set when a post of theirs is linked to a CRM contact: use the contact's export then


class UnknownAuthor(LookupError):
    pass


def find_authors(connection: Connection, query: str, *, limit: int = 50) -> list[AuthorSummary]:
    """Authors whose handle or display name contains `query` (any case), most posts first."""
    needle = query.strip().lstrip("@").lower()
    if len(needle) < 2:
        raise ValueError("search for at least two characters of a handle or name")
    handle_key = func.lower(mentions.c.author_handle)
    rows = connection.execute(
        select(
            mentions.c.source,
            handle_key.label("key"),
            func.count().label("posts"),
            func.min(mentions.c.created_at).label("first_seen"),
            func.max(mentions.c.created_at).label("last_seen"),
            func.max(mentions.c.id).label("latest"),
        )
        .where(
            or_(
                handle_key.contains(needle, autoescape=True),
                func.lower(mentions.c.author_name).contains(needle, autoescape=True),
            )
        )
        .group_by(mentions.c.source, handle_key)
        .order_by(func.count().desc(), mentions.c.source, handle_key)
        .limit(limit)
    ).all()
    found = []
    for r in rows:
        latest = connection.execute(
            select(mentions.c.author_handle, mentions.c.author_name).where(mentions.c.id == r.latest)
        ).one()
        linked = connection.execute(
            select(links.c.contact_id)
            .join(mentions, mentions.c.id == links.c.mention_id)
            .where(mentions.c.source == r.source, func.lower(mentions.c.author_handle) == r.key)
            .where(links.c.status != "unlinked")
            .limit(1)
        ).scalar_one_or_none()
        found.append(
            AuthorSummary(
                r.source, latest.author_handle, latest.author_name, r.posts, r.first_seen, r.last_seen, linked
            )
        )
    return found


def author_subject(source: str, handle: str) -> str:
    """How the audit log names an author: a keyed digest, not the handle, so the log keeps no personal data after
    an erasure; the desk finds the entries again from the source and handle."""
    key = handle.strip().lstrip("@").lower()
    return f"{source}:" + hashlib.sha256(f"overheard-author|{source}|{key}".encode()).hexdigest()[:20]


def _author(connection: Connection, source: str, handle: str) -> tuple[Person, list[tuple[str, str]]]:
    """The author's posts (by exact handle on that source, any case) and how they show up elsewhere."""
    key = handle.strip().lstrip("@").lower()
    rows = connection.execute(
        select(mentions.c.source, mentions.c.external_id, mentions.c.author_handle, mentions.c.author_profile_url)
        .where(mentions.c.source == source, func.lower(func.ltrim(mentions.c.author_handle, "@")) == key)
        .order_by(mentions.c.id)
    ).all()
    handles = {(source, normalise_handle(source, r.author_handle, r.author_profile_url)) for r in rows}
    handles.add((source, key))
    texts = {r.author_handle.lstrip("@") for r in rows} | {handle.strip().lstrip("@")}
    person = Person(
        frozenset(handles),
        tuple(sorted(t for t in texts if not t.isalpha() and len(t) > 2)),
        tuple(sorted(t for t in texts if t.isalpha() and len(t) > 2)),
    )
    return person, [(r.source, r.external_id) for r in rows]


def export_author(connection: Connection, source: str, handle: str, *, actor: str) -> dict[str, Any]:
    """Everything kept on an author who is not (or not only) a CRM contact: their posts and all that hangs off
    them, their posts waiting in pages and quarantined, by the same rules `erase_author` removes them."""
    tables = author_kept(connection, source, handle)
    subject = author_subject(source, handle)
    record(connection, actor, "gdpr.export", "author", subject, tables=sorted(tables))
    return {
        "author": {"source": source, "handle": handle},
        "exported_at": now_utc().isoformat(),
        "what_we_keep": {e.table: {"columns": list(e.columns), "why": e.why} for e in PERSONAL_DATA},
        "tables": tables,
        "audit": audit_json(entries_for(connection, "author", subject)),
    }


def author_contacts(connection: Connection, source: str, handle: str) -> list[str]:
    """The CRM contacts a post of the author's is linked to (not unlinked by a person), by id."""
    key = handle.strip().lstrip("@").lower()
    return list(
        connection.execute(
            select(links.c.contact_id)
            .join(mentions, mentions.c.id == links.c.mention_id)
            .where(mentions.c.source == source, func.lower(func.ltrim(mentions.c.author_handle, "@")) == key)
            .where(links.c.status != "unlinked", links.c.contact_id.is_not(None))
            .distinct()
            .order_by(links.c.contact_id)
        ).scalars()
    )


def author_kept(connection: Connection, source: str, handle: str) -> dict[str, list[dict[str, Any]]]:
    """The rows kept on an author, per table (what `export_author` exports and `erase_author` removes);
    reading them is not audited here, the caller audits the view."""
    person, authored = _author(connection, source, handle)
    pending = _pending_theirs(connection, person)
    if not authored and not pending:
        raise UnknownAuthor(f"no post by {handle!r} on {source} is kept")
    tables: dict[str, list[dict[str, Any]]] = {}
    for entry in PERSONAL_DATA:
        if entry.tied_by not in (TiedBy.author, TiedBy.mention):
            continue
        table = metadata.tables[entry.table]
        rows = connection.execute(select(table).where(_where(entry.table, entry.tied_by, "", authored)))
        tables[entry.table] = [{k: _json_safe(v) for k, v in r._asdict().items()} for r in rows]
    posts = authored + [(str(p["item"].get("source")), str(p["item"].get("external_id"))) for p in pending]
    tables["waiting_to_be_stored"] = [{k: _json_safe(v) for k, v in p.items()} for p in pending]
    tables["quarantine"] = [
        {k: _json_safe(v) for k, v in r._asdict().items() if k != "payload_hash"}
        for r in _quarantined_theirs(connection, person, posts)
    ]
    return tables


def erase_author(connection: Connection, source: str, handle: str, *, actor: str) -> ErasureReport:
    """Erase an author who is not a CRM contact: their posts (tombstoned), everything hanging off them, their
    posts in waiting pages and quarantine, and their handle in everyone else's text. The report is the receipt:
    what was removed, per table. A CRM contact is erased with `erase_contact` (it also removes the CRM record)."""
    person, authored = _author(connection, source, handle)
    if not authored and not _pending_theirs(connection, person):
        raise UnknownAuthor(f"no post by {handle!r} on {source} is kept")
    return _erase(connection, person, authored, ("author", author_subject(source, handle)), actor)


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept, in days (from overheard.yaml `retention:`); the registry
    (`storage.personal_data`, each table's `kept`) says which period ends which table's rows."""

    mentions_days: int = 365
    quarantine_days: int = 30
    audit_days: int = 2190
    deliveries_days: int = 90
    pages_days: int = 30  # collected pages still waiting for a worker, and finished runs' arguments


def _retained() -> list[tuple[str, Kept]]:
    """Every table retention ends, children before parents (the erase order), from the registry."""
    entries = [(e.table, e.kept) for e in PERSONAL_DATA if e.kept is not None]
    entries += list(RETAINED_NOT_PERSONAL.items())
    order = {name: i for i, name in enumerate(ERASE_ORDER)}
    return sorted(entries, key=lambda item: order.get(item[0], -1))


def _of_mentions(table_name: str, mention_ids: Any) -> ColumnElement[bool]:
    """Rows of `table_name` hanging off the mentions selected by `mention_ids`."""
    table = metadata.tables[table_name]
    if "mention_id" in table.c:
        return table.c.mention_id.in_(mention_ids)
    if table is deliveries:
        return table.c.route_id.in_(select(routes.c.id).where(routes.c.mention_id.in_(mention_ids)))
    raise ValueError(f"{table_name}: kept with its mention, but it has no mention_id")


def _expired(retention: Retention, now: datetime) -> list[tuple[str, ColumnElement[bool]]]:
    """Per table, the rows past their retention period: the one rule both the dry run and the run use.

    A table kept for a period loses the rows older than it; one with its own expiry, the rows past it; rows that
    hang off a mention go with their mention (and a delivery of an expired mention with it, whatever its age).
    """
    entries = _retained()
    kept_mentions = dict(entries)["mentions"]
    assert kept_mentions.period and kept_mentions.clock
    old_mentions = select(mentions.c.id).where(
        mentions.c[kept_mentions.clock] <= now - timedelta(days=getattr(retention, kept_mentions.period))
    )
    rules: list[tuple[str, ColumnElement[bool]]] = []
    for name, kept in entries:
        table = metadata.tables[name]
        conditions: list[ColumnElement[bool]] = []
        if kept.period and kept.clock:
            conditions.append(table.c[kept.clock] <= now - timedelta(days=getattr(retention, kept.period)))
        if kept.expiry:
            conditions.append(table.c[kept.expiry] <= now)
        if name != "mentions" and (kept.with_mention or table is deliveries):
            conditions.append(_of_mentions(name, old_mentions))
        if conditions:
            rules.append((name, or_(*conditions)))
    return rules


def count_retention(connection: Connection, retention: Retention, *, now: datetime | None = None) -> dict[str, int]:
    """The dry run: how many records of each data class `apply_retention` would delete now. Deletes nothing."""
    now = now or now_utc()
    return {
        name: connection.execute(select(func.count()).select_from(metadata.tables[name]).where(condition)).scalar_one()
        for name, condition in _expired(retention, now)
    }


def apply_retention(
    connection: Connection, retention: Retention, *, now: datetime | None = None, actor: str = "retention"
) -> dict[str, int]:
    """Delete what has outlived its retention period, and audit the counts. Findings carry their own expiry."""
    now = now or now_utc()
    removed: dict[str, int] = {}
    for name, condition in _expired(retention, now):
        removed[name] = connection.execute(delete(metadata.tables[name]).where(condition)).rowcount or 0
    refresh_rollups(connection, wait=True)  # expired mentions leave the rollups (and their authors) too
    record(connection, actor, "retention.apply", "database", "all", removed=removed)
    return removed
