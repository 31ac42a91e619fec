"""Contacts: search, the 360° view (identities, companies and roles, consents, findings, routes), consents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field
from sqlalchemy import Engine

from overheard.api import views
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import ConsentIn, ContactId, SearchText
from overheard.services import contacts

router = APIRouter(prefix="/api/contacts", tags=["contacts"], responses=ERRORS)
ContactPath = Annotated[ContactId, Path(description="The contact's id (stable across every view and export).")]
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such contact, or not one this role may see."}
}


class Contact360(views.ContactView):
    """The 360° view with the audit record of each finding and route: "why is this on my profile?"."""

    why: list[views.ProfileExplanation] = Field(
        description="Each finding's full audit record (source, model and thresholds, verdict, link, basis, "
        "approver), newest first."
    )
    route_records: list[views.RouteRecord] = Field(description="The audit record of each route shown above.")

    @classmethod
    def of(cls, found: contacts.Contact360) -> Contact360:
        view = views.ContactView.model_validate(found.contact)
        return cls(
            **dict(view),
            why=[views.ProfileExplanation.model_validate(e) for e in found.why],
            route_records=[views.RouteRecord.model_validate(r) for r in found.route_records],
        )


@router.get("", response_model=list[views.ContactSummary], summary="Search contacts")
def search(
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
    q: Annotated[SearchText | None, Query(description="Part of an id, name, email or handle.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[views.ContactSummary]:
    return [views.ContactSummary.model_validate(c) for c in contacts.search(engine, principal, q, limit)]


@router.get("/{contact_id}", response_model=Contact360, responses=NOT_FOUND, summary="The 360° view")
def contact(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> Contact360:
    """Everything kept on the contact, and why: each finding and route with its full audit record."""
    return Contact360.of(contacts.contact_360(engine, principal, contact_id))


@router.get("/{contact_id}/consents", response_model=list[views.ConsentView], responses=NOT_FOUND)
def consents(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[views.ConsentView]:
    return [views.ConsentView.model_validate(c) for c in contacts.consents(engine, principal, contact_id)]


@router.post("/{contact_id}/consents", response_model=list[views.ConsentView], responses=NOT_FOUND)
def record_consent(
    contact_id: ContactPath,
    body: ConsentIn,
    principal: Annotated[Principal, Depends(allow(Capability.manage_consents))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[views.ConsentView]:
    """Record a consent or lawful basis; the same (purpose, basis, source) is updated, e.g. to withdraw it."""
    found = contacts.record_consent(engine, principal, contact_id, contacts.ConsentRecord(**body.model_dump()))
    return [views.ConsentView.model_validate(c) for c in found]
