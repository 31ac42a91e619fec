"""Import and export contacts, companies and consents: our CSV, and a HubSpot-shaped JSON export.

Errors are per row and name the row and the column; valid rows are imported, and a contact is
imported whole or not at all (when any of its rows is bad, none of them is used, and the others say
why). A handle claimed by two contacts rejects both: a handle must point to one person, and we
cannot tell which claim is right. The same goes for a handle that already belongs to another stored
contact (`owners`): the row claiming it is rejected, naming the owner.

CSV (one row per contact × company; rows sharing `contact_id` merge into one contact)::

    contact_id,name,email,company_domain,role,segment,preferred_channel,x_handle,mastodon_handle,
    reddit_handle,bluesky_handle,consent_basis,consent_source,consent_granted_at,consent_withdrawn_at,
    consent_review_due

`company_name` is an optional extra column. Row numbers are the file's line numbers (the header is
row 1). Times are ISO 8601; a date alone means midnight UTC, and a time without a zone is read as UTC.
Consent columns describe the basis for 'social_enrichment'.

HubSpot: the contacts API shape `{"results": [{"id": ..., "properties": {...}}]}` (or a bare list),
with firstname, lastname, email, hs_additional_emails, company, website, jobtitle, lifecyclestage,
twitterhandle, hs_object_id, hs_legal_basis, createdate, and our own properties
`overheard_contact_id`, `overheard_{mastodon,reddit,bluesky}_handle`, `overheard_preferred_channel`, `overheard_role`,
`overheard_consent_{source,granted_at,withdrawn_at,review_due}`. Records are numbered from 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from enrichers.linking import normalise_handle
from enrichers.model import (
    ENRICHMENT_PURPOSE,
    Company,
    CompanyClass,
    Consent,
    Contact,
    Identity,
    LawfulBasis,
    Membership,
)

CSV_COLUMNS = (
    "contact_id",
    "name",
    "email",
    "company_domain",
    "role",
    "segment",
    "preferred_channel",
    "x_handle",
    "mastodon_handle",
    "reddit_handle",
    "bluesky_handle",
    "consent_basis",
    "consent_source",
    "consent_granted_at",
    "consent_withdrawn_at",
    "consent_review_due",
)
OPTIONAL_CSV_COLUMNS = ("company_name",)
HANDLE_COLUMNS = {
    "x_handle": "x",
    "mastodon_handle": "mastodon",
    "reddit_handle": "reddit",
    "bluesky_handle": "bluesky",
}
IMPORT_EVIDENCE = "crm_import"
Owners = Mapping[tuple[str, str], str]  # (platform, normalised handle) → id of the contact already holding it

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class RowError:
    """One problem in one row (CSV line number, or JSON record number) and column."""

    row: int
    column: str | None
    message: str
    contact_id: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CrmImport:
    """What an import produced: the valid contacts (whole), their companies and consents, and the errors."""

    contacts: tuple[Contact, ...]
    companies: tuple[Company, ...]
    consents: tuple[Consent, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


# ---- value parsing (each returns the value or raises ValueError with a message for the user) ----------------


def parse_time(text: str) -> datetime:
    """ISO 8601 date or datetime (or HubSpot epoch milliseconds) → aware UTC datetime."""
    value = text.strip()
    if value.isdigit() and len(value) >= 12:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is not a date or time; write e.g. 2026-03-01 or 2026-03-01T09:30:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_basis(text: str) -> LawfulBasis:
    key = re.sub(r"[\s-]+", "_", text.strip().lower())
    try:
        return LawfulBasis(key)
    except ValueError:
        raise ValueError(f"'{text}' is not one of {', '.join(b.value for b in LawfulBasis)}") from None


def parse_email(text: str) -> str:
    value = text.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError(f"'{text}' is not an email address")
    return value


def parse_domain(text: str) -> str:
    value = text.strip().lower()
    if "//" in value:
        value = urlsplit(value).hostname or ""
    value = value.removeprefix("www.").rstrip("/")
    if not _DOMAIN.match(value):
        raise ValueError(f"'{text}' is not a domain such as acme.com")
    return value


def parse_handle(platform: str, text: str) -> str:
    value = normalise_handle(platform, text)
    if not value or any(c.isspace() for c in value):
        raise ValueError(f"'{text}' is not a {platform} handle")
    if platform == "mastodon" and not re.fullmatch(r"[^@]+@[^@]+\.[^@]+", value):
        raise ValueError(f"'{text}': write Mastodon handles as user@instance, e.g. jane@mastodon.social")
    return value


# ---- the common merge: per-row parts → whole contacts -------------------------------------------------------


@dataclass
class _RowParts:
    """What one row (or record) says about one contact; merged with the contact's other rows."""

    row: int
    contact_id: str
    scalars: dict[str, str] = field(default_factory=dict)  # name, role, segment, preferred_channel, external_ref
    emails: list[str] = field(default_factory=list)
    identities: list[tuple[str, str, str]] = field(default_factory=list)  # (column, platform, handle)
    memberships: list[Membership] = field(default_factory=list)
    companies: list[Company] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)


