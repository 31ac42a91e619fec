"""GDPR duties from one place: export what is kept on a contact, erase it, and apply retention.

All three read `storage.personal_data.PERSONAL_DATA`, so a table added there is exported and erased
without touching this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, false, func, select, tuple_

from storage.audit import entries_for, record
from storage.personal_data import PERSONAL_DATA, TiedBy
from storage.provenance import explain_contact
from storage.schema import (
    audit_log,
    contacts,
    deliveries,
    findings,
    identities,
    mentions,
    metadata,
    now_utc,
    quarantine,
    routes,
    tombstones,
)


class UnknownContact(LookupError):
    pass


def _authored_keys(connection: Connection, contact_id: str) -> list[tuple[str, str]]:
    """(source, external_id) of mentions published under any of the contact's handles."""
    handles = [(r.platform, r.handle_key) for r in connection.execute(
        select(identities.c.platform, identities.c.handle_key).where(identities.c.contact_id == contact_id)
    )]  # fmt: skip
    if not handles:
        return []
    rows = connection.execute(
        select(mentions.c.source, mentions.c.external_id).where(
            tuple_(mentions.c.source, func.lower(mentions.c.author_handle)).in_(handles)
        )
    )
    return [(r.source, r.external_id) for r in rows]


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
    # "Why is this on my profile?": each finding's audit record, assembled into one answer.
    why = [e.model_dump(mode="json") for e in explain_contact(connection, contact_id)]
    record(connection, actor, "gdpr.export", "contact", contact_id, tables=sorted(tables))
    return {
        "contact_id": contact_id,
        "exported_at": now_utc().isoformat(),
        "what_we_keep": {e.table: {"columns": list(e.columns), "why": e.why} for e in PERSONAL_DATA},
        "why_on_profile": why,
        "tables": tables,
        "audit": [e.model_dump(mode="json") for e in entries_for(connection, "contact", contact_id)],
    }


@dataclass
class ErasureReport:
    contact_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    tombstoned_mentions: int = 0


# Children before parents, so no foreign key is left dangling whatever the backend enforces.
ERASE_ORDER = (
    "deliveries", "routes", "verdicts", "findings", "links", "mentions",
    "contact_emails", "identities", "memberships", "consents", "contacts",
)  # fmt: skip


def erase_contact(connection: Connection, contact_id: str, *, actor: str) -> ErasureReport:
    """Erase a contact and every record tied to them; their posts leave a tombstone without personal data.

    The tombstone stops a later collection from storing the same post again.
    """
    _require_contact(connection, contact_id)
    authored = _authored_keys(connection, contact_id)
    at = now_utc()
    for source, external_id in authored:
        connection.execute(
            delete(tombstones).where(tombstones.c.source == source, tombstones.c.external_id == external_id)
        )
        connection.execute(
            tombstones.insert().values(source=source, external_id=external_id, reason="erased_on_request", at=at)
        )
    report = ErasureReport(contact_id, tombstoned_mentions=len(authored))
    entries = sorted(
        (e for e in PERSONAL_DATA if e.tied_by is not TiedBy.nobody), key=lambda e: ERASE_ORDER.index(e.table)
    )
    for entry in entries:
        table = metadata.tables[entry.table]
        result = connection.execute(delete(table).where(_where(entry.table, entry.tied_by, contact_id, authored)))
        report.deleted[entry.table] = result.rowcount or 0
    record(connection, actor, "gdpr.erase", "contact", contact_id, deleted=report.deleted, tombstoned=len(authored))
    return report


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept, in days (from overheard.yaml `retention:`)."""

    mentions_days: int = 365
    quarantine_days: int = 30
    audit_days: int = 2190
    deliveries_days: int = 90


def apply_retention(connection: Connection, retention: Retention, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what has outlived its retention period. Findings carry their own expiry."""
    now = now or now_utc()
    plan: list[tuple[str, Callable[[], ColumnElement[bool]]]] = [
        ("findings", lambda: findings.c.expires_at <= now),
        ("deliveries", lambda: deliveries.c.created_at <= now - timedelta(days=retention.deliveries_days)),
        ("quarantine", lambda: quarantine.c.created_at <= now - timedelta(days=retention.quarantine_days)),
        ("mentions", lambda: mentions.c.created_at <= now - timedelta(days=retention.mentions_days)),
        ("audit_log", lambda: audit_log.c.at <= now - timedelta(days=retention.audit_days)),
    ]
    removed: dict[str, int] = {}
    for name, condition in plan:
        table = metadata.tables[name]
        removed[name] = connection.execute(delete(table).where(condition())).rowcount or 0
    record(connection, "retention", "retention.apply", "database", "all", removed=removed)
    return removed
