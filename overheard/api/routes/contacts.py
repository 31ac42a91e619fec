"""Contacts: search, the 360° view (identities, companies and roles, consents, findings, routes), consents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import Field
from sqlalchemy import Engine

from enrichers.model import Consent
from overheard.api.auth import ERRORS, Capability, Principal, Problem, allow, engine_of
from overheard.api.models import ConsentIn, ContactId, text
from storage import inbox
from storage.audit import record
from storage.contacts import save_consent
from storage.provenance import ProfileExplanation, RouteRecord, explain_contact, route_records

router = APIRouter(prefix="/api/contacts", tags=["contacts"], responses=ERRORS)
ContactPath = Annotated[ContactId, Path(description="The contact's id (stable across every view and export).")]
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No such contact, or not one this role may see."}
}
SearchText = Annotated[str, text(200)]


class Contact360(inbox.ContactView):
    """The 360° view with the audit record of each finding and route: "why is this on my profile?"."""

    why: list[ProfileExplanation] = Field(
        description="Each finding's full audit record (source, model and thresholds, verdict, link, basis, "
        "approver), newest first."
    )
    route_records: list[RouteRecord] = Field(description="The audit record of each route shown above.")


def contact_360(engine: Engine, view: inbox.ContactView, scope: inbox.Scope) -> Contact360:
    """The view plus the audit records `scope` may see (the web page shows the same)."""
    with engine.connect() as connection:
        why = explain_contact(connection, view.id, scope)
        records = route_records(connection, [r.id for r in view.routes])
    return Contact360(**view.model_dump(), why=why, route_records=records)


def visible_contact(engine: Engine, principal: Principal, contact_id: str) -> inbox.ContactView:
    with engine.connect() as connection:
        found = inbox.contact_view(connection, principal.scope, contact_id)
    if found is None:
        raise HTTPException(404, f"contact '{contact_id}' does not exist or is not linked to anything your role sees")
    return found


@router.get("", response_model=list[inbox.ContactSummary], summary="Search contacts")
def search(
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
    q: Annotated[SearchText | None, Query(description="Part of an id, name, email or handle.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[inbox.ContactSummary]:
    with engine.begin() as connection:
        found = inbox.search_contacts(connection, principal.scope, q, limit)
        # The query itself may be a name or an email: the audit keeps only how many were shown.
        record(connection, principal.name, "contact.search", "contact", "*", shown=len(found))
    return found


@router.get("/{contact_id}", response_model=Contact360, responses=NOT_FOUND, summary="The 360° view")
def contact(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> Contact360:
    """Everything kept on the contact, and why: each finding and route with its full audit record."""
    found = contact_360(engine, visible_contact(engine, principal, contact_id), principal.scope)
    with engine.begin() as connection:
        record(connection, principal.name, "contact.view", "contact", contact_id)
    return found


@router.get("/{contact_id}/consents", response_model=list[inbox.ConsentView], responses=NOT_FOUND)
def consents(
    contact_id: ContactPath,
    principal: Annotated[Principal, Depends(allow(Capability.read_contacts))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[inbox.ConsentView]:
    found = visible_contact(engine, principal, contact_id)
    with engine.begin() as connection:
        record(connection, principal.name, "consent.view", "contact", contact_id)
    return found.consents


@router.post("/{contact_id}/consents", response_model=list[inbox.ConsentView], responses=NOT_FOUND)
def record_consent(
    contact_id: ContactPath,
    body: ConsentIn,
    principal: Annotated[Principal, Depends(allow(Capability.manage_consents))],
    engine: Annotated[Engine, Depends(engine_of)],
) -> list[inbox.ConsentView]:
    """Record a consent or lawful basis; the same (purpose, basis, source) is updated, e.g. to withdraw it."""
    visible_contact(engine, principal, contact_id)
    with engine.begin() as connection:
        save_consent(connection, Consent(contact_id=contact_id, **body.model_dump()))
        record(
            connection, principal.name, "consent.record", "contact", contact_id,
            purpose=body.purpose, basis=body.basis.value, withdrawn=body.withdrawn_at is not None,
        )  # fmt: skip
    return visible_contact(engine, principal, contact_id).consents