def _merge(parts: Sequence[_RowParts], errors: list[RowError], owners: Owners) -> CrmImport:
    """Merge rows into contacts; reject a contact whole when any of its rows (or a handle claim) is bad."""
    bad_contacts = {e.contact_id for e in errors if e.contact_id}
    by_contact: dict[str, list[_RowParts]] = {}
    for part in parts:
        by_contact.setdefault(part.contact_id, []).append(part)

    # A handle claimed by two contacts: reject both, naming the other claim.
    claims: dict[tuple[str, str], list[tuple[str, int, str]]] = {}
    for part in parts:
        for column, platform, handle in part.identities:
            claims.setdefault((platform, handle), []).append((part.contact_id, part.row, column))
    for (platform, handle), claimants in claims.items():
        owner = owners.get((platform, handle))
        for contact_id, row, column in claimants:
            if owner is not None and owner != contact_id:
                errors.append(
                    RowError(
                        row,
                        column,
                        f"{platform} handle '{handle}' already belongs to contact {owner} in the database; "
                        f"remove it there first if it changed hands",
                        contact_id,
                    )
                )
                bad_contacts.add(contact_id)
        if len({c for c, _, _ in claimants}) < 2:
            continue
        for contact_id, row, column in claimants:
            others = ", ".join(f"contact {c} (row {r})" for c, r, _ in claimants if c != contact_id)
            errors.append(
                RowError(row, column, f"{platform} handle '{handle}' is also claimed by {others}", contact_id)
            )
            bad_contacts.add(contact_id)

    # Single-valued fields must agree across a contact's rows.
    for contact_id, rows in by_contact.items():
        seen: dict[str, tuple[str, int]] = {}
        for part in rows:
            for key, value in part.scalars.items():
                if key in seen and seen[key][0] != value:
                    errors.append(
                        RowError(
                            part.row,
                            key,
                            f"'{value}' disagrees with '{seen[key][0]}' on row {seen[key][1]} for contact {contact_id}",
                            contact_id,
                        )
                    )
                    bad_contacts.add(contact_id)
                seen.setdefault(key, (value, part.row))

    bad_rows = {(e.contact_id, e.row) for e in errors}
    contacts: list[Contact] = []
    companies: dict[str, Company] = {}
    consents: list[Consent] = []
    for contact_id, rows in by_contact.items():
        if contact_id in bad_contacts:
            culprits = sorted({e.row for e in errors if e.contact_id == contact_id})
            for part in rows:
                if (contact_id, part.row) not in bad_rows:
                    errors.append(
                        RowError(
                            part.row,
                            None,
                            f"contact {contact_id} not imported: row(s) {', '.join(map(str, culprits))} have errors",
                            contact_id,
                        )
                    )
            continue
        scalars: dict[str, str] = {}
        for part in rows:
            for key, value in part.scalars.items():
                scalars.setdefault(key, value)
        contacts.append(
            Contact(
                id=contact_id,
                name=scalars.get("name"),
                emails=tuple(dict.fromkeys(e for p in rows for e in p.emails)),
                identities=tuple(
                    dict.fromkeys(
                        Identity(platform=platform, handle=handle, evidence=IMPORT_EVIDENCE)
                        for p in rows
                        for _, platform, handle in p.identities
                    )
                ),
                memberships=tuple(dict.fromkeys(m for p in rows for m in p.memberships)),
                role=scalars.get("role"),
                segment=scalars.get("segment"),
                preferred_channel=scalars.get("preferred_channel"),
                external_ref=scalars.get("external_ref"),
            )
        )
        for part in rows:
            for company in part.companies:
                companies.setdefault(company.id, company)
            consents.extend(c for c in part.consents if c not in consents)
    errors.sort(key=lambda e: (e.row, e.column or ""))
    return CrmImport(tuple(contacts), tuple(companies.values()), tuple(consents), tuple(errors))


