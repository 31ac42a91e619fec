"""Data-protection requests: find a data subject, their record and audit trail, access export (Art. 15),
erasure (Art. 17), retention, the audit log, and platforms' deletion notices. Each is for a role with the `gdpr` capability (the command
line acts as the operator) and each leaves an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from overheard.services import contacts
from overheard.services.access import Caller, Capability, NotFound
from overheard.trust import apply_platform_notice
from storage import inbox
from storage.audit import AuditEntry, entries_for, latest, record
from storage.database import purge_freed_pages
from storage.deletions import DeletionReport
from storage.gdpr import (
    ErasureReport,
    Retention,
    UnknownContact,
    apply_retention,
    count_retention,
    erase_contact,
    export_contact,
)


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


def retention(engine: Engine, caller: Caller, periods: Retention, *, dry_run: bool) -> dict[str, int]:
    """Per data class, how many records are past retention: counted only (dry run), or deleted and audited."""
    caller.require(Capability.gdpr)
    with engine.begin() as connection:
        if dry_run:
            return count_retention(connection, periods)
        return apply_retention(connection, periods, actor=caller.name)


def audit_trail(engine: Engine, caller: Caller, contact_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """Who viewed, exported or erased what, newest first; about one contact when `contact_id` is given."""
    caller.require(Capability.gdpr)
    with engine.connect() as connection:
        if contact_id is None:
            return latest(connection, limit=limit)
        return latest(connection, subject_type="contact", subject_id=contact_id, limit=limit)


def apply_deletion_notice(
    engine: Engine, caller: Caller, source: str, external_ids: list[str], reason: str
) -> list[DeletionReport]:
    """A platform's delete or compliance notice (e.g. an X compliance job's results): every post it names is
    removed and tombstoned, each deletion audited with `reason` and the caller."""
    caller.require(Capability.gdpr)
    return apply_platform_notice(engine, source, external_ids, reason, actor=caller.name)
