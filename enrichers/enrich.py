"""The step the pipeline calls per mention: link, check consent, build the finding, route, queue deliveries.

`enrich` only reads (through `ContactDirectory`) and returns everything it decided, with reasons; storage
keeps a batch of outcomes in the caller's transaction (`storage.outbox.save_enrichments`).

Consent shapes what is kept, not whether the customer is answered: when enrichment of the author's
profile is not allowed, the mention is still routed (using the contact's stated reply preference and
segment for this one decision), but no link (not even to their company) and no finding are kept, and
the delivery payload carries no contact id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from classifiers.verdict import Verdict
from enrichers.consent import ConsentDecision, decide
from enrichers.delivery import crm_record, event_payload, new_delivery
from enrichers.findings import build_finding
from enrichers.leads import DEFAULT_LEAD_SCORING, LeadScore, LeadScoring, score_lead
from enrichers.linking import CompanyIndex, CompanyMention, Link, link_author
from enrichers.model import ENRICHMENT_PURPOSE, Company, Delivery, Finding, Route, Team
from enrichers.noise import NoiseFlag, OwnedAccounts, screen
from enrichers.ports import ContactDirectory
from enrichers.priority import PriorityConfig, priority_score
from enrichers.routing import LeadContext, RoutingConfig, RuleOutcome, evaluate, routes_from
from listener.mention import Mention


@dataclass(frozen=True)
class RoutedMention:
    """One route and the deliveries to write with it (transactional outbox)."""

    route: Route
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True)
class Enrichment:
    """Everything decided about one mention, each part with its reason in words."""

    mention_key: tuple[str, str]
    link: Link | None
    """The link to keep: only when the linked contact allows enrichment (or no contact is involved)."""
    link_reason: str
    consent: ConsentDecision | None
    """None when no contact was found, so there was nobody to ask about."""
    finding: Finding | None
    finding_reason: str
    companies: tuple[CompanyMention, ...]
    """Companies named in the text (e.g. competitors)."""
    routes: tuple[RoutedMention, ...]
    rule_outcomes: tuple[RuleOutcome, ...]
    """Every routing rule's outcome, for 'why was this routed there (or not)?'."""
    routing_reason: str
    lead: LeadScore | None = None
    """The lead score (enrichers.leads); kept as a lead when the mention was routed to sales."""
    lead_company: Company | None = None
    """The author's company the lead is linked to (None when consent does not allow keeping the link)."""
    flag: NoiseFlag | None = None
    """Why the mention is kept out of the brand's queues (own account, spam, about a competitor), or None."""

    @property
    def is_lead(self) -> bool:
        """Routed to sales: a lead sales can accept, dismiss or snooze."""
        return self.lead is not None and any(r.route.team is Team.sales for r in self.routes)


def enrich(
    mention: Mention,
    verdict: Verdict | None,
    directory: ContactDirectory,
    rules: RoutingConfig,
    now: datetime,
    retention: timedelta,
    companies: CompanyIndex | None = None,
    relevant_queries: Collection[str] | None = None,
    leads: LeadScoring = DEFAULT_LEAD_SCORING,
    owned_accounts: OwnedAccounts | None = None,
    priority: PriorityConfig | None = None,
) -> Enrichment:
    """Decide link, finding, lead score and routes for one classified mention.

    `retention` is how long a finding is kept; `companies` finds companies named in the text;
    `relevant_queries` names the brand/product/competitor queries (None: all queries are); `leads` weighs
    the lead score. When the contact does not allow enrichment, the score leaves out what the CRM knows of them.
    `owned_accounts` the brand's own handles per platform, whose posts are flagged and not routed as a customer's (`enrichers.noise`);
    `priority` how each route's score is made (`enrichers.priority`).
    """
    resolution = link_author(mention, directory)
    contact = resolution.contact
    consent: ConsentDecision | None = None
    link, link_reason = resolution.link, resolution.reason
    if contact is not None:
        consent = decide(directory.consents_for(contact.id), now, ENRICHMENT_PURPOSE, contact.id)
        if not consent.allowed:
            # Not even the employer is kept: attributing the mention to a company through this person
            # would still be building on their profile.
            link = None
            link_reason = f"author matches contact {contact.id}, but no link is kept: {consent.reason}"

    named = tuple(companies.find(mention.title, mention.text)) if companies else ()
    flag = screen(mention, owned_accounts)
    outcome = build_finding(mention, verdict, resolution.link, consent, now, retention, relevant_queries)

    if verdict is None:
        return Enrichment(
            mention.key,
            link,
            link_reason,
            consent,
            None,
            outcome.reason,
            named,
            (),
            (),
            "not classified yet",
            flag=flag,
        )

    allowed = contact is None or (consent is not None and consent.allowed)
    company = resolution.company if allowed else None
    lead = score_lead(mention, verdict, now, contact if allowed else None, company, leads)
    context = LeadContext(company=company, score=lead)
    outcomes = tuple(evaluate(rules, mention, verdict, contact, named, context, flag))
    contact_id = contact.id if contact is not None and allowed else None
    crm = crm_record(contact if contact_id else None, company)
    routes = routes_from(rules, outcomes, mention, now, contact)
    if routes:
        # The linked contact's segment counts even when no profile may be kept: it decides this one answer only.
        score = priority_score(mention, verdict, now, priority, contact)
        routes = [r.model_copy(update={"score": score}) for r in routes]
    routed = tuple(
        RoutedMention(
            r,
            (
                new_delivery(
                    r,
                    event_payload(
                        r,
                        mention,
                        verdict,
                        now,
                        contact_id,
                        crm=crm if r.team is Team.sales else None,
                        lead=lead if r.team is Team.sales else None,
                    ),
                    now,
                ),
            ),
        )
        for r in routes
    )
    routing_reason = (
        "; ".join(f"{r.route.team.value}: {r.route.explanation}" for r in routed)
        if routed
        else f"not routed: {flag.kind.value}, {flag.reason}"
        if flag is not None and any(o.matched for o in outcomes)
        else "no routing rule matched"
    )
    return Enrichment(
        mention.key,
        link,
        link_reason,
        consent,
        outcome.finding,
        outcome.reason,
        named,
        routed,
        outcomes,
        routing_reason,
        lead,
        company,
        flag,
    )