class _RowReader:
    """Collects errors for one row, naming the column, so every problem in a row is reported at once."""

    def __init__(self, row: int, contact_id: str | None, errors: list[RowError]) -> None:
        self.row, self.contact_id, self.errors, self.failed = row, contact_id, errors, False

    def error(self, column: str | None, message: str) -> None:
        self.errors.append(RowError(self.row, column, message, self.contact_id))
        self.failed = True

    def parse(self, column: str, value: str | None, parser: Any, *args: Any) -> Any:
        if value is None or not str(value).strip():
            return None
        try:
            return parser(*args, str(value))
        except ValueError as error:
            self.error(column, str(error))
            return None


def _consent(
    reader: _RowReader,
    contact_id: str,
    columns: Mapping[str, str],
    basis_text: str | None,
    source: str | None,
    granted: str | None,
    withdrawn: str | None,
    review_due: str | None,
) -> Consent | None:
    """One consent from its parts; `columns` names the column of each part for errors."""
    given = {
        k: v
        for k, v in (
            ("source", source),
            ("granted_at", granted),
            ("withdrawn_at", withdrawn),
            ("review_due", review_due),
        )
        if v and v.strip()
    }
    if not (basis_text and basis_text.strip()):
        if given:
            reader.error(columns["basis"], f"{', '.join(columns[k] for k in given)} given without a lawful basis")
        return None
    basis = reader.parse(columns["basis"], basis_text, parse_basis)
    if not (source and source.strip()):
        reader.error(columns["source"], "required with a lawful basis: where was it recorded?")
    if not (granted and granted.strip()):
        reader.error(columns["granted_at"], "required with a lawful basis: when was it given?")
    granted_at = reader.parse(columns["granted_at"], granted, parse_time)
    withdrawn_at = reader.parse(columns["withdrawn_at"], withdrawn, parse_time)
    due = reader.parse(columns["review_due"], review_due, parse_time)
    if granted_at and withdrawn_at and withdrawn_at < granted_at:
        reader.error(columns["withdrawn_at"], "is before the time it was granted")
    if granted_at and due and due < granted_at:
        reader.error(columns["review_due"], "is before the time it was granted")
    if reader.failed or basis is None or granted_at is None or not source:
        return None
    return Consent(
        contact_id=contact_id,
        purpose=ENRICHMENT_PURPOSE,
        basis=basis,
        source=source.strip(),
        granted_at=granted_at,
        withdrawn_at=withdrawn_at,
        review_due=due,
    )


# ---- CSV ---------------------------------------------------------------------------------------------------


def _read_text(source: str | Path) -> str:
    return source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source.removeprefix("\ufeff")


def import_csv(source: str | Path, companies: Iterable[Company] = (), owners: Owners | None = None) -> CrmImport:
    """Import contacts from our CSV (text, or a path to read as UTF-8).

    `companies` (e.g. from `import_companies_csv`) resolve `company_domain` to their ids; a domain
    not among them becomes a new company whose id is the domain. `owners` maps (platform, normalised
    handle) to the stored contact holding it.
    """
    known = {c.domain: c for c in companies if c.domain}
    reader = csv.reader(io.StringIO(_read_text(source), newline=""))
    errors: list[RowError] = []
    header = next(reader, None)
    if header is None:
        return CrmImport((), (), (), (RowError(1, None, "the file is empty; expected a header row"),))
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in CSV_COLUMNS and h not in OPTIONAL_CSV_COLUMNS]
    if "contact_id" not in header:
        errors.append(RowError(1, "contact_id", "the header has no contact_id column"))
    errors += [
        RowError(1, h, f"unknown column (expected some of: {', '.join(CSV_COLUMNS + OPTIONAL_CSV_COLUMNS)})")
        for h in unknown
    ]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    errors += [RowError(1, h, "column appears more than once") for h in duplicated]
    if errors:  # a header problem would misread every row; import nothing
        return CrmImport((), (), (), tuple(errors))

    parts: list[_RowParts] = []
    line = reader.line_num
    for cells in reader:
        row, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(RowError(row, None, f"has {len(cells)} cells, the header has {len(header)}"))
            continue
        values = {h: from_spreadsheet_cell(c.strip()) for h, c in zip(header, cells, strict=True)}
        part = _csv_row(row, values, errors, known)
        if part is not None:
            parts.append(part)
    return _merge(parts, errors, owners or {})


