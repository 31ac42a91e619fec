"""Contacts, companies, memberships and consents; implements enrichers' ContactDirectory port."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select

from enrichers.linking import Link, normalise_handle
from enrichers.model import Company, CompanyClass, Consent, Contact, Identity, LawfulBasis, Membership
from storage.database import among, pairs_among, upsert
from storage.schema import companies, consents, contact_emails, contacts, identities, links, memberships, now_utc


def handle_key(platform: str, handle: str) -> str:
    """How handles are compared: the enrichers' normal form (case-folded, no '@', Mastodon user@instance)."""
    return normalise_handle(platform, handle)


def handle_owners(connection: Connection) -> dict[tuple[str, str], str]:
    """Which stored contact holds each (platform, handle key): an import may not give a handle to a second one."""
    rows = connection.execute(select(identities.c.platform, identities.c.handle_key, identities.c.contact_id))
    return {(r.platform, r.handle_key): r.contact_id for r in rows}


def save_company(connection: Connection, company: Company) -> None:
    upsert(
        connection,
        companies,
        [
            {
                "id": company.id,
                "name": company.name,
                "domain": company.domain.lower() if company.domain else None,
                "classification": company.classification.value,
                "competitor_of": company.competitor_of,
                "employees": company.employees,
            }
        ],
        ("id",),
    )


def save_contact(connection: Connection, contact: Contact) -> None:
    """Upsert a contact with its emails, identities and memberships (replacing the stored sets)."""
    at = now_utc()
    upsert(
        connection,
        contacts,
        [
            {
                "id": contact.id,
                "name": contact.name,
                "role": contact.role,
                "segment": contact.segment,
                "preferred_channel": contact.preferred_channel,
                "external_ref": contact.external_ref,
                "created_at": at,
                "updated_at": at,
            }
        ],
        ("id",),
        update=("name", "role", "segment", "preferred_channel", "external_ref", "updated_at"),
    )
    for table in (contact_emails, identities, memberships):
        connection.execute(delete(table).where(table.c.contact_id == contact.id))
    if contact.emails:
        connection.execute(
            contact_emails.insert(), [{"contact_id": contact.id, "email": e.lower()} for e in set(contact.emails)]
        )
    if contact.identities:
        connection.execute(
            identities.insert(),
            [
                {
                    "contact_id": contact.id,
                    "platform": i.platform,
                    "handle": i.handle,
                    "handle_key": handle_key(i.platform, i.handle),
                    "evidence": i.evidence,
                    "verified": i.verified,
                }
                for i in contact.identities
            ],
        )
    if contact.memberships:
        connection.execute(
            memberships.insert(),
            [{"contact_id": contact.id, "company_id": m.company_id, "role": m.role} for m in contact.memberships],
        )


def save_consent(connection: Connection, consent: Consent) -> None:
    upsert(
        connection,
        consents,
        [
            {
                "contact_id": consent.contact_id,
                "purpose": consent.purpose,
                "basis": consent.basis.value,
                "source": consent.source,
                "granted_at": consent.granted_at,
                "withdrawn_at": consent.withdrawn_at,
                "reviewed_at": consent.reviewed_at,
                "review_due": consent.review_due,
            }
        ],
        ("contact_id", "purpose", "basis", "source"),
    )


def _consent(row: Any) -> Consent:
    return Consent(
        contact_id=row.contact_id,
        purpose=row.purpose,
        basis=LawfulBasis(row.basis),
        source=row.source,
        granted_at=row.granted_at,
        withdrawn_at=row.withdrawn_at,
        reviewed_at=row.reviewed_at,
        review_due=row.review_due,
    )


def _company(row: Any) -> Company:
    return Company(
        id=row.id,
        name=row.name,
        domain=row.domain,
        classification=CompanyClass(row.classification),
        competitor_of=row.competitor_of,
        employees=row.employees,
    )


