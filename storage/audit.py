"""The audit log: who did what to which record, without copying personal data into it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from storage.schema import audit_log, now_utc


class AuditEntry(BaseModel):
    """One audited action. `subject_id` names records by id only (contact ids are pseudonymous)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    detail: dict[str, Any] = {}


def record(
    connection: Connection, actor: str, action: str, subject_type: str, subject_id: str, **detail: Any
) -> AuditEntry:
    entry = AuditEntry(
        at=now_utc(), actor=actor, action=action, subject_type=subject_type, subject_id=subject_id, detail=detail
    )
    connection.execute(audit_log.insert().values(**entry.model_dump()))
    return entry


def entries_for(connection: Connection, subject_type: str, subject_id: str) -> list[AuditEntry]:
    rows = connection.execute(
        select(audit_log)
        .where(audit_log.c.subject_type == subject_type, audit_log.c.subject_id == subject_id)
        .order_by(audit_log.c.id)
    )
    return [AuditEntry.model_validate(r._asdict()) for r in rows]


def latest(
    connection: Connection, *, subject_type: str | None = None, subject_id: str | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The newest `limit` entries, newest first; only those about one subject when it is given."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if subject_type is not None:
        query = query.where(audit_log.c.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(audit_log.c.subject_id == subject_id)
    return [AuditEntry.model_validate(r._asdict()) for r in connection.execute(query)]
