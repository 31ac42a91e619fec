"""Data-protection requests: export and erase what is kept on a contact or on an author who is not one, and their
audit trail (privacy/admin)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import Engine

from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import MAX_SEARCH_CHARS, ContactId, EraseIn
from overheard.services import gdpr

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
    "/{contact_id}/audit", response_model=list[views.AuditEntry], summary="Who viewed, exported or erased the contact"
)
def audit(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[views.AuditEntry]:
    return [views.AuditEntry.model_validate(e) for e in gdpr.audit_of(engine, principal, contact_id)]


# ---- authors who are not CRM contacts ------------------------------------------------------------------------

authors = APIRouter(prefix="/api/gdpr/authors", tags=["gdpr"], responses=ERRORS)
SourcePath = Annotated[str, Path(max_length=MAX_SEARCH_CHARS, description="The platform, e.g. x or mastodon.")]
HandlePath = Annotated[str, Path(max_length=MAX_SEARCH_CHARS, description="The author's handle on it.")]
NO_AUTHOR: dict[int | str, dict[str, object]] = {404: {"model": Problem, "description": "No post by them is kept."}}


class AuthorOut(BaseModel):
    """An author of stored posts: `contact_id` is set when a post of theirs is linked to a CRM contact (use the
    contact's export and erasure then)."""

    source: str
    handle: str
    name: str | None
    posts: int
    first_seen: datetime
    last_seen: datetime
    contact_id: str | None


class AuthorErasureOut(BaseModel):
    """The erasure receipt: records deleted per table, posts tombstoned, rows scrubbed of them elsewhere."""

    subject: str
    deleted: dict[str, int]
    tombstoned_mentions: int
    scrubbed: dict[str, int]


@authors.get("", response_model=list[AuthorOut], summary="Find an author of stored posts")
def find_authors(
    q: Annotated[str, Query(min_length=2, max_length=MAX_SEARCH_CHARS, description="Part of a handle or name.")],
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[AuthorOut]:
    """Authors whose handle or display name contains `q`, most posts first; the search is audited."""
    return [AuthorOut(**asdict(a)) for a in gdpr.find_authors(engine, principal, q)]


@authors.post("/{source}/{handle}/export", response_model=dict[str, Any], responses=NO_AUTHOR, summary="Export")
def export_author(
    source: SourcePath,
    handle: HandlePath,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> dict[str, Any]:
    """Everything kept on the author as one JSON document; the export is audited."""
    return gdpr.export_author(engine, principal, source, handle)


@authors.post("/{source}/{handle}/erase", response_model=AuthorErasureOut, responses=NO_AUTHOR, summary="Erase")
def erase_author(
    source: SourcePath,
    handle: HandlePath,
    body: EraseIn,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> AuthorErasureOut:
    """Erase the author's posts and all tied to them; the posts are tombstoned so they are not collected again."""
    report = gdpr.erase_author(engine, principal, source, handle)
    return AuthorErasureOut(
        subject=gdpr.author_subject(source, handle),
        deleted=report.deleted,
        tombstoned_mentions=report.tombstoned_mentions,
        scrubbed=report.scrubbed,
    )


@authors.get(
    "/{source}/{handle}/audit", response_model=list[views.AuditEntry], summary="Who viewed, exported or erased"
)
def author_audit(
    source: SourcePath,
    handle: HandlePath,
    principal: Annotated[Principal, Depends(allow(Capability.gdpr))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[views.AuditEntry]:
    """The author's audit entries, newest first (the log names them by a digest, not the handle)."""
    trail = gdpr.audit_trail(engine, principal, author=(source, handle), limit=200)
    return [views.AuditEntry.model_validate(e) for e in trail]