class SqlContactDirectory:
    """Reads contacts for linking, in the caller's connection (and so its transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._handles: dict[tuple[str, str], str | None] = {}
        self._domains: dict[str, list[Company]] | None = None  # filled by prefetch_companies

    def prefetch_handles(self, handles: Iterable[tuple[str, str]]) -> None:
        """Look up many (platform, handle) pairs in one query, so `contact_by_handle` answers them from memory."""
        wanted = sorted({(platform, handle_key(platform, handle)) for platform, handle in handles} - set(self._handles))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            self._handles.update(dict.fromkeys(chunk))
            self._handles.update(self._contact_ids(chunk))

    def _contact_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Contact id per (platform, handle key) of `keys` that an identity has."""
        rows = self.connection.execute(
            select(identities.c.platform, identities.c.handle_key, identities.c.contact_id).where(
                pairs_among(self.connection, (identities.c.platform, identities.c.handle_key), keys)
            )
        )
        return {(r.platform, r.handle_key): r.contact_id for r in rows}

    def contact(self, contact_id: str) -> Contact | None:
        row = self.connection.execute(select(contacts).where(contacts.c.id == contact_id)).one_or_none()
        if row is None:
            return None
        c = self.connection
        emails = c.execute(select(contact_emails.c.email).where(contact_emails.c.contact_id == contact_id)).scalars()
        idents = c.execute(select(identities).where(identities.c.contact_id == contact_id).order_by(identities.c.id))
        members = c.execute(select(memberships).where(memberships.c.contact_id == contact_id))
        return Contact(
            id=row.id,
            name=row.name,
            role=row.role,
            emails=tuple(sorted(emails)),
            identities=tuple(
                Identity(platform=i.platform, handle=i.handle, evidence=i.evidence, verified=i.verified) for i in idents
            ),
            memberships=tuple(Membership(company_id=m.company_id, role=m.role) for m in members),
            segment=row.segment,
            preferred_channel=row.preferred_channel,
            external_ref=row.external_ref,
        )

    def contact_by_handle(self, platform: str, handle: str) -> Contact | None:
        key = (platform, handle_key(platform, handle))
        contact_id = self._handles[key] if key in self._handles else self._contact_ids([key]).get(key)
        return self.contact(contact_id) if contact_id else None

    def contacts_by_email_domain(self, domain: str) -> list[Contact]:
        ids = self.connection.execute(
            select(contact_emails.c.contact_id)
            .where(func.lower(contact_emails.c.email).like(f"%@{domain.lower()}"))
            .distinct()
        ).scalars()
        return [c for c in (self.contact(i) for i in ids) if c is not None]

    def company(self, company_id: str) -> Company | None:
        row = self.connection.execute(select(companies).where(companies.c.id == company_id)).one_or_none()
        return _company(row) if row else None

    def company_by_domain(self, domain: str) -> Company | None:
        if self._domains is not None:
            found = self._domains.get(domain.lower(), [])
            if len(found) <= 1:
                return found[0] if found else None
        row = self.connection.execute(select(companies).where(companies.c.domain == domain.lower())).one_or_none()
        return _company(row) if row else None

    def companies(self) -> list[Company]:
        return [_company(r) for r in self.connection.execute(select(companies).order_by(companies.c.name))]

    def prefetch_companies(self) -> list[Company]:
        """`companies()`, kept by domain so that `company_by_domain` answers from memory for the rest of this
        directory's life (a pipeline batch: one query instead of one per author's domain)."""
        found = self.companies()
        self._domains = {}
        for company in found:
            if company.domain is not None:
                self._domains.setdefault(company.domain, []).append(company)
        return found

    def consents_for(self, contact_id: str) -> list[Consent]:
        rows = self.connection.execute(
            select(consents).where(consents.c.contact_id == contact_id).order_by(consents.c.granted_at)
        )
        return [_consent(r) for r in rows]

    def contact_ids(self) -> Sequence[str]:
        return list(self.connection.execute(select(contacts.c.id).order_by(contacts.c.id)).scalars())


def save_link(connection: Connection, mention_id: int, link: Link | None) -> None:
    """Keep (or drop) the link of one mention to a contact/company. A person's decision is never overwritten."""
    save_links(connection, [(mention_id, link)])


def save_links(connection: Connection, pairs: Sequence[tuple[int, Link | None]]) -> None:
    """`save_link` for many mentions in three statements; a mention met twice keeps its last link."""
    latest = dict(pairs)
    if not latest:
        return
    ids = sorted(latest)
    decided: set[int] = set()
    for start in range(0, len(ids), 500):
        decided.update(
            connection.execute(
                select(links.c.mention_id).where(
                    among(connection, links.c.mention_id, ids[start : start + 500]), links.c.status != "auto"
                )
            ).scalars()
        )
    dropped = [i for i in ids if latest[i] is None and i not in decided]
    for start in range(0, len(dropped), 500):
        connection.execute(delete(links).where(among(connection, links.c.mention_id, dropped[start : start + 500])))
    rows = [
        {
            "mention_id": mention_id,
            "contact_id": link.contact_id,
            "company_id": link.company_id,
            "evidence": link.evidence,
            "confidence": link.confidence,
            "status": "confirmed" if link.confirmed_by else "auto",
            "decided_by": link.confirmed_by,
        }
        for mention_id in ids
        if (link := latest[mention_id]) is not None and mention_id not in decided
    ]
    upsert(connection, links, rows, ("mention_id",))
