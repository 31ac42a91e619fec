"""HubSpot's wire format: our lead as HubSpot request bodies, HubSpot's answers as our objects and reasons.

Endpoints (CRM API v3 objects and search, v4 associations; https://developers.hubspot.com/docs/api-reference):
search bodies are `{"filterGroups": [{"filters": [{"propertyName", "operator", "value"}]}], "properties", "limit"}`;
created objects answer `{"id", "properties", "createdAt", "updatedAt", "archived"}`; errors answer
`{"status": "error", "message", "correlationId", "category"}` (rate limits add `policyName`).
"""

from __future__ import annotations

from typing import Any

from enrichers.crm.sync import CrmLead, CrmObject, CrmOrganisation, CrmPerson

# HubSpot-defined association type ids (v4), from HubSpot's associations reference.
NOTE_TO_CONTACT = 202
NOTE_TO_COMPANY = 190
DEAL_TO_CONTACT = 3
DEAL_TO_COMPANY = 341
LEAD_TO_PRIMARY_CONTACT = 578

CONTACT_READ_BACK = ("email", "firstname", "lastname", "hubspot_owner_id", "lifecyclestage")
"""Properties asked for whenever a contact is searched or created: owner and lifecycle stage are read back."""


def search_body(prop: str, value: str, properties: tuple[str, ...] = (), operator: str = "EQ") -> dict[str, Any]:
    return {
        "filterGroups": [{"filters": [{"propertyName": prop, "operator": operator, "value": value}]}],
        "properties": list(properties),
        "limit": 1,
    }


def first_result(document: Any) -> CrmObject | None:
    """The first object of a search answer, or None when it found nothing."""
    results = document.get("results") if isinstance(document, dict) else None
    if not results:
        return None
    return as_object(results[0])


def as_object(document: Any) -> CrmObject:
    if not isinstance(document, dict) or not document.get("id"):
        raise ValueError("HubSpot answered without an object id")
    return CrmObject(id=str(document["id"]), properties=dict(document.get("properties") or {}))


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last or None


def contact_properties(
    person: CrmPerson, organisation: CrmOrganisation | None, handle_property: str | None
) -> dict[str, str]:
    """A new contact: name, email, the social handle (in `handle_property`), company name, and our id."""
    first, last = _split_name(person.name)
    properties: dict[str, str | None] = {
        "email": person.emails[0] if person.emails else None,
        "firstname": first,
        "lastname": last,
        "company": organisation.name if organisation else None,
    }
    if handle_property:
        properties[handle_property] = person.handle
    return {k: v for k, v in properties.items() if v}


def company_properties(organisation: CrmOrganisation) -> dict[str, str]:
    properties = {"name": organisation.name, "domain": organisation.domain}
    return {k: v for k, v in properties.items() if v}


def _association(to_id: str, type_id: int) -> dict[str, Any]:
    return {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


def note_body(lead: CrmLead, contact_id: str, company_id: str | None, owner_id: str | None = None) -> dict[str, Any]:
    """A note on the contact's (and company's) timeline, at the time of the mention."""
    associations = [_association(contact_id, NOTE_TO_CONTACT)]
    if company_id:
        associations.append(_association(company_id, NOTE_TO_COMPANY))
    properties: dict[str, str] = {
        "hs_timestamp": lead.occurred_at.isoformat().replace("+00:00", "Z"),
        "hs_note_body": lead.note,
    }
    if owner_id:
        properties["hubspot_owner_id"] = owner_id
    return {"properties": properties, "associations": associations}


def deal_body(lead: CrmLead, contact_id: str, company_id: str | None, pipeline: str, stage: str) -> dict[str, Any]:
    associations = [_association(contact_id, DEAL_TO_CONTACT)]
    if company_id:
        associations.append(_association(company_id, DEAL_TO_COMPANY))
    return {
        "properties": {"dealname": lead.title, "pipeline": pipeline, "dealstage": stage},
        "associations": associations,
    }


def lead_record_body(lead: CrmLead, contact_id: str) -> dict[str, Any]:
    """A HubSpot lead object: it must be associated with its primary contact."""
    return {
        "properties": {"hs_lead_name": lead.title},
        "associations": [_association(contact_id, LEAD_TO_PRIMARY_CONTACT)],
    }


def error_reason(status: int, document: Any, text: str) -> str:
    """HubSpot's error answer in words: status, category, message and correlation id (for HubSpot support)."""
    if isinstance(document, dict) and (document.get("message") or document.get("category")):
        parts = [f"HTTP {status}"]
        if document.get("category"):
            parts.append(str(document["category"]))
        if document.get("policyName"):
            parts.append(f"policy {document['policyName']}")
        reason = " ".join(parts) + (f": {document['message']}" if document.get("message") else "")
        if document.get("correlationId"):
            reason += f" (correlation id {document['correlationId']})"
        return reason[:500]
    snippet = text[:200].strip()
    return f"HTTP {status}" + (f": {snippet}" if snippet else "")
