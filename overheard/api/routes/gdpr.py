"""Data-protection requests: export and erase what is kept on a contact, and its audit trail (privacy/admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy import Engine

from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import ContactId, EraseIn
from overheard.services import gdpr
from storage.audit import AuditEntry

router = APIRouter(prefix="/api/gdpr/contacts", tags=["gdpr"], responses=ERRORS)
ContactPath = Annotated[ContactId, Path(description="The contact's id.")]
NOT_FOUND: dict[int | str, dict[str, object]] = {404: {"model": Problem, "description": "No such contact."}}


class ErasureOut(BaseModel):
    contact_id: str
    deleted: dict[str, int]
    tombstoned_mentions: int


@router.post("/{contact_id}/export", response_model=dict[str, Any], responses=NOT_FOUND, summary="Export (Art. 15)")
def export(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> dict[str, Any]:
    """Everything kept on the contact as one JSON document; the export is written to the audit log."""
    return gdpr.export(engine, principal, contact_id)


@router.post("/{contact_id}/erase", response_model=ErasureOut, responses=NOT_FOUND, summary="Erase (Art. 17)")
def erase(
    contact_id: ContactPath,
    body: EraseIn,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> ErasureOut:
    """Erase the contact and every record tied to them; their posts are tombstoned so they are not collected again."""
    report = gdpr.erase(engine, principal, contact_id)
    return ErasureOut(
        contact_id=report.contact_id, deleted=report.deleted, tombstoned_mentions=report.tombstoned_mentions
    )


@router.get(
    "/{contact_id}/audit", response_model=list[AuditEntry], summary="Who viewed, exported or erased the contact"
)
def audit(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[AuditEntry]:
    return gdpr.audit_of(engine, principal, contact_id)
