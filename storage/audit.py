"""The audit log: who did what to which record, without copying personal data into it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, select

from storage.schema import audit_log, now_utc


@dataclass(frozen=True)
class AuditEntry:
    """One audited action (a read model; the API publishes it as `overheard.api.views.AuditEntry`).

    `actor` is the token's or operator's name, `action` what was done ('contact.view', 'token.revoke', ...),
    `subject_type`/`subject_id` the record acted on, by id only (contact ids are pseudonymous; authors by
    digest), `detail` what else the action recorded (counts, a role, never a secret)."""

    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] = field(default_factory=dict)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.at, row.actor, row.action, row.subject_type, row.subject_id, dict(row.detail or {}))


_ENTRIES = TypeAdapter(list[AuditEntry])


def as_json(entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
    """The entries as JSON-ready dicts (times as ISO 8601), as exports write them."""
    return _ENTRIES.dump_python(list(entries), mode="json")


def record(
    connection: Connection, actor: str, action: str, subject_type: str, subject_id: str, **detail: Any
) -> AuditEntry:
    entry = AuditEntry(
        at=now_utc(), actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, detail=detail
    )
    connection.execute(audit_log.insert().values(**asdict(entry)))
    return entry


def entries_for(connection: Connection, subject_type: str, subject_id: str) -> list[AuditEntry]:
    rows = connection.execute(
        select(audit_log)
        .where(audit_log.c.subject_type == subject_type, audit_log.c.subject_id == subject_id)
        .order_by(audit_log.c.id)
    )
    return [_entry(r) for r in rows]


def latest(
    connection: Connection, *, subject_type: str | None = None, subject_id: str | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest `limit` entries, newest first; only those about one subject when it is given."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(audit_log.c.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(audit_log.c.subject_id == subject_id)
    return [_entry(r) for r in connection.execute(query)]
