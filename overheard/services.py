"""Service functions the CLI, API and Celery tasks share: one function per user-visible action."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, select

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
from enrichers.model import Company
from storage.audit import AuditEntry, latest, record
from storage.contacts import SqlContactDirectory, save_company, save_consent, save_contact
from storage.database import purge_freed_pages
from storage.gdpr import (
    ErasureReport,
    UnknownContact,
    erase_contact,
    export_contact,
)
from storage.inbox import Scope, contact_view
from storage.provenance import explain_contact, route_records
from storage.schema import identities

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
        owners = {
            (r.platform, r.handle_key): r.contact_id
            for r in connection.execute(select(identities.c.platform, identities.c.handle_key, identities.c.contact_id))
        }
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


def export_contacts(engine: Engine, format: str, actor: str) -> ContactsExport:
    """Every contact with their companies and consents, as CSV or a HubSpot contacts export; audited."""
    shape = crm_format(Path("contacts"), format)
    with engine.begin() as connection:
        directory = SqlContactDirectory(connection)
        people = [c for c in map(directory.contact, directory.contact_ids()) if c is not None]
        companies = directory.companies()
        consents = [k for c in people for k in directory.consents_for(c.id)]
        # A bulk export of personal data: the audit keeps who took it and how many, not whom.
        record(connection, actor, "contacts.export", "contact", "*", format=shape, contacts=len(people))
    text = (
        json.dumps(export_hubspot(people, companies, consents), indent=2, ensure_ascii=False) + "\n"
        if shape == "hubspot"
        else export_csv(people, companies, consents)
    )
    return ContactsExport(shape, text, export_companies_csv(companies), len(people))


def contact_360(engine: Engine, contact_id: str, actor: str) -> dict[str, Any]:
    """The contact 360° as JSON, with every finding's and route's audit record; the view is audited."""
    with engine.begin() as connection:
        view = contact_view(connection, Scope(), contact_id)
        if view is None:
            raise UnknownContact(f"no contact with id {contact_id!r}")
        why = explain_contact(connection, contact_id, Scope())
        records = route_records(connection, [r.id for r in view.routes])
        record(connection, actor, "contact.view", "contact", contact_id)
    return {
        **view.model_dump(mode="json"),
        "why": [e.model_dump(mode="json") for e in why],
        "route_records": [r.model_dump(mode="json") for r in records],
    }


def gdpr_export(engine: Engine, contact_id: str, actor: str) -> dict[str, Any]:
    with engine.begin() as connection:
        return export_contact(connection, contact_id, actor=actor)


def gdpr_erase(engine: Engine, contact_id: str, actor: str) -> ErasureReport:
    """Erase a contact everywhere, then leave no copy of the deleted rows in the database files (SQLite's WAL)."""
    with engine.begin() as connection:
        report = erase_contact(connection, contact_id, actor=actor)
    purge_freed_pages(engine)
    return report


def audit_trail(engine: Engine, contact_id: str | None = None, limit: int = 50) -> list[AuditEntry]:
    """Who viewed, exported or erased what, newest first; about one contact when `contact_id` is given."""
    with engine.connect() as connection:
        if contact_id is None:
            return latest(connection, limit=limit)
        return latest(connection, subject_type="contact", subject_id=contact_id, limit=limit)