def _csv_row(
    row: int, values: Mapping[str, str], errors: list[RowError], known: Mapping[str, Company]
) -> _RowParts | None:
    contact_id = values.get("contact_id", "")
    if not contact_id:
        errors.append(RowError(row, "contact_id", "is empty; every row needs the contact it belongs to"))
        return None
    reader = _RowReader(row, contact_id, errors)
    part = _RowParts(row=row, contact_id=contact_id)
    for key in ("name", "segment", "preferred_channel"):
        if values.get(key):
            part.scalars[key] = values[key]
    email = reader.parse("email", values.get("email"), parse_email)
    if email:
        part.emails.append(email)
    for column, platform in HANDLE_COLUMNS.items():
        handle = reader.parse(column, values.get(column), parse_handle, platform)
        if handle:
            part.identities.append((column, platform, handle))
    domain = reader.parse("company_domain", values.get("company_domain"), parse_domain)
    if domain:
        company = known.get(domain) or Company(id=domain, name=values.get("company_name") or domain, domain=domain)
        part.memberships.append(Membership(company_id=company.id, role=values.get("role") or None))
        part.companies.append(company)
    elif values.get("role") and not values.get("company_domain"):
        part.scalars["role"] = values["role"]  # a freelancer's or creator's role, held at no company
    if values.get("company_name") and not values.get("company_domain"):
        reader.error("company_name", "needs a company_domain (companies are identified by their domain)")
    consent = _consent(
        reader,
        contact_id,
        {k: f"consent_{k}" for k in ("basis", "source", "granted_at", "withdrawn_at", "review_due")},
        values.get("consent_basis"),
        values.get("consent_source"),
        values.get("consent_granted_at"),
        values.get("consent_withdrawn_at"),
        values.get("consent_review_due"),
    )
    if consent:
        part.consents.append(consent)
    return None if reader.failed else part


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets ('=HYPERLINK(…)',
# '@SUM(…)', '+cmd|…'): names, handles and roles come from strangers' posts and CRMs, so they are written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?%?")


def spreadsheet_cell(value: Any) -> Any:
    """`value` as a spreadsheet shows it, never evaluates it: a string starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP's advice for CSV injection); numbers, and strings that are plain numbers, pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def from_spreadsheet_cell(value: str) -> str:
    """The value `spreadsheet_cell` escaped, so our exports read back to what was exported."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def export_csv(contacts: Iterable[Contact], companies: Iterable[Company], consents: Iterable[Consent]) -> str:
    """Our CSV for these contacts; `import_csv` reads it back to the same contacts, companies and consents.

    A contact takes as many rows as its longest list (memberships, emails, handles per platform,
    social-enrichment consents); row i carries the i-th of each. Consents for other purposes are not
    part of this format.
    """
    by_id = {c.id: c for c in companies}
    names = {c.id: c.name for c in by_id.values()}
    by_contact: dict[str, list[Consent]] = {}
    for consent in consents:
        if consent.purpose == ENRICHMENT_PURPOSE:
            by_contact.setdefault(consent.contact_id, []).append(consent)
    contacts = list(contacts)
    has_names = any(
        (company := by_id.get(m.company_id)) is not None and company.name != company.domain
        for c in contacts
        for m in c.memberships
    )
    columns = CSV_COLUMNS + (OPTIONAL_CSV_COLUMNS if has_names else ())
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for contact in contacts:
        handles = {
            column: [i.handle for i in contact.identities if i.platform == platform]
            for column, platform in HANDLE_COLUMNS.items()
        }
        held = by_contact.get(contact.id, [])
        role_row = len(contact.memberships) if contact.role else None  # a role held at no company
        depth = max(
            1,
            len(contact.memberships) + (1 if contact.role else 0),
            len(contact.emails),
            len(held),
            *map(len, handles.values()),
        )
        for i in range(depth):
            record = {c: "" for c in columns}
            record.update(contact_id=contact.id, name=contact.name or "", segment=contact.segment or "")
            record["preferred_channel"] = contact.preferred_channel or ""
            if i < len(contact.emails):
                record["email"] = contact.emails[i]
            if i < len(contact.memberships):
                membership = contact.memberships[i]
                company = by_id.get(membership.company_id)
                record["company_domain"] = company.domain if company and company.domain else membership.company_id
                record["role"] = membership.role or ""
                if has_names:
                    record["company_name"] = names.get(membership.company_id) or ""
            if i == role_row:
                record["role"] = contact.role or ""
            for column, values in handles.items():
                if i < len(values):
                    record[column] = values[i]
            if i < len(held):
                consent = held[i]
                record.update(
                    consent_basis=consent.basis.value,
                    consent_source=consent.source,
                    consent_granted_at=_iso(consent.granted_at),
                    consent_withdrawn_at=_iso(consent.withdrawn_at),
                    consent_review_due=_iso(consent.review_due),
                )
            writer.writerow({k: spreadsheet_cell(v) for k, v in record.items()})
    return out.getvalue()


COMPANY_COLUMNS = ("company_id", "name", "domain", "classification", "competitor_of", "employees")
"""`employees` (the company's size, a whole number) is optional: a file without the column imports as before."""


def _employees(text: str) -> int:
    try:
        value = int(text.replace(",", "").replace("_", "").strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a whole number of employees (e.g. 250)") from None
    if value < 0:
        raise ValueError(f"'{text}' is below 0")
    return value


def import_companies_csv(source: str | Path) -> CrmImport:
    """Import companies (columns `COMPANY_COLUMNS`); a company id or domain used twice rejects both rows."""
    rows = list(csv.DictReader(io.StringIO(_read_text(source), newline="")))
    errors: list[RowError] = []
    header = list(rows[0].keys()) if rows else []
    missing = [c for c in ("company_id", "name") if rows and c not in header]
    unknown = [h for h in header if h not in COMPANY_COLUMNS]
    if missing or unknown:
        errors += [RowError(1, c, "the header has no such column") for c in missing]
        errors += [RowError(1, c, f"unknown column (expected some of: {', '.join(COMPANY_COLUMNS)})") for c in unknown]
        return CrmImport((), (), (), tuple(errors))
    parsed: list[tuple[int, Company]] = []
    keys: list[tuple[int, str, str]] = []  # (row, column, value) of every row, valid or not, for duplicates
    for row, values in enumerate(rows, start=2):
        values = {k: from_spreadsheet_cell((v or "").strip()) for k, v in values.items() if k is not None}
        reader = _RowReader(row, None, errors)
        for column in ("company_id", "name"):
            if not values.get(column):
                reader.error(column, "is empty")
        domain = reader.parse("domain", values.get("domain"), parse_domain)
        keys += [(row, "company_id", values["company_id"])] if values.get("company_id") else []
        keys += [(row, "domain", domain)] if domain else []
        classification = reader.parse(
            "classification", values.get("classification"), lambda v: _choice(CompanyClass, v)
        )
        employees = reader.parse("employees", values.get("employees"), _employees)
        if reader.failed:
            continue
        parsed.append(
            (
                row,
                Company(
                    id=values["company_id"],
                    name=values["name"],
                    domain=domain,
                    classification=classification or CompanyClass.other,
                    competitor_of=values.get("competitor_of") or None,
                    employees=employees,
                ),
            )
        )
    rejected: set[int] = set()
    first_use: dict[tuple[str, str], int] = {}
    for row, column, value in keys:
        earlier = first_use.setdefault((column, value), row)
        if earlier != row:
            for this, other in ((earlier, row), (row, earlier)):
                errors.append(RowError(this, column, f"'{value}' is also used on row {other}"))
                rejected.add(this)
    errors.sort(key=lambda e: (e.row, e.column or ""))
    return CrmImport((), tuple(c for row, c in parsed if row not in rejected), (), tuple(errors))


def _choice(kind: type[CompanyClass], text: str) -> CompanyClass:
    try:
        return kind(text.strip().lower())
    except ValueError:
        raise ValueError(f"'{text}' is not one of {', '.join(k.value for k in kind)}") from None


def export_companies_csv(companies: Iterable[Company]) -> str:
    """Companies in the shape `import_companies_csv` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COMPANY_COLUMNS)
    for c in companies:
        row = (c.id, c.name, c.domain or "", c.classification.value, c.competitor_of or "", c.employees)
        writer.writerow([spreadsheet_cell(v) for v in row])
    return out.getvalue()


# ---- HubSpot-shaped JSON ------------------------------------------------------------------------------------

HUBSPOT_PREFIX = "hubspot-"
# hs_legal_basis option labels (HubSpot GDPR settings) → our lawful basis; 'Not applicable' records none.
HUBSPOT_BASIS = {
    "freely given consent from contact": LawfulBasis.consent,
    "legitimate interest – prospect/lead": LawfulBasis.legitimate_interest,
    "legitimate interest – existing customer": LawfulBasis.legitimate_interest,
    "legitimate interest - prospect/lead": LawfulBasis.legitimate_interest,
    "legitimate interest - existing customer": LawfulBasis.legitimate_interest,
    "legitimate interest - other": LawfulBasis.legitimate_interest,
    "legitimate interest – other": LawfulBasis.legitimate_interest,
    "performance of a contract": LawfulBasis.contract,
    "legal obligation": LawfulBasis.legal_obligation,
}
_BASIS_LABEL = {
    LawfulBasis.consent: "Freely given consent from contact",
    LawfulBasis.legitimate_interest: "Legitimate interest – existing customer",
    LawfulBasis.contract: "Performance of a contract",
    LawfulBasis.legal_obligation: "Legal obligation",
}
_HUBSPOT_HANDLES = {
    "twitterhandle": "x",
    "overheard_mastodon_handle": "mastodon",
    "overheard_reddit_handle": "reddit",
    "overheard_bluesky_handle": "bluesky",
}


def _slug(name: str) -> str:
    return "company:" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _hubspot_basis(text: str) -> LawfulBasis | None:
    labels = [t.strip() for t in text.split(";") if t.strip() and t.strip().lower() != "not applicable"]
    if not labels:
        return None
    known = [HUBSPOT_BASIS.get(t.lower()) for t in labels]
    if any(k is None for k in known):
        unknown = [t for t, k in zip(labels, known, strict=True) if k is None]
        raise ValueError(f"{', '.join(map(repr, unknown))} is not a HubSpot legal basis we know")
    # Several bases: the person's own consent first, else the first listed.
    return LawfulBasis.consent if LawfulBasis.consent in known else known[0]


def import_hubspot(document: Any, companies: Iterable[Company] = (), owners: Owners | None = None) -> CrmImport:
    """Import a HubSpot contacts export (already parsed from JSON); `companies` and `owners` as for `import_csv`."""
    known = {c.domain: c for c in companies if c.domain}
    records = document.get("results") if isinstance(document, dict) else document
    if not isinstance(records, list):
        return CrmImport((), (), (), (RowError(0, None, 'expected a list of contacts or {"results": [...]}'),))
    errors: list[RowError] = []
    parts: list[_RowParts] = []
    for number, record in enumerate(records, start=1):
        properties = record.get("properties", record) if isinstance(record, dict) else None
        if not isinstance(properties, dict):
            errors.append(RowError(number, None, "is not an object with properties"))
            continue
        props = {k: ("" if v is None else str(v).strip()) for k, v in properties.items()}
        object_id = props.get("hs_object_id") or str(record.get("id") or "").strip()
        if not object_id:
            errors.append(RowError(number, "hs_object_id", "is missing; every HubSpot contact has one"))
            continue
        contact_id = props.get("overheard_contact_id") or HUBSPOT_PREFIX + object_id
        reader = _RowReader(number, contact_id, errors)
        part = _RowParts(row=number, contact_id=contact_id, scalars={"external_ref": object_id})
        if props.get("overheard_role"):
            part.scalars["role"] = props["overheard_role"]
        name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
        if name:
            part.scalars["name"] = name
        for key, target in (("lifecyclestage", "segment"), ("overheard_preferred_channel", "preferred_channel")):
            if props.get(key):
                part.scalars[target] = props[key]
        email = reader.parse("email", props.get("email"), parse_email)
        part.emails += [email] if email else []
        for extra in (props.get("hs_additional_emails") or "").split(";"):
            parsed = reader.parse("hs_additional_emails", extra, parse_email)
            part.emails += [parsed] if parsed else []
        for key, platform in _HUBSPOT_HANDLES.items():
            handle = reader.parse(key, props.get(key), parse_handle, platform)
            if handle:
                part.identities.append((key, platform, handle))
        domain = reader.parse("website", props.get("website"), parse_domain)
        company_name = props.get("company")
        if company_name or domain:
            company = (domain and known.get(domain)) or Company(
                id=domain or _slug(company_name or ""), name=company_name or domain or "", domain=domain
            )
            part.companies.append(company)
            part.memberships.append(Membership(company_id=company.id, role=props.get("jobtitle") or None))
        elif props.get("jobtitle"):
            reader.error("jobtitle", "a job title needs the company (or website) it is held at")
        basis_text = props.get("hs_legal_basis")
        basis = reader.parse("hs_legal_basis", basis_text, _hubspot_basis) if basis_text else None
        consent = _consent(
            reader,
            contact_id,
            {
                "basis": "hs_legal_basis",
                "source": "overheard_consent_source",
                "granted_at": "overheard_consent_granted_at"
                if props.get("overheard_consent_granted_at")
                else "createdate",
                "withdrawn_at": "overheard_consent_withdrawn_at",
                "review_due": "overheard_consent_review_due",
            },
            basis.value if basis else None,
            props.get("overheard_consent_source") or ("hubspot:hs_legal_basis" if basis else None),
            props.get("overheard_consent_granted_at") or (props.get("createdate") if basis else None),
            props.get("overheard_consent_withdrawn_at"),
            props.get("overheard_consent_review_due"),
        )
        part.consents += [consent] if consent else []
        if not reader.failed:
            parts.append(part)
    return _merge(parts, errors, owners or {})


def export_hubspot(
    contacts: Iterable[Contact], companies: Iterable[Company], consents: Iterable[Consent]
) -> dict[str, Any]:
    """The HubSpot contacts shape for these contacts; `import_hubspot` reads it back.

    HubSpot holds one company and job title per contact: the first membership is exported. The newest
    social-enrichment consent is exported.
    """
    by_id = {c.id: c for c in companies}
    held: dict[str, list[Consent]] = {}
    for consent in consents:
        if consent.purpose == ENRICHMENT_PURPOSE:
            held.setdefault(consent.contact_id, []).append(consent)
    results = []
    for contact in contacts:
        object_id = contact.external_ref or contact.id.removeprefix(HUBSPOT_PREFIX)
        first, _, last = (contact.name or "").partition(" ")
        props: dict[str, str] = {
            "hs_object_id": object_id,
            "overheard_contact_id": contact.id,  # our id stays stable through a round trip
            "firstname": first,
            "lastname": last,
        }
        if contact.emails:
            props["email"] = contact.emails[0]
            if contact.emails[1:]:
                props["hs_additional_emails"] = ";".join(contact.emails[1:])
        if contact.segment:
            props["lifecyclestage"] = contact.segment
        if contact.preferred_channel:
            props["overheard_preferred_channel"] = contact.preferred_channel
        if contact.role:
            props["overheard_role"] = contact.role
        for key, platform in _HUBSPOT_HANDLES.items():
            handle = next((i.handle for i in contact.identities if i.platform == platform), None)
            if handle:
                props[key] = handle
        if contact.memberships:
            membership = contact.memberships[0]
            company = by_id.get(membership.company_id)
            props["company"] = company.name if company else membership.company_id
            if company and company.domain:
                props["website"] = company.domain
            if membership.role:
                props["jobtitle"] = membership.role
        if held.get(contact.id):
            consent = max(held[contact.id], key=lambda c: c.granted_at)
            props.update(
                hs_legal_basis=_BASIS_LABEL[consent.basis],
                overheard_consent_source=consent.source,
                overheard_consent_granted_at=_iso(consent.granted_at),
            )
            if consent.withdrawn_at:
                props["overheard_consent_withdrawn_at"] = _iso(consent.withdrawn_at)
            if consent.review_due:
                props["overheard_consent_review_due"] = _iso(consent.review_due)
        results.append({"id": object_id, "properties": props})
    return {"results": results}
