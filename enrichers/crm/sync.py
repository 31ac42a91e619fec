"""Vendor-neutral CRM sync: put one lead into a CRM once, however often the send is retried.

A lead (`CrmLead`, read from a delivery's event by `lead_from_event`) becomes, in the CRM:

1. a contact, found by email, then by a social-handle property, else created;
2. its company, found by domain, then by name, else created, and associated with the contact;
3. a note holding the mention, associated with both;
4. optionally a deal (or lead record) for it, found by name and updated, else created.

Idempotent by construction: every step first reuses the id an earlier attempt stored in the receipt, then
searches the CRM, and only then creates; the receipt (`Receipt`, kept on the delivery) records each id as soon as
the CRM returned it, so an attempt that fails half-way never creates the first half again. The vendor's wire
format lives in its own gateway (`enrichers.crm.hubspot`); this module knows only the `CrmGateway` protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

ObjectKind = Literal["contact", "company", "note", "deal", "lead"]


@dataclass(frozen=True)
class CrmPerson:
    """The person to find or create: what we may share about them (consent allowed it)."""

    handle: str
    platform: str
    name: str | None = None
    emails: tuple[str, ...] = ()
    contact_id: str | None = None
    """Our contact id, when the author is linked (written to the CRM so its record points back)."""


@dataclass(frozen=True)
class CrmOrganisation:
    name: str
    domain: str | None = None
    company_id: str | None = None


@dataclass(frozen=True)
class CrmLead:
    """One lead to sync: who, at which company, and the mention as a note."""

    key: str
    """The delivery's idempotency key: written into the note, so a retry finds the note it already made."""
    person: CrmPerson
    organisation: CrmOrganisation | None
    note: str
    occurred_at: datetime
    title: str
    """A short name for a deal or lead record, unique per mention."""
    score: int | None = None


@dataclass(frozen=True)
class CrmObject:
    """An object the CRM holds: its id and the properties it answered with."""

    id: str
    properties: Mapping[str, Any] = field(default_factory=dict)


