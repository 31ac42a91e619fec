"""Every enrichment explains itself: the audit record kept with each finding and route, and reading it back.

Written in the same row and statement as the finding and the route (`storage.outbox.save_enrichments`): where the
post came from (URL, platform id, when collected), the classifier's model version and thresholds, the
verdict with its confidences and reasons, the linking evidence and its confidence, the consent or lawful
basis that allowed it, and who approved it ('rule:<name>' or 'person:<who>'). The GDPR export dumps whole
rows, so all of it is in the export too; `explain_finding` answers "why is this on my profile?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Connection, select

from classifiers.verdict import Verdict
from enrichers.enrich import Enrichment, RoutedMention
from enrichers.model import ENRICHMENT_PURPOSE
from listener.mention import Mention
from storage.audit import AuditEntry, entries_for
from storage.inbox import Scope, finding_visible
from storage.schema import consents, findings, links, mentions, routes, verdicts

FINDING_POLICY = "rule:finding_policy"  # enrichers.findings: relevant, classified, linked, consent allows


class UnknownFinding(LookupError):
    """The contact has no such finding (or no such contact exists)."""


_CONFIRMED_BY = re.compile(r"confirmed_by:([^\s),;]+)")


def _approved_by_for_finding(enrichment: Enrichment) -> str:
    """A person when one confirmed the link (now, or the handle earlier); otherwise the finding policy."""
    link = enrichment.link
    if link is not None and link.confirmed_by:
        return f"person:{link.confirmed_by}"
    confirmed = _CONFIRMED_BY.search(link.evidence) if link is not None else None
    return f"person:{confirmed.group(1)}" if confirmed else FINDING_POLICY


def _route_basis(enrichment: Enrichment) -> str:
    if enrichment.consent is None:
        return "no contact involved: routed on the public mention alone"
    if enrichment.consent.allowed:
        return enrichment.consent.basis_label
    return f"routed without profiling: {enrichment.consent.reason}"


def finding_provenance(
    mention: Mention, verdict: Verdict, enrichment: Enrichment, thresholds: dict[str, Any] | None
) -> dict[str, Any]:
    """The audit columns of the finding `enrichment` attaches: model, thresholds, reasons, who approved it."""
    return {
        "model_version": verdict.model_version,
        "thresholds": thresholds,
        "collected_at": mention.collected_at,
        "sentiment_confidence": verdict.sentiment_confidence,
        "reasons": list(verdict.reasons),
        "approved_by": _approved_by_for_finding(enrichment),
    }


def route_provenance(
    mention: Mention, verdict: Verdict, enrichment: Enrichment, routed: RoutedMention, thresholds: dict[str, Any] | None
) -> dict[str, Any]:
    """The audit columns of one route: the post, the verdict, the link evidence, the basis and the rule."""
    source, external_id = mention.key
    link = enrichment.link
    evidence = {
        "url": mention.url,
        "platform": source,
        "platform_id": external_id,
        "verdict": {
            "sentiment": verdict.sentiment.value,
            "sentiment_confidence": verdict.sentiment_confidence,
            "intent": verdict.intent.value,
            "intent_confidence": verdict.intent_confidence,
            "needs_human": verdict.needs_human,
            "reasons": list(verdict.reasons),
        },
        "link": {"evidence": link.evidence, "confidence": link.confidence, "contact_id": link.contact_id}
        if link is not None
        else None,
    }
    return {
        "model_version": verdict.model_version,
        "thresholds": thresholds,
        "collected_at": mention.collected_at,
        "evidence": evidence,
        "basis": _route_basis(enrichment),
        "approved_by": f"rule:{routed.route.rule}",
    }


@dataclass(frozen=True)
class ProfileExplanation:
    """Why one finding is on a contact's profile, in one view (a read model; the API publishes it as
    `overheard.api.views.ProfileExplanation`, the export as `explanation_document`)."""

    finding_id: int
    contact_id: str
    platform: str
    platform_id: str
    url: str | None
    excerpt: str
    collected_at: datetime | None
    attached_at: datetime
    expires_at: datetime
    model_version: str | None
    thresholds: dict[str, Any] | None
    sentiment: str
    sentiment_confidence: float | None
    intent: str
    intent_confidence: float
    reasons: list[str]
    link_evidence: str
    link_confidence: float
    link_decided_by: str | None  # the person who confirmed the link, when one did
    basis: str
    consent_records: list[dict[str, Any]]  # the contact's records for social enrichment, as kept now
    approved_by: str | None
    audit: list[AuditEntry] = field(default_factory=list)  # what was done to this contact, e.g. exports, corrections

    @property
    def summary(self) -> str:
        """The whole answer in one sentence, as the contact 360° and the export show it."""
        confirmed = f", confirmed by {self.link_decided_by}" if self.link_decided_by else ""
        return (
            f"This {self.platform} post ({self.url or self.platform_id}), collected "
            f"{self.collected_at.isoformat() if self.collected_at else 'at an unknown time'}, was read by "
            f"{self.model_version or 'an unrecorded model'} as {self.intent} ({self.intent_confidence:.0%}) and "
            f"{self.sentiment}{_thresholds_words(self.thresholds, self.intent)}; it is linked to you because {self.link_evidence} "
            f"({self.link_confidence:.0%}{confirmed}); it was attached on the basis {self.basis}, approved by "
            f"{self.approved_by or 'an unrecorded rule'}, and is deleted on {self.expires_at.date().isoformat()}."
        )


_EXPLANATION = TypeAdapter(ProfileExplanation)


def explanation_document(explanation: ProfileExplanation) -> dict[str, Any]:
    """The explanation as a JSON-ready dict, its one-sentence `summary` last: what the GDPR export writes."""
    return {**_EXPLANATION.dump_python(explanation, mode="json"), "summary": explanation.summary}


def _thresholds_words(thresholds: dict[str, Any] | None, intent: str) -> str:
    if not thresholds:
        return ""
    intent_threshold = (thresholds.get("intent") or {}).get(intent)
    shown = f"sentiment {thresholds.get('sentiment')}" + (f", {intent} {intent_threshold}" if intent_threshold else "")
    return f" (review thresholds: {shown})"


def explain_finding(
    connection: Connection, contact_id: str, finding_id: int, *, with_audit: bool = True
) -> ProfileExplanation:
    """Assemble the explanation of one finding from stored records; UnknownFinding when it is not theirs.

    `with_audit` adds what was done to the contact (views, exports, corrections) to the answer."""
    row = connection.execute(
        select(findings).where(findings.c.id == finding_id, findings.c.contact_id == contact_id)
    ).first()
    if row is None:
        raise UnknownFinding(f"contact {contact_id!r} has no finding {finding_id}")
    decided_by = None
    if row.mention_id is not None:
        decided_by = connection.execute(
            select(links.c.decided_by).where(links.c.mention_id == row.mention_id)
        ).scalar_one_or_none()
    collected_at = row.collected_at
    reasons = row.reasons
    if (collected_at is None or reasons is None) and row.mention_id is not None:  # findings from before 0006
        collected_at = (
            collected_at
            or connection.execute(
                select(mentions.c.collected_at).where(mentions.c.id == row.mention_id)
            ).scalar_one_or_none()
        )
        reasons = (
            reasons
            or connection.execute(
                select(verdicts.c.reasons).where(verdicts.c.mention_id == row.mention_id)
            ).scalar_one_or_none()
        )
    records = [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r._asdict().items()}
        for r in connection.execute(
            select(
                consents.c.purpose,
                consents.c.basis,
                consents.c.source,
                consents.c.granted_at,
                consents.c.withdrawn_at,
                consents.c.review_due,
            ).where(consents.c.contact_id == contact_id, consents.c.purpose == ENRICHMENT_PURPOSE)
        )
    ]
    return ProfileExplanation(
        finding_id=row.id,
        contact_id=contact_id,
        platform=row.source,
        platform_id=row.external_id,
        url=row.url,
        excerpt=row.excerpt,
        collected_at=collected_at,
        attached_at=row.created_at,
        expires_at=row.expires_at,
        model_version=row.model_version,
        thresholds=row.thresholds,
        sentiment=row.sentiment,
        sentiment_confidence=row.sentiment_confidence,
        intent=row.intent,
        intent_confidence=row.confidence,
        reasons=list(reasons or ()),
        link_evidence=row.link_evidence,
        link_confidence=row.link_confidence,
        link_decided_by=decided_by,
        basis=row.basis,
        consent_records=records,
        approved_by=row.approved_by,
        audit=entries_for(connection, "contact", contact_id) if with_audit else [],
    )


def explain_contact(connection: Connection, contact_id: str, scope: Scope) -> list[ProfileExplanation]:
    """Every finding on the contact's profile that `scope` may see, with its explanation, newest first.

    The scope is required so no caller forgets it: `Scope()` (everything) for admin, privacy and the export."""
    ids = connection.execute(
        select(findings.c.id)
        .where(findings.c.contact_id == contact_id, finding_visible(scope))
        .order_by(findings.c.created_at.desc(), findings.c.id.desc())
    ).scalars()
    return [explain_finding(connection, contact_id, finding_id, with_audit=False) for finding_id in list(ids)]


@dataclass(frozen=True)
class RouteRecord:
    """Why one mention was routed to a team: the audit record kept with the route (a read model; the API
    publishes it as `overheard.api.views.RouteRecord`)."""

    route_id: int
    mention_id: int
    team: str
    rule: str
    explanation: str
    platform: str
    platform_id: str
    collected_at: datetime | None
    model_version: str | None
    thresholds: dict[str, Any] | None
    evidence: dict[str, Any] | None  # url, verdict with confidences and reasons, link and its confidence
    basis: str | None  # the consent or lawful basis, or why none was needed
    approved_by: str | None  # 'rule:<name>' or 'person:<who>'
    routed_at: datetime


def route_records(connection: Connection, route_ids: list[int]) -> list[RouteRecord]:
    """The audit records of the given routes, in the order asked."""
    if not route_ids:
        return []
    rows = {r.id: r for r in connection.execute(select(routes).where(routes.c.id.in_(route_ids)))}
    return [
        RouteRecord(
            route_id=r.id,
            mention_id=r.mention_id,
            team=r.team,
            rule=r.rule,
            explanation=r.explanation,
            platform=r.source,
            platform_id=r.external_id,
            collected_at=r.collected_at,
            model_version=r.model_version,
            thresholds=r.thresholds,
            evidence=r.evidence,
            basis=r.basis,
            approved_by=r.approved_by,
            routed_at=r.created_at,
        )
        for r in (rows[i] for i in route_ids if i in rows)
    ]


_ROUTE_RECORDS = TypeAdapter(list[RouteRecord])


def route_record_documents(records: list[RouteRecord]) -> list[dict[str, Any]]:
    """The route records as JSON-ready dicts (times as ISO 8601), as `overheard contacts show` writes them."""
    return _ROUTE_RECORDS.dump_python(records, mode="json")
