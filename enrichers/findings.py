"""Findings: the minimum about one relevant mention that may be attached to a contact's profile.

A finding is built only when all of these hold, and otherwise the reason is returned instead:

1. the mention is relevant: it matched at least one of our brand/product/competitor queries and is
   not flagged spam or bot;
2. it has a verdict;
3. its author is linked to a contact;
4. the contact's consent decision allows 'social_enrichment'.

It keeps only the link, the verdict and an excerpt of at most 280 characters, and expires after the
retention period configured for findings.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from classifiers.verdict import Verdict
from enrichers.consent import ConsentDecision
from enrichers.linking import Link
from enrichers.model import Finding
from listener.mention import Mention

EXCERPT_MAX = 280
_NOT_RELEVANT_SIGNALS = ("spam", "bot")


@dataclass(frozen=True)
class FindingOutcome:
    finding: Finding | None
    reason: str


def excerpt(text: str, limit: int = EXCERPT_MAX) -> str:
    """`text` with whitespace collapsed, cut at a word boundary to at most `limit` characters ('…' marks a cut)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def relevance(mention: Mention, relevant_queries: Collection[str] | None = None) -> str | None:
    """None when the mention is relevant, else why not.

    `relevant_queries` are the names of brand/product/competitor queries; None means every query
    configured is one of those.
    """
    flagged = [s for s in mention.signals if s in _NOT_RELEVANT_SIGNALS]
    if flagged:
        return f"mention is flagged {', '.join(flagged)}"
    if not mention.matched_queries:
        return "mention matched no brand, product or competitor query"
    if relevant_queries is not None and not set(mention.matched_queries) & set(relevant_queries):
        return f"matched queries {', '.join(mention.matched_queries)} are not brand, product or competitor queries"
    return None


def build_finding(
    mention: Mention,
    verdict: Verdict | None,
    link: Link | None,
    consent: ConsentDecision | None,
    now: datetime,
    retention: timedelta,
    relevant_queries: Collection[str] | None = None,
) -> FindingOutcome:
    """The finding to attach to the linked contact, or None and the reason it is not attached."""
    if retention <= timedelta(0):
        raise ValueError(f"finding retention must be positive, got {retention}")
    not_relevant = relevance(mention, relevant_queries)
    if not_relevant:
        return FindingOutcome(None, f"not relevant: {not_relevant}")
    if verdict is None:
        return FindingOutcome(None, "not classified yet: a finding needs a verdict")
    if link is None or link.contact_id is None:
        return FindingOutcome(None, "author is not linked to a contact")
    if consent is None or not consent.allowed:
        why = consent.reason if consent else "no consent decision was made"
        return FindingOutcome(None, f"not allowed: {why}")
    finding = Finding(
        contact_id=link.contact_id,
        source=mention.source.value,
        external_id=mention.external_id,
        url=mention.url,
        excerpt=excerpt(mention.text),
        sentiment=verdict.sentiment.value,
        intent=verdict.intent.value,
        confidence=verdict.intent_confidence,
        link_evidence=link.evidence,
        link_confidence=link.confidence,
        basis=consent.basis_label,
        created_at=now,
        expires_at=now + retention,
    )
    return FindingOutcome(finding, f"attached to contact {link.contact_id} on {consent.basis_label}")
