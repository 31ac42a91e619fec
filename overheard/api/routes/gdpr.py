"""Data-protection requests: export and erase what is kept on a contact, and its audit trail (privacy/admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel
from sqlalchemy import Engine

from overheard import services
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import ContactId, EraseIn
from storage.audit import AuditEntry, entries_for
from storage.gdpr import UnknownContact

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
    try:
        return services.gdpr_export(engine, contact_id, principal.name)
    except UnknownContact as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{contact_id}/erase", response_model=ErasureOut, responses=NOT_FOUND, summary="Erase (Art. 17)")
def erase(
    contact_id: ContactPath,
    body: EraseIn,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> ErasureOut:
    """Erase the contact and every record tied to them; their posts are tombstoned so they are not collected again."""
    try:
        report = services.gdpr_erase(engine, contact_id, principal.name)
    except UnknownContact as exc:
        raise HTTPException(404, str(exc)) from None
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
    with engine.connect() as connection:
        return entries_for(connection, "contact", contact_id)