class CrmFailure(Exception):
    """The CRM refused or could not be reached. `reason` names what to do; `retry_after` is when the CRM said to
    come back (a rate limit); `permanent` marks a lead that no retry can send (data the CRM rejects, a person it
    could never find again), as against a token or scope the operator can fix, after which retries go through."""

    def __init__(
        self,
        reason: str,
        *,
        status_code: int | None = None,
        retry_after: timedelta | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after
        self.permanent = permanent


class CrmGateway(Protocol):
    """What a vendor module offers; each call raises `CrmFailure` with a reason a user can act on."""

    system: str

    def find_contact(self, person: CrmPerson) -> CrmObject | None: ...

    def create_contact(self, person: CrmPerson, organisation: CrmOrganisation | None) -> CrmObject: ...

    def find_company(self, organisation: CrmOrganisation) -> CrmObject | None: ...

    def create_company(self, organisation: CrmOrganisation) -> CrmObject: ...

    def associate_contact_company(self, contact_id: str, company_id: str) -> None: ...

    def find_note(self, lead: CrmLead) -> CrmObject | None: ...

    def create_note(self, lead: CrmLead, contact_id: str, company_id: str | None) -> CrmObject: ...

    def record_kind(self) -> ObjectKind | None:
        """'deal' or 'lead' when the config asks for one per lead; None for a note only."""
        ...

    def find_record(self, lead: CrmLead) -> CrmObject | None: ...

    def create_record(self, lead: CrmLead, contact_id: str, company_id: str | None) -> CrmObject: ...

    def update_record(self, record_id: str, lead: CrmLead) -> CrmObject: ...

    def contact_state(self, contact: CrmObject) -> dict[str, str | None]:
        """What to read back onto our contact: {'owner_id': ..., 'lifecycle_stage': ...}."""
        ...


Receipt = dict[str, Any]
"""{'system': 'hubspot', 'contact': {'id', 'created', 'owner_id', 'lifecycle_stage'}, 'company': {...},
'associated': True, 'note': {'id', 'created'}, 'deal' | 'lead': {'id', 'created'}} — grows as the CRM answers."""


@dataclass(frozen=True)
class SyncOutcome:
    """The end of one sync attempt: `ok` only when every step was acknowledged by the CRM."""

    ok: bool
    reason: str
    receipt: Receipt
    status_code: int | None = None
    retry_after: timedelta | None = None
    permanent: bool = False


def _noted(obj: CrmObject, created: bool) -> dict[str, Any]:
    return {"id": obj.id, "created": created}


def sync_lead(gateway: CrmGateway, lead: CrmLead, receipt: Mapping[str, Any] | None = None) -> SyncOutcome:
    """Put `lead` into the CRM, reusing the ids in `receipt` (from earlier attempts); never raises `CrmFailure`."""
    done: Receipt = {**(receipt or {}), "system": gateway.system}
    step = "contact"
    try:
        if "contact" not in done:
            found = gateway.find_contact(lead.person)
            contact = found or gateway.create_contact(lead.person, lead.organisation)
            done["contact"] = {**_noted(contact, found is None), **gateway.contact_state(contact)}
        contact_id = str(done["contact"]["id"])
        company_id: str | None = None
        if lead.organisation is not None:
            step = "company"
            if "company" not in done:
                found = gateway.find_company(lead.organisation)
                company = found or gateway.create_company(lead.organisation)
                done["company"] = _noted(company, found is None)
            company_id = str(done["company"]["id"])
            if not done.get("associated"):
                step = "association of contact and company"
                gateway.associate_contact_company(contact_id, company_id)
                done["associated"] = True
        step = "note"
        if "note" not in done:
            found = gateway.find_note(lead)
            note = found or gateway.create_note(lead, contact_id, company_id)
            done["note"] = _noted(note, found is None)
        kind = gateway.record_kind()
        if kind is not None:
            step = kind
            if kind not in done:
                found = gateway.find_record(lead)
                if found is not None:
                    gateway.update_record(found.id, lead)
                    done[kind] = _noted(found, False)
                else:
                    done[kind] = _noted(gateway.create_record(lead, contact_id, company_id), True)
    except CrmFailure as failure:
        return SyncOutcome(
            False,
            f"{gateway.system} {step}: {failure.reason}",
            done,
            failure.status_code,
            failure.retry_after,
            failure.permanent,
        )
    ids = ", ".join(f"{k} {v['id']}" for k, v in done.items() if isinstance(v, dict) and "id" in v)
    return SyncOutcome(True, f"{gateway.system} stored {ids}", done, 200)


def lead_from_event(payload: Mapping[str, Any], key: str) -> CrmLead:
    """The lead in a delivery's event (`enrichers.delivery.event_payload`): the author, and the contact and
    company only where the event carries them (consent allowed sharing them)."""
    data = payload["data"]
    mention, verdict, route = data["mention"], data["verdict"], data["route"]
    crm = data.get("crm") or {}
    contact = crm.get("contact") or {}
    company = crm.get("company")
    lead = data.get("lead") or {}
    person = CrmPerson(
        handle=mention["author"]["handle"],
        platform=mention["source"],
        name=contact.get("name"),
        emails=tuple(contact.get("emails") or ()),
        contact_id=data.get("contact_id"),
    )
    organisation = (
        CrmOrganisation(name=company["name"], domain=company.get("domain"), company_id=company.get("id"))
        if company
        else None
    )
    lines = [
        f"Overheard lead ({route['rule']}): @{mention['author']['handle']} on {mention['source']}",
        "",
        mention["excerpt"],
        "",
        f"Link: {mention['url'] or '(none)'}",
        f"Intent: {verdict['intent']} (confidence {verdict['confidence']:.2f}), {verdict['sentiment']}",
    ]
    if lead:
        lines.append(f"Why a lead: {lead.get('explanation', '')}")
    lines.append(f"Why routed: {route['explanation']}")
    lines.append(f"Overheard delivery {key}")
    created = mention.get("created_at") or payload.get("timestamp")
    return CrmLead(
        key=key,
        person=person,
        organisation=organisation,
        note="\n".join(lines),
        occurred_at=datetime.fromisoformat(str(created).replace("Z", "+00:00")),
        title=f"Overheard: @{mention['author']['handle']} on {mention['source']} ({mention['external_id'][-24:]})",
        score=lead.get("score"),
    )
