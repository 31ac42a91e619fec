"""enrich(): one mention in, the link, the finding and the routes out — each with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from enrichers.consent import ConsentStatus
from enrichers.enrich import enrich
from enrichers.linking import CompanyIndex
from enrichers.model import DeliveryStatus, Team
from enrichers.routing import DEFAULT_ROUTING, load_routing

RETENTION = timedelta(days=365)


@pytest.fixture
def run(directory, companies, now):
    index = CompanyIndex(companies)

    def run_one(mention, verdict):
        return enrich(mention, verdict, directory, DEFAULT_ROUTING, now, RETENTION, companies=index)

    return run_one


def test_complaint_from_a_consenting_customer_is_linked_attached_and_routed(run, mentions, verdicts, now):
    result = run(mentions["jane_complains_on_x"], verdicts["complaint"])

    assert result.link is not None and result.link.contact_id == "c-jane"
    assert result.consent is not None and result.consent.allowed
    assert result.finding is not None and result.finding.contact_id == "c-jane"
    assert result.finding.expires_at == now + RETENTION
    [routed] = result.routes
    assert routed.route.team is Team.customer_service
    assert routed.route.reply_channel == "email"  # Jane's stated preference
    [delivery] = routed.deliveries
    assert delivery.status is DeliveryStatus.pending and delivery.next_attempt_at == now
    assert delivery.channel == routed.route.channel
    assert delivery.payload["data"]["contact_id"] == "c-jane"


def test_complaint_after_consent_was_withdrawn_is_answered_but_nothing_is_kept_on_the_person(run, mentions, verdicts):
    result = run(mentions["emma_complains"], verdicts["complaint"])

    assert result.consent is not None and result.consent.status is ConsentStatus.withdrawn
    assert result.link is None
    assert "author matches contact c-emma, but no link is kept" in result.link_reason
    assert result.finding is None and "withdrew" in result.finding_reason
    [routed] = result.routes
    assert routed.route.team is Team.customer_service
    assert routed.deliveries[0].payload["data"]["contact_id"] is None


def test_lapsed_basis_still_routes_with_the_contacts_reply_preference_but_keeps_no_company_link(
    run, mentions, verdicts
):
    result = run(mentions["greg_complains"], verdicts["complaint"])

    assert result.consent is not None and result.consent.status is ConsentStatus.lapsed
    assert result.link is None and result.finding is None
    assert [r.route.reply_channel for r in result.routes] == ["phone"]


def test_contact_without_any_recorded_basis_gets_no_finding(run, mentions, verdicts):
    result = run(mentions["bob_complains"], verdicts["complaint"])

    assert result.consent is not None and result.consent.status is ConsentStatus.missing
    assert result.finding is None
    assert [r.route.team for r in result.routes] == [Team.customer_service]


def test_unknown_buyer_naming_a_competitor_goes_to_sales_without_a_profile(run, mentions, verdicts):
    result = run(mentions["unknown_wants_to_buy"], verdicts["purchase_intent"])

    assert result.link is None and result.consent is None and result.finding is None
    assert [c.company.id for c in result.companies] == ["co-brightwave"]
    assert [r.route.team for r in result.routes] == [Team.sales]
    assert result.routes[0].route.reply_channel == "reddit"
    assert result.routing_reason.startswith("sales: rule 'purchase-intent' matched")


def test_complaint_from_an_unknown_influencer_is_routed_to_communications_and_service(run, mentions, verdicts):
    result = run(mentions["influencer_complains"], verdicts["complaint"])

    assert [r.route.team for r in result.routes] == [Team.communications, Team.customer_service]
    assert len({r.deliveries[0].idempotency_key for r in result.routes}) == 2
    assert result.finding is None and "not linked to a contact" in result.finding_reason


def test_unclassified_mention_is_neither_routed_nor_attached(run, mentions):
    result = run(mentions["jane_complains_on_x"], None)

    assert result.routes == () and result.rule_outcomes == ()
    assert result.routing_reason == "not classified yet"
    assert result.finding is None and "needs a verdict" in result.finding_reason


def test_mention_no_rule_wants_says_so(directory, mentions, verdicts, now):
    only_sales = load_routing({"rules": [{"name": "leads", "when": {"intent": "purchase_intent"}, "team": "sales"}]})

    result = enrich(mentions["bob_complains"], verdicts["complaint"], directory, only_sales, now, RETENTION)

    assert result.routes == ()
    assert result.routing_reason == "no routing rule matched"
    assert (
        result.rule_outcomes[0].explanation
        == "rule 'leads' did not match: intent complaint is not in [purchase_intent]"
    )


def test_enriching_the_same_mention_twice_gives_the_same_keys(run, mentions, verdicts):
    first = run(mentions["influencer_complains"], verdicts["complaint"])
    again = run(mentions["influencer_complains"], verdicts["complaint"])

    assert [d.idempotency_key for r in first.routes for d in r.deliveries] == [
        d.idempotency_key for r in again.routes for d in r.deliveries
    ]
