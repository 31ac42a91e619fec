"""Contacts: search, the contact 360° (audited), consents, and CRM import and export.

The 360° is one function for every entry point (the API's JSON, the web page, `overheard contacts show`): the
contact as the caller's scope shows it, with each finding's and route's audit record, and the view audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine

from enrichers.crm_io import (
    CrmImport,
    RowError,
    export_companies_csv,
    export_csv,
    export_hubspot,
    import_companies_csv,
    import_csv,
    import_hubspot,
)
from enrichers.model import Company, Consent, LawfulBasis
from overheard.services.access import Caller, Capability, NotFound
from storage import inbox
from storage.audit import record
from storage.contacts import SqlContactDirectory, handle_owners, save_company, save_consent, save_contact
from storage.provenance import ProfileExplanation, RouteRecord, explain_contact, route_records


@dataclass(frozen=True)
class Contact360:
    """Everything kept on one contact that the caller may see, and why: each finding's full audit record
    (`why`, newest first) and the audit record of each route shown (`route_records`)."""

    contact: inbox.ContactView
    why: list[ProfileExplanation]
    route_records: list[RouteRecord]


def not_found(contact_id: str) -> NotFound:
    return NotFound(f"no contact with id {contact_id!r} that your role may see")


def visible(connection: Connection, caller: Caller, contact_id: str) -> inbox.ContactView:
    """The contact as the caller's scope shows it; `NotFound` when it does not exist or is outside the scope."""
    found = inbox.contact_view(connection, caller.scope, contact_id)
    if found is None:
        raise not_found(contact_id)
    return found


def search(engine: Engine, caller: Caller, query: str | None, limit: int = 50) -> list[inbox.ContactSummary]:
    """Contacts the caller sees whose id, name, email or handle contains `query`; the search is audited."""
    caller.require(Capability.read_contacts)
    return audited_search(engine, caller, query, limit)


def audited_search(engine: Engine, caller: Caller, query: str | None, limit: int) -> list[inbox.ContactSummary]:
    """The search itself, for a caller whose capability the asking service checked (contacts or gdpr)."""
    with engine.begin() as connection:
        found = inbox.search_contacts(connection, caller.scope, query, limit)
        # The query itself may be a name or an email: the audit keeps only how many were shown.
        record(connection, caller.name, "contact.search", "contact", "*", shown=len(found))
    return found


def contact_360(engine: Engine, caller: Caller, contact_id: str) -> Contact360:
    """The contact 360° with the audit records the caller's scope may see; the view is audited."""
    caller.require(Capability.read_contacts)
    with engine.begin() as connection:
        view = visible(connection, caller, contact_id)
        why = explain_contact(connection, contact_id, caller.scope)
        records = route_records(connection, [r.id for r in view.routes])
        record(connection, caller.name, "contact.view", "contact", contact_id)
    return Contact360(view, why, records)


def consents(engine: Engine, caller: Caller, contact_id: str) -> list[inbox.ConsentView]:
    """The contact's consents and lawful bases; the view is audited."""
    caller.require(Capability.read_contacts)
    with engine.begin() as connection:
        found = visible(connection, caller, contact_id)
        record(connection, caller.name, "consent.view", "contact", contact_id)
    return found.consents


@dataclass(frozen=True)
class ConsentRecord:
    """A consent or other lawful basis to record; the same (purpose, basis, source) is updated, e.g. to withdraw."""

    purpose: str
    basis: LawfulBasis
    source: str
    granted_at: datetime
    withdrawn_at: datetime | None = None
    review_due: datetime | None = None


def record_consent(engine: Engine, caller: Caller, contact_id: str, consent: ConsentRecord) -> list[inbox.ConsentView]:
    """Record a consent (audited) and return the contact's consents as they now stand."""
    caller.require(Capability.manage_consents)
    with engine.begin() as connection:
        visible(connection, caller, contact_id)
        save_consent(
            connection,
            Consent(
                contact_id=contact_id,
                purpose=consent.purpose,
                basis=consent.basis,
                source=consent.source,
                granted_at=consent.granted_at,
                withdrawn_at=consent.withdrawn_at,
                review_due=consent.review_due,
            ),
        )
        record(
            connection, caller.name, "consent.record", "contact", contact_id,
            purpose=consent.purpose, basis=consent.basis.value, withdrawn=consent.withdrawn_at is not None,
        )  # fmt: skip
        return visible(connection, caller, contact_id).consents


CrmFormat = Literal["csv", "hubspot"]
CRM_FORMATS: tuple[CrmFormat, ...] = ("csv", "hubspot")


