"""Identity resolution: link a mention's author to a CRM contact and company, on evidence only.

Evidence we accept, strongest first:

- the author's handle is an identity the contact holds on *that* platform (compared after
  `normalise_handle`: case-insensitive, '@' stripped, Mastodon as 'user@instance'); an identity a
  person confirmed (`Identity.verified`, e.g. evidence 'verified_profile_link') counts more than one
  imported from the CRM;
- for companies: an email domain the company owns (the linked contact's email), or the domain of
  the author's profile link (e.g. an RSS author page on blog.acme.com).

A person is never linked on a display name, a similar handle, or a handle seen on another platform:
a wrong link attaches someone else's words to a profile, which is worse than no link.

Companies named in the text (configured names, aliases or domains) are a different fact — what the
mention is *about*, e.g. a competitor — and are found by `CompanyIndex.find`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from enrichers.model import Company, Contact, Identity
from enrichers.ports import ContactDirectory
from listener.mention import Mention, Platform

# Confidence per kind of evidence (0–1). One place, so a reviewer can argue with the numbers.
CONFIDENCE_CONFIRMED_HANDLE = 0.99
CONFIDENCE_IMPORTED_HANDLE = 0.9
CONFIDENCE_PROFILE_DOMAIN = 0.6

# Hosts whose profile links say nothing about the author's employer.
_PLATFORM_HOSTS = frozenset(
    {
        "x.com",
        "twitter.com",
        "reddit.com",
        "bsky.app",
        "news.ycombinator.com",
        "github.com",
        "linkedin.com",
        "medium.com",
        "substack.com",
        "mastodon.social",
    }
)


class Link(BaseModel):
    """Why we believe a mention's author is a contact (and/or works for a company)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    contact_id: str | None = Field(default=None, description="The linked contact, when a person was linked.")
    company_id: str | None = Field(default=None, description="The author's company, when one was linked.")
    evidence: str = Field(min_length=1, description='The evidence in words, e.g. "handle x:jane_doe (crm_import)".')
    confidence: float = Field(ge=0, le=1, description="How sure the evidence makes us (0–1).")
    confirmed_by: str | None = Field(default=None, description="The person who confirmed the link, if one did.")


def confirm(link: Link, by: str) -> Link:
    """A person checked the link and agrees: it becomes certain, and says who confirmed it."""
    return link.model_copy(update={"confirmed_by": by, "confidence": 1.0})


def confirm_identity(contact: Contact, platform: str, handle: str, by: str) -> Contact:
    """The contact with `platform:handle` marked confirmed by `by` (added when missing), so later
    mentions from that handle link with `CONFIDENCE_CONFIRMED_HANDLE`."""
    wanted = normalise_handle(platform, handle)
    kept = tuple(
        i for i in contact.identities if not (i.platform == platform and normalise_handle(platform, i.handle) == wanted)
    )
    confirmed = Identity(platform=platform, handle=wanted, evidence=f"confirmed_by:{by}", verified=True)
    return contact.model_copy(update={"identities": (*kept, confirmed)})


def unlink_identity(contact: Contact, platform: str, handle: str) -> Contact:
    """The contact without `platform:handle` (a person found the link wrong); other identities stay."""
    wanted = normalise_handle(platform, handle)
    return contact.model_copy(
        update={
            "identities": tuple(
                i
                for i in contact.identities
                if not (i.platform == platform and normalise_handle(platform, i.handle) == wanted)
            )
        }
    )


@dataclass(frozen=True)
class Resolution:
    """The outcome of linking one mention: a link (or None) and the reason in words."""

    link: Link | None
    contact: Contact | None
    reason: str
    company: Company | None = None
    """The author's company, when it was found by a domain it owns (lead scoring reads its class)."""


def normalise_handle(platform: str, handle: str, profile_url: str | None = None) -> str:
    """The comparable form of a handle on `platform`.

    '@Jane_Doe' → 'jane_doe'; Mastodon '@Jane@Mastodon.Social' → 'jane@mastodon.social' (a bare
    Mastodon 'jane' gets its instance from `profile_url` when given, since 'jane' alone names a
    different person on every instance); Reddit 'u/Jane' → 'jane'.
    """
    value = handle.strip()
    if platform == Platform.reddit:
        value = re.sub(r"^/?u/", "", value)
    value = value.lstrip("@")
    if platform == Platform.mastodon and "@" not in value and profile_url:
        host = urlsplit(profile_url).hostname
        if host:
            value = f"{value}@{host}"
    return value.casefold()


def registrable_domains(host: str) -> list[str]:
    """'blog.eu.acme.com' → ['blog.eu.acme.com', 'eu.acme.com', 'acme.com'] (longest first)."""
    labels = host.lower().strip(".").split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def email_domain(email: str) -> str | None:
    _, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and domain else None


