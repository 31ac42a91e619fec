"""Data-protection requests: find a data subject, their record and audit trail, access export (Art. 15),
erasure (Art. 17), retention, the audit log, and platforms' deletion notices. Each is for a role with the `gdpr` capability (the command
line acts as the operator) and each leaves an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from overheard.services import contacts
from overheard.services.access import Caller, Capability, NotFound, ServiceError
from overheard.trust import apply_platform_notice
from storage import gdpr as kept_store
from storage import inbox
from storage.audit import AuditEntry, entries_for, latest, record
from storage.database import compact_files, purge_freed_pages
from storage.deletions import DeletionReport
from storage.gdpr import (
    AuthorSummary,
    ErasureReport,
    Retention,
    UnknownAuthor,
    UnknownContact,
    apply_retention,
    author_kept,
    author_subject,
    count_retention,
    erase_contact,
    export_contact,
)
from storage.personal_data import PERSONAL_DATA


@dataclass(frozen=True)
class SubjectRecord:
    """A data subject as the privacy desk sees them: the contact, and who viewed, exported or changed them."""

    contact: inbox.ContactView
    trail: list[AuditEntry]


def find_subjects(engine: Engine, caller: Caller, query: str, limit: int = 50) -> list[inbox.ContactSummary]:
    """Contacts whose id, name, email or handle contains `query`, for a request; the search is audited."""
    caller.require(Capability.gdpr)
    return contacts.audited_search(engine, caller, query, limit)


def subject_record(engine: Engine, caller: Caller, contact_id: str) -> SubjectRecord:
    """The contact and their audit trail (the view itself is audited, and so the first entry of it)."""
    caller.require(Capability.gdpr)
    with engine.begin() as connection:
        view = contacts.visible(connection, caller, contact_id)
        record(connection, caller.name, "contact.view", "contact", contact_id)
        return SubjectRecord(view, entries_for(connection, "contact", contact_id))


def audit_of(engine: Engine, caller: Caller, contact_id: str) -> list[AuditEntry]:
    """Who viewed, exported or erased the contact, oldest first."""
    caller.require(Capability.gdpr)
    with engine.connect() as connection:
        return entries_for(connection, "contact", contact_id)


def export(engine: Engine, caller: Caller, contact_id: str) -> dict[str, Any]:
    """Everything kept on the contact as one JSON document; the export is audited."""
    caller.require(Capability.gdpr)
    try:
        with engine.begin() as connection:
            return export_contact(connection, contact_id, actor=caller.name)
    except UnknownContact as exc:
        raise NotFound(str(exc)) from None


def erase(engine: Engine, caller: Caller, contact_id: str) -> ErasureReport:
    """Erase a contact everywhere (audited), then leave no copy of the deleted rows in the database files."""
    caller.require(Capability.gdpr)
    try:
        with engine.begin() as connection:
            report = erase_contact(connection, contact_id, actor=caller.name)
    except UnknownContact as exc:
        raise NotFound(str(exc)) from None
    purge_freed_pages(engine)
    return report


def compact(engine: Engine, caller: Caller) -> list[str]:
    """After erasures: rewrite the database files of every table that holds personal data (PostgreSQL keeps
    deleted rows in its table files and WAL until then), and audit it. Locks each table while it is rewritten."""
    caller.require(Capability.gdpr)
    tables = sorted({entry.table for entry in PERSONAL_DATA} | {"audit_log", "tombstones"})
    statements = compact_files(engine, tables)
    with engine.begin() as connection:
        record(connection, caller.name, "gdpr.compact", "database", "all", statements=len(statements))
    return statements


def retention(engine: Engine, caller: Caller, periods: Retention, *, dry_run: bool) -> dict[str, int]:
    """Per data class, how many records are past retention: counted only (dry run), or deleted and audited."""
    caller.require(Capability.gdpr)
    with engine.begin() as connection:
        if dry_run:
            return count_retention(connection, periods)
        return apply_retention(connection, periods, actor=caller.name)


def audit_trail(
    engine: Engine,
    caller: Caller,
    contact_id: str | None = None,
    limit: int = 50,
    *,
    author: tuple[str, str] | None = None,
) -> list[AuditEntry]:
    """Who viewed, exported or erased what, newest first; about one contact when `contact_id` is given, or one
    author when `author` (source, handle) is (the log names an author by `author_subject`, never the handle)."""
    caller.require(Capability.gdpr)
    with engine.connect() as connection:
        if author is not None:
            return latest(connection, subject_type="author", subject_id=author_subject(*author), limit=limit)
        if contact_id is None:
            return latest(connection, limit=limit)
        return latest(connection, subject_type="contact", subject_id=contact_id, limit=limit)


# ---- authors who are not CRM contacts ---------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorRecord:
    """What the privacy desk shows of an author before an export or erasure: `kept` is the rows per table (the
    export's tables), `posts` their stored posts, `trail` who viewed, exported or erased them, oldest first."""

    source: str
    handle: str
    subject: str  # how the audit log names them (`author_subject`)
    kept: dict[str, list[dict[str, Any]]]
    posts: list[dict[str, Any]]
    trail: list[AuditEntry]
    contact_ids: list[str]  # CRM contacts a post of theirs is linked to: erase the contact then (CRM record too)

    @property
    def counts(self) -> dict[str, int]:
        """Rows kept per table, the tables with none left out."""
        return {table: len(rows) for table, rows in self.kept.items() if rows}


def find_authors(engine: Engine, caller: Caller, query: str, limit: int = 50) -> list[AuthorSummary]:
    """Authors of stored posts whose handle or display name contains `query`, for a request about someone who
    need not be a CRM contact; the search is audited (how many were shown, not the query)."""
    caller.require(Capability.gdpr)
    try:
        with engine.begin() as connection:
            found = kept_store.find_authors(connection, query, limit=limit)
            record(connection, caller.name, "author.search", "author", "*", shown=len(found))
    except ValueError as exc:
        raise ServiceError(f"Author search: {exc}.") from None
    return found


def author_record(engine: Engine, caller: Caller, source: str, handle: str) -> AuthorRecord:
    """What is kept on the author, per table, and their audit trail; the view is audited (so in the trail)."""
    caller.require(Capability.gdpr)
    subject = author_subject(source, handle)
    try:
        with engine.begin() as connection:
            kept = author_kept(connection, source, handle)
            record(connection, caller.name, "author.view", "author", subject)
            trail = entries_for(connection, "author", subject)
            linked = kept_store.author_contacts(connection, source, handle)
    except UnknownAuthor as exc:
        raise NotFound(str(exc)) from None
    return AuthorRecord(source, handle, subject, kept, kept.get("mentions", []), trail, linked)


def export_author(engine: Engine, caller: Caller, source: str, handle: str) -> dict[str, Any]:
    """Everything kept on the author as one JSON document (Art. 15); the export is audited."""
    caller.require(Capability.gdpr)
    try:
        with engine.begin() as connection:
            return kept_store.export_author(connection, source, handle, actor=caller.name)
    except UnknownAuthor as exc:
        raise NotFound(str(exc)) from None


def erase_author(engine: Engine, caller: Caller, source: str, handle: str) -> ErasureReport:
    """Erase the author's posts and all tied to them (Art. 17, audited), then leave no copy of the deleted rows
    in the database files. The report is the receipt: what was removed per table."""
    caller.require(Capability.gdpr)
    try:
        with engine.begin() as connection:
            report = kept_store.erase_author(connection, source, handle, actor=caller.name)
    except UnknownAuthor as exc:
        raise NotFound(str(exc)) from None
    purge_freed_pages(engine)
    return report


def erasure_receipt(engine: Engine, caller: Caller, subject_type: str, subject_id: str) -> AuditEntry:
    """The latest erasure of a contact or author, from the audit log: its detail holds what was removed per
    table, the tombstoned posts and the scrubbed texts (counts only, no personal data)."""
    caller.require(Capability.gdpr)
    with engine.connect() as connection:
        found = [
            e
            for e in latest(connection, subject_type=subject_type, subject_id=subject_id, limit=200)
            if e.action == "gdpr.erase"
        ]
    if not found:
        raise NotFound(f"no erasure of {subject_type} {subject_id!r} is in the audit log")
    return found[0]


def apply_deletion_notice(
    engine: Engine, caller: Caller, source: str, external_ids: list[str], reason: str
) -> list[DeletionReport]:
    """A platform's delete or compliance notice (e.g. an X compliance job's results): every post it names is
    removed and tombstoned, each deletion audited with `reason` and the caller."""
    caller.require(Capability.gdpr)
    return apply_platform_notice(engine, source, external_ids, reason, actor=caller.name)