def crm_format(path: Path, given: str | None = None) -> CrmFormat:
    """The shape of a contacts file: as given, else by extension (.json is a HubSpot export, anything else CSV)."""
    if given is None:
        return "hubspot" if path.suffix.lower() == ".json" else "csv"
    if given not in CRM_FORMATS:
        raise ValueError(f"format {given!r} is not one of {', '.join(CRM_FORMATS)}")
    return "hubspot" if given == "hubspot" else "csv"


@dataclass(frozen=True)
class ContactsImport:
    """One import of a contacts file (and optionally a companies file): what was read, and whether it was written.

    `applied` is False when any row was bad and bad rows were not to be skipped: then nothing was written.
    """

    contacts: CrmImport
    companies: CrmImport
    applied: bool

    @property
    def errors(self) -> tuple[RowError, ...]:
        return self.companies.errors + self.contacts.errors


def import_crm(
    engine: Engine,
    path: Path,
    *,
    companies_path: Path | None = None,
    format: str | None = None,
    skip_bad_rows: bool = False,
) -> ContactsImport:
    """Import contacts (CSV or HubSpot JSON) and optionally a companies CSV, in one transaction.

    A file with any bad row changes nothing (every problem is reported with its row and column);
    with `skip_bad_rows`, valid contacts are written whole and bad ones left out. A handle already
    held by another stored contact is a bad row. Raises ValueError for a file that cannot be read at all.
    """
    for given in (path, companies_path):
        if given is not None and not given.exists():
            raise FileNotFoundError(f"{given}: no such file")
    shape = crm_format(path, format)
    company_file = import_companies_csv(companies_path) if companies_path else CrmImport((), (), (), ())
    with engine.connect() as connection:
        stored = SqlContactDirectory(connection).companies()
        owners = handle_owners(connection)
    by_domain = {c.domain: c for c in stored if c.domain} | {c.domain: c for c in company_file.companies if c.domain}
    known = list(by_domain.values())
    if shape == "hubspot":
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a JSON document ({exc})") from None
        parsed = import_hubspot(document, known, owners)
    else:
        parsed = import_csv(path, known, owners)
    outcome = ContactsImport(parsed, company_file, applied=skip_bad_rows or not (parsed.errors or company_file.errors))
    if outcome.applied:
        with engine.begin() as connection:
            for company in (*company_file.companies, *parsed.companies):
                save_company(connection, company)
            for contact in parsed.contacts:
                save_contact(connection, contact)
            for consent in parsed.consents:
                save_consent(connection, consent)
    return outcome


def import_contacts(engine: Engine, path: Path, *, format: str | None = None, skip_bad_rows: bool = False) -> CrmImport:
    """Import a contacts CSV or HubSpot JSON export; see `import_crm`."""
    return import_crm(engine, path, format=format, skip_bad_rows=skip_bad_rows).contacts


@dataclass(frozen=True)
class CompanyImport:
    companies: tuple[Company, ...]
    errors: tuple[RowError, ...]


def import_companies(engine: Engine, path: Path) -> CompanyImport:
    """Companies CSV (company_id,name,domain,classification,competitor_of); a file with a bad row writes nothing."""
    parsed = import_companies_csv(path)
    if not parsed.errors:
        with engine.begin() as connection:
            for company in parsed.companies:
                save_company(connection, company)
    return CompanyImport(parsed.companies, parsed.errors)


@dataclass(frozen=True)
class ContactsExport:
    """Contacts in the shape `import_crm` reads back (`format`), and the companies CSV for `--companies`."""

    format: CrmFormat
    contacts: str
    companies: str
    count: int


def export_contacts(engine: Engine, caller: Caller, format: str) -> ContactsExport:
    """Every contact with their companies and consents, as CSV or a HubSpot contacts export; audited."""
    caller.require(Capability.read_contacts)
    shape = crm_format(Path("contacts"), format)
    with engine.begin() as connection:
        directory = SqlContactDirectory(connection)
        people = [c for c in map(directory.contact, directory.contact_ids()) if c is not None]
        companies = directory.companies()
        consents = [k for c in people for k in directory.consents_for(c.id)]
        # A bulk export of personal data: the audit keeps who took it and how many, not whom.
        record(connection, caller.name, "contacts.export", "contact", "*", format=shape, contacts=len(people))
    text = (
        json.dumps(export_hubspot(people, companies, consents), indent=2, ensure_ascii=False) + "\n"
        if shape == "hubspot"
        else export_csv(people, companies, consents)
    )
    return ContactsExport(shape, text, export_companies_csv(companies), len(people))