def _company_for_domain(directory: ContactDirectory, host: str) -> tuple[Company, str] | None:
    for domain in registrable_domains(host):
        company = directory.company_by_domain(domain)
        if company is not None:
            return company, domain
    return None


def _company_of_contact(contact: Contact, directory: ContactDirectory) -> tuple[str, str, Company | None] | None:
    """The contact's company: one whose domain their email is at (preferring one they are a member of)."""
    members = [m.company_id for m in contact.memberships]
    by_email: list[tuple[str, str, Company | None]] = []
    for email in contact.emails:
        domain = email_domain(email)
        found = _company_for_domain(directory, domain) if domain else None
        if found is not None:
            by_email.append((found[0].id, f"email domain {found[1]} owned by company {found[0].id}", found[0]))
    for found_by_email in by_email:
        if found_by_email[0] in members:
            return found_by_email
    if by_email:
        return by_email[0]
    if members:
        return members[0], f"CRM membership of company {members[0]}", None
    return None


def author_handle(mention: Mention) -> tuple[str, str]:
    """The (platform, normalised handle) that `link_author` looks a mention's author up by."""
    platform = mention.source.value
    return platform, normalise_handle(platform, mention.author.handle, mention.author.profile_url)


def link_author(mention: Mention, directory: ContactDirectory) -> Resolution:
    """Link the mention's author to a contact (exact handle on that platform) and a company."""
    platform, handle = author_handle(mention)
    if platform == Platform.mastodon and "@" not in handle:
        return Resolution(None, None, f"mastodon handle '{handle}' has no instance, so it cannot be matched exactly")

    contact = directory.contact_by_handle(platform, handle)
    if contact is not None:
        identity = next(
            (
                i
                for i in contact.identities
                if i.platform == platform and normalise_handle(platform, i.handle) == handle
            ),
            None,
        )
        if identity is None:
            # The directory answered, but the contact does not hold this handle: refuse rather than trust it.
            return Resolution(
                None, None, f"directory returned contact {contact.id} which holds no identity {platform}:{handle}"
            )
        confidence = CONFIDENCE_CONFIRMED_HANDLE if identity.verified else CONFIDENCE_IMPORTED_HANDLE
        evidence = f"handle {platform}:{handle} ({identity.evidence})"
        company = _company_of_contact(contact, directory)
        if company is not None:
            evidence += f"; company: {company[1]}"
        link = Link(
            contact_id=contact.id,
            company_id=company[0] if company else None,
            evidence=evidence,
            confidence=confidence,
        )
        return Resolution(
            link, contact, f"linked to contact {contact.id} by {evidence}", company[2] if company else None
        )

    host = urlsplit(mention.author.profile_url).hostname if mention.author.profile_url else None
    if host and not any(d in _PLATFORM_HOSTS for d in registrable_domains(host)):
        found = _company_for_domain(directory, host)
        if found is not None:
            owner, domain = found
            evidence = f"profile link domain {domain} owned by company {owner.id}"
            link = Link(company_id=owner.id, evidence=evidence, confidence=CONFIDENCE_PROFILE_DOMAIN)
            return Resolution(link, None, f"no contact holds {platform}:{handle}; company only: {evidence}", owner)
    return Resolution(None, None, f"no contact holds {platform}:{handle} and no owned domain in the profile link")


@dataclass(frozen=True)
class CompanyMention:
    """A company named in a mention's text, and the words that named it."""

    company: Company
    matched: str


class CompanyIndex:
    """Finds companies named in text by their name, configured aliases or domain (whole words, any case).

    Build it once per batch: `CompanyIndex(companies, aliases={"comp-globex": ["Globex", "GlobexCloud"]})`.
    """

    def __init__(self, companies: Iterable[Company], aliases: Mapping[str, Sequence[str]] | None = None) -> None:
        self._terms: list[tuple[re.Pattern[str], Company, str]] = []
        aliases = aliases or {}
        for company in companies:
            terms = {company.name, *aliases.get(company.id, ())}
            if company.domain:
                terms.add(company.domain)
            for term in sorted(t for t in terms if t.strip()):
                # Letters/digits may not touch the term; for domains, neither may a further '.label'.
                pattern = re.compile(r"(?<![\w-])" + re.escape(term.strip()) + r"(?![\w-]|\.\w)", re.IGNORECASE)
                self._terms.append((pattern, company, term.strip()))

    def find(self, *texts: str | None) -> list[CompanyMention]:
        """Companies named in any of `texts`, each once, in configuration order."""
        found: dict[str, CompanyMention] = {}
        for pattern, company, term in self._terms:
            if company.id in found:
                continue
            if any(text and pattern.search(text) for text in texts):
                found[company.id] = CompanyMention(company, term)
        return list(found.values())
